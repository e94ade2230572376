/**
 * meet-auth's configuration, read from the environment once at start and validated with zod. Every problem
 * is listed at once; secrets are never echoed (not even a fragment in a JSON parse error).
 */
import { isIP } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import {
  ConfigError,
  DEFAULTS,
  env,
  intEnv,
  logLevelEnv,
  optionalIntEnv,
  problemsOf,
  type LogLevel,
} from '../../common/config.js';
import type { ConnectionLimits } from '../shared/connection-guard.js';
import { parseSigningSecrets } from '../shared/signing.js';
import { sealingKeyId } from '../shared/sealing.js';

export interface AgentConfig {
  readonly name: string;
  readonly url: string;
  readonly sealingPublicKey: string;
  /** Signing keys, newest first; every request is signed with all of them (rotation). */
  readonly signingKeys: readonly Buffer[];
}

export interface RateLimitConfig {
  /** Failed verifications allowed per client address (IPv6: per /64) in `windowSeconds`. */
  readonly addressFailures: number;
  /** Failed verifications allowed per credential (ticket selector, ticketmaster id) in `windowSeconds`. */
  readonly credentialFailures: number;
  readonly windowSeconds: number;
}

export interface DispatchConfig {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** How long one delivery may take; the agent holds its answer up to its own hold time (1.5 s). */
  readonly requestTimeoutMs: number;
  /** How often the dispatcher looks for due jobs (retries, and jobs an admin put back). */
  readonly pollIntervalMs: number;
  /** How long a dead job keeps its sealed password so it can be retried. */
  readonly deadSealRetentionMs: number;
}

export interface AuthConfig {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** With TLS: a plain-HTTP port serving only ACME challenges and redirecting the rest to HTTPS; null: none. */
  readonly httpPort: number | null;
  readonly publicUrl: string;
  readonly trustedProxies: readonly string[];
  readonly agents: readonly AgentConfig[];
  /** Read again whenever the files change (certificate renewal), without a restart. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  /** Where `npm run certs` writes HTTP-01 token files, served at /.well-known/acme-challenge/. */
  readonly acmeChallengeDir: string;
  readonly logLevel: LogLevel;
  readonly holdMs: number;
  readonly xmppDomain: string;
  /** The public meeting site the status page sends new accounts to (MEET_MEETING_URL). */
  readonly meetingUrl: string;
  readonly bodyLimitBytes: number;
  /** Bearer token that /metrics requires; null: no /metrics. */
  readonly metricsToken: string | null;
  readonly rateLimits: RateLimitConfig;
  readonly dispatch: DispatchConfig;
  /** What one address and everyone together may hold open (edge/shared/connection-guard.ts). */
  readonly connections: ConnectionLimits;
}

export const DEFAULT_RATE_LIMITS: RateLimitConfig = { addressFailures: 20, credentialFailures: 10, windowSeconds: 600 };
export const DEFAULT_DISPATCH: DispatchConfig = {
  maxAttempts: 12,
  baseDelayMs: 1000,
  maxDelayMs: 5 * 60_000,
  requestTimeoutMs: 5000,
  pollIntervalMs: 1000,
  deadSealRetentionMs: 7 * 24 * 3_600_000,
};

const BODY_LIMIT_BYTES = 16 * 1024;

/**
 * Sized for the production heap (docs/decisions/connection-limits.md). One address (a conference behind one NAT)
 * may open as many as it needs until 768 are open in all; only then is it held to 128, the rest queued.
 */
const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 1024,
  maxConnectionsPerAddress: 128,
  pressureConnections: 768,
  maxQueuedConnections: 256,
  maxQueuedPerAddress: 128,
  queueWaitMs: 8000,
  maxPendingBodies: 256,
  maxPendingBodiesPerClient: 16,
  maxBodyBytes: BODY_LIMIT_BYTES,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 20_000,
  maxHeaderBytes: 8192,
};

/** The one configuration error (common/config.ts), here for meet-auth's importers. */
export { ConfigError };

/** Parses JSON without letting the parser's message (which quotes the input) escape. */
const jsonText = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
    return z.NEVER;
  }
});

const agentSchema = z.object({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'agent name: lower-case letters, digits, ". _ -", up to 63 characters'),
  url: z.url({ protocol: /^https?$/, error: 'agent url must be an http(s) URL' }),
  sealingPublicKey: z.string().refine(
    (key) => {
      try {
        sealingKeyId(key);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'sealingPublicKey must be an X25519 public key, 32 bytes in base64url' },
  ),
});

