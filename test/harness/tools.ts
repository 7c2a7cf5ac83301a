import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { readClusterEnv, repoRoot } from './cluster.js';
import { e2eStateDir } from './env.js';

/** What a command-line tool said and how it ended. */
export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The env file of this worker's cluster (LCR_HELM, LCR_KUBECTL, LCR_APISERVER_URL, LCR_CA_CERT, ...). */
export function e2eClusterEnv(): Record<string, string> {
  return readClusterEnv(e2eStateDir());
}

/** Runs a tool to completion (no shell); `input` goes to its stdin. */
export function runTool(
  command: string,
  args: string[],
  options: { input?: string; env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {},
): ToolRun {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? repoRoot,
    input: options.input,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: options.timeoutMs ?? 120_000,
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Throws with the tool's output unless it exited 0; returns its stdout. */
export function succeeded(run: ToolRun, what: string): string {
  if (run.code !== 0) throw new Error(`${what} exited ${String(run.code)}:\n${run.stderr.slice(-3000)}\n${run.stdout.slice(-2000)}`);
  return run.stdout;
}

/**
 * helm template and helm lint render offline for the cluster's Kubernetes version: the chart's kubeVersion
 * (>=1.30) refuses the v1.20.0 a helm built with `go install` assumes without a cluster (helm's own
 * builds set it from their client-go). An explicit --kube-version in ARGS wins.
 */
export function offlineKubeVersion(args: string[], env: Record<string, string>): string[] {
  const version = env.LCR_KUBERNETES_VERSION;
  if (!version || !['template', 'lint'].includes(args[0] ?? '') || args.some((a) => a.startsWith('--kube-version'))) return args;
  return [...args, '--kube-version', version];
}

/** The cluster's helm and kubectl, with the admin kubeconfig and helm's caches kept in the state dir. */
export function clusterTools(kubeconfig: string): { helm: (args: string[], input?: string) => ToolRun; kubectl: (args: string[], input?: string) => ToolRun } {
  const env = e2eClusterEnv();
  const helmHome = join(env.LCR_CLUSTER_DIR ?? '', 'helm');
  const helmEnv = {
    KUBECONFIG: kubeconfig,
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_DATA_HOME: join(helmHome, 'data'),
  };
  return {
    helm: (args, input) => runTool(env.LCR_HELM ?? 'helm', offlineKubeVersion(args, env), { input, env: helmEnv }),
    kubectl: (args, input) => runTool(env.LCR_KUBECTL ?? 'kubectl', ['--kubeconfig', kubeconfig, ...args], { input }),
  };
}

/** The objects of a multi-document YAML stream (empty documents dropped). */
export function parseManifests(yaml: string): k8s.KubernetesObject[] {
  return (k8s.loadAllYaml(yaml) as (k8s.KubernetesObject | null)[]).filter(
    (o): o is k8s.KubernetesObject => o !== null && typeof o === 'object' && 'kind' in o,
  );
}

/**
 * Writes a self-contained kubeconfig for the local apiserver (CA embedded) authenticating with a
 * bearer token, or with the admin client certificate when no token is given. Self-contained so it
 * can be mounted alone into a container.
 */
export function writeKubeconfig(path: string, user: { token: string } | 'admin', namespace = 'default'): string {
  const env = e2eClusterEnv();
  const b64 = (file: string | undefined): string => readFileSync(file ?? '').toString('base64');
  const credentials =
    user === 'admin' ? { 'client-certificate-data': b64(env.LCR_ADMIN_CERT), 'client-key-data': b64(env.LCR_ADMIN_KEY) } : { token: user.token };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: { server: env.LCR_APISERVER_URL, 'certificate-authority-data': b64(env.LCR_CA_CERT) } }],
    users: [{ name: 'user', user: credentials }],
    contexts: [{ name: 'local', context: { cluster: 'local', user: 'user', namespace } }],
    'current-context': 'local',
  };
  writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o600 });
  return path;
}

/**
 * A ServiceAccount's token as `kubectl create token` makes one (or, with `boundPod`, bound to a pod as
 * the kubelet projects it) and a kubeconfig at `path` that holds it alone, in the account's namespace.
 * Throws when the API returned no token.
 */
export async function serviceAccountKubeconfig(
  core: k8s.CoreV1Api,
  path: string,
  account: { namespace: string; name: string },
  options: { expirationSeconds?: number; boundPod?: { name: string; uid: string } } = {},
): Promise<{ token: string; kubeconfig: string }> {
  const boundObjectRef = options.boundPod ? { apiVersion: 'v1', kind: 'Pod', ...options.boundPod } : undefined;
  const request = await core.createNamespacedServiceAccountToken({
    ...account,
    body: { spec: { audiences: [], expirationSeconds: options.expirationSeconds ?? 3600, boundObjectRef } },
  });
  const token = request.status?.token ?? '';
  if (token === '') throw new Error(`no token for ServiceAccount ${account.namespace}/${account.name}`);
  return { token, kubeconfig: writeKubeconfig(path, { token }, account.namespace) };
}

/** The HTTP status of a failed client-node call (undefined when it succeeded or failed otherwise). */
export async function statusOfCall(call: Promise<unknown>): Promise<number | undefined> {
  try {
    await call;
    return 200;
  } catch (error) {
    return (error as { code?: number }).code;
  }
}
