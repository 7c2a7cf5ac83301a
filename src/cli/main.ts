#!/usr/bin/env node
import { exitCodeFor, ExitCode } from '../errors.js';
import { KubeCluster, loadKubeConfig } from '../kube/client.js';
import { createLogger } from '../log.js';
import { systemClock } from '../wait/poll.js';
import { run } from './commands.js';
import { parseArgs } from './parse.js';

/** The entrypoint: parse, build the real clients once, run one command, exit with its code. */
async function main(): Promise<number> {
  const parsed = await parseArgs(process.argv.slice(2), process.env);
  if (parsed.kind === 'exit') {
    (parsed.code === 0 ? process.stdout : process.stderr).write(`${parsed.output}\n`);
    return parsed.code;
  }
  const { invocation } = parsed;
  const logger = createLogger({ level: invocation.logLevel, format: invocation.logFormat, tty: Boolean(process.stderr.isTTY) });
  const abort = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.warn(`${signal} received: stopping at the next safe point; the next run resumes from the cluster's state`);
      abort.abort(signal);
    });
  }
  const started = Date.now();
  try {
    const cluster = new KubeCluster(loadKubeConfig(invocation), { logger, signal: abort.signal });
    const code = await run(invocation, { cluster, logger, clock: systemClock, signal: abort.signal, print: (text) => process.stdout.write(`${text}\n`) });
    logger.debug('finished', { command: invocation.command, seconds: (Date.now() - started) / 1000, exitCode: code });
    return code;
  } catch (error) {
    const code = exitCodeFor(error);
    logger.error(error instanceof Error ? error.message : String(error), { command: invocation.command, error: error instanceof Error ? error.name : 'Error', exitCode: code });
    return code;
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