const envSchema = z
  .object({
    MEET_DATA_DIR: env(z.string().default(DEFAULTS.dataDir)),
    MEET_AUTH_HOST: env(
      z
        .string()
        .refine((h) => isIP(h) !== 0 || /^[a-z0-9.-]+$/i.test(h), 'must be an address or host name')
        .default('127.0.0.1'),
    ),
    MEET_AUTH_PORT: intEnv(0, 65535, 8080),
    MEET_AUTH_HTTP_PORT: optionalIntEnv(0, 65535),
    MEET_PUBLIC_URL: env(
      z
        .url({ protocol: /^https?$/, error: 'must be an http(s) origin such as https://meet-auth.example.org' })
        .optional(),
    ),
    MEET_TRUSTED_PROXIES: env(
      z
        .string()
        .default('')
        .transform((list) =>
          list
            .split(',')
            .map((item) => item.trim())
            .filter(Boolean),
        )
        .refine((list) => list.every((item) => isIP(item) !== 0), 'must be a comma-separated list of IP addresses'),
    ),
    MEET_AGENTS: env(
      jsonText.pipe(
        z
          .array(agentSchema, { error: 'must be a JSON array of {"name","url","sealingPublicKey"}' })
          .min(1, 'must list at least one agent'),
      ),
    ),
    MEET_AGENT_SIGNING_SECRETS: env(
      jsonText.pipe(
        z.record(z.string(), z.string(), { error: 'must be a JSON object {"<agent name>": "whsec_... [whsec_...]"}' }),
      ),
    ),
    MEET_TLS_CERT: env(z.string().optional()),
    MEET_TLS_KEY: env(z.string().optional()),
    MEET_ACME_CHALLENGE_DIR: env(z.string().optional()),
    MEET_LOG_LEVEL: logLevelEnv(),
    MEET_HOLD_MS: intEnv(0, 30_000, 2000),
    MEET_XMPP_DOMAIN: env(
      z
        .string()
        .regex(/^[a-z0-9.-]+$/i, 'must be a domain name')
        .default(DEFAULTS.xmppDomain),
    ),
    // A secret: the message names the rule, never the value.
    MEET_METRICS_TOKEN: env(
      z
        .string()
        .regex(/^[A-Za-z0-9._~+/-]{32,}=*$/, {
          error: 'must be at least 32 characters of A-Z a-z 0-9 . _ ~ + / - (e.g. openssl rand -hex 32)',
        })
        .optional(),
    ),
    MEET_MEETING_URL: env(
      z
        .url({
          protocol: /^https?$/,
          error: 'must be the http(s) URL of the meeting site, such as https://meet.example.org/',
        })
        .refine((url) => !/^[a-z]+:\/\/[^/]*@/i.test(url), 'must not hold a user name or password')
        .optional(),
    ),
  })
  .superRefine((env, ctx) => {
    if (Boolean(env.MEET_TLS_CERT) !== Boolean(env.MEET_TLS_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: ['MEET_TLS_KEY'],
        message: 'MEET_TLS_CERT and MEET_TLS_KEY must be set together',
      });
    }
    if (env.MEET_AUTH_HTTP_PORT !== undefined && !env.MEET_TLS_CERT) {
      ctx.addIssue({
        code: 'custom',
        path: ['MEET_AUTH_HTTP_PORT'],
        message: `${env.MEET_AUTH_HTTP_PORT} is set without MEET_TLS_CERT: without TLS the main port already serves plain HTTP`,
      });
    }
    const names = env.MEET_AGENTS.map((agent) => agent.name);
    if (new Set(names).size !== names.length)
      ctx.addIssue({ code: 'custom', path: ['MEET_AGENTS'], message: 'agent names must be unique' });
    for (const name of names) {
      const secrets = env.MEET_AGENT_SIGNING_SECRETS[name];
      if (secrets === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['MEET_AGENT_SIGNING_SECRETS'],
          message: `has no signing secret for agent "${name}"`,
        });
        continue;
      }
      try {
        parseSigningSecrets(secrets);
      } catch (error) {
        // decodeSigningSecret's messages name the rule, never the value.
        ctx.addIssue({
          code: 'custom',
          path: ['MEET_AGENT_SIGNING_SECRETS'],
          message: `agent "${name}": ${(error as Error).message}`,
        });
      }
    }
  });

/** Reads and validates the environment; throws ConfigError listing every problem. */
export function loadAuthConfig(env: Record<string, string | undefined> = process.env): AuthConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError('Invalid meet-auth configuration', problemsOf(parsed.error));
  const e = parsed.data;
  const publicUrl = new URL(
    e.MEET_PUBLIC_URL ??
      `${e.MEET_TLS_CERT ? 'https' : 'http'}://${e.MEET_AUTH_HOST.includes(':') ? `[${e.MEET_AUTH_HOST}]` : e.MEET_AUTH_HOST}:${e.MEET_AUTH_PORT}`,
  ).origin;
  return Object.freeze({
    dataDir: e.MEET_DATA_DIR,
    host: e.MEET_AUTH_HOST,
    port: e.MEET_AUTH_PORT,
    httpPort: e.MEET_AUTH_HTTP_PORT ?? null,
    publicUrl,
    trustedProxies: Object.freeze(e.MEET_TRUSTED_PROXIES),
    agents: Object.freeze(
      e.MEET_AGENTS.map((agent) =>
        Object.freeze({
          ...agent,
          url: agent.url.replace(/\/+$/, ''),
          signingKeys: parseSigningSecrets(e.MEET_AGENT_SIGNING_SECRETS[agent.name]!),
        }),
      ),
    ),
    tls: e.MEET_TLS_CERT && e.MEET_TLS_KEY ? { certFile: e.MEET_TLS_CERT, keyFile: e.MEET_TLS_KEY } : null,
    acmeChallengeDir: e.MEET_ACME_CHALLENGE_DIR ?? join(e.MEET_DATA_DIR, 'acme-challenge'),
    logLevel: e.MEET_LOG_LEVEL,
    holdMs: e.MEET_HOLD_MS,
    xmppDomain: e.MEET_XMPP_DOMAIN,
    bodyLimitBytes: BODY_LIMIT_BYTES,
    metricsToken: e.MEET_METRICS_TOKEN ?? null,
    // The stacks set it from the environment's meet domain; alone, the XMPP domain's site (as the Jitsi images serve it).
    meetingUrl: new URL(e.MEET_MEETING_URL ?? `https://${e.MEET_XMPP_DOMAIN}/`).href,
    rateLimits: DEFAULT_RATE_LIMITS,
    dispatch: DEFAULT_DISPATCH,
    connections: DEFAULT_CONNECTION_LIMITS,
  });
}
