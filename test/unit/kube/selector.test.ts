import { matchesSelector, parseSelector, selectorString } from '../../../src/kube/selector.js';

describe('parseSelector', () => {
  it.each<[string, ReturnType<typeof parseSelector>]>([
    ['', []],
    ['   ', []],
    ['app=web', [{ op: 'eq', key: 'app', value: 'web' }]],
    ['app==web', [{ op: 'eq', key: 'app', value: 'web' }]],
    ['app != web', [{ op: 'ne', key: 'app', value: 'web' }]],
    ['app=', [{ op: 'eq', key: 'app', value: '' }]],
    ['linkerd.io/extension', [{ op: 'exists', key: 'linkerd.io/extension' }]],
    ['!linkerd.io/extension', [{ op: 'absent', key: 'linkerd.io/extension' }]],
    ['env in (prod, staging)', [{ op: 'in', key: 'env', values: ['prod', 'staging'] }]],
    ['env notin (dev)', [{ op: 'notin', key: 'env', values: ['dev'] }]],
    [
      'linkerd.io/control-plane-ns=linkerd, tier in (a,b),!legacy,app',
      [
        { op: 'eq', key: 'linkerd.io/control-plane-ns', value: 'linkerd' },
        { op: 'in', key: 'tier', values: ['a', 'b'] },
        { op: 'absent', key: 'legacy' },
        { op: 'exists', key: 'app' },
      ],
    ],
  ])('%j', (text, expected) => {
    expect(parseSelector(text)).toEqual(expected);
  });

  it.each(['a=b=c', 'a in b', 'a > 1', 'a b', 'a=(x)'])('refuses %j naming the part it cannot read', (text) => {
    expect(() => parseSelector(text)).toThrow(`cannot parse label selector "${text}"`);
  });
});

describe('matchesSelector', () => {
  const labels = { app: 'web', env: 'prod', 'linkerd.io/extension': 'viz', empty: '' };
  it.each<[string, boolean]>([
    ['', true],
    ['app=web', true],
    ['app=db', false],
    ['app!=db', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['missing=x', false],
    ['empty=', true],
    ['missing=', false],
    ['linkerd.io/extension', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['env in (prod,staging)', true],
    ['env in (dev)', false],
    ['missing in (x)', false],
    ['env notin (dev)', true],
    ['env notin (prod)', false],
    ['missing notin (x)', true],
    ['app=web,env=dev', false],
    ['app=web,env=prod,linkerd.io/extension', true],
  ])('%j -> %s', (text, expected) => {
    expect(matchesSelector(parseSelector(text), labels)).toBe(expected);
  });
});

describe('selectorString', () => {
  it.each<[string, Parameters<typeof selectorString>[0], string]>([
    ['no selector', undefined, ''],
    ['empty selector', {}, ''],
    ['matchLabels', { matchLabels: { 'linkerd.io/is-control-plane': 'true', tier: 'cp' } }, 'linkerd.io/is-control-plane=true,tier=cp'],
    [
      'every operator',
      {
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['a', 'b'] },
          { key: 'zone', operator: 'NotIn', values: ['x'] },
          { key: 'meshed', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      },
      'env in (a,b),zone notin (x),meshed,!legacy',
    ],
    ['labels before expressions', { matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'Exists' }] }, 'a=1,b'],
  ])('%s', (_name, selector, expected) => {
    expect(selectorString(selector)).toBe(expected);
  });

  it('round-trips through parseSelector with the same meaning', () => {
    const text = selectorString({
      matchLabels: { a: '1' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['x', 'y'] },
        { key: 'old', operator: 'DoesNotExist' },
      ],
    });
    const requirements = parseSelector(text);
    expect(matchesSelector(requirements, { a: '1', env: 'y' })).toBe(true);
    expect(matchesSelector(requirements, { a: '1', env: 'z' })).toBe(false);
    expect(matchesSelector(requirements, { a: '1', env: 'x', old: 'yes' })).toBe(false);
  });
});
