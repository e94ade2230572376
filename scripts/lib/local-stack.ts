/**
 * The local stack (`npm start`), in one process: a throwaway Prosody (under `$MEET_DATA_DIR/prosody`), one
 * agent and meet-auth, all on 127.0.0.1, with the agent's keys generated on first start under
 * `$MEET_DATA_DIR/keys/`. `npm start`, the end-to-end tests and the benchmark all run this same stack.
 */
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { loadAgentConfig } from '../../edge/agent/config.js';
import { startAgentServer, type AgentServer } from '../../edge/agent/server.js';
import { loadAuthConfig } from '../../edge/auth/config.js';
import { startAuthServer, type AuthServer } from '../../edge/auth/server.js';
import { ensureLocalKeys, type LocalKeys } from './local-keys.js';
import type { Logger } from '../../edge/shared/log.js';
import { AdminSocketAccounts } from '../../edge/agent/prosody/socket-accounts.js';
import { liveKeys, fingerprintsOf, removeLoaded, writeLoaded } from './live-keys.js';
import {
  AUTH_DOMAIN,
  ensureServicePasswords,
  removeStackPid,
  SERVICE_ACCOUNTS,
  writeStackPid,
  type ServiceName,
} from './local-secrets.js';
import { startLocalProsody, type LocalProsody } from './local-prosody.js';
import { DEFAULTS } from '../../common/config.js';

const LOCAL_HOST = '127.0.0.1';
export const AGENT_NAME = 'local';

/** What the local agent's and meet-auth's environments are made from. */
export interface LocalEnvInput {
  readonly dataDir: string;
  readonly keys: LocalKeys;
  /** MEET_XMPP_DOMAIN; left to the services' default (meet.jitsi) when not given. */
  readonly xmppDomain?: string;
  /** MEET_LOG_LEVEL; left to the services' default when not given. */
  readonly logLevel?: string;
}

function optionalEnv(input: LocalEnvInput): Record<string, string> {
  return {
    ...(input.xmppDomain !== undefined ? { MEET_XMPP_DOMAIN: input.xmppDomain } : {}),
    ...(input.logLevel !== undefined ? { MEET_LOG_LEVEL: input.logLevel } : {}),
  };
}

/**
 * The environment of a local agent on 127.0.0.1, in the variables production sets (edge/agent/config.ts), so the
 * local stack, the end-to-end tests and the benchmark configure it exactly as the services stack does.
 */
export function localAgentEnv(
  input: LocalEnvInput & { readonly port: number; readonly prosodySocket: string },
): Record<string, string> {
  return {
    MEET_DATA_DIR: input.dataDir,
    MEET_AGENT_HOST: LOCAL_HOST,
    MEET_AGENT_PORT: String(input.port),
    MEET_AGENT_SIGNING_SECRETS: input.keys.signingSecret,
    MEET_AGENT_SEALING_KEYS: input.keys.sealingPrivateKey,
    MEET_PROSODY_SOCKET: input.prosodySocket,
    ...optionalEnv(input),
  };
}

/** The environment of a local meet-auth on 127.0.0.1 with the one local agent at `agentUrl` (edge/auth/config.ts). */
export function localAuthEnv(
  input: LocalEnvInput & { readonly port: number; readonly agentUrl: string; readonly holdMs?: number },
): Record<string, string> {
  return {
    MEET_DATA_DIR: input.dataDir,
    MEET_AUTH_HOST: LOCAL_HOST,
    MEET_AUTH_PORT: String(input.port),
    MEET_AGENTS: JSON.stringify([
      { name: AGENT_NAME, url: input.agentUrl, sealingPublicKey: input.keys.sealingPublicKey },
    ]),
    MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ [AGENT_NAME]: input.keys.signingSecret }),
    ...optionalEnv(input),
    ...(input.holdMs !== undefined ? { MEET_HOLD_MS: String(input.holdMs) } : {}),
  };
}

export interface LocalStackOptions {
  /** @default ".meet" */
  readonly dataDir?: string;
  /** @default 8080 */
  readonly authPort?: number;
  /** @default 4000 */
  readonly agentPort?: number;
  /** @default 5222 */
  readonly prosodyPort?: number;
  /** @default "info" */
  readonly logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** How long /create waits for the agent (MEET_HOLD_MS of meet-auth). */
  readonly authHoldMs?: number;
  /** Loggers to use instead of ones made from logLevel (tests capture lines). */
  readonly authLog?: Logger;
  readonly agentLog?: Logger;
  /** @default "prosody" */
  readonly prosodyBinary?: string;
}

export interface LocalStack {
  readonly dataDir: string;
  readonly authUrl: string;
  readonly agentUrl: string;
  readonly xmppDomain: string;
  readonly prosody: LocalProsody;
  readonly keysCreated: boolean;
  /** The images' auth domain, where focus@ and jvb@ live. */
  readonly authDomain: string;
  close(): Promise<void>;
}

