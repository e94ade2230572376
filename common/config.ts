/**
 * What every configuration shares: meet-auth's, the agent's, the certificates CLI's, `npm start`'s and the stacks'.
 * Blank values, whole numbers in a range, log levels, one configuration error type and the shared defaults.
 * It imports zod alone, never edge/ or stacks/: both may import it, and the image copies it (edge/Dockerfile).
 */
import { z } from 'zod';

/** Defaults every part agrees on: the state directory and the Jitsi images' XMPP domains. */
export const DEFAULTS = {
  /** MEET_DATA_DIR */
  dataDir: '.meet',
  /** The Jitsi images' main virtual host (XMPP_DOMAIN), where user accounts live. */
  xmppDomain: 'meet.jitsi',
  /** The Jitsi images' XMPP_AUTH_DOMAIN, where the service accounts focus@ and jvb@ live. */
  authDomain: 'auth.meet.jitsi',
} as const;

/** A deployment environment's name (`<name>-cloud`, `<name>-services`, backup archives, secrets files). */
export const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,30}$/;

/** pino's levels that log something; a deployment picks one of these. */
export const LOGGING_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
/** pino's levels; `silent` logs nothing (tests, the local stack). */
export const LOG_LEVELS = [...LOGGING_LEVELS, 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Every problem of one configuration at once, one per line under a title naming what was configured. */
export class ConfigError extends Error {
  constructor(
    readonly title: string,
    readonly problems: readonly string[],
  ) {
    super(`${title}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** zod issues as problem lines, `<path>: <message>`; `root` names an issue without a path. */
export function problemsOf(error: z.ZodError, root = 'environment'): string[] {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : root}: ${issue.message}`);
}

export interface BlankOptions {
  /** Also treat a value of only spaces as unset. @default false: only "" is unset */
  readonly trim?: boolean;
}

/** True when an environment value counts as unset: undefined or "" (with `trim`, also only spaces). */
export function isBlank(value: unknown, options: BlankOptions = {}): value is undefined | string {
  return value === undefined || (typeof value === 'string' && (options.trim ? value.trim() : value) === '');
}

/** An environment variable read through `schema`, a blank value counting as unset (so `.default()` applies). */
export function env<T extends z.ZodType>(schema: T, options: BlankOptions = {}) {
  return z.preprocess((value) => (isBlank(value, options) ? undefined : value), schema);
}

/** A number as Number() reads it, whole and from `min` to `max`; unset or blank: `fallback`. */
export function intEnv(min: number, max: number, fallback: number) {
  return env(z.coerce.number().int().min(min).max(max).default(fallback));
}

/** As intEnv, but unset or blank stays undefined. */
export function optionalIntEnv(min: number, max: number) {
  return env(z.coerce.number().int().min(min).max(max).optional());
}

/**
 * Digits only (no sign, point or exponent, which Number() would accept) from `min` to `max`; unset or blank
 * (spaces too): `fallback`. The message names the value and the unit.
 */
export function wholeNumberEnv(unit: string, min: number, max: number, fallback: number) {
  return env(
    z
      .string()
      .default(String(fallback))
      .transform((value, ctx) => {
        const number = Number(value);
        if (/^\d+$/.test(value) && number >= min && number <= max) return number;
        ctx.addIssue({ code: 'custom', message: `"${value}" must be a whole number of ${unit} from ${min} to ${max}` });
        return z.NEVER;
      }),
    { trim: true },
  );
}

/** One of LOG_LEVELS (or of `levels`); unset or blank: `fallback`. */
export function logLevelEnv<const L extends readonly [LogLevel, ...LogLevel[]] = typeof LOG_LEVELS>(
  fallback: L[number] = 'info',
  levels: L = LOG_LEVELS as unknown as L,
) {
  return env(z.enum(levels).default(fallback as never));
}
