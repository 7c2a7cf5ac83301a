import { readFileSync } from 'node:fs';

/** What `version` and `--version` report. */
export interface BuildInfo {
  version: string;
  /** The git commit the image or package was built from: LCR_BUILD_COMMIT, baked by the Dockerfile. */
  commit: string;
  node: string;
}

/**
 * The `version` field of package.json's text; undefined when absent or unreadable.
 * @internal exported for its unit tests
 */
export function versionOf(packageJson: string | undefined): string | undefined {
  try {
    const parsed: unknown = packageJson ? JSON.parse(packageJson) : undefined;
    return parsed && typeof parsed === 'object' && 'version' in parsed && typeof parsed.version === 'string' ? parsed.version : undefined;
  } catch {
    // A damaged package.json must not stop `--version`: it says unknown.
    return undefined;
  }
}

/** The build information from the version, the environment and the running Node; "unknown" where absent. */
export function buildInfo(version: string | undefined, env: Record<string, string | undefined>, node: string): BuildInfo {
  return { version: version ?? 'unknown', commit: env.LCR_BUILD_COMMIT?.trim() || 'unknown', node };
}

/** The text of `--version`: one line, as `node --version` and `helm version --short` print. */
export function versionLine(info: BuildInfo): string {
  return `linkerd-cert-rotator ${info.version} (commit ${info.commit}, node ${info.node})`;
}

/**
 * This program's version: the one scripts/bundle.mjs writes into the bundle (which ships without
 * package.json; esbuild replaces the expression below by a literal), else package.json two levels
 * above this file (dist/cli and src/cli alike).
 */
export function programVersion(): string | undefined {
  const bundled = process.env.LCR_BUNDLED_VERSION;
  if (bundled) return bundled;
  try {
    return versionOf(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  } catch {
    return undefined;
  }
}
