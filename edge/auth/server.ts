/**
 * Runs meet-auth: opens the store, starts the dispatcher, serves the app (HTTPS when MEET_TLS_CERT/KEY are
 * set, reloading the certificate when it is renewed; then optionally plain HTTP on MEET_AUTH_HTTP_PORT for ACME
 * challenges and redirects). close() is graceful: stop accepting, let requests in flight finish (including held /create
 * requests), let deliveries in flight finish and be recorded, then close the database. From start to close it holds
 * $MEET_DATA_DIR/meet-auth.lock (store/serving-lock.ts), so that a restore refuses to run under it.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { serve, type ServerType } from '@hono/node-server';
import { Gauge } from 'prom-client';
import { normaliseAddress } from '../shared/addresses.js';
import { ConnectionGuard } from '../shared/connection-guard.js';
import { createLogger, type Logger } from '../shared/log.js';
import { createApp } from './app.js';
import type { AuthConfig } from './config.js';
import { Dispatcher } from './dispatcher.js';
import { openFailureLimiter } from './limits.js';
import { createMetrics, type AuthMetrics } from './metrics.js';
import { clientOf } from './middleware/client-address.js';
import { plainHttpApp } from './routes/acme.js';
import { openDatabase, openLimitsDatabase } from './store/db.js';
import { holdServingLock, type HeldLock } from './store/serving-lock.js';
import { readTlsPair, watchTlsFiles } from './tls.js';

export interface AuthServer {
  readonly url: string;
  /** The plain-HTTP listener beside HTTPS (config.httpPort), or null. */
  readonly httpUrl: string | null;
  close(): Promise<void>;
}

export interface AuthServerOptions {
  /** Logger to use instead of one made from config.logLevel (tests capture lines). */
  readonly log?: Logger;
  /** How often the TLS files are checked for a renewed certificate. @default 10000 */
  readonly tlsPollMs?: number;
}

function listen(options: Parameters<typeof serve>[0]): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const started = serve(options, () => resolve(started));
    started.once('error', reject);
  });
}

function urlOf(server: ServerType, scheme: 'http' | 'https'): string {
  const address = server.address() as AddressInfo;
  return `${scheme}://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}

/** Closes a server, closing each keep-alive connection as soon as its request is answered (else close() would wait for them). */
function closeGracefully(server: ServerType): Promise<void> {
  return new Promise<void>((resolve) => {
    const reap = setInterval(() => 'closeIdleConnections' in server && server.closeIdleConnections(), 50);
    server.close(() => {
      clearInterval(reap);
      resolve();
    });
    if ('closeIdleConnections' in server) server.closeIdleConnections();
  });
}

/** One guard for every listener of meet-auth: the limits hold for all of them together. */
function connectionGuard(config: AuthConfig, metrics: AuthMetrics, log: Logger): ConnectionGuard {
  const trusted = new Set(config.trustedProxies.map(normaliseAddress));
  let warned = 0;
  const guard = new ConnectionGuard({
    ...config.connections,
    exemptPeers: trusted,
    clientOf: (request) => {
      const forwarded = request.headers['x-forwarded-for'];
      return clientOf(
        request.socket.remoteAddress ?? 'unknown',
        Array.isArray(forwarded) ? forwarded.join(',') : forwarded,
        trusted,
      );
    },
    onRefused: (kind, client) => {
      metrics.connectionsRefused.inc({ reason: kind });
      // One line a second at most: a flood must not become a flood of log lines.
      if (Date.now() - warned < 1000) return;
      warned = Date.now();
      log.warn({ reason: kind, client }, 'connection limit reached; refusing');
    },
  });
  new Gauge({
    name: 'meet_auth_connections',
    help: 'Open client connections, connections waiting in an accept queue, and requests whose body is still arriving',
    labelNames: ['state'],
    registers: [metrics.registry],
    collect() {
      this.set({ state: 'open' }, guard.stats.connections);
      this.set({ state: 'queued' }, guard.stats.queued);
      this.set({ state: 'unfinished_body' }, guard.stats.pendingBodies);
    },
  });
  return guard;
}

export async function startAuthServer(config: AuthConfig, options: AuthServerOptions = {}): Promise<AuthServer> {
  // Held until close(): a restore refuses to run on this directory meanwhile, and this refuses to start during one.
  const servingLock = holdServingLock(config.dataDir);
  try {
    return await startHolding(config, options, servingLock);
  } catch (error) {
    servingLock.release();
    throw error;
  }
}

async function startHolding(
  config: AuthConfig,
  options: AuthServerOptions,
  servingLock: HeldLock,
): Promise<AuthServer> {
  const log = options.log ?? createLogger({ level: config.logLevel, name: 'meet-auth' });
  const db = openDatabase(config.dataDir);
  const metrics = createMetrics(db);
  const dispatcher = new Dispatcher({ db, agents: config.agents, config: config.dispatch, log, metrics });
  const limitsDb = openLimitsDatabase(config.dataDir);
  const limiter = await openFailureLimiter(config.rateLimits, limitsDb);
  let shuttingDown = false;
  const app = createApp({ config, db, dispatcher, log, metrics, limiter, isShuttingDown: () => shuttingDown });

  const guard = connectionGuard(config, metrics, log);
  // A missing or broken certificate does not stop meet-auth: the first one is obtained through its own
  // plain-HTTP listener, and is picked up by the watcher below as soon as it is written.
  const pair = config.tls ? readTlsPair(config.tls) : null;
  if (config.tls && pair && 'problem' in pair)
    log.warn({ problem: pair.problem }, 'no usable TLS certificate yet; HTTPS handshakes fail until one is written');
  const tlsPair = pair && !('problem' in pair) ? pair : null;
  const server = await listen({
    fetch: app.fetch,
    hostname: config.host,
    port: config.port,
    ...(config.tls
      ? {
          createServer: guard.createServer(createHttpsServer),
          serverOptions: tlsPair ? { cert: tlsPair.cert, key: tlsPair.key } : {},
        }
      : { createServer: guard.createServer(createHttpServer) }),
  });
  const stopWatching = config.tls
    ? watchTlsFiles(server as TlsServer, config.tls, tlsPair, log, options.tlsPollMs ?? 10_000)
    : () => undefined;
  const httpServer =
    config.tls && config.httpPort !== null
      ? await listen({
          fetch: plainHttpApp(config.acmeChallengeDir, config.publicUrl).fetch,
          hostname: config.host,
          port: config.httpPort,
          createServer: guard.createServer(createHttpServer),
        })
      : null;
  dispatcher.start();
  const url = urlOf(server, config.tls ? 'https' : 'http');
  const httpUrl = httpServer ? urlOf(httpServer, 'http') : null;
  log.info(
    { url, ...(httpUrl ? { httpUrl } : {}), agents: config.agents.map((agent) => agent.name) },
    'meet-auth listening',
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    httpUrl,
    close() {
      closing ??= (async () => {
        shuttingDown = true;
        stopWatching();
        await Promise.all([closeGracefully(server), ...(httpServer ? [closeGracefully(httpServer)] : [])]);
        await dispatcher.close();
        db.close();
        limitsDb.close();
        servingLock.release();
        log.info('meet-auth stopped');
      })();
      return closing;
    },
  };
}
