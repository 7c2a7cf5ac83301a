import { defaultConfig } from '../../../src/config.js';
import { commands, parseArgs, type CommandName, type Invocation } from '../../../src/cli/parse.js';

type Env = Record<string, string | undefined>;

async function invocation(argv: string[], env: Env = {}): Promise<Invocation> {
  const result = await parseArgs(argv, env);
  if (result.kind !== 'run') throw new Error(`expected a run, got exit ${result.code}: ${result.output}`);
  return result.invocation;
}

async function exit(argv: string[], env: Env = {}): Promise<{ code: number; output: string }> {
  const result = await parseArgs(argv, env);
  if (result.kind !== 'exit') throw new Error(`expected an exit, got a run of ${result.invocation.command}`);
  return { code: result.code, output: result.output };
}

const commandNames = Object.keys(commands) as CommandName[];

describe('parseArgs: commands and defaults', () => {
  it('with no option the configuration is the documented default', async () => {
    expect(await invocation(['rotate'])).toEqual({
      command: 'rotate',
      config: defaultConfig,
      kubeconfig: undefined,
      context: undefined,
      dryRun: false,
      output: 'text',
      logLevel: 'info',
      logFormat: 'auto',
      which: 'next',
      peers: [],
      peerKubeconfig: undefined,
      unattended: {
        lockNamespace: undefined,
        lockName: 'linkerd-cert-rotator',
        lockDurationMs: 180_000,
        lockWaitMs: 0,
        policy: { rotateAfterMs: 25 * 86_400_000, rotateBeforeExpiryMs: 60 * 86_400_000, force: false },
        pushgatewayUrl: undefined,
        webhookUrl: undefined,
        clusterName: undefined,
        softExits: false,
      },
    });
  });

  it.each(commandNames)('%s is a command', async (name) => {
    expect((await invocation([name])).command).toBe(name);
  });

  it("--help and -h exit 0 and list every command, version and completion, and how to get a command's options", async () => {
    for (const flag of ['--help', '-h']) {
      const { code, output } = await exit([flag]);
      expect(code).toBe(0);
      for (const name of [...commandNames, 'version', 'completion']) expect(output).toContain(`linkerd-cert-rotator ${name}`);
      expect(output).toContain('<command> --help');
      expect(output).toContain('LCR_ROLLOUT_TIMEOUT');
      // The options belong to the commands' help, not the top level.
      expect(output).not.toContain('--concurrency');
    }
  });

  it.each<[string, string[], string[]]>([
    ['an unknown command', ['rotat'], ['Unknown argument: rotat (did you mean rotate?)']],
    ['a command missing a letter in the middle', ['restart-dataplane'], ['(did you mean restart-data-plane?)']],
    ['an unknown flag', ['rotate', '--bogus'], ['Unknown argument: --bogus']],
    ['a misspelt flag', ['rotate', '--concurency', '3'], ['Unknown argument: --concurency (did you mean --concurrency?)']],
    [
      'a singular for a plural',
      ['restart-data-plane', '--include-namespace', 'shop'],
      ['Unknown argument: --include-namespace (did you mean --include-namespaces?)'],
    ],
    ['a misspelt negated flag', ['rotate', '--no-watch-rollout'], ['(did you mean --watch-rollouts?)']],
    ['two of them, no camel-case twins', ['status', '--bogus', '--outptu', 'json'], ['Unknown arguments: --bogus, --outptu (did you mean --output?)']],
    ['--which outside renew-certs', ['rotate', '--which', 'anchor'], ['Unknown argument: --which (not an option of rotate: see rotate --help)']],
    ['a flag of another command', ['status', '--concurrency', '3'], ['--concurrency (not an option of status: see status --help)']],
    ['an output format not offered', ['status', '--output', 'xml'], ['Invalid values:', 'output']],
    ['prometheus outside status', ['rotate', '-o', 'prometheus'], ['--output must be one of text, json, yaml, got "prometheus"']],
    ['a log level not offered', ['status', '--log-level', 'trace'], ['Invalid values:', 'log-level']],
  ])('%s -> usage error, code 2', async (_name, argv, parts) => {
    const { code, output } = await exit(argv);
    expect(code).toBe(2);
    for (const part of parts) expect(output).toContain(part);
    expect(output).not.toMatch(/[a-z][A-Z]/);
  });

  it('no command -> usage error, code 2', async () => {
    expect(await exit([])).toEqual({ code: 2, output: 'Name a command.\nRun with --help for usage.' });
  });

  it('-o is --output, and yaml is offered', async () => {
    expect((await invocation(['rotate', '-o', 'yaml'])).output).toBe('yaml');
    expect((await invocation(['status', '-o', 'prometheus'])).output).toBe('prometheus');
    expect((await invocation(['status'], { LCR_OUTPUT: 'yaml' })).output).toBe('yaml');
  });

  it('options a command does not declare still come from the environment (the chart sets them all)', async () => {
    const parsed = await invocation(['status'], { LCR_CONCURRENCY: '3', LCR_LOCK_NAME: 'other', LCR_ROLLOUT_TIMEOUT: '2m' });
    expect(parsed.config).toMatchObject({ concurrency: 3, rolloutTimeoutMs: 120_000 });
    expect(parsed.unattended.lockName).toBe('other');
    expect(await exit(['status'], { LCR_CONCURRENCY: 'many' })).toMatchObject({
      code: 2,
      output: expect.stringContaining('--concurrency must be a positive whole number') as unknown,
    });
  });

  it('run options', async () => {
    const parsed = await invocation([
      'rotate',
      '--kubeconfig',
      '/tmp/kc',
      '--context',
      'kind',
      '--dry-run',
      '--output',
      'json',
      '--log-level',
      'debug',
      '--log-format',
      'json',
    ]);
    expect(parsed).toMatchObject({ kubeconfig: '/tmp/kc', context: 'kind', dryRun: true, output: 'json', logLevel: 'debug', logFormat: 'json' });
  });
});

