/**
 * One pino factory for the edge services. Every field that can carry a secret is redacted by path, and the
 * request logger never logs bodies or query strings, so a password or ticket cannot reach a log line even by
 * accident (the tests grep the captured log for a canary password).
 */
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

const SECRET_KEYS = [
  'password',
  'token',
  'ticket',
  'secret',
  'sealedPassword',
  'sealed_password',
  'authorization',
  'cookie',
  'signingSecrets',
  'sealingKeys',
];

/** Redaction paths: each secret key at the top level and one or two levels down. */
const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  ...SECRET_KEYS.map((key) => `*.*.${key}`),
  'req.headers["webhook-signature"]',
];

export interface LogOptions {
  readonly level?: LevelWithSilent;
  readonly name?: string;
  /** Where lines go (default stdout); tests pass a capturing stream. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LogOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      name: options.name,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    options.destination,
  );
}
