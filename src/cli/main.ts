#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { AbortedError, exitCodeFor, ExitCode } from '../errors.js';
import { systemClock } from '../wait/poll.js';
import { processExitCode } from './exit.js';
import { ProgressDisplay } from './progress.js';
import { parseArgs } from './parse.js';

/**
 * The entrypoint: parse, build the real clients once, run one command, exit with its code.
 * The API client, the logger (winston) and the commands load only after parsing: `--help`,
 * `--version` and usage errors answer without them (they are most of the start-up time, and the
 * image's bundle keeps them in chunks of their own that these answers never compile).
 */
// eslint-disable-next-line complexity, max-lines-per-function -- the one place that wires the real clients after lazy imports (which keep --help fast); its branches are the options that pick them
async function main(): Promise<number> {
  const parsed = await parseArgs(process.argv.slice(2), process.env);
  if (parsed.kind === 'exit') {
    (parsed.code === 0 ? process.stdout : process.stderr).write(`${parsed.output}\n`);
    return parsed.code;
  }
  const [
    { createLogger },
    { KubeCluster },
    { loadKubeConfig, loadPeerKubeConfig },
    { Pushgateway, WebhookNotifier },
    { runIdentity },
    { HolderLiveness },
    { run },
  ] = await Promise.all([
    import('../log.js'),
    import('../kube/client.js'),
    import('../kube/kubeconfig.js'),
    import('../unattended/http.js'),
    import('../unattended/identity.js'),
    import('../unattended/liveness.js'),
    import('./run.js'),
  ]);
  const { invocation } = parsed;
  const tty = Boolean(process.stderr.isTTY);
  const textLogs = invocation.logFormat === 'text' || (invocation.logFormat === 'auto' && tty);
  const progress = new ProgressDisplay({
    live: tty && textLogs,
    write: (text) => process.stderr.write(text),
    columns: process.stderr.columns,
    record: (fields) => logger.info('progress', fields),
  });
  const logger = createLogger({ level: invocation.logLevel, format: invocation.logFormat, tty, stream: tty && textLogs ? progress.stream : undefined });
  const abort = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.warn(`${signal} received: stopping at the next safe point; the next run resumes from the cluster's state`);
      abort.abort(signal);
    });
  }
  const started = Date.now();
  // The one place where --soft-exits applies: the run, its Events and its metrics saw the real code.
  const exit = (code: ExitCode): ExitCode => {
    const soft = processExitCode(code, invocation.unattended.softExits);
    if (soft !== code)
      logger.warn(`exit code ${code} reported as ${soft} (--soft-exits): the rotation is not finished; the next scheduled run resumes it`, { exitCode: code });
    return soft;
  };
  try {
    const kubeConfig = loadKubeConfig(invocation);
    const { requestTimeoutMs, watchIdleTimeoutMs } = invocation.config;
    const cluster = new KubeCluster(kubeConfig, { logger, signal: abort.signal, policy: { requestTimeoutMs }, watchIdleMs: watchIdleTimeoutMs });
    const { pushgatewayUrl, webhookUrl, clusterName } = invocation.unattended;
    // One adapter: the unattended ports are a view of it with their own call policy (see KubeCluster.unattended).
    const kube = cluster.unattended();
    const unattended = {
      identity: runIdentity(process.env, { hostname: hostname(), pid: process.pid, now: new Date(), random: randomBytes(3).toString('hex') }),
      lease: kube,
      holders: new HolderLiveness(kube, { hostname: hostname() }),
      events: kube,
      metrics: pushgatewayUrl ? new Pushgateway(pushgatewayUrl, clusterName) : undefined,
      notifier: webhookUrl ? new WebhookNotifier(webhookUrl) : undefined,
    };
    // A multicluster run: each peer's adapter from its context, with this cluster's limits.
    const fleet =
      invocation.peers.length > 0
        ? {
            primaryKeys: cluster,
            peers: invocation.peers.map((peer) => ({
              name: peer.name,
              cluster: new KubeCluster(loadPeerKubeConfig(invocation.peerKubeconfig, invocation, peer.context), {
                logger: logger.child({ cluster: peer.name }),
                signal: abort.signal,
                policy: { requestTimeoutMs },
                watchIdleMs: watchIdleTimeoutMs,
              }),
            })),
          }
        : undefined;
    const code = await run(invocation, {
      fleet,
      cluster,
      logger,
      clock: systemClock,
      signal: abort.signal,
      progress,
      print: (text) => process.stdout.write(`${text}\n`),
      unattended,
    });
    logger.debug('finished', { command: invocation.command, seconds: (Date.now() - started) / 1000, exitCode: code });
    return exit(code);
  } catch (error) {
    // However the abort surfaced (p-retry, a wait, a request), a stopped run exits 128+signal.
    const code = abort.signal.aborted ? exitCodeFor(new AbortedError(String(abort.signal.reason))) : exitCodeFor(error);
    logger.error(error instanceof Error ? error.message : String(error), {
      command: invocation.command,
      error: error instanceof Error ? error.name : 'Error',
      exitCode: code,
    });
    return exit(code);
  } finally {
    await new Promise<void>((resolve) => logger.end(resolve));
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(ExitCode.failed);
  },
);
