/** Messages of client-node's structural checks (they name a field, never a value). */
const structural = /^(clusters|users|contexts)\[\d+\](\.[A-Za-z-]+)* is missing$/;

/**
 * What went wrong loading a kubeconfig, naming only the kind of failure: the parser's own message
 * quotes the lines around a YAML error, and those can be a token or a key.
 */
export function kubeconfigFailure(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return `the file cannot be read (${code})`;
  if (error instanceof Error && error.name === 'YAMLException') {
    const mark = (error as { mark?: { line?: unknown; column?: unknown } }).mark;
    const at = typeof mark?.line === 'number' && typeof mark.column === 'number' ? ` at line ${mark.line + 1}, column ${mark.column + 1}` : '';
    return `not valid YAML${at}`;
  }
  if (error instanceof Error && structural.test(error.message)) return `not a valid kubeconfig: ${error.message}`;
  return 'not a valid kubeconfig';
}
