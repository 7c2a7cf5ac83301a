import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:https';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readClusterEnv } from './cluster.js';
import { selfSignedServing } from './tls.js';

/**
 * A TLS-terminating reverse proxy of our own in front of the local kube-apiserver, on
 * 127.0.0.1. It re-originates every request with the admin client certificate (or, when the
 * client sent a bearer token, with that token and no client certificate, so RBAC applies to
 * it), counts requests by verb and resource, and injects faults into a seeded random fraction
 * of them: 429 with Retry-After, 500, 503 (Status JSON bodies like the apiserver's), a reset
 * before the request reaches the apiserver, a reset after it was served (the write happened,
 * the answer is lost; for a watch, the stream is cut soon after it opened), or added latency.
 * Watches stream through, unless `silenceWatches(true)`: then a watch opens (200 and headers)
 * and stays open, but no event or bookmark reaches the client, as through a half-open
 * connection or a stuck proxy. `refuse()` closes the listener for a while, as an apiserver
 * outage looks to a client.
 */
export type FaultKind = 'throttle' | 'server-error' | 'unavailable' | 'reset' | 'drop-response' | 'latency';

export const allFaults: readonly FaultKind[] = ['throttle', 'server-error', 'unavailable', 'reset', 'drop-response', 'latency'];

export interface FaultPlan {
  /** Fraction of requests that get a fault, 0..1. */
  rate: number;
  kinds: readonly FaultKind[];
  latencyMs?: [number, number];
  retryAfterSeconds?: number;
  /** Seed of the fault sequence, so that a failing run can be replayed. */
  seed?: number;
}

/** What a request is, as RBAC would name it. */
export interface RequestClass {
  verb: string;
  resource: string;
  /** A list request that carried a `continue` token (page 2 and later). */
  continued: boolean;
}

export interface ProxyCounts {
  total: number;
  /** TLS connections clients opened: far fewer than requests when clients keep connections alive. */
  connections: number;
  byRequest: Record<string, number>;
  faults: Record<string, number>;
  /** List requests with a continue token. */
  continuedLists: number;
}

/** Names a request by verb and resource (`list pods`, `patch deployments.apps`, `update certificates.cert-manager.io/status`). */
export function classify(method: string, url: string): RequestClass {
  const parsed = new URL(url, 'https://proxy.invalid');
  const parts = parsed.pathname.split('/').filter(Boolean);
  let rest: string[];
  let group = '';
  if (parts[0] === 'api' && parts.length >= 2) rest = parts.slice(2);
  else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1] ?? '';
    rest = parts.slice(3);
  } else return { verb: method.toLowerCase(), resource: `(discovery ${parts.slice(0, 2).join('/') || '/'})`, continued: false };
  if (rest.length === 0) return { verb: 'get', resource: `(discovery ${parts.join('/')})`, continued: false };
  const namespaced = rest[0] === 'namespaces' && rest.length >= 3;
  const [resource, name, sub] = namespaced ? rest.slice(2) : rest;
  const query = parsed.searchParams;
  const watch = query.get('watch') === 'true' || query.get('watch') === '1';
  const verbs: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch' };
  const verb =
    method === 'GET'
      ? name
        ? 'get'
        : watch
          ? 'watch'
          : 'list'
      : method === 'DELETE'
        ? name
          ? 'delete'
          : 'deletecollection'
        : (verbs[method] ?? method.toLowerCase());
  const qualified = `${resource ?? ''}${group ? `.${group}` : ''}${sub ? `/${sub}` : ''}`;
  return { verb, resource: qualified, continued: verb === 'list' && Boolean(query.get('continue')) };
}

