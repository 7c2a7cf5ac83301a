import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Where the API credentials come from, in client-go's order. */
export type KubeconfigSource =
  | { kind: 'flag'; paths: [string] }
  | { kind: 'env'; paths: string[] }
  | { kind: 'in-cluster' }
  | { kind: 'home'; paths: [string] }
  | { kind: 'none'; looked: string };

/** What decides the source, read from the process once (see kubeconfigInputs). */
export interface KubeconfigInputs {
  /** --kubeconfig or LCR_KUBECONFIG. */
  flag?: string;
  /** The KUBECONFIG variable: paths joined by the platform's delimiter. */
  kubeconfigEnv?: string;
  /** KUBERNETES_SERVICE_HOST and _PORT are set and the ServiceAccount token is mounted. */
  inCluster: boolean;
  /** ~/.kube/config when that file exists. */
  homeConfig?: string;
}

/**
 * Chooses the kubeconfig as client-go and kubectl do: an explicit file first, then KUBECONFIG
 * (a list, merged, the first file winning), then the pod's ServiceAccount, then ~/.kube/config.
 * A KUBECONFIG set in a pod therefore wins over the in-cluster credentials.
 */
export function kubeconfigSource(inputs: KubeconfigInputs, pathDelimiter: string = delimiter): KubeconfigSource {
  if (inputs.flag) return { kind: 'flag', paths: [inputs.flag] };
  const listed = (inputs.kubeconfigEnv ?? '').split(pathDelimiter).filter((path) => path.length > 0);
  if (listed.length > 0) return { kind: 'env', paths: listed };
  if (inputs.inCluster) return { kind: 'in-cluster' };
  if (inputs.homeConfig) return { kind: 'home', paths: [inputs.homeConfig] };
  return { kind: 'none', looked: '--kubeconfig (LCR_KUBECONFIG), KUBECONFIG, in-cluster ServiceAccount, ~/.kube/config' };
}

const tokenPath = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The inputs of kubeconfigSource from this process: its environment and files. */
export function kubeconfigInputs(flag: string | undefined, env: Record<string, string | undefined>): KubeconfigInputs {
  const home = join(homedir(), '.kube', 'config');
  return {
    flag,
    kubeconfigEnv: env.KUBECONFIG,
    inCluster: Boolean(env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) && existsSync(tokenPath),
    homeConfig: existsSync(home) ? home : undefined,
  };
}
