/**
 * Configuration of `npm run certs`, read once from the environment and validated with zod. Every problem is
 * listed at once, naming the variable and the bad value (none of these values is a secret).
 *
 * In the containers (stacks/certificate-env.ts) the directories are set to the mounts, /certs and /acme-challenge;
 * locally they default to directories under MEET_DATA_DIR, where meet-auth serves challenges from.
 */
import { isIP } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, DEFAULTS, env, problemsOf, wholeNumberEnv } from '../../../common/config.js';

/** Let's Encrypt's directories; `MEET_ACME_DIRECTORY` takes these names or any https URL (e.g. Pebble's). */
export const ACME_DIRECTORIES = {
  production: 'https://acme-v02.api.letsencrypt.org/directory',
  staging: 'https://acme-staging-v02.api.letsencrypt.org/directory',
} as const;

export const DEFAULT_RENEW_DAYS = 30;
/** How long a run waits for another run's lock by default: longer than an order with Let's Encrypt takes. */
export const DEFAULT_LOCK_WAIT_SECONDS = 600;

export interface CertsConfig {
  /** The names the certificate covers; the first is also its subject common name. */
  readonly domains: readonly string[];
  readonly directoryUrl: string;
  /** Contact for the ACME account (expiry and incident mail). */
  readonly email: string | null;
  /** Where cert.crt (leaf + chain) and cert.key are written: the directory the servers mount. */
  readonly certsDir: string;
  /** Where HTTP-01 token files are written: the directory nginx / meet-auth serve /.well-known/acme-challenge/ from. */
  readonly challengeDir: string;
  /** Where the ACME account key is kept (created once, mode 0600); not mounted into the web server. */
  readonly accountDir: string;
  /** Renew when the certificate expires within this many days. */
  readonly renewDays: number;
  /** How long `issue`/`renew` wait while another run holds the lock (see lock.ts); 0: not at all. */
  readonly lockWaitSeconds: number;
  /**
   * Fetch each challenge URL ourselves before the CA validates it (see ObtainOptions.selfCheck). Off where a host
   * cannot reach its own public address. An environment variable rather than a flag of the timer's command, so
   * the choice lives in the containers (cheap to replace), not in the hosts' user data (replacing the instance).
   */
  readonly selfCheck: boolean;
}

/** The one configuration error (common/config.ts), here for the certificates CLI's importers. */
export { ConfigError };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Why `name` cannot be on a certificate obtained with HTTP-01, or null when it can. */
function domainProblem(name: string): string | null {
  if (name.startsWith('*.')) return `"${name}" is a wildcard name: HTTP-01 cannot prove those (it needs DNS-01)`;
  if (isIP(name) !== 0) return `"${name}" is an IP address, not a DNS name`;
  const labels = name.split('.');
  if (name.length > 253 || labels.length < 2 || !labels.every((label) => LABEL.test(label)))
    return `"${name}" is not a DNS name`;
  return null;
}

const blank = { trim: true } as const;
const optionalText = env(z.string().optional(), blank);

const DOMAINS_REQUIRED = 'is required: the names the certificate covers, comma-separated (e.g. meet.example.org)';

const envSchema = z.object({
  MEET_DATA_DIR: optionalText,
  MEET_CERT_DOMAINS: env(
    z
      .string({ error: DOMAINS_REQUIRED })
      .transform((list) => [
        ...new Set(
          list
            .split(/[\s,]+/)
            .filter(Boolean)
            .map((name) => name.toLowerCase().replace(/\.$/, '')),
        ),
      ])
      .superRefine((names, ctx) => {
        if (names.length === 0) ctx.addIssue({ code: 'custom', message: DOMAINS_REQUIRED });
        for (const name of names) {
          const problem = domainProblem(name);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }
        // Let's Encrypt's limit of names per certificate.
        if (names.length > 100)
          ctx.addIssue({ code: 'custom', message: `lists ${names.length} names; at most 100 fit on one certificate` });
      }),
    blank,
  ),
  MEET_ACME_DIRECTORY: env(
    z
      .string()
      .default('production')
      .transform((value, ctx) => {
        if (value in ACME_DIRECTORIES) return ACME_DIRECTORIES[value as keyof typeof ACME_DIRECTORIES];
        if (URL.canParse(value) && new URL(value).protocol === 'https:') return value;
        ctx.addIssue({
          code: 'custom',
          message: `"${value}" is neither "production", "staging" nor an https:// URL of an ACME directory`,
        });
        return z.NEVER;
      }),
    blank,
  ),
  MEET_ACME_EMAIL: env(
    z
      .string()
      .refine((value) => z.email().safeParse(value).success, {
        error: (issue) => `"${String(issue.input)}" is not an email address`,
      })
      .optional(),
    blank,
  ),
  MEET_CERTS_DIR: optionalText,
  MEET_ACME_CHALLENGE_DIR: optionalText,
  MEET_CERT_RENEW_DAYS: wholeNumberEnv('days', 1, 365, DEFAULT_RENEW_DAYS),
  MEET_CERT_LOCK_WAIT_SECONDS: wholeNumberEnv('seconds', 0, 3600, DEFAULT_LOCK_WAIT_SECONDS),
  MEET_ACME_SELF_CHECK: env(
    z
      .string()
      .default('1')
      .transform((value, ctx) => {
        if (value === '1' || value === '0') return value === '1';
        ctx.addIssue({
          code: 'custom',
          message: `"${value}" must be 1 (fetch each challenge URL before the CA validates it, the default) or 0 (do not)`,
        });
        return z.NEVER;
      }),
    blank,
  ),
});

/** Reads and validates the environment; throws ConfigError listing every problem. */
export function loadCertsConfig(env: Record<string, string | undefined> = process.env): CertsConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError('invalid certificate configuration', problemsOf(parsed.error));
  const e = parsed.data;
  const dataDir = e.MEET_DATA_DIR ?? DEFAULTS.dataDir;
  return Object.freeze({
    domains: Object.freeze(e.MEET_CERT_DOMAINS),
    directoryUrl: e.MEET_ACME_DIRECTORY,
    email: e.MEET_ACME_EMAIL ?? null,
    certsDir: e.MEET_CERTS_DIR ?? join(dataDir, 'certs'),
    challengeDir: e.MEET_ACME_CHALLENGE_DIR ?? join(dataDir, 'acme-challenge'),
    accountDir: join(dataDir, 'acme'),
    renewDays: e.MEET_CERT_RENEW_DAYS,
    lockWaitSeconds: e.MEET_CERT_LOCK_WAIT_SECONDS,
    selfCheck: e.MEET_ACME_SELF_CHECK,
  });
}