describe('parseArgs: flag, then LCR_* environment, then default', () => {
  it.each<[string, string[], Env, Partial<Invocation['config']>]>([
    ['default', [], {}, { concurrency: 8 }],
    ['environment over default', [], { LCR_CONCURRENCY: '7' }, { concurrency: 7 }],
    ['flag over environment', ['--concurrency', '3'], { LCR_CONCURRENCY: '7' }, { concurrency: 3 }],
    ['string from the environment', [], { LCR_LINKERD_NAMESPACE: 'l5d' }, { linkerdNamespace: 'l5d' }],
    ['string flag over environment', ['--linkerd-namespace', 'mesh'], { LCR_LINKERD_NAMESPACE: 'l5d' }, { linkerdNamespace: 'mesh' }],
    ['boolean from the environment', [], { LCR_DELETE_STALE_PODS: 'true' }, { deleteStalePods: true }],
    ['boolean flag', ['--delete-stale-pods'], {}, { deleteStalePods: true }],
    ['negated boolean flag over environment', ['--no-delete-stale-pods'], { LCR_DELETE_STALE_PODS: 'true' }, { deleteStalePods: false }],
    ['duration from the environment', [], { LCR_CERTIFICATE_TIMEOUT: '2m' }, { certificateTimeoutMs: 120_000 }],
    ['duration flag over environment', ['--certificate-timeout', '30s'], { LCR_CERTIFICATE_TIMEOUT: '2m' }, { certificateTimeoutMs: 30_000 }],
    ['list from the environment', [], { LCR_EXCLUDE_NAMESPACES: 'kube-system, batch' }, { excludeNamespaces: ['kube-system', 'batch'] }],
    ['an unrelated environment variable', [], { CONCURRENCY: '9', LCR_UNKNOWN: 'x' }, { concurrency: 8 }],
  ])('%s', async (_name, args, env, expected) => {
    expect((await invocation(['rotate', ...args], env)).config).toMatchObject(expected);
  });
});

describe('parseArgs: values', () => {
  it.each<[string, number]>([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['250ms', 250],
    ['90', 90_000],
    ['1.5m', 90_000],
  ])('--rollout-timeout %s is %d ms', async (text, ms) => {
    expect((await invocation(['rotate', '--rollout-timeout', text])).config.rolloutTimeoutMs).toBe(ms);
  });

  it.each(['5x', '0s', '--rollout-timeout=', 'ten'])('--rollout-timeout %s -> code 2 naming the flag and the value', async (text) => {
    const argv = text.startsWith('--') ? ['rotate', text] : ['rotate', '--rollout-timeout', text];
    const { code, output } = await exit(argv);
    expect(code).toBe(2);
    expect(output).toContain(`--rollout-timeout must be a duration such as 90s, 5m, 1h30m or 25d, got "${text.startsWith('--') ? '' : text}"`);
  });

  it('a bad duration in the environment is a usage error too', async () => {
    expect(await exit(['rotate'], { LCR_POLL_INTERVAL: 'soon' })).toMatchObject({
      code: 2,
      output: expect.stringContaining('--poll-interval must be a duration') as unknown,
    });
  });

  it.each<[string[], string[]]>([
    [
      ['--include-namespaces', 'a, b,,c'],
      ['a', 'b', 'c'],
    ],
    [
      ['--include-namespaces', 'a', '--include-namespaces', 'b,c'],
      ['a', 'b', 'c'],
    ],
    [['--include-namespaces', ' , '], []],
  ])('lists: %j -> %j', async (args, expected) => {
    expect((await invocation(['rotate', ...args])).config.includeNamespaces).toEqual(expected);
  });

  it.each<[string, string[], string]>([
    ['include/exclude overlap', ['--include-namespaces', 'a,b', '--exclude-namespaces', 'b,c'], 'namespaces both included and excluded: b'],
    ['an invalid namespace name', ['--linkerd-namespace', 'Linkerd'], '"Linkerd" is not a valid namespace name'],
    ['an invalid name in a list', ['--exclude-namespaces', 'ok,under_score'], '"under_score" is not a valid namespace name'],
    ['a name of 64 characters', ['--trust-namespace', 'a'.repeat(64)], `"${'a'.repeat(64)}" is not a valid namespace name`],
    ['an empty name', ['--anchor-secret', ''], '--anchor-secret must not be empty'],
    ['concurrency 0', ['--concurrency', '0'], '--concurrency must be a positive whole number'],
    ['concurrency 2.5', ['--concurrency', '2.5'], '--concurrency must be a positive whole number'],
    ['concurrency abc', ['--concurrency', 'abc'], '--concurrency must be a positive whole number'],
  ])('%s -> code 2', async (_name, args, message) => {
    const { code, output } = await exit(['rotate', ...args]);
    expect(code).toBe(2);
    expect(output).toContain(message);
  });

  it('a namespace name of 63 characters and an empty control-plane selector are fine', async () => {
    const parsed = await invocation(['rotate', '--trust-namespace', 'a'.repeat(63), '--control-plane-selector', '']);
    expect(parsed.config).toMatchObject({ trustNamespace: 'a'.repeat(63), controlPlaneSelector: '' });
  });

  test('a bad boolean in the environment -> code 2, like every other bad value', async () => {
    await expect(parseArgs(['rotate'], { LCR_DELETE_STALE_PODS: 'maybe' })).resolves.toMatchObject({ kind: 'exit', code: 2 });
  });
});

