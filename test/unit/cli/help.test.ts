// src/cli/help.ts and parse.ts: per-command help (only the command's options, grouped, with
// examples), version, completion, and the YAML output.
import yaml from 'js-yaml';
import { commandGroups, examples, groupOf, optionGroups, optionsOf } from '../../../src/cli/help.js';
import { formatData } from '../../../src/cli/format.js';
import { commands, parseArgs, type CommandName } from '../../../src/cli/parse.js';
import { closest } from '../../../src/cli/suggest.js';
import { buildInfo, versionLine, versionOf } from '../../../src/cli/version.js';
import { allOptions } from '../../../src/options/table.js';

const about = { version: '9.8.7', commit: 'c0ffee1', node: 'v24.0.0' };
const commandNames = Object.keys(commands) as CommandName[];

async function exit(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const result = await parseArgs(argv, env, about);
  if (result.kind !== 'exit') throw new Error(`expected an exit, got a run of ${result.invocation.command}`);
  return { code: result.code, output: result.output };
}

/** The flags listed under each group heading of a help text. */
function groupsIn(help: string): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of help.split('\n')) {
    const heading = /^([A-Z][A-Za-z ]*):$/.exec(line);
    if (heading?.[1]) groups.set(heading[1], (current = []));
    else if (line === '') current = undefined;
    const flag = /^ {2}(?:-\w, )? *--([a-z-]+)/.exec(line);
    if (flag?.[1] && current) current.push(flag[1]);
  }
  return groups;
}

describe('per-command help', () => {
  test('every option is listed under a group (a new option needs one in src/cli/help.ts)', () => {
    expect(allOptions.filter((o) => groupOf(o.flag) === 'Other').map((o) => o.flag)).toEqual([]);
    const grouped = Object.values(optionGroups).flat();
    expect(new Set(grouped).size).toBe(grouped.length);
  });

  test.each(commandNames)('%s --help lists exactly its options, under their groups, and examples', async (name) => {
    const { code, output } = await exit([name, '--help']);
    expect(code).toBe(0);
    const groups = groupsIn(output);
    const expected = new Map<string, string[]>();
    for (const { spec, group } of optionsOf(name, [...allOptions, { flag: 'which', kind: 'string', describe: '' }]))
      expected.set(group, [...(expected.get(group) ?? []), spec.flag]);
    for (const [group, flags] of expected) expect([group, groups.get(group)]).toEqual([group, flags]);
    expect([...groups.keys()].filter((g) => !expected.has(g))).toEqual(['Options', 'Examples']);
    expect(groups.get('Options')).toEqual(['help', 'version']);
    for (const [example] of examples[name] ?? []) expect(output.replace(/\s+/g, ' ')).toContain(example.replace('$0', 'linkerd-cert-rotator'));
    expect(examples[name]?.length).toBeGreaterThan(0);
  });

  test.each<[CommandName, string[], string[]]>([
    [
      'status',
      ['kubeconfig', 'expiry-warning-days', 'rotate-after', 'pushgateway-url', 'output'],
      ['concurrency', 'rollout-timeout', 'lock-name', 'dry-run', 'which'],
    ],
    ['restart-data-plane', ['concurrency', 'rollout-timeout', 'lock-name', 'dry-run'], ['rotate-after', 'force', 'which']],
    ['update-bundle', ['bundle-timeout', 'dry-run'], ['concurrency', 'force']],
    ['renew-certs', ['which', 'certificate-timeout'], ['force']],
    ['rotate', allOptions.map((o) => o.flag), ['which']],
  ])('%s: has %j, not %j', async (name, has, hasNot) => {
    const { output } = await exit([name, '-h']);
    const listed = [...groupsIn(output).values()].flat();
    for (const flag of has) expect(listed).toContain(flag);
    for (const flag of hasNot) expect(listed).not.toContain(flag);
  });

  test('-o is shown as the short form of --output', async () => {
    expect((await exit(['rotate', '--help'])).output).toMatch(/^ {2}-o, --output /m);
  });

  test('every command has its groups and examples', () => {
    expect(Object.keys(commandGroups).sort()).toEqual([...commandNames].sort());
    expect(Object.keys(examples).sort()).toEqual([...commandNames].sort());
  });
});

