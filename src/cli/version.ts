import { readFileSync } from 'node:fs';

/** What `version` and `--version` report. */
export interface BuildInfo {
  version: string;
  /** The git commit the image or package was built from: LCR_BUILD_COMMIT, baked by the Dockerfile. */
  commit: string;
  node: string;
}

/** The build information from package.json's text, the environment and the running Node; "unknown" where absent. */
export function buildInfo(packageJson: string | undefined, env: Record<string, string | undefined>, node: string): BuildInfo {
  let version = 'unknown';
  try {
    const parsed: unknown = packageJson ? JSON.parse(packageJson) : undefined;
    if (parsed && typeof parsed === 'object' && 'version' in parsed && typeof parsed.version === 'string') version = parsed.version;
  } catch {
    // A damaged package.json must not stop `--version`: it says unknown.
  }
  return { version, commit: env.LCR_BUILD_COMMIT?.trim() || 'unknown', node };
}

/** The text of `--version`: one line, as `node --version` and `helm version --short` print. */
export function versionLine(info: BuildInfo): string {
  return `linkerd-cert-rotator ${info.version} (commit ${info.commit}, node ${info.node})`;
}

/** package.json beside dist/ (and src/): two levels above this file in both layouts. */
export function readPackageJson(): string | undefined {
  try {
    return readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  } catch {
    return undefined;
  }
}
