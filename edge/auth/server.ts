/**
 * Runs meet-auth: opens the store, starts the dispatcher, serves the app (HTTPS when MEET_TLS_CERT/KEY are
 * set). close() is graceful: stop accepting, let requests in flight finish (including held /create
 * requests), let deliveries in flight finish and be recorded, then close the database.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { createLogger, type Logger } from '../shared/log.js';
import { createApp } from './app.js';
import type { AuthConfig } from './config.js';
import { Dispatcher } from './dispatcher.js';
import { openFailureLimiter } from './limits.js';
import { createMetrics } from './metrics.js';
import { openDatabase, openLimitsDatabase } from './store/db.js';

export interface AuthServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface AuthServerOptions {
  /** Logger to use instead of one made from config.logLevel (tests capture lines). */
  readonly log?: Logger;
}

export async function startAuthServer(config: AuthConfig, options: AuthServerOptions = {}): Promise<AuthServer> {
  const log = options.log ?? createLogger({ level: config.logLevel, name: 'meet-auth' });
  const db = openDatabase(config.dataDir);
  const metrics = createMetrics(db);
  const dispatcher = new Dispatcher({ db, agents: config.agents, config: config.dispatch, log, metrics });
  const limitsDb = openLimitsDatabase(config.dataDir);
  const limiter = await openFailureLimiter(config.rateLimits, limitsDb);
  let shuttingDown = false;
  const app = createApp({ config, db, dispatcher, log, metrics, limiter, isShuttingDown: () => shuttingDown });

  const tls = config.tls ? { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } : null;
  const server: ServerType = await new Promise((resolve, reject) => {
    const started = serve(
      {
        fetch: app.fetch,
        hostname: config.host,
        port: config.port,
        ...(tls ? { createServer: createHttpsServer, serverOptions: tls } : { serverOptions: { requestTimeout: 30_000, headersTimeout: 10_000 } }),
      },
      () => resolve(started),
    );
    started.once('error', reject);
  });
  dispatcher.start();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${tls ? 'https' : 'http'}://${host}:${address.port}`;
  log.info({ url, agents: config.agents.map((agent) => agent.name) }, 'meet-auth listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= (async () => {
        shuttingDown = true;
        await new Promise<void>((resolve) => {
          // Keep-alive connections would hold close() open: close each one as soon as its request is answered.
          const reap = setInterval(() => 'closeIdleConnections' in server && server.closeIdleConnections(), 50);
          server.close(() => {
            clearInterval(reap);
            resolve();
          });
          if ('closeIdleConnections' in server) server.closeIdleConnections();
        });
        await dispatcher.close();
        db.close();
        limitsDb.close();
        log.info('meet-auth stopped');
      })();
      return closing;
    },
  };
}
