/**
 * One string per distinct value among the objects of one list. JSON parsing gives every pod its
 * own copy of every string it carries: the trust-anchor PEM its proxy was born with (the same
 * bundle in nearly every pod, a kilobyte and more each), its namespace, its owner's name. Kept
 * through an interner, a list of many pods holds each distinct value once and the copies are
 * collected with the page they came in. Meant for values shared by many objects (not names or
 * uids, which are unique and would only fill the table); drop the interner with its list.
 */
export type Intern = (value: string) => string;

/** An interner and how many distinct values it holds. */
export type Interner = Intern & { readonly size: number };

/** A fresh interner: the first copy of each value seen is the one every later caller gets. */
export function createIntern(): Interner {
  const seen = new Map<string, string>();
  const intern: Intern = (value) => {
    const kept = seen.get(value);
    if (kept !== undefined) return kept;
    seen.set(value, value);
    return value;
  };
  return Object.defineProperty(intern, 'size', { get: () => seen.size }) as Interner;
}

const asIs: Intern = (value) => value;

/** The entries of `record` whose key is in `keys`, the others dropped; values interned when told. */
export function pickKeys(record: Readonly<Record<string, string>> | undefined, keys: readonly string[], intern: Intern = asIs): Record<string, string> {
  const picked: Record<string, string> = {};
  if (!record) return picked;
  for (const key of keys) {
    const value = Object.hasOwn(record, key) ? record[key] : undefined;
    if (typeof value === 'string') picked[key] = intern(value);
  }
  return picked;
}
