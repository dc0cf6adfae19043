/**
 * The root pino logger and its per-stage children. Secret paths are redacted where the logger
 * is created, so that a careless `log.info({ options })` cannot leak a password or an API key;
 * the habit is still to log identifiers (uid, topic/partition/offset, reason), never records or
 * configuration objects.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/schema';

export type { Logger } from 'pino';

/** The stages that log, as in the `stage` field of every child logger's lines. */
export type LogStage = 'source' | 'decode' | 'correlate' | 'classify' | 'sink' | 'setup' | 'produce' | 'ops';

/** Key names that hold secrets, at the top level and one level down (pino wildcards are one level deep). */
const SECRET_KEYS = ['password', 'saslPassword', 'apiKey', 'api_key', 'sasl', 'auth', 'authorization', 'token', 'secret', 'key', 'cert', 'ca'] as const;

export const REDACT_PATHS: readonly string[] = Object.freeze([
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  'headers.authorization',
  '*.headers.authorization',
  'headers.Authorization',
  '*.headers.Authorization',
]);

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where lines go; stderr by default so that stdout stays free for data (classify, produce). */
  readonly destination?: DestinationStream;
}

export function createRootLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: 'zeek-rst',
      level: options.level,
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      base: { pid: process.pid },
    },
    options.destination ?? pino.destination(2),
  );
}

export function stageLogger(root: Logger, stage: LogStage): Logger {
  return root.child({ stage });
}
