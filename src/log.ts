import type { Writable } from 'node:stream';
import winston from 'winston';

/** The one logger passed to everything; fields are structured, never Secret data. */
export type Logger = winston.Logger;

export interface LogOptions {
  level: string;
  format: 'auto' | 'json' | 'text';
  /** Whether stdout is a terminal (decides `auto`). */
  tty: boolean;
  /** Where lines go: stderr unless a test captures them. */
  stream?: Writable;
}

/**
 * One readable log line. Fields without a value are left out, as the JSON format leaves them
 * out: a step without a purpose must not read `purpose=undefined`.
 */
function textLine({ level, message, timestamp, ...fields }: Record<string, unknown>): string {
  const rest = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${String(timestamp)} ${String(level).padEnd(5)} ${String(message)}${rest ? `  ${rest}` : ''}`;
}

const readable = winston.format.printf((info) => textLine(info));

/** JSON lines when not on a terminal, readable lines on one (or as asked). Logs go to stderr so stdout carries plans and reports. */
export function createLogger(options: LogOptions): Logger {
  const json = options.format === 'json' || (options.format === 'auto' && !options.tty);
  return winston.createLogger({
    level: options.level,
    format: json
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(winston.format.timestamp({ format: 'HH:mm:ss' }), readable),
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stderr })],
  });
}

/**
 * A logger that drops everything, for tests of pure code paths that take one.
 * @internal exported for its unit tests
 */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