describe('parseArgs: renew-certs --which', () => {
  it.each<[string, string[], Env, Invocation['which']]>([
    ['default', [], {}, 'next'],
    ['anchor', ['--which', 'anchor'], {}, 'anchor'],
    ['issuer', ['--which', 'issuer'], {}, 'issuer'],
    ['from the environment', [], { LCR_WHICH: 'issuer' }, 'issuer'],
    ['flag over environment', ['--which', 'anchor'], { LCR_WHICH: 'issuer' }, 'anchor'],
  ])('%s', async (_name, args, env, which) => {
    expect((await invocation(['renew-certs', ...args], env)).which).toBe(which);
  });

  it.each<[string[], Env]>([
    [['--which', 'both'], {}],
    [[], { LCR_WHICH: 'leaf' }],
  ])('%j %j -> code 2 listing the choices', async (args, env) => {
    const { code, output } = await exit(['renew-certs', ...args], env);
    expect(code).toBe(2);
    expect(output).toMatch(/which[\s\S]*"next", "anchor", "issuer"/);
  });

  it('other commands ignore LCR_WHICH', async () => {
    expect((await invocation(['status'], { LCR_WHICH: 'anchor' })).which).toBe('next');
  });
});

describe('parseArgs: multicluster peers', () => {
  it('--peer NAME[=CONTEXT], repeated or comma-separated, or LCR_PEERS; the context defaults to the name', async () => {
    expect((await invocation(['rotate', '--cluster-name', 'east', '--peer', 'west=ctx-w', '--peer', 'north'])).peers).toEqual([
      { name: 'west', context: 'ctx-w' },
      { name: 'north', context: 'north' },
    ]);
    const fromEnv = await invocation(['status'], { LCR_PEERS: 'west=ctx-w,north', LCR_CLUSTER_NAME: 'east', LCR_PEER_KUBECONFIG: '/a:/b' });
    expect(fromEnv.peers.map((p) => p.name)).toEqual(['west', 'north']);
    expect(fromEnv.peerKubeconfig).toBe('/a:/b');
    expect((await invocation(['rotate'])).peers).toEqual([]);
  });

  it.each([
    [['rotate', '--peer', 'west'], /--cluster-name is required with --peer/],
    [['rotate', '--cluster-name', 'east', '--peer', 'west', '--peer', 'west'], /--peer west is given twice/],
    [['rotate', '--cluster-name', 'east', '--peer', 'east'], /--peer east is this cluster/],
    [['rotate', '--cluster-name', 'east', '--peer', 'West_1'], /must be a DNS label/],
    [['rotate', '--cluster-name', 'east', '--peer', 'west=a=b'], /NAME or NAME=CONTEXT/],
    [['rotate', '--cluster-name', 'east', '--peer', 'west='], /NAME or NAME=CONTEXT/],
    [['status', '--cluster-name', 'east', '--peer', 'west', '-o', 'prometheus'], /covers one cluster/],
  ])('%j is refused with a clear message (exit 2)', async (argv, message) => {
    const result = await exit(argv);
    expect(result.code).toBe(2);
    expect(result.output).toMatch(message);
  });

  it('a single task refuses peers (from the environment too): it would run on one cluster of several', async () => {
    const result = await exit(['restart-data-plane'], { LCR_PEERS: 'west', LCR_CLUSTER_NAME: 'east' });
    expect(result.code).toBe(2);
    expect(result.output).toMatch(/--peer applies to rotate and status only/);
  });
});