describe('version', () => {
  test.each([['--version'], ['version']])('%s prints version, commit and Node.js version', async (arg) => {
    expect(await exit([arg])).toEqual({ code: 0, output: 'linkerd-cert-rotator 9.8.7 (commit c0ffee1, node v24.0.0)' });
  });

  test.each<['json' | 'yaml', (text: string) => unknown]>([
    ['json', (text): unknown => JSON.parse(text)],
    ['yaml', (text): unknown => yaml.load(text)],
  ])('version -o %s', async (format, load) => {
    const { code, output } = await exit(['version', '-o', format]);
    expect(code).toBe(0);
    expect(load(output)).toEqual(about);
  });

  test.each<[string, string | undefined, Record<string, string>, { version: string; commit: string }]>([
    ['package.json and LCR_BUILD_COMMIT', '{"name":"x","version":"1.2.3"}', { LCR_BUILD_COMMIT: ' abc123 ' }, { version: '1.2.3', commit: 'abc123' }],
    ['no commit baked', '{"version":"1.2.3"}', {}, { version: '1.2.3', commit: 'unknown' }],
    ['an empty commit', '{"version":"1.2.3"}', { LCR_BUILD_COMMIT: '' }, { version: '1.2.3', commit: 'unknown' }],
    ['no package.json', undefined, {}, { version: 'unknown', commit: 'unknown' }],
    ['a damaged package.json', '{"version":', {}, { version: 'unknown', commit: 'unknown' }],
  ])('buildInfo: %s', (_name, pkg, env, expected) => {
    expect(buildInfo(versionOf(pkg), env, 'v24.1.0')).toEqual({ ...expected, node: 'v24.1.0' });
  });

  test('by default the version is the one in package.json and the node is this process', async () => {
    const result = await parseArgs(['--version'], {});
    const { version } = (await import('../../../package.json', { with: { type: 'json' } })).default as { version: string };
    expect(result).toEqual({ kind: 'exit', code: 0, output: versionLine({ version, commit: 'unknown', node: process.version }) });
  });
});

describe('completion', () => {
  test('completion prints a bash/zsh script that asks the binary for completions', async () => {
    const { code, output } = await exit(['completion']);
    expect(code).toBe(0);
    expect(output).toContain('linkerd-cert-rotator --get-yargs-completions');
    expect(output).toMatch(/complete .*-F _linkerd-cert-rotator_yargs_completions linkerd-cert-rotator/);
  });

  test.each<[string[], string[], string[]]>([
    [['linkerd-cert-rotator', 're'], ['rotate', 'renew-certs', 'restart-data-plane', 'status', 'version', 'completion'], []],
    [
      ['linkerd-cert-rotator', 'status', '--'],
      ['--kubeconfig', '--output', '--expiry-warning-days'],
      ['--concurrency', '--which'],
    ],
    [['linkerd-cert-rotator', 'renew-certs', '--'], ['--which', '--certificate-timeout'], ['--force']],
  ])('the completions of %j include %j, not %j', async (words, has, hasNot) => {
    const { output } = await exit(['--get-yargs-completions', ...words]);
    const offered = output.split('\n');
    for (const word of has) expect(offered).toContain(word);
    for (const word of hasNot) expect(offered).not.toContain(word);
  });
});

describe('did you mean', () => {
  test.each<[string, string[], string | undefined]>([
    ['rotat', ['rotate', 'status'], 'rotate'],
    ['statu', ['rotate', 'status'], 'status'],
    ['cuncorrency', ['concurrency', 'context'], 'concurrency'],
    ['lock', ['lock-name', 'lock-namespace', 'log-level'], undefined],
    ['lock-w', ['lock-name', 'lock-wait'], 'lock-wait'],
    ['lock-nam', ['lock-name', 'lock-namespace'], 'lock-name'],
    ['deploy', ['rotate', 'status'], undefined],
  ])('%s among %j -> %s', (word, candidates, expected) => {
    expect(closest(word, candidates)).toBe(expected);
  });
});

describe('formatData', () => {
  const data = {
    plan: { phase: 'steady', steps: [{ name: 'renew-anchor', purpose: undefined, targets: ['shop/api'] }] },
    when: new Date('2026-01-02T03:04:05Z'),
    yes: 'yes',
    n: '010',
    empty: '',
  };

  test('yaml carries the same document as json', () => {
    const json = formatData('json', data);
    const text = formatData('yaml', data);
    expect(yaml.load(text)).toEqual(JSON.parse(json));
    expect(text).toContain('phase: steady');
    expect(text).not.toContain('purpose');
    expect(text.endsWith('\n')).toBe(false);
  });
});