/**
 * Creates the service accounts as the images' register-setup does (`prosodyctl shell user create`, which never
 * overwrites: register-setup:67,76 @ stable-11146-2), with the passwords of the local secrets. An existing account
 * keeps its password, as in production: only `npm run rotate -- jicofo|jvb` changes it.
 */
async function createServiceAccounts(socketPath: string, passwords: Record<ServiceName, string>): Promise<void> {
  const accounts = new AdminSocketAccounts({ socketPath, domain: AUTH_DOMAIN, connections: 1 });
  try {
    for (const service of Object.keys(SERVICE_ACCOUNTS) as ServiceName[]) {
      const outcome = await accounts.create(SERVICE_ACCOUNTS[service].username, passwords[service]);
      if (outcome.kind === 'rejected')
        throw new Error(
          `Prosody refused the service account ${SERVICE_ACCOUNTS[service].username}@${AUTH_DOMAIN}: ${outcome.detail}`,
        );
    }
  } finally {
    await accounts.close();
  }
}

export class PortBusyError extends Error {
  constructor(
    readonly port: number,
    readonly variable: string,
  ) {
    super(
      `port ${port} on ${LOCAL_HOST} (${variable}) is already in use; stop whatever uses it or set ${variable} to another port`,
    );
  }
}

function checkPortFree(port: number, variable: string): Promise<void> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new PortBusyError(port, variable) : error),
    );
    server.listen({ port, host: LOCAL_HOST, exclusive: true }, () => server.close(() => resolvePort()));
  });
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const dataDir = resolve(options.dataDir ?? DEFAULTS.dataDir);
  const ports = {
    authPort: options.authPort ?? 8080,
    agentPort: options.agentPort ?? 4000,
    prosodyPort: options.prosodyPort ?? 5222,
  };
  await checkPortFree(ports.prosodyPort, 'MEET_PROSODY_PORT');
  await checkPortFree(ports.agentPort, 'MEET_AGENT_PORT');
  await checkPortFree(ports.authPort, 'MEET_AUTH_PORT');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const keys = await ensureLocalKeys(dataDir);
  const servicePasswords = await ensureServicePasswords(dataDir);
  const logLevel = options.logLevel ?? 'info';

  const started: Array<{ close(): Promise<void> }> = [];
  const closeAll = async () => {
    for (const part of started.splice(0).reverse()) await part.close();
  };
  try {
    const prosody = await startLocalProsody({
      dir: join(dataDir, 'prosody'),
      c2sPort: ports.prosodyPort,
      ...(options.prosodyBinary ? { prosodyBinary: options.prosodyBinary } : {}),
    });
    started.push({ close: () => prosody.stop() });
    await createServiceAccounts(prosody.socketPath, servicePasswords);

    // Configuration goes in as environment-shaped records, validated by the same loaders production uses.
    const common = { dataDir, keys, xmppDomain: prosody.domain, logLevel };
    // Both services read the keys through live arrays, so `npm run rotate` changes them without a restart.
    const live = liveKeys(dataDir, keys, (message) => console.error(`local stack: ${message}`));
    const agentConfig = {
      ...loadAgentConfig(localAgentEnv({ ...common, port: ports.agentPort, prosodySocket: prosody.socketPath })),
      signingKeys: live.signingKeys,
      sealingKeys: live.sealingKeys,
    };
    const agent: AgentServer = await startAgentServer(agentConfig, options.agentLog ? { log: options.agentLog } : {});
    started.push(agent);

    const authConfig = loadAuthConfig(
      localAuthEnv({
        ...common,
        port: ports.authPort,
        agentUrl: agent.url,
        ...(options.authHoldMs !== undefined ? { holdMs: options.authHoldMs } : {}),
      }),
    );
    const auth: AuthServer = await startAuthServer(
      { ...authConfig, agents: authConfig.agents.map((one) => live.authAgent(one.name, one.url)) },
      options.authLog ? { log: options.authLog } : {},
    );
    started.push(auth);
    await writeLoaded(dataDir, fingerprintsOf(keys));
    await writeStackPid(dataDir);
    const watcher = live.watch();
    started.push({
      close: async () => {
        await watcher.stop();
        await removeStackPid(dataDir);
        await removeLoaded(dataDir);
      },
    });

    let closing: Promise<void> | undefined;
    return {
      dataDir,
      authUrl: auth.url,
      agentUrl: agent.url,
      xmppDomain: prosody.domain,
      prosody,
      keysCreated: keys.created,
      authDomain: AUTH_DOMAIN,
      close: () => (closing ??= closeAll()),
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
