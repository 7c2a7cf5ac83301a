import yaml from 'js-yaml';

/** Formats of plans, reports and status on stdout (prometheus: status only, handled by the command). */
export type Output = 'text' | 'json' | 'yaml' | 'prometheus';

/**
 * Structured data as JSON or YAML, the same document either way: the YAML is made from the JSON
 * form (dates as strings, undefined fields dropped), so both carry the same fields.
 */
export function formatData(output: 'json' | 'yaml', data: unknown): string {
  const json = JSON.stringify(data, null, 2);
  if (output === 'json') return json;
  return yaml.dump(JSON.parse(json), { noRefs: true, lineWidth: -1, sortKeys: false }).trimEnd();
}
