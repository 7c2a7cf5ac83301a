// A winston logger that keeps the JSON lines it writes, for tests that assert what was logged.
import { Writable } from 'node:stream';
import winston from 'winston';

/** A debug-level JSON logger and the parsed lines it has written so far. */
export function capturingLogger(): { logger: winston.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: winston.createLogger({ format: winston.format.json(), transports: [new winston.transports.Stream({ stream })], level: 'debug' }), lines };
}
