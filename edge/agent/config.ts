/**
 * The agent's configuration, read from the environment once at start and validated with zod. Every problem is
 * listed at once; secrets are never echoed. The agent listens only on a private address (loopback, RFC 1918,
 * carrier-grade NAT, IPv6 unique-local): it is reachable from meet-auth over the private network, never the world.
 */
import { BlockList, isIP } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, DEFAULTS, env, intEnv, logLevelEnv, problemsOf, type LogLevel } from '../../common/config.js';
import type { ConnectionLimits } from '../shared/connection-guard.js';
import { MAX_JOBS_PER_DELIVERY } from '../shared/job-protocol.js';
import { sealingPublicKeyOf } from '../shared/sealing.js';
import { parseSigningSecrets } from '../shared/signing.js';

export interface AgentConfig {
  readonly dataDir: string;
  /** `$MEET_DATA_DIR/agent.sqlite` */
  readonly inboxPath: string;
  readonly host: string;
  readonly port: number;
  /** Newest first; requests signed with any of them are accepted (rotation). */
  readonly signingKeys: readonly Buffer[];
  /** X25519 private keys (base64url), newest first. */
  readonly sealingKeys: readonly string[];
  readonly prosody:
    | { readonly mode: 'socket'; readonly socketPath: string }
    | { readonly mode: 'prosodyctl'; readonly configPath: string | undefined; readonly prosodyctl: string };
  readonly xmppDomain: string;
  /** Jitsi's auth domain (the images' XMPP_AUTH_DOMAIN): the service accounts focus@ and jvb@ live there. */
  readonly authDomain: string;
  /** The host's certificate (MEET_CERTS_DIR, as `npm run certs` has it) and ACME account, for backups. */
  readonly certsDir: string;
  readonly acmeDir: string;
  readonly holdMs: number;
  readonly logLevel: LogLevel;
  /** What one address and everyone together may hold open (edge/shared/connection-guard.ts). */
  readonly connections: ConnectionLimits;
}

/**
 * The same guard as meet-auth's, sized for the agent's heap (--max-old-space-size=64) and its one client: meet-auth
 * keeps up to 128 deliveries in flight per agent (dispatcher maxInFlightPerAgent), each a body of up to 72 KiB.
 */
const AGENT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 512,
  maxConnectionsPerAddress: 256,
  pressureConnections: 384,
  maxQueuedConnections: 128,
  maxQueuedPerAddress: 128,
  queueWaitMs: 8000,
  maxPendingBodies: 256,
  maxPendingBodiesPerClient: 160,
  maxBodyBytes: MAX_JOBS_PER_DELIVERY * 4608,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 20_000,
  maxHeaderBytes: 8192,
};

/** The one configuration error (common/config.ts), here for the agent's importers. */
export { ConfigError };