/** mulberry32: a small seeded generator in [0, 1), enough to replay a fault sequence. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const statusBodies: Record<'throttle' | 'server-error' | 'unavailable', { code: number; reason: string; message: string }> = {
  throttle: { code: 429, reason: 'TooManyRequests', message: 'fault-proxy: too many requests, please try again later' },
  'server-error': { code: 500, reason: 'InternalError', message: 'fault-proxy: an error on the server ("injected") has prevented the request from succeeding' },
  unavailable: { code: 503, reason: 'ServiceUnavailable', message: 'fault-proxy: the server is currently unable to handle the request' },
};

const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function forwardable(headers: IncomingMessage['headers']): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !hopByHop.has(name.toLowerCase())));
}

export class FaultProxy {
  private plan: FaultPlan = { rate: 0, kinds: [] };
  private random: () => number = seeded(1);
  private readonly sockets = new Set<Socket>();
  private counts: ProxyCounts = { total: 0, connections: 0, byRequest: {}, faults: {}, continuedLists: 0 };
  private refusing: Promise<void> | undefined;
  private silent = false;
  /** The loopback port, fixed at start and kept across refuse(). */
  port = 0;

  private constructor(
    private readonly server: Server,
    private readonly upstream: URL,
    private readonly agents: { admin: Agent; token: Agent },
    private readonly servingCertPem: string,
  ) {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
    server.on('secureConnection', (socket: Socket) => {
      this.counts.connections++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Starts the proxy in front of the cluster in `stateDir` (its env file names the apiserver and the admin credential). */
  static async start(stateDir: string, plan?: FaultPlan): Promise<FaultProxy> {
    const env = readClusterEnv(stateDir);
    const need = (name: string): string => {
      const value = env[name];
      if (!value) throw new Error(`${stateDir}/env has no ${name}`);
      return value;
    };
    const ca = readFileSync(need('LCR_CA_CERT'));
    const agents = {
      admin: new Agent({ ca, cert: readFileSync(need('LCR_ADMIN_CERT')), key: readFileSync(need('LCR_ADMIN_KEY')), keepAlive: true, maxSockets: 256 }),
      token: new Agent({ ca, keepAlive: true, maxSockets: 256 }),
    };
    const tls = await selfSignedServing();
    const server = createServer({ key: tls.keyPem, cert: tls.certPem });
    const proxy = new FaultProxy(server, new URL(need('LCR_APISERVER_URL')), agents, tls.certPem);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy.port = (server.address() as AddressInfo).port;
    if (plan) proxy.setFaults(plan);
    return proxy;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** Changes the fault plan (rate 0: a plain counting proxy); restarts the seeded sequence. */
  setFaults(plan: FaultPlan): void {
    if (plan.rate > 0 && plan.kinds.length === 0) throw new Error('a fault rate needs at least one fault kind');
    this.plan = plan;
    this.random = seeded(plan.seed ?? 1);
  }

  /** From now on, watches opened through the proxy open and then deliver nothing (until called with false). */
  silenceWatches(on: boolean): void {
    this.silent = on;
  }

  /** Counts since the start or the last `resetCounts()`. */
  snapshot(): ProxyCounts {
    return structuredClone(this.counts);
  }

  resetCounts(): ProxyCounts {
    const before = this.counts;
    this.counts = { total: 0, connections: 0, byRequest: {}, faults: {}, continuedLists: 0 };
    return before;
  }

  /**
   * Writes a kubeconfig pointing at the proxy. With a token the client authenticates with it
   * (passed through upstream); without, the proxy presents the admin certificate.
   */
  writeKubeconfig(path: string, options: { token?: string } = {}): string {
    const user = options.token ? { token: options.token } : {};
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fault-proxy', cluster: { server: this.url, 'certificate-authority-data': Buffer.from(this.servingCertPem).toString('base64') } }],
      users: [{ name: 'fault-proxy', user }],
      contexts: [{ name: 'fault-proxy', context: { cluster: 'fault-proxy', user: 'fault-proxy' } }],
      'current-context': 'fault-proxy',
    };
    writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o600 });
    return path;
  }

  /**
   * An outage as a client sees one: the listener closes and open connections are reset for
   * `ms`, then the proxy listens on the same port again. Resolves when it is back.
   */
  async refuse(ms: number): Promise<void> {
    if (this.refusing) return this.refusing;
    this.refusing = (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const socket of this.sockets) socket.destroy();
      await closed;
      await new Promise((resolve) => setTimeout(resolve, ms));
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(this.port, '127.0.0.1', () => {
          this.server.off('error', reject);
          resolve();
        });
      });
    })().finally(() => {
      this.refusing = undefined;
    });
    return this.refusing;
  }

  async stop(): Promise<void> {
    await this.refusing;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.agents.admin.destroy();
    this.agents.token.destroy();
    await closed;
  }

  private count(map: Record<string, number>, key: string): void {
    map[key] = (map[key] ?? 0) + 1;
  }

  private pickFault(): FaultKind | undefined {
    const { rate, kinds } = this.plan;
    if (rate <= 0 || this.random() >= rate) return undefined;
    return kinds[Math.floor(this.random() * kinds.length)];
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const kind = classify(req.method ?? 'GET', req.url ?? '/');
    this.counts.total++;
    this.count(this.counts.byRequest, `${kind.verb} ${kind.resource}`);
    if (kind.continued) this.counts.continuedLists++;
    const fault = this.pickFault();
    if (fault) this.count(this.counts.faults, fault);
    switch (fault) {
      case 'throttle':
      case 'server-error':
      case 'unavailable': {
        const status = statusBodies[fault];
        const headers: OutgoingHttpHeaders = { 'Content-Type': 'application/json' };
        if (fault === 'throttle') headers['Retry-After'] = String(this.plan.retryAfterSeconds ?? 1);
        req.resume();
        res.writeHead(status.code, headers);
        res.end(
          JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            ...status,
            details: fault === 'throttle' ? { retryAfterSeconds: this.plan.retryAfterSeconds ?? 1 } : {},
          }),
        );
        return;
      }
      case 'reset':
        req.socket.destroy();
        return;
      case 'latency': {
        const [min, max] = this.plan.latencyMs ?? [100, 1000];
        setTimeout(() => this.forward(req, res, false), min + this.random() * (max - min));
        return;
      }
      default:
        if (this.silent && kind.verb === 'watch') {
          this.count(this.counts.faults, 'silent-watch');
          this.forward(req, res, false, true);
          return;
        }
        // A watch never ends on its own, so its lost answer is a stream cut soon after it opened.
        this.forward(req, res, fault === 'drop-response' && kind.verb !== 'watch');
        if (fault === 'drop-response' && kind.verb === 'watch') setTimeout(() => req.socket.destroy(), this.random() * 500);
    }
  }

  private forward(req: IncomingMessage, res: ServerResponse, dropResponse: boolean, silent = false): void {
    if (req.socket.destroyed) return;
    const bearer = typeof req.headers.authorization === 'string' && req.headers.authorization.startsWith('Bearer ');
    const headers = { ...forwardable(req.headers), host: this.upstream.host };
    const upstream = request(
      {
        hostname: this.upstream.hostname,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        headers,
        agent: bearer ? this.agents.token : this.agents.admin,
      },
      (response) => {
        if (dropResponse) {
          // The apiserver did the work; the client never hears of it.
          response.resume();
          response.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(response.statusCode ?? 502, forwardable(response.headers));
        res.flushHeaders();
        if (silent && response.statusCode === 200) {
          // The stream stays open; what the apiserver sends is read and dropped.
          response.resume();
          return;
        }
        response.pipe(res);
        response.on('error', () => res.destroy());
      },
    );
    upstream.on('error', () => req.socket.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }
}
