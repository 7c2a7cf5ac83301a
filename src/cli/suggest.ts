/** Edit distance (insertions, deletions, substitutions, and swaps of neighbours) between two words. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const above = d[i - 1] as number[];
      row[j] = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/**
 * The closest candidate within a third of the word's length (at least 2 edits), or one the word is a prefix of.
 * @internal exported for its unit tests
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of candidates) {
    const score = distance(word, candidate);
    if (score <= Math.max(2, Math.floor(word.length / 3)) && (!best || score < best.score)) best = { candidate, score };
  }
  if (best) return best.candidate;
  const extended = candidates.filter((candidate) => word.length >= 3 && candidate.startsWith(word));
  return extended.length === 1 ? extended[0] : undefined;
}

/** What the command line holds, for a suggestion: its command (first word) and the flags it accepts. */
export interface Vocabulary {
  commands: readonly string[];
  /** The named command, if the first word is one. */
  command?: string;
  /** Flags of that command (of every command when none is named). */
  flags: readonly string[];
  /** Every flag of every command, to say where a flag belongs. */
  allFlags: readonly string[];
}

/**
 * Rewrites yargs' "Unknown argument(s): a, b" with a "did you mean" for each unknown word:
 * a command for the first word, else a flag of the command. yargs also lists the camel-case
 * twin of each dashed flag; those are dropped.
 */
export function unknownArgumentMessage(message: string, vocabulary: Vocabulary, argv: readonly string[]): string {
  const match = /^Unknown arguments?: (.+)$/.exec(message);
  if (!match?.[1]) return message;
  const listed = match[1].split(', ');
  const words = listed.filter((word) => !(/[A-Z]/.test(word) && listed.includes(word.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`))));
  const first = argv.find((arg) => !arg.startsWith('-'));
  const hints = words.map((word) => {
    const asFlag = argv.some((arg) => arg === `--${word}` || arg.startsWith(`--${word}=`) || arg === `--no-${word}` || arg === `-${word}`);
    if (!asFlag) {
      const command = word === first && !vocabulary.command ? closest(word, vocabulary.commands) : undefined;
      return command ? `${word} (did you mean ${command}?)` : word;
    }
    if (vocabulary.command && vocabulary.allFlags.includes(word)) return `--${word} (not an option of ${vocabulary.command}: see ${vocabulary.command} --help)`;
    const flag = closest(word, vocabulary.flags);
    return flag ? `--${word} (did you mean --${flag}?)` : `--${word}`;
  });
  return `Unknown argument${hints.length > 1 ? 's' : ''}: ${hints.join(', ')}`;
}
