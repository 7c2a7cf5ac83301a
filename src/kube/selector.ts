/**
 * Label selectors in the string form kubectl takes ("a=b,c!=d,e,!f,g in (x,y)"),
 * matched in memory so one cluster-wide list serves every selector.
 */
type Requirement =
  { op: 'eq' | 'ne'; key: string; value: string } | { op: 'exists' | 'absent'; key: string } | { op: 'in' | 'notin'; key: string; values: string[] };

/** Parses a selector; throws on syntax it does not understand. Empty selects everything. */
export function parseSelector(text: string): Requirement[] {
  const parts = text.match(/[^,(]+(\([^)]*\))?/g) ?? [];
  return parts
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part): Requirement => {
      const set = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
      if (set)
        return {
          op: set[2] as 'in' | 'notin',
          key: set[1] ?? '',
          values: (set[3] ?? '')
            .split(',')
            .map((v) => v.trim())
            .filter(Boolean),
        };
      const compare = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(part);
      if (compare) return { op: compare[2] === '!=' ? 'ne' : 'eq', key: compare[1] ?? '', value: compare[3] ?? '' };
      const exists = /^(!?)([\w./-]+)$/.exec(part);
      if (exists) return { op: exists[1] ? 'absent' : 'exists', key: exists[2] ?? '' };
      throw new Error(`cannot parse label selector "${text}" at "${part}"`);
    });
}

/** True when the labels satisfy every requirement. */
export function matchesSelector(requirements: readonly Requirement[], labels: Record<string, string>): boolean {
  return requirements.every((req) => {
    const value = labels[req.key];
    switch (req.op) {
      case 'eq':
        return value === req.value;
      case 'ne':
        return value !== req.value;
      case 'exists':
        return value !== undefined;
      case 'absent':
        return value === undefined;
      case 'in':
        return value !== undefined && req.values.includes(value);
      case 'notin':
        return value === undefined || !req.values.includes(value);
    }
  });
}

/** A Kubernetes LabelSelector object in string form, for list calls. */
export function selectorString(
  selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined,
): string {
  if (!selector) return '';
  const labels = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  const expressions = (selector.matchExpressions ?? []).map((expr) => {
    switch (expr.operator) {
      case 'In':
        return `${expr.key} in (${(expr.values ?? []).join(',')})`;
      case 'NotIn':
        return `${expr.key} notin (${(expr.values ?? []).join(',')})`;
      case 'Exists':
        return expr.key;
      default:
        return `!${expr.key}`;
    }
  });
  return [...labels, ...expressions].join(',');
}