const PRIVATE = new BlockList();
PRIVATE.addSubnet('127.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addSubnet('100.64.0.0', 10, 'ipv4');
PRIVATE.addAddress('::1', 'ipv6');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const envSchema = z.object({
  MEET_DATA_DIR: env(z.string().default(DEFAULTS.dataDir)),
  MEET_AGENT_HOST: env(
    z
      .string()
      .default('127.0.0.1')
      .refine(
        isPrivateAddress,
        'must be a private IP address (loopback, 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7); the agent never listens publicly or on all interfaces',
      ),
  ),
  MEET_AGENT_PORT: intEnv(0, 65535, 4000),
  MEET_AGENT_SIGNING_SECRETS: env(z.string().optional()).transform((list, ctx) => {
    if (list === undefined) return undefined;
    try {
      return parseSigningSecrets(list);
    } catch (error) {
      // The parser's messages name the rule, never the value.
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }),
  MEET_AGENT_SEALING_KEYS: z
    .string({ error: 'is required: the X25519 sealing private keys, space separated' })
    .transform((list, ctx) => {
      const keys = list.split(/[\s,]+/).filter(Boolean);
      if (keys.length === 0) ctx.addIssue({ code: 'custom', message: 'must hold at least one key' });
      for (const [index, key] of keys.entries()) {
        try {
          sealingPublicKeyOf(key);
        } catch {
          ctx.addIssue({
            code: 'custom',
            message: `key ${index + 1} is not an X25519 private key (32 bytes, base64url)`,
          });
        }
      }
      return keys;
    }),
  MEET_PROSODY_MODE: env(
    z
      .enum(['socket', 'prosodyctl'], { error: 'must be "socket" (Prosody 13) or "prosodyctl" (Prosody 0.12)' })
      .default('socket'),
  ),
  MEET_PROSODY_SOCKET: env(z.string().optional()),
  MEET_PROSODYCTL_CONFIG: env(z.string().optional()),
  MEET_PROSODYCTL: env(z.string().default('prosodyctl')),
  MEET_XMPP_DOMAIN: env(
    z
      .string()
      .regex(/^[a-z0-9.-]+$/i, 'must be a domain name')
      .default(DEFAULTS.xmppDomain),
  ),
  MEET_XMPP_AUTH_DOMAIN: env(
    z
      .string()
      .regex(/^[a-z0-9.-]+$/i, 'must be a domain name')
      .default(DEFAULTS.authDomain),
  ),
  MEET_CERTS_DIR: env(z.string().optional()),
  MEET_HOLD_MS: intEnv(0, 30_000, 1500),
  MEET_LOG_LEVEL: logLevelEnv(),
});

export interface LoadAgentConfigOptions {
  /** The cron worker signs nothing and verifies nothing, so it need not hold the signing secrets. @default true */
  readonly requireSigningSecrets?: boolean;
}

/** Reads and validates the environment; throws ConfigError listing every problem. */
export function loadAgentConfig(
  env: Record<string, string | undefined> = process.env,
  options: LoadAgentConfigOptions = {},
): AgentConfig {
  const parsed = envSchema.safeParse(env);
  // Checks across variables, made on the raw environment so they are listed together with every other problem.
  const problems = parsed.success ? [] : problemsOf(parsed.error);
  if ((options.requireSigningSecrets ?? true) && !env.MEET_AGENT_SIGNING_SECRETS) {
    problems.push(
      'MEET_AGENT_SIGNING_SECRETS: is required: the signing secrets shared with meet-auth ("whsec_new whsec_old")',
    );
  }
  if ((env.MEET_PROSODY_MODE || 'socket') === 'socket' && !env.MEET_PROSODY_SOCKET) {
    problems.push(
      "MEET_PROSODY_SOCKET: is required in socket mode: the path of Prosody's admin socket (e.g. /var/lib/prosody/data/prosody.sock)",
    );
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError('Invalid agent configuration', problems);
  const e = parsed.data;
  return Object.freeze({
    dataDir: e.MEET_DATA_DIR,
    inboxPath: join(e.MEET_DATA_DIR, 'agent.sqlite'),
    host: e.MEET_AGENT_HOST,
    port: e.MEET_AGENT_PORT,
    signingKeys: Object.freeze(e.MEET_AGENT_SIGNING_SECRETS ?? []),
    sealingKeys: Object.freeze(e.MEET_AGENT_SEALING_KEYS),
    prosody:
      e.MEET_PROSODY_MODE === 'socket'
        ? { mode: 'socket' as const, socketPath: e.MEET_PROSODY_SOCKET! }
        : { mode: 'prosodyctl' as const, configPath: e.MEET_PROSODYCTL_CONFIG, prosodyctl: e.MEET_PROSODYCTL },
    xmppDomain: e.MEET_XMPP_DOMAIN,
    authDomain: e.MEET_XMPP_AUTH_DOMAIN,
    certsDir: e.MEET_CERTS_DIR ?? join(e.MEET_DATA_DIR, 'certs'),
    acmeDir: join(e.MEET_DATA_DIR, 'acme'),
    holdMs: e.MEET_HOLD_MS,
    logLevel: e.MEET_LOG_LEVEL,
    connections: AGENT_CONNECTION_LIMITS,
  });
}
