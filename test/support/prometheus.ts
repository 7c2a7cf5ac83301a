// A strict reader of the Prometheus text exposition format (0.0.4), independent of the writer in
// src/unattended/metrics.ts: every line must be a HELP, a TYPE or a sample of the family declared
// just before it, or parsing fails. Empty lines are ignored, as the format says (prom-client writes one
// between families).

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedExposition {
  types: Record<string, string>;
  help: Record<string, string>;
  samples: ParsedSample[];
}

const nameRe = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const helpLine = new RegExp(`^# HELP (${nameRe}) (.*)$`);
const typeLine = new RegExp(`^# TYPE (${nameRe}) (counter|gauge|histogram|summary|untyped)$`);
const sampleLine = new RegExp(`^(${nameRe})(?:\\{(.*)\\})? (\\S+)$`);
const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`bad value "${text}"`);
  return Number(text);
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  labelRe.lastIndex = 0;
  while (labelRe.lastIndex < text.length) {
    const match = labelRe.exec(text);
    if (!match) throw new Error(`bad labels in line: ${line}`);
    const [, name, raw] = match as unknown as [string, string, string];
    if (name in labels) throw new Error(`label ${name} twice in line: ${line}`);
    labels[name] = raw.replace(/\\(.)/g, (_all, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

export function parseExposition(text: string): ParsedExposition {
  const out: ParsedExposition = { types: {}, help: {}, samples: [] };
  if (text !== '' && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  let current: string | undefined;
  for (const line of text.split('\n').slice(0, -1)) {
    if (line === '') continue;
    const help = helpLine.exec(line);
    if (help) {
      const name = help[1] ?? '';
      if (name in out.help) throw new Error(`HELP twice for ${name}`);
      out.help[name] = help[2] ?? '';
      current = name;
      continue;
    }
    const type = typeLine.exec(line);
    if (type) {
      const name = type[1] ?? '';
      if (name !== current) throw new Error(`TYPE for ${name} not after its HELP`);
      out.types[name] = type[2] ?? '';
      continue;
    }
    const sample = sampleLine.exec(line);
    if (!sample) throw new Error(`unparsable line: ${line}`);
    const name = sample[1] as string;
    if (name !== current || !(name in out.types)) throw new Error(`sample of ${name} outside its family`);
    out.samples.push({ name, labels: sample[2] ? parseLabels(sample[2], line) : {}, value: parseValue(sample[3] as string) });
  }
  return out;
}

/** The value of the one sample with this name and these labels (a subset match); throws unless exactly one matches. */
export function sampleValue(parsed: ParsedExposition, name: string, labels: Record<string, string> = {}): number {
  const matches = parsed.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length !== 1) throw new Error(`expected one sample ${name}${JSON.stringify(labels)}, found ${matches.length}`);
  return (matches[0] as ParsedSample).value;
}
