import winston from 'winston';

/** The one logger passed to everything; fields are structured, never Secret data. */
export type Logger = winston.Logger;

export interface LogOptions {
  level: string;
  format: 'auto' | 'json' | 'text';
  /** Whether stdout is a terminal (decides `auto`). */
  tty: boolean;
}

const readable = winston.format.printf(({ level, message, timestamp, ...fields }) => {
  const rest = Object.entries(fields)
    .filter(([key]) => typeof key === 'string')
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${String(timestamp)} ${level.padEnd(5)} ${String(message)}${rest ? `  ${rest}` : ''}`;
});

/** JSON lines when not on a terminal, readable lines on one (or as asked). Logs go to stderr so stdout carries plans and reports. */
export function createLogger(options: LogOptions): Logger {
  const json = options.format === 'json' || (options.format === 'auto' && !options.tty);
  return winston.createLogger({
    level: options.level,
    format: json
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(winston.format.timestamp({ format: 'HH:mm:ss' }), readable),
    transports: [new winston.transports.Stream({ stream: process.stderr })],
  });
}

/** A logger that drops everything, for tests of pure code paths that take one. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
