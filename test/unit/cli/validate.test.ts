// validate() on its own: the raw values yargs hands over (strings from the environment, arrays
// from repeated flags) become one checked Invocation, or a UsageError.
import { defaultConfig, type RotatorConfig } from '../../../src/config.js';
import { UsageError } from '../../../src/errors.js';
import { validate } from '../../../src/cli/parse.js';
import { parseDuration } from '../../../src/duration.js';
import { allOptions, envName, parseList } from '../../../src/options/table.js';

/** What yargs passes when no flag and no environment variable is set: every option at its default. */
const defaults = (): Record<string, unknown> =>
  Object.fromEntries(allOptions.filter((option) => option.default !== undefined).map((option) => [option.flag, option.default]));

describe('validate', () => {
  it('the option defaults give defaultConfig', () => {
    expect(validate('rotate', defaults()).config).toEqual(defaultConfig);
  });

  it.each<[string, Record<string, unknown>, Partial<RotatorConfig>]>([
    ['a number as a string (from the environment)', { concurrency: '7' }, { concurrency: 7 }],
    ['a list as an array (repeated flag)', { 'include-namespaces': [' a ', 'b,c'] }, { includeNamespaces: ['a', 'b', 'c'] }],
    ['strings trimmed', { 'linkerd-namespace': '  mesh  ' }, { linkerdNamespace: 'mesh' }],
    ['boolean "yes"', { 'delete-stale-pods': 'yes' }, { deleteStalePods: true }],
    ['boolean "1"', { 'delete-stale-pods': '1' }, { deleteStalePods: true }],
    ['boolean "FALSE"', { 'delete-stale-pods': 'FALSE' }, { deleteStalePods: false }],
    ['boolean empty', { 'delete-stale-pods': '' }, { deleteStalePods: false }],
    ['duration in ms', { 'poll-interval': '500ms' }, { pollIntervalMs: 500 }],
  ])('%s', (_name, raw, expected) => {
    expect(validate('rotate', { ...defaults(), ...raw }).config).toMatchObject(expected);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a boolean that is neither', { 'delete-stale-pods': 'maybe' }, '--delete-stale-pods must be true or false, got "maybe"'],
    ['a zero interval', { 'poll-interval': '0' }, '--poll-interval must be a duration such as 90s, 5m, 1h30m or 25d, got "0"'],
    ['a negative number', { 'expiry-warning-days': -1 }, '--expiry-warning-days must be a positive whole number, got "-1"'],
    ['an output format missing', { output: undefined }, '--output must be one of text, json, yaml, got "undefined"'],
    ['a log format not offered', { 'log-format': 'xml' }, '--log-format must be one of auto, json, text, got "xml"'],
    ['a blank required name', { bundle: '   ' }, '--bundle must not be empty'],
    ['overlap after trimming', { 'include-namespaces': 'a, b', 'exclude-namespaces': ' b ' }, 'namespaces both included and excluded: b'],
    ['an upper-case namespace', { 'trust-namespace': 'Cert-Manager' }, '"Cert-Manager" is not a valid namespace name'],
    ['a namespace ending in a dash', { 'include-namespaces': 'shop-' }, '"shop-" is not a valid namespace name'],
  ])('%s -> UsageError', (_name, raw, message) => {
    const call = (): unknown => validate('rotate', { ...defaults(), ...raw });
    expect(call).toThrow(UsageError);
    expect(call).toThrow(message);
  });

  it('reads --which for renew-certs only', () => {
    expect(validate('renew-certs', { ...defaults(), which: 'issuer' }).which).toBe('issuer');
    expect(validate('status', { ...defaults(), which: 'bogus' }).which).toBe('next');
    expect(() => validate('renew-certs', { ...defaults(), which: 'bogus' })).toThrow('--which must be one of next, anchor, issuer, got "bogus"');
  });

  it('an empty kubeconfig or context counts as not given', () => {
    expect(validate('status', { ...defaults(), kubeconfig: '', context: '' })).toMatchObject({ kubeconfig: undefined, context: undefined });
  });
});

describe('options', () => {
  it.each<[string, string]>([
    ['rollout-timeout', 'LCR_ROLLOUT_TIMEOUT'],
    ['dry-run', 'LCR_DRY_RUN'],
    ['which', 'LCR_WHICH'],
  ])('envName(%s) = %s', (flag, env) => {
    expect(envName(flag)).toBe(env);
  });

  it.each<[string, number | undefined]>([
    [' 5m ', 300_000],
    ['0.25s', 250],
    ['5 m', 300_000],
    ['5x', undefined],
    ['-1s', undefined],
    ['', undefined],
    ['1e3', undefined],
    ['5mm', undefined],
    ['90', 90_000],
    ['1h30m', 5_400_000],
    ['5m0s', 300_000],
    ['8760h0m0s', 8760 * 3_600_000],
    ['1.5h', 5_400_000],
    ['2d12h', 60 * 3_600_000],
    ['250ms', 250],
    ['1m30', undefined],
    ['1h 30m', undefined],
    ['h', undefined],
  ])('parseDuration(%j) = %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each<[unknown, string[]]>([
    ['a, b,,c', ['a', 'b', 'c']],
    [
      ['a,b', ' c '],
      ['a', 'b', 'c'],
    ],
    ['', []],
    [undefined, []],
    [42, []],
  ])('parseList(%j) = %j', (value, expected) => {
    expect(parseList(value)).toEqual(expected);
  });

  it('every RotatorConfig field but anchorSource (set by the multicluster run for its peers) has exactly one option, with a default and a description', () => {
    for (const option of allOptions.filter((o) => o.field !== undefined)) {
      expect(option.describe.length).toBeGreaterThan(0);
      expect(option.default).toBeDefined();
    }
    const fields = allOptions.map((o) => o.field).filter((f) => f !== undefined);
    expect([...fields].sort()).toEqual(
      Object.keys(defaultConfig)
        .filter((field) => field !== 'anchorSource')
        .sort(),
    );
  });
});
