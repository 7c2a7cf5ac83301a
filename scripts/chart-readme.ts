// Writes chart/README.md from chart/Chart.yaml, chart/values.yaml and chart/values.schema.json, the way
// helm-docs does: every value's `# -- description` comment (and the comment lines under it) becomes a row
// of a table with the value's type and default. Also writes the chart's icon (docs/images/icon.svg as a
// data URI) into chart/Chart.yaml. test/unit/chart/readme.test.ts regenerates both and fails when the
// committed files differ.
//
// Usage: npm run chart:readme                   (writes chart/README.md and the icon of chart/Chart.yaml)
//        node scripts/chart-readme.ts --check   (exit 1 when either is out of date)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { load } from 'js-yaml';

/** One `# --` comment: the path of the value below it and its text. */
export interface ValueDoc {
  path: string[];
  description: string;
}

interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
}

interface ChartMeta {
  name: string;
  version: string;
  appVersion?: string;
  description?: string;
  kubeVersion?: string;
  home?: string;
}

const keyLine = /^( *)("[^"]+"|'[^']+'|[A-Za-z0-9_.\/-]+):(?:\s|$)/;

/**
 * The `# -- ` comments of a values file, each attached to the key on the line below its comment block
 * (helm-docs' rule): the description starts at the last `# -- ` line of the block and runs to the key.
 */
