// The unattended options: flag, LCR_* environment, default; validation as a table; the lock's namespace.
import { parseArgs, type Invocation } from '../../../src/cli/parse.js';
import { defaultConfig } from '../../../src/config.js';
import { runIdentity } from '../../../src/unattended/identity.js';
import { UsageError } from '../../../src/errors.js';
import { lockSpecFor, validateUnattended, type UnattendedOptions } from '../../../src/unattended/options.js';

const DAY = 86_400_000;

async function parse(argv: string[], env: Record<string, string> = {}): Promise<Invocation> {
  const result = await parseArgs(argv, env);
  if (result.kind !== 'run') throw new Error(`exit ${result.code}: ${result.output}`);
  return result.invocation;
}

describe('parseArgs: unattended options', () => {
  it.each<[string, string[], Record<string, string>, Partial<UnattendedOptions>]>([
    [
      'defaults: 25 days, 60 days, a 3 m Lease, no wait',
      [],
      {},
      {
        lockName: 'linkerd-cert-rotator',
        lockDurationMs: 180_000,
        lockWaitMs: 0,
        policy: { rotateAfterMs: 25 * DAY, rotateBeforeExpiryMs: 60 * DAY, force: false },
      },
    ],
    ['--lock-wait from the environment', [], { LCR_LOCK_WAIT: '10m' }, { lockWaitMs: 600_000 }],
    ['--lock-wait flag over environment', ['--lock-wait', '30s'], { LCR_LOCK_WAIT: '10m' }, { lockWaitMs: 30_000 }],
    ['--rotate-after in hours', ['--rotate-after', '720h'], {}, { policy: { rotateAfterMs: 30 * DAY, rotateBeforeExpiryMs: 60 * DAY, force: false } }],
    ['--force from the environment', [], { LCR_FORCE: 'true' }, { policy: { rotateAfterMs: 25 * DAY, rotateBeforeExpiryMs: 60 * DAY, force: true } }],
    ['soft exits off by default', [], {}, { softExits: false }],
    ['--soft-exits from the environment (the chart sets it)', [], { LCR_SOFT_EXITS: 'true' }, { softExits: true }],
    ['--soft-exits=false flag over environment', ['--soft-exits=false'], { LCR_SOFT_EXITS: 'true' }, { softExits: false }],
    [
      'URLs and names',
      [
        '--pushgateway-url',
        'http://pushgateway.monitoring:9091',
        '--webhook-url',
        'https://hooks.slack.com/services/T/B/X',
        '--cluster-name',
        'prod-eu',
        '--lock-namespace',
        'ops',
        '--lock-name',
        'rotator.lock',
      ],
      {},
      {
        pushgatewayUrl: 'http://pushgateway.monitoring:9091',
        webhookUrl: 'https://hooks.slack.com/services/T/B/X',
        clusterName: 'prod-eu',
        lockNamespace: 'ops',
        lockName: 'rotator.lock',
      },
    ],
  ])('%s', async (_name, argv, env, expected) => {
    expect((await parse(['rotate', ...argv], env)).unattended).toMatchObject(expected);
  });

  it('--output prometheus is offered by status only', async () => {
    expect((await parse(['status', '--output', 'prometheus'])).output).toBe('prometheus');
    const refused = await parseArgs(['rotate', '--output', 'prometheus'], {});
    expect(refused).toMatchObject({ kind: 'exit', code: 2 });
  });
});

