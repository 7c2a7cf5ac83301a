import yargs, { type Options } from 'yargs';
import type { RotatorConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { validateUnattended, type UnattendedOptions } from '../unattended/options.js';
import { formatData, type Output } from './format.js';
import { aliases, examples, optionsOf } from './help.js';
import { unknownArgumentMessage, type Vocabulary } from './suggest.js';
import { buildInfo, programVersion, versionLine, type BuildInfo } from './version.js';
import { configFromFlags } from '../options/config.js';
import { allOptions, envOf, envPrefix, parseBoolean as toBoolean, parseList, type OptionSpec } from '../options/table.js';

/** @internal exported for its unit tests */
export const commands = {
  rotate: 'Run the whole safe rotation from whatever state the cluster is in (the CronJob runs this)',
  'renew-certs': 'Renew the next certificate due in the safe order (or --which anchor|issuer) and wait until it is re-issued',
  'restart-control-plane': 'Restart the identity controller, then the rest of the control plane, then extensions, and wait',
  'restart-data-plane': 'Restart every meshed workload in scope with bounded concurrency, and wait',
  'update-bundle': 'Drop the old anchor: write the current anchor into the previous-anchor Secret and wait for the bundle',
  status: 'Report anchors, issuer, bundle and stale pods; exit 0 healthy, 10 warning, 11 broken',
} as const;

/** @internal exported for its unit tests */
export type CommandName = keyof typeof commands;

/** A fully validated command line: what `run` needs, nothing read from the cluster yet. */
export interface Invocation {
  command: CommandName;
  config: RotatorConfig;
  kubeconfig?: string;
  context?: string;
  dryRun: boolean;
  output: Output;
  logLevel: string;
  logFormat: 'auto' | 'json' | 'text';
  /** renew-certs only. */
  which: 'next' | 'anchor' | 'issuer';
  /** Lock, rotation policy, Pushgateway, webhook. */
  unattended: UnattendedOptions;
  /** Linked clusters rotated with this one (--peer); empty: a single-cluster run. */
  peers: PeerSpec[];
  /** --peer-kubeconfig: the files of the peers' contexts; undefined: this cluster's kubeconfig. */
  peerKubeconfig?: string;
}

/** A peer cluster of a multicluster run: its name (as Links call it) and its kubeconfig context. */
interface PeerSpec {
  name: string;
  context: string;
}

export type ParseResult = { kind: 'run'; invocation: Invocation } | { kind: 'exit'; output: string; code: 0 | 2 };

type Raw = Record<string, unknown>;

function envDefault(spec: OptionSpec, env: Record<string, string | undefined>): string | number | boolean | undefined {
  const value = env[envOf(spec)];
  return value === undefined ? spec.default : value;
}

/**
 * Turns the parsed flags into a validated Invocation; a table of cases tests it. Throws UsageError.
 * @internal exported for its unit tests
 */
export function validate(command: CommandName, raw: Raw): Invocation {
  const result = configFromFlags(raw);
  const choice = <T extends string>(flag: string, allowed: readonly T[]): T => {
    const value = String(raw[flag]) as T;
    if (!allowed.includes(value)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
    return value;
  };
  const text = (flag: string): string | undefined => (typeof raw[flag] === 'string' && raw[flag] !== '' ? raw[flag] : undefined);
  return {
    command,
    config: result,
    kubeconfig: text('kubeconfig'),
    context: text('context'),
    dryRun: toBoolean('dry-run', raw['dry-run'] ?? false),
    output: command === 'status' ? choice('output', ['text', 'json', 'yaml', 'prometheus'] as const) : choice('output', ['text', 'json', 'yaml'] as const),
    logLevel: choice('log-level', ['error', 'warn', 'info', 'debug'] as const),
    logFormat: choice('log-format', ['auto', 'json', 'text'] as const),
    which: command === 'renew-certs' ? choice('which', ['next', 'anchor', 'issuer'] as const) : 'next',
    unattended: validateUnattended(raw),
    peers: validatePeers(command, raw),
    peerKubeconfig: text('peer-kubeconfig'),
  };
}

/** Reads --peer NAME[=CONTEXT] values: names unique, DNS labels, not this cluster's --cluster-name. */
function validatePeers(command: CommandName, raw: Raw): PeerSpec[] {
  const peers = parseList(raw.peer).map((item): PeerSpec => {
    const [name = '', context, extra] = item.split('=').map((part) => part.trim());
    if (extra !== undefined || context === '') throw new UsageError(`--peer must be NAME or NAME=CONTEXT, got "${item}"`);
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63)
      throw new UsageError(`--peer name "${name}" must be a DNS label (as a Link's targetClusterName)`);
    return { name, context: context ?? name };
  });
  if (peers.length === 0) return [];
  if (command !== 'rotate' && command !== 'status') {
    throw new UsageError(
      `--peer applies to rotate and status only: a single task (${command}) run on one of several linked clusters breaks the barriers between them`,
    );
  }
  if (raw.output === 'prometheus')
    throw new UsageError('status -o prometheus covers one cluster: run it against each cluster without --peer (each has its own metrics)');
  const names = peers.map((peer) => peer.name);
  const twice = names.filter((name, index) => names.indexOf(name) !== index);
  if (twice.length > 0) throw new UsageError(`--peer ${twice[0]} is given twice`);
  const self = typeof raw['cluster-name'] === 'string' ? raw['cluster-name'].trim() : '';
  if (!self) throw new UsageError("--cluster-name is required with --peer: it is this cluster's name as the peers' Links call it (spec.targetClusterName)");
  if (names.includes(self)) throw new UsageError(`--peer ${self} is this cluster (--cluster-name)`);
  return peers;
}

/** renew-certs' own option. */
const whichOption: OptionSpec = {
  flag: 'which',
  kind: 'string',
  default: 'next',
  choices: ['next', 'anchor', 'issuer'],
  describe: 'Which certificate: the next in the safe order, or one by name',
};
const everyOption: OptionSpec[] = [...allOptions, whichOption];

/** How yargs should read and show one option, its default taken from the environment. */
function yargsOption(spec: OptionSpec, group: string, env: Record<string, string | undefined>): Options {
  const value = envDefault(spec, env);
  return {
    describe: `${spec.describe} [env ${envOf(spec)}]`,
    type: spec.kind === 'boolean' ? 'boolean' : spec.kind === 'number' ? 'number' : 'string',
    group: `${group}:`,
    ...(aliases[spec.flag] ? { alias: aliases[spec.flag] } : {}),
    ...(spec.choices ? { choices: spec.flag === 'output' ? [...spec.choices, 'yaml'] : spec.choices } : {}),
    ...(value !== undefined ? { default: spec.kind === 'boolean' ? toBoolean(spec.flag, value) : value } : {}),
  };
}

type Outcome = { kind: 'command'; name: CommandName } | { kind: 'version'; output: string };

/**
 * The yargs parser. Each command declares only the options it reads, grouped for its help, with
 * examples; the top level has the commands, `version`, `completion`, -h and --version.
 */
function buildParser(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  about: BuildInfo,
  onCommand: (outcome: Outcome) => void,
): ReturnType<typeof yargs> {
  const named = argv.find((arg) => !arg.startsWith('-'));
  const command = named && named in commands ? named : undefined;
  const vocabulary: Vocabulary = {
    commands: [...Object.keys(commands), 'version', 'completion'],
    command,
    flags: (command ? optionsOf(command, everyOption).map(({ spec }) => spec.flag) : everyOption.map((spec) => spec.flag)).concat(['help', 'version']),
    allFlags: everyOption.map((spec) => spec.flag),
  };
  const parser = yargs([...argv])
    .scriptName('linkerd-cert-rotator')
    .usage(
      "$0 <command> [options]\n\nRotates Linkerd's trust anchor and identity issuer without breaking mTLS.\n`$0 <command> --help` lists the options of a command. Every option can also be set as an environment variable: --rollout-timeout is " +
        `${envPrefix}_ROLLOUT_TIMEOUT.`,
    )
    .strict()
    .exitProcess(false)
    .wrap(Math.min(120, process.stdout.columns || 100))
    .help('help', 'Show help (of a command: `<command> --help`)')
    .alias('help', 'h')
    .version('version', 'Print the version, commit and Node.js version', versionLine(about))
    .completion('completion', 'Print a bash/zsh completion script: source <(linkerd-cert-rotator completion)')
    .demandCommand(1, 'Name a command.')
    .epilogue(
      'Exit codes: 0 done, 1 failed, 2 usage, 3 refused precondition, 4 gate not met, 5 timeout, 6 another run holds the lock, 10/11 status warning/broken, 130/143 interrupted.',
    )
    .fail((message, error) => {
      throw new UsageError(error?.message ?? unknownArgumentMessage(message, vocabulary, argv));
    });
  for (const [name, description] of Object.entries(commands) as [CommandName, string][]) {
    parser.command(
      name,
      description,
      (y) => {
        y.usage(`$0 ${name} [options]\n\n${description}`);
        for (const { spec, group } of optionsOf(name, everyOption)) y.option(spec.flag, yargsOption(spec, group, env));
        for (const [example, what] of examples[name] ?? []) y.example(example, what);
        return y;
      },
      () => onCommand({ kind: 'command', name }),
    );
  }
  parser.command(
    'version',
    'Print the version, commit and Node.js version',
    (y) =>
      y
        .usage('$0 version [-o text|json|yaml]')
        .option('output', { alias: 'o', type: 'string', choices: ['text', 'json', 'yaml'], default: 'text', describe: 'Format' }),
    (args) => {
      const output = String(args.output);
      onCommand({ kind: 'version', output: output === 'json' || output === 'yaml' ? formatData(output, about) : versionLine(about) });
    },
  );
  return parser;
}

/**
 * What a command does not declare still comes from the environment or the default, so that
 * validation sees every option (the chart sets every LCR_* variable, whatever the command).
 */
function withUndeclared(raw: Raw, env: Record<string, string | undefined>): Raw {
  const filled: Raw = {};
  for (const spec of everyOption) {
    if (raw[spec.flag] !== undefined) continue;
    const value = envDefault(spec, env);
    if (value !== undefined) filled[spec.flag] = spec.kind === 'boolean' ? toBoolean(spec.flag, value) : value;
  }
  return { ...raw, ...filled };
}

/**
 * Parses argv with yargs. Precedence: flag, then `LCR_*` environment variable, then default.
 * Never exits the process: help, version, completion and usage errors come back as output and a code.
 */
export async function parseArgs(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  about: BuildInfo = buildInfo(programVersion(), env, process.version),
): Promise<ParseResult> {
  let chosen: Outcome | undefined;
  let output = '';
  try {
    const parser = buildParser(argv, env, about, (outcome) => {
      chosen = outcome;
    });
    const raw = await parser.parseAsync([...argv], {}, (_error, _argv, text) => {
      output = text;
    });
    if (!chosen) return { kind: 'exit', output, code: 0 };
    if (chosen.kind === 'version') return { kind: 'exit', output: chosen.output, code: 0 };
    return { kind: 'run', invocation: validate(chosen.name, withUndeclared(raw, env)) };
  } catch (error) {
    if (error instanceof UsageError) return { kind: 'exit', output: `${error.message}\nRun with --help for usage.`, code: 2 };
    throw error;
  }
}