export function valueComments(text: string): ValueDoc[] {
  const docs: ValueDoc[] = [];
  const stack: { indent: number; key: string }[] = [];
  let block: string[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed.startsWith('#')) {
      block.push(trimmed);
      continue;
    }
    const match = keyLine.exec(line);
    if (match && !trimmed.startsWith('-')) {
      const indent = match[1]?.length ?? 0;
      const key = (match[2] ?? '').replace(/^["']|["']$/g, '');
      while (stack.length > 0 && (stack[stack.length - 1]?.indent ?? 0) >= indent) stack.pop();
      stack.push({ indent, key });
      const start = block.findLastIndex((l) => l.startsWith('# --'));
      if (start >= 0) {
        const [first = '', ...rest] = block.slice(start);
        const description = [first.replace(/^# --\s?/, ''), ...rest.map((l) => l.replace(/^#\s?/, ''))].join(' ').replace(/\s+/g, ' ').trim();
        docs.push({ path: stack.map((s) => s.key), description });
      }
    }
    block = [];
  }
  return docs;
}

const isMap = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function valueAt(values: unknown, path: string[]): { found: boolean; value: unknown } {
  let current: unknown = values;
  for (const key of path) {
    if (!isMap(current) || !(key in current)) return { found: false, value: undefined };
    current = current[key];
  }
  return { found: true, value: current };
}

function schemaType(schema: SchemaNode, path: string[], value: unknown): string {
  let node: SchemaNode | undefined = schema;
  for (const key of path) node = node?.properties?.[key];
  const type = node?.type;
  if (type !== undefined) return (Array.isArray(type) ? type : [type]).join(' or ');
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return isMap(value) ? 'object' : typeof value;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|');

function defaultCell(value: unknown): string {
  const json = JSON.stringify(value);
  return json === undefined ? '' : `\`${cell(json)}\``;
}

/**
 * Rows of the values table, in the file's order: documented values whose children are not documented
 * (objects such as `resources` are one row, their whole default shown). Throws when a value has no
 * description, when an object documents some children and not others, or when a comment names no value.
 */
export function valueRows(valuesText: string): { section: string; path: string[]; description: string; value: unknown }[] {
  const values = load(valuesText);
  const docs = valueComments(valuesText);
  const documented = new Set(docs.map((d) => d.path.join('.')));
  const problems: string[] = [];
  for (const doc of docs) if (!valueAt(values, doc.path).found) problems.push(`${doc.path.join('.')}: a comment for no value`);
  const check = (node: unknown, path: string[]): void => {
    if (!isMap(node)) return;
    const children = Object.keys(node).map((key) => [...path, key]);
    const done = children.filter((child) => documented.has(child.join('.')));
    if (done.length > 0 && done.length < children.length) {
      for (const child of children) if (!documented.has(child.join('.'))) problems.push(`${child.join('.')}: no "# --" description (its siblings have one)`);
    }
    for (const child of done) check(valueAt(values, child).value, child);
  };
  if (!isMap(values)) throw new Error('values.yaml is not a map');
  for (const key of Object.keys(values)) if (!documented.has(key)) problems.push(`${key}: no "# --" description`);
  check(values, []);
  if (problems.length > 0) throw new Error(`chart/values.yaml:\n${problems.join('\n')}`);

  const hasDocumentedChildren = (path: string[]): boolean =>
    docs.some((d) => d.path.length === path.length + 1 && d.path.join('.').startsWith(`${path.join('.')}.`));
  return docs
    .filter((doc) => !hasDocumentedChildren(doc.path))
    .map((doc) => ({ section: doc.path.slice(0, -1).join('.'), path: doc.path, description: doc.description, value: valueAt(values, doc.path).value }));
}

/** The chart's README: what the chart is, where the install guide is, and every value. */
export function chartReadme(chartYaml: string, valuesText: string, schemaText: string): string {
  const chart = load(chartYaml) as ChartMeta;
  const schema = JSON.parse(schemaText) as SchemaNode;
  const docs = valueComments(valuesText);
  const rows = valueRows(valuesText);
  const sectionText = new Map(docs.map((d) => [d.path.join('.'), d.description]));
  const repo = chart.home?.replace(/\/$/, '');
  const link = (file: string): string => (repo ? `${repo}/blob/main/${file}` : `../${file}`);

  const out: string[] = [
    `# ${chart.name}`,
    '',
    chart.description ?? '',
    '',
    `Chart version ${chart.version}, app version ${chart.appVersion ?? chart.version}` + (chart.kubeVersion ? `, Kubernetes \`${chart.kubeVersion}\`.` : '.'),
    '',
    'No image is published: build and push the image to your registry first, then install with',
    '`--set image.repository=...,image.tag=...`. Installing step by step (onto an existing Linkerd and',
    `cert-manager), upgrading and uninstalling: [docs/install.md](${link('docs/install.md')}); every permission`,
    `and why: [docs/permissions.md](${link('docs/permissions.md')}); alerts and exit codes:`,
    `[docs/runbook.md](${link('docs/runbook.md')}).`,
    '',
    '```bash',
    'helm install linkerd-cert-rotator ./chart -n linkerd-cert-rotator --create-namespace \\',
    '  --set image.repository=registry.example.com/linkerd-cert-rotator --set image.tag=' + (chart.appVersion ?? chart.version),
    "helm test linkerd-cert-rotator -n linkerd-cert-rotator --logs   # runs `status` as the release's ServiceAccount",
    '```',
    '',
    '## Values',
    '',
    'Generated from the `# --` comments in [values.yaml](values.yaml) by `npm run chart:readme`',
    '(scripts/chart-readme.ts); edit the comments, not this file. Types come from',
    '[values.schema.json](values.schema.json), which refuses unknown keys.',
  ];
  // Top-level values first, in one table; then a table per block (`image`, `rotator`, `certificates.anchor`,
  // ...), in the order of the file.
  const sections = [...new Set(['', ...rows.map((r) => r.section)])];
  const ordered = sections.flatMap((section) => rows.filter((r) => r.section === section));
  let current: string | undefined;
  for (const row of ordered) {
    if (row.section !== current) {
      out.push('', row.section ? `### ${row.section}` : '### Top-level values', '');
      const text = sectionText.get(row.section);
      if (text) out.push(text, '');
      out.push('| Key | Type | Default | Description |', '|-----|------|---------|-------------|');
      current = row.section;
    }
    out.push(`| \`${row.path.join('.')}\` | ${schemaType(schema, row.path, row.value)} | ${defaultCell(row.value)} | ${cell(row.description)} |`);
  }
  out.push('');
  return out.join('\n');
}

/** Chart.yaml with its `icon:` line set to SVG as a base64 data URI. */
export function withIcon(chartYaml: string, svg: string): string {
  const icon = `icon: data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
  if (!/^icon: .*$/m.test(chartYaml)) throw new Error('Chart.yaml has no icon: line');
  return chartYaml.replace(/^icon: .*$/m, icon);
}

/** The repository's chart/README.md and chart/Chart.yaml as they should be, from the files in ROOT. */
export function chartFilesOf(root: string): { readme: string; chartYaml: string } {
  const read = (file: string): string => readFileSync(join(root, file), 'utf8');
  const chartYaml = withIcon(read('chart/Chart.yaml'), read('docs/images/icon.svg'));
  return { readme: chartReadme(chartYaml, read('chart/values.yaml'), read('chart/values.schema.json')), chartYaml };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = join(import.meta.dirname, '..');
  const wanted = chartFilesOf(root);
  const files = [
    { file: join(root, 'chart', 'README.md'), text: wanted.readme },
    { file: join(root, 'chart', 'Chart.yaml'), text: wanted.chartYaml },
  ];
  for (const { file, text } of files) {
    if (process.argv.includes('--check')) {
      let current = '';
      try {
        current = readFileSync(file, 'utf8');
      } catch {
        // a missing file is out of date
      }
      if (current !== text) {
        console.error(`${file} is out of date: run npm run chart:readme`);
        process.exitCode = 1;
      }
    } else {
      writeFileSync(file, text);
      console.log(`wrote ${file}`);
    }
  }
}
