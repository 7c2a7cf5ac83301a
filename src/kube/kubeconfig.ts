import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { delimiter } from 'node:path';
import { UsageError } from '../errors.js';
import { kubeconfigFailure } from './kubeconfig-failure.js';
import { kubeconfigInputs, kubeconfigSource } from './kubeconfig-source.js';

/** Where the kubeconfig comes from: --kubeconfig and --context. */
export interface KubeConnection {
  kubeconfig?: string;
  context?: string;
}

const tlsFields = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

function sameTls(a: AgentOptions, b: AgentOptions): boolean {
  return tlsFields.every((field) => {
    const [x, y] = [a[field], b[field]];
    return Buffer.isBuffer(x) && Buffer.isBuffer(y) ? x.equals(y) : x === y;
  });
}

/**
 * client-node 1.x makes a new https.Agent for every request, so every API call paid a TCP and
 * TLS handshake (one connection per request, measured with the bench's counting proxy). This
 * KubeConfig gives requests one keep-alive agent with the same TLS material instead, and a new
 * one only when that material changes (exec credentials); headers such as tokens are still
 * applied per request. Proxies and plain HTTP keep client-node's own agent.
 */
class ConnectionReusingKubeConfig extends k8s.KubeConfig {
  private shared: HttpsAgent | undefined;

  override async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const made = context.getAgent();
    if (this.getCurrentCluster()?.proxyUrl || !(made instanceof HttpsAgent) || made.constructor !== HttpsAgent) return;
    if (!this.shared || !sameTls(this.shared.options, made.options)) this.shared = new HttpsAgent({ ...made.options, keepAlive: true });
    context.setAgent(this.shared);
  }
}

/**
 * Loads a kubeconfig in client-go's order (kubeconfigSource): --kubeconfig, KUBECONFIG, in-cluster, ~/.kube/config.
 * A file that cannot be read or parsed, or an unknown context, is a configuration error (exit 2).
 */
export function loadKubeConfig(connection: KubeConnection): k8s.KubeConfig {
  const config = new ConnectionReusingKubeConfig();
  const source = kubeconfigSource(kubeconfigInputs(connection.kubeconfig, process.env));
  if (source.kind === 'none') throw new UsageError(`no kubeconfig found (looked at ${source.looked})`);
  try {
    if (source.kind === 'in-cluster') config.loadFromCluster();
    else {
      const [first, ...more] = source.paths;
      config.loadFromFile(first);
      // Later KUBECONFIG files are merged in, as client-node's loadFromDefault merges them.
      for (const path of more) {
        const next = new k8s.KubeConfig();
        next.loadFromFile(path);
        config.mergeConfig(next, true);
      }
    }
  } catch (error) {
    const where = source.kind === 'in-cluster' ? ' (in-cluster ServiceAccount)' : ` ${source.paths.join(delimiter)}`;
    throw new UsageError(`cannot load the kubeconfig${where}: ${kubeconfigFailure(error)}`);
  }
  if (connection.context) {
    if (!config.getContexts().some((context) => context.name === connection.context)) {
      throw new UsageError(`the kubeconfig has no context named ${connection.context}`);
    }
    config.setCurrentContext(connection.context);
  }
  return config;
}

/**
 * A peer cluster's kubeconfig for the multicluster mode: `context` looked up in the files of
 * `paths` (a KUBECONFIG-style list, merged, the first file winning), or in the primary's kubeconfig
 * (client-go's order) when no list is given. An unknown context is a configuration error (exit 2).
 */
export function loadPeerKubeConfig(paths: string | undefined, primary: KubeConnection, context: string): k8s.KubeConfig {
  const files = (paths ?? '').split(delimiter).filter((path) => path.length > 0);
  if (files.length === 0) return loadKubeConfig({ kubeconfig: primary.kubeconfig, context });
  const config = new ConnectionReusingKubeConfig();
  try {
    config.loadFromFile(files[0] as string);
    for (const path of files.slice(1)) {
      const next = new k8s.KubeConfig();
      next.loadFromFile(path);
      config.mergeConfig(next, true);
    }
  } catch (error) {
    throw new UsageError(`cannot load the peers' kubeconfig ${files.join(delimiter)}: ${kubeconfigFailure(error)}`);
  }
  if (!config.getContexts().some((known) => known.name === context)) {
    throw new UsageError(
      `the peers' kubeconfig ${files.join(delimiter)} has no context named ${context} (contexts: ${
        config
          .getContexts()
          .map((known) => known.name)
          .join(', ') || 'none'
      })`,
    );
  }
  config.setCurrentContext(context);
  return config;
}