describe('validateUnattended', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['a malformed duration', { 'lock-wait': 'soon' }, '--lock-wait must be a duration such as 90s, 5m, 1h30m or 25d, got "soon"'],
    ['a Lease too short to renew', { 'lock-duration': '2s' }, '--lock-duration must be a duration of at least 3s'],
    ['a relative URL', { 'webhook-url': '/hooks/x' }, '--webhook-url is not a valid absolute http(s) URL (the value is not shown: it may hold a secret)'],
    ['another scheme', { 'pushgateway-url': 'ftp://gw' }, '--pushgateway-url must be an http(s) URL, got the "ftp:" scheme'],
    ['a webhook of another scheme', { 'webhook-url': 'ftp://hooks.example.com/T0/B0/secret' }, '--webhook-url must be an https URL, got the "ftp:" scheme'],
    [
      'a plain-http webhook on another host',
      { 'webhook-url': 'http://hooks.example.com/services/T0/B0/secret' },
      '--webhook-url must be an https URL: plain http would send its secret in clear text; http is accepted for a loopback host only, got http://hooks.example.com',
    ],
    [
      'a webhook with a password',
      { 'webhook-url': 'https://user:hunter2@hooks.example.com/x' },
      '--webhook-url must not carry a user name or password (the value is not shown)',
    ],
    ['an invalid lock namespace', { 'lock-namespace': 'Ops' }, '"Ops" is not a valid namespace name (--lock-namespace)'],
    ['an invalid lock name', { 'lock-name': 'lock_1' }, '--lock-name must be a valid object name, got "lock_1"'],
    ['a boolean that is neither', { force: 'maybe' }, '--force must be true or false, got "maybe"'],
  ])('refuses %s', (_name, raw, message) => {
    expect(() => validateUnattended(raw)).toThrow(message);
  });

  // A Slack webhook's secret is its path: whatever is wrong with the URL, the error shows its scheme and host at most.
  it.each<[string, string, RegExp]>([
    ['unparsable', 'https://hooks.slack.com:99999/services/T0/B0/s3cr3t-path', /is not a valid absolute http\(s\) URL/],
    ['relative', 'services/T0/B0/s3cr3t-path', /is not a valid absolute http\(s\) URL/],
    ['plain http', 'http://hooks.slack.com/services/T0/B0/s3cr3t-path?token=s3cr3t-query', /got http:\/\/hooks\.slack\.com$/],
    ['another scheme', 'gopher://hooks.slack.com/services/T0/B0/s3cr3t-path', /got the "gopher:" scheme/],
    ['with credentials', 'https://bot:s3cr3t-password@hooks.slack.com/services/s3cr3t-path', /must not carry a user name or password/],
  ])('an invalid webhook URL (%s) is refused without echoing its path, query or credentials', (_name, webhook, message) => {
    let thrown: unknown;
    try {
      validateUnattended({ 'webhook-url': webhook });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toMatch(/s3cr3t|services|T0/);
  });

  it.each([
    ['https anywhere', 'https://hooks.slack.com/services/T0/B0/x'],
    ['http on localhost', 'http://localhost:8080/hook'],
    ['http on 127.0.0.1', 'http://127.0.0.1:9/hook'],
    ['http on 127.1.2.3', 'http://127.1.2.3/hook'],
    ['http on [::1]', 'http://[::1]:8080/hook'],
  ])('accepts a webhook URL over %s', (_name, webhook) => {
    expect(validateUnattended({ 'webhook-url': webhook }).webhookUrl).toBe(webhook);
  });

  it('plain http stays accepted for the Pushgateway (an in-cluster Service, no secret in its URL)', () => {
    expect(validateUnattended({ 'pushgateway-url': 'http://pushgateway.monitoring.svc:9091' }).pushgatewayUrl).toBe('http://pushgateway.monitoring.svc:9091');
  });

  it('accepts zero for the wait and the policy windows (0 rotate-after: rotate on every run)', () => {
    expect(validateUnattended({ 'lock-wait': '0', 'rotate-after': '0s', 'rotate-before-expiry': '0' })).toMatchObject({
      lockWaitMs: 0,
      policy: { rotateAfterMs: 0, rotateBeforeExpiryMs: 0 },
    });
  });
});

describe('lockSpecFor and runIdentity', () => {
  const host = { hostname: 'laptop', pid: 4242, now: new Date('2025-06-01T12:00:00Z'), random: 'A1b2C3' };
  const options = validateUnattended({});

  it('in a pod: the pod is the holder, and the Lease is in the Linkerd namespace all the same (a run by hand meets the same Lease)', () => {
    const identity = runIdentity({ POD_NAME: 'rotator-29170080-x7k2p', POD_NAMESPACE: 'linkerd-cert-rotator' }, host);
    expect(identity).toMatchObject({ holder: 'rotator-29170080-x7k2p', podName: 'rotator-29170080-x7k2p', podNamespace: 'linkerd-cert-rotator' });
    expect(identity.runId).toMatch(/^[a-z0-9]+-a1b2c3$/);
    expect(lockSpecFor(options, identity, defaultConfig)).toMatchObject({
      namespace: 'linkerd',
      name: 'linkerd-cert-rotator',
      holder: 'rotator-29170080-x7k2p',
      durationMs: 180_000,
    });
  });

  it('outside a pod: host and pid, and the Linkerd namespace', () => {
    const identity = runIdentity({}, host);
    expect(identity.holder).toBe('laptop-4242');
    expect(lockSpecFor(options, identity, defaultConfig).namespace).toBe('linkerd');
  });

  it('--lock-namespace wins over the pod namespace', () => {
    const identity = runIdentity({ POD_NAME: 'p', POD_NAMESPACE: 'a' }, host);
    expect(lockSpecFor(validateUnattended({ 'lock-namespace': 'ops' }), identity, defaultConfig).namespace).toBe('ops');
  });
});
