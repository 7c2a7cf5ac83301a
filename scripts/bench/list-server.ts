/**
 * A loopback HTTP server that answers the paged list requests of the rotator's adapter for a
 * generated meshed cluster (scripts/bench/meshed-objects.ts), as the API server would: `limit`,
 * `continue` tokens, one page serialised at a time. The cluster size is in the path
 * (`/n/<pods>/api/v1/pods`), so one server and one kubeconfig serve every size.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { meshedDeployment, meshedNamespace, meshedPod, namespaces, type MeshShape } from './meshed-objects.js';

interface Kind {
  list: string;
  count: (shape: MeshShape) => number;
  item: (shape: MeshShape, i: number) => object;
}

const kinds: Record<string, Kind> = {
  '/api/v1/pods': { list: 'PodList', count: (s) => s.pods, item: meshedPod },
  '/api/v1/namespaces': { list: 'NamespaceList', count: namespaces, item: meshedNamespace },
  '/apis/apps/v1/deployments': { list: 'DeploymentList', count: (s) => s.pods, item: meshedDeployment },
  '/apis/apps/v1/statefulsets': { list: 'StatefulSetList', count: () => 0, item: () => ({}) },
  '/apis/apps/v1/daemonsets': { list: 'DaemonSetList', count: () => 0, item: () => ({}) },
};

/** The running server: its base URL for a cluster of `pods` pods, and what it served. */
export interface ListServer {
  url(pods: number): string;
  /** Bytes of pod JSON served and pods served, to report the size of one pod. */
  readonly served: { podBytes: number; pods: number; requests: number };
  stop(): Promise<void>;
}

export async function startListServer(shapeOf: (pods: number) => MeshShape): Promise<ListServer> {
  const served = { podBytes: 0, pods: 0, requests: 0 };
  const server: Server = createServer((req, res) => {
    served.requests++;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = /^\/n\/([0-9]+)(\/.*)$/.exec(url.pathname);
    const kind = match ? kinds[match[2] ?? ''] : undefined;
    if (!match || !kind) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
      return;
    }
    const shape = shapeOf(Number(match[1]));
    const total = kind.count(shape);
    const from = Number(url.searchParams.get('continue') || '0');
    const limit = Number(url.searchParams.get('limit') || '500') || total;
    const to = Math.min(total, from + limit);
    const items: string[] = [];
    for (let i = from; i < to; i++) items.push(JSON.stringify(kind.item(shape, i)));
    if (kind.list === 'PodList') {
      served.pods += items.length;
      served.podBytes += items.reduce((sum, item) => sum + item.length, 0);
    }
    const metadata = { resourceVersion: '424242', ...(to < total ? { continue: String(to), remainingItemCount: total - to } : {}) };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(`{"kind":"${kind.list}","apiVersion":"v1","metadata":${JSON.stringify(metadata)},"items":[${items.join(',')}]}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (pods) => `http://127.0.0.1:${port}/n/${pods}`,
    served,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
