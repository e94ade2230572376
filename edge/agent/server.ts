/**
 * Runs the agent: opens the inbox, starts the worker in the background, serves the app on the configured
 * private address. close() is graceful: stop accepting, let held requests finish, let the worker finish the
 * creates in flight, then close the Prosody connections and the inbox.
 */
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { serve, type ServerType } from '@hono/node-server';
import { ConnectionGuard } from '../shared/connection-guard.js';
import { createLogger, type Logger } from '../shared/log.js';
import { createAgentApp } from './app.js';
import type { AgentConfig } from './config.js';
import { AccountRecords } from './prosody/account-records.js';
import { openAgentParts, prosodyAccountsFor } from './setup.js';

export interface AgentServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface AgentServerOptions {
  readonly log?: Logger;
}

export async function startAgentServer(config: AgentConfig, options: AgentServerOptions = {}): Promise<AgentServer> {
  const log = options.log ?? createLogger({ level: config.logLevel, name: 'meet-agent' });
  const { inbox, accounts, worker } = openAgentParts(config, log);
  // The auth domain's service accounts (rotation) and whole records of both domains (backups).
  const serviceAccounts = prosodyAccountsFor({ ...config, xmppDomain: config.authDomain });
  const records = config.prosody.mode === 'socket' ? new AccountRecords(config.prosody.socketPath) : undefined;
  const closeAdmin = async () => {
    await serviceAccounts.close();
    records?.close();
  };
  const app = createAgentApp({
    inbox,
    worker,
    admin: accounts,
    serviceAdmin: serviceAccounts,
    ...(records ? { records } : {}),
    xmppDomain: config.xmppDomain,
    authDomain: config.authDomain,
    certsDir: config.certsDir,
    acmeDir: config.acmeDir,
    sealingKeys: config.sealingKeys,
    signingKeys: config.signingKeys,
    holdMs: config.holdMs,
    log,
  });
  let warned = 0;
  const guard = new ConnectionGuard({
    ...config.connections,
    onRefused: (reason, client) => {
      if (Date.now() - warned < 1000) return;
      warned = Date.now();
      log.warn({ reason, client }, 'connection limit reached; refusing');
    },
  });
  let server: ServerType;
  try {
    server = await new Promise((resolve, reject) => {
      const started = serve(
        { fetch: app.fetch, hostname: config.host, port: config.port, createServer: guard.createServer(createServer) },
        () => resolve(started),
      );
      started.once('error', reject);
    });
  } catch (error) {
    await closeAdmin();
    await accounts.close();
    inbox.close();
    throw error;
  }
  // Jobs left by a previous run (or a crash) are picked up at once.
  worker.start();
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  log.info({ url, prosody: config.prosody.mode }, 'agent listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          if ('closeIdleConnections' in server) server.closeIdleConnections();
        });
        await worker.stop();
        await closeAdmin();
        await accounts.close();
        inbox.close();
        log.info('agent stopped');
      })();
      return closing;
    },
  };
}
