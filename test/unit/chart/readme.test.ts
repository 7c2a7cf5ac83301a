// chart/README.md is generated from the comments in chart/values.yaml (scripts/chart-readme.ts): this
// regenerates it, and the icon that script writes into chart/Chart.yaml, and fails when the committed
// files differ. Then the generator's rules, and Chart.yaml's metadata against the chart and the repository.
import { existsSync, readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { chartFilesOf, chartReadme, valueComments, valueRows, withIcon } from '../../../scripts/chart-readme.js';

const root = process.cwd();
const read = (file: string): string => readFileSync(file, 'utf8');

describe('chart/README.md and chart/Chart.yaml are in sync with their sources', () => {
  const wanted = chartFilesOf(root);

  test('chart/README.md is what npm run chart:readme writes from values.yaml', () => {
    // On failure: run `npm run chart:readme` and commit chart/README.md.
    expect(read('chart/README.md')).toBe(wanted.readme);
  });

  test("chart/Chart.yaml's icon is docs/images/icon.svg as a data URI", () => {
    expect(read('chart/Chart.yaml')).toBe(wanted.chartYaml);
    const icon = (load(read('chart/Chart.yaml')) as { icon: string }).icon;
    const [, base64 = ''] = /^data:image\/svg\+xml;base64,(.+)$/.exec(icon) ?? [];
    expect(Buffer.from(base64, 'base64').toString('utf8')).toBe(read('docs/images/icon.svg'));
  });

  test('every value of values.yaml has a row, and every row is a value', () => {
    const values = load(read('chart/values.yaml')) as Record<string, unknown>;
    const rows = [...read('chart/README.md').matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    for (const key of Object.keys(values)) expect(rows.some((row) => row === key || row?.startsWith(`${key}.`))).toBe(true);
    for (const row of rows) {
      let node: unknown = values;
      for (const key of row?.split('.') ?? []) node = (node as Record<string, unknown>)[key];
      expect({ row, found: node !== undefined }).toEqual({ row, found: true });
    }
    expect(rows).toEqual(expect.arrayContaining(['image.repository', 'rotator.linkerdNamespace', 'tests.enabled', 'certificates.anchor.duration']));
  });
});

describe('the generator', () => {
  const values = [
    '# A plain comment, not a description.',
    '',
    '# -- The image.',
    'image:',
    '  # ignored: above the description',
    '  # -- Where the image comes from;',
    '  # a second line.',
    '  repository: example/a',
    '  # -- Tag | or digest.',
    '  tag: ""',
    '# -- Resources (children not documented: one row).',
    'resources:',
    '  limits:',
    '    memory: 1Gi',
    '# -- Names.',
    'names: [a, b]',
  ].join('\n');

  test('attaches each "# --" comment block, continuation lines included, to the key below it', () => {
    expect(valueComments(values)).toEqual([
      { path: ['image'], description: 'The image.' },
      { path: ['image', 'repository'], description: 'Where the image comes from; a second line.' },
      { path: ['image', 'tag'], description: 'Tag | or digest.' },
      { path: ['resources'], description: 'Resources (children not documented: one row).' },
      { path: ['names'], description: 'Names.' },
    ]);
  });

  test('documents leaves and undocumented objects as rows, grouped under their documented parent', () => {
    expect(valueRows(values).map((r) => [r.section, r.path.join('.'), r.value])).toEqual([
      ['image', 'image.repository', 'example/a'],
      ['image', 'image.tag', ''],
      ['', 'resources', { limits: { memory: '1Gi' } }],
      ['', 'names', ['a', 'b']],
    ]);
    const readme = chartReadme('name: x\nversion: 1.0.0\n', values, '{"properties": {"image": {"properties": {"tag": {"type": ["string", "null"]}}}}}');
    expect(readme).toContain('| `image.tag` | string or null | `""` | Tag \\| or digest. |');
    expect(readme).toContain('| `resources` | object | `{"limits":{"memory":"1Gi"}}` |');
    expect(readme.indexOf('### Top-level values')).toBeLessThan(readme.indexOf('### image'));
  });

  test.each([
    ['an undocumented top-level value', 'a: 1\n# -- B.\nb: 2\n', 'a: no "# --" description'],
    ['an object documenting some children only', '# -- X.\nx:\n  # -- Y.\n  y: 1\n  z: 2\n', 'x.z: no "# --" description (its siblings have one)'],
  ])('refuses %s', (_what, text, message) => {
    expect(() => valueRows(text)).toThrow(message);
  });

  test('withIcon replaces the icon line only', () => {
    expect(withIcon('name: x\nicon: old\nversion: 1\n', '<svg/>')).toBe(
      `name: x\nicon: data:image/svg+xml;base64,${Buffer.from('<svg/>').toString('base64')}\nversion: 1\n`,
    );
    expect(() => withIcon('name: x\n', '<svg/>')).toThrow('no icon: line');
  });
});

describe("Chart.yaml's metadata", () => {
  const chart = load(read('chart/Chart.yaml')) as { home: string; appVersion: string; kubeVersion: string; annotations: Record<string, string> };
  const values = load(read('chart/values.yaml')) as { image: { repository: string }; prometheusRule: { runbookBaseUrl: string } };

  test('the image Artifact Hub lists is the one the defaults render (image.repository:appVersion)', () => {
    const images = load(chart.annotations['artifacthub.io/images'] ?? '') as { image: string }[];
    expect(images.map((i) => i.image)).toEqual([`${values.image.repository}:${chart.appVersion}`]);
  });

  test('the links point into this repository at files that exist, as the runbook links of the alerts do', () => {
    const links = load(chart.annotations['artifacthub.io/links'] ?? '') as { url: string }[];
    expect(links.length).toBeGreaterThan(0);
    for (const { url } of links) {
      expect(url.startsWith(`${chart.home}/blob/main/`)).toBe(true);
      expect({ url, exists: existsSync(url.slice(`${chart.home}/blob/main/`.length)) }).toEqual({ url, exists: true });
    }
    expect(values.prometheusRule.runbookBaseUrl).toBe(`${chart.home}/blob/main/docs/runbook.md`);
  });
});
