// src/kube/client.ts and src/kube/unattended.ts against a loopback server that accepts and never answers (a half-open
// connection as the client sees it), and one that opens a watch and then says nothing; the
// request signal on every call, and the write fence checked again before each retry.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { AbortedError } from '../../../src/errors.js';
import { KubeCluster } from '../../../src/kube/client.js';
import { KubeUnattended } from '../../../src/kube/unattended.js';
import { ApiError } from '../../../src/kube/errors.js';
import { silentLogger } from '../../../src/log.js';
import { fenceWrites, LockLostError } from '../../../src/unattended/lock.js';

/** A plain-HTTP server on 127.0.0.1; `answer` decides per request, and may never answer. */
class LoopbackServer {
  readonly requests: string[] = [];
  /** Requests whose connection the client closed before any answer (an aborted request). */
  abandoned = 0;
  private readonly sockets = new Set<Socket>();
  private constructor(private readonly server: Server) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<LoopbackServer> {
    const holder: { self?: LoopbackServer } = {};
    const server = createServer((req, res) => {
      holder.self?.requests.push(`${req.method} ${req.url}`);
      res.on('close', () => {
        if (!res.writableFinished && holder.self) holder.self.abandoned++;
      });
      answer(req, res);
    });
    holder.self = new LoopbackServer(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return holder.self;
  }

  get config(): k8s.KubeConfig {
    const config = new k8s.KubeConfig();
    const { port } = this.server.address() as AddressInfo;
    config.loadFromOptions({
      clusters: [{ name: 'loopback', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'nobody' }],
      contexts: [{ name: 'loopback', cluster: 'loopback', user: 'nobody' }],
      currentContext: 'loopback',
    });
    return config;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const never = (): void => undefined;
const fast = { requestTimeoutMs: 200, windowMs: 1_000, minDelayMs: 50, maxDelayMs: 100 };

describe('the call helper against a server that never answers', () => {
  let server: LoopbackServer;
  beforeEach(async () => {
    server = await LoopbackServer.start(never);
  });
  afterEach(async () => {
    await server.stop();
  });

  it('each request ends at the request timeout and is retried until the window has passed; the error names the call', async () => {
    const cluster = new KubeCluster(server.config, { logger: silentLogger(), policy: fast });
    const started = Date.now();
    const error = await cluster.getSecret('shop', 'x').catch((e: unknown) => e);
    const took = Date.now() - started;
    expect(error).toBeInstanceOf(ApiError);
    expect((error as Error).message).toMatch(/^get secrets shop\/x: no answer within 0\.2s/);
    // It stops once another attempt and backoff would pass the 1 s window.
    expect(took).toBeGreaterThanOrEqual(1_000 - 200 - 100);
    expect(took).toBeLessThan(3_000);
    expect(server.requests.length).toBeGreaterThanOrEqual(3);
    expect(server.requests.every((r) => r === 'GET /api/v1/namespaces/shop/secrets/x')).toBe(true);
  });

  it("the run's abort ends a hanging request at once", async () => {
    const abort = new AbortController();
    const cluster = new KubeCluster(server.config, { logger: silentLogger(), signal: abort.signal, policy: { requestTimeoutMs: 30_000 } });
    const started = Date.now();
    setTimeout(() => abort.abort('SIGTERM'), 100);
    await expect(cluster.listMeshedPods()).rejects.toEqual(new AbortedError('SIGTERM'));
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('the lock adapter goes through the same helper: a Lease read that never answers fails within its own budget', async () => {
    const kube = new KubeUnattended(server.config, { logger: silentLogger(), policy: fast });
    const started = Date.now();
    await expect(kube.getLease('linkerd', 'linkerd-cert-rotator')).rejects.toThrow(
      /^get leases\.coordination\.k8s\.io linkerd\/linkerd-cert-rotator: no answer within 0\.2s/,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(server.requests[0]).toBe('GET /apis/coordination.k8s.io/v1/namespaces/linkerd/leases/linkerd-cert-rotator');
  });
});

describe('the unattended view of the adapter', () => {
  it("is not bound to the run's signal: after an abort the rotation's calls stop, the Lease is still read", async () => {
    const server = await LoopbackServer.start((_req, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
    });
    try {
      const abort = new AbortController();
      abort.abort('SIGTERM');
      const cluster = new KubeCluster(server.config, { logger: silentLogger(), signal: abort.signal, policy: fast });
      await expect(cluster.getSecret('shop', 'x')).rejects.toEqual(new AbortedError('SIGTERM'));
      expect(server.requests).toEqual([]);
      await expect(cluster.unattended().getLease('linkerd', 'linkerd-cert-rotator')).resolves.toBeUndefined();
      expect(server.requests).toEqual(['GET /apis/coordination.k8s.io/v1/namespaces/linkerd/leases/linkerd-cert-rotator']);
    } finally {
      await server.stop();
    }
  });
});

describe('watches against a server that lists but never streams', () => {
  const list = (res: ServerResponse): void => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ kind: 'DeploymentList', apiVersion: 'apps/v1', metadata: { resourceVersion: '42' }, items: [] }));
  };

  it('a watch whose opening gets no answer fails after the window, naming the watch', async () => {
    const server = await LoopbackServer.start((req, res) => (req.url?.includes('watch=true') ? undefined : list(res)));
    try {
      const cluster = new KubeCluster(server.config, { logger: silentLogger(), policy: fast });
      await expect(cluster.watchWorkloads('Deployment', () => undefined)).rejects.toThrow(
        /^watch deployments\.apps \(all\): .*did not open within 0\.2s|no answer within 0\.2s/,
      );
      expect(server.requests.filter((r) => r.includes('watch=true')).length).toBeGreaterThanOrEqual(2);
    } finally {
      await server.stop();
    }
  });

  it('a watch that opens and then sends nothing is re-opened after the idle limit, from the version it had', async () => {
    const server = await LoopbackServer.start((req, res) => {
      if (!req.url?.includes('watch=true')) return list(res);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
    });
    try {
      const cluster = new KubeCluster(server.config, { logger: silentLogger(), policy: fast, watchIdleMs: 300 });
      const feed = await cluster.watchWorkloads('Deployment', () => undefined);
      expect(feed.span).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      feed.stop();
      const watches = server.requests.filter((r) => r.includes('watch=true'));
      expect(watches.length).toBeGreaterThanOrEqual(3);
      expect(watches.every((r) => r.includes('resourceVersion=42'))).toBe(true);
      expect(server.requests.filter((r) => !r.includes('watch=true'))).toHaveLength(1);
    } finally {
      await server.stop();
    }
  });
});

const json = (res: ServerResponse, body: unknown, code = 200): void => {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};
const discovery = {
  kind: 'APIGroupList',
  apiVersion: 'v1',
  groups: [{ name: 'trust-manager.io', versions: [{ groupVersion: 'trust-manager.io/v1alpha2', version: 'v1alpha2' }] }],
};
const secret = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { namespace: 'cert-manager', name: 'linkerd-previous-anchor', resourceVersion: '7' },
  type: 'Opaque',
  data: { 'tls.crt': '' },
};
const until = async (what: () => boolean): Promise<void> => {
  for (const deadline = Date.now() + 2_000; !what() && Date.now() < deadline;) await new Promise((resolve) => setTimeout(resolve, 20));
};

describe('the request signal reaches every call: a timed-out attempt closes its request', () => {
  it('getBundle (the ClusterBundle read)', async () => {
    const server = await LoopbackServer.start((req, res) => (req.url === '/apis' ? json(res, discovery) : undefined));
    try {
      const cluster = new KubeCluster(server.config, { logger: silentLogger(), policy: fast });
      await expect(cluster.getBundle('linkerd-identity-trust-roots')).rejects.toThrow(
        /^get clusterbundles\.trust-manager\.io linkerd-identity-trust-roots: no answer within 0\.2s/,
      );
      const hanging = server.requests.filter((r) => r.includes('/clusterbundles/')).length;
      expect(hanging).toBeGreaterThanOrEqual(2);
      await until(() => server.abandoned >= hanging);
      expect(server.abandoned).toBe(hanging);
    } finally {
      await server.stop();
    }
  });

  it('writeCertificateOnlySecret (its read and its update)', async () => {
    const server = await LoopbackServer.start((req, res) => (req.method === 'GET' ? json(res, secret) : undefined));
    try {
      const cluster = new KubeCluster(server.config, { logger: silentLogger(), policy: fast });
      await expect(cluster.writeCertificateOnlySecret('cert-manager', 'linkerd-previous-anchor', '', {})).rejects.toThrow(
        /^update secrets cert-manager\/linkerd-previous-anchor: no answer within 0\.2s/,
      );
      const hanging = server.requests.filter((r) => r.startsWith('PUT ')).length;
      expect(hanging).toBeGreaterThanOrEqual(2);
      await until(() => server.abandoned >= hanging);
      expect(server.abandoned).toBe(hanging);
    } finally {
      await server.stop();
    }
  });
});

describe('the write fence inside the retries', () => {
  it('a lock lost while a write is being retried stops it before the next attempt; reads are never fenced', async () => {
    let held = true;
    const server = await LoopbackServer.start((req, res) => {
      if (req.method === 'GET') return json(res, secret);
      // The update fails transiently, and meanwhile the lock is lost.
      held = false;
      json(res, { kind: 'Status', code: 503, message: 'unavailable' }, 503);
    });
    try {
      const cluster = fenceWrites(new KubeCluster(server.config, { logger: silentLogger(), policy: fast }), () => {
        if (!held) throw new LockLostError('stopped before a write: the rotation lock was lost');
      });
      const failure = await cluster.writeCertificateOnlySecret('cert-manager', 'linkerd-previous-anchor', '', {}).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(LockLostError);
      expect(server.requests.filter((r) => r.startsWith('PUT '))).toHaveLength(1);
      // Reads still go through with the lock lost.
      await expect(cluster.getSecret('cert-manager', 'linkerd-previous-anchor')).resolves.toMatchObject({ name: 'linkerd-previous-anchor' });
    } finally {
      await server.stop();
    }
  });

  it('an eviction is fenced the same way, and a 429 from a disruption budget comes back as blocked, not retried as throttling', async () => {
    let held = true;
    let evictions = 0;
    const server = await LoopbackServer.start((_req, res) => {
      evictions++;
      if (evictions === 1)
        return json(
          res,
          {
            kind: 'Status',
            code: 429,
            message: "Cannot evict pod as it would violate the pod's disruption budget.",
            details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget db needs 2 healthy pods and has 2 currently' }] },
          },
          429,
        );
      held = false;
      json(res, { kind: 'Status', code: 500, message: 'etcd is away' }, 500);
    });
    try {
      const cluster = fenceWrites(new KubeCluster(server.config, { logger: silentLogger(), policy: fast }), () => {
        if (!held) throw new LockLostError('stopped before a write: the rotation lock was lost');
      });
      const pod = { namespace: 'shop', name: 'db-0', uid: 'u-1' };
      await expect(cluster.evictPod(pod)).resolves.toEqual({
        result: 'blocked',
        reason: "Cannot evict pod as it would violate the pod's disruption budget. (The disruption budget db needs 2 healthy pods and has 2 currently)",
      });
      expect(server.requests).toEqual(['POST /api/v1/namespaces/shop/pods/db-0/eviction']);
      await expect(cluster.evictPod(pod)).rejects.toBeInstanceOf(LockLostError);
      expect(server.requests).toHaveLength(2);
    } finally {
      await server.stop();
    }
  });
});
