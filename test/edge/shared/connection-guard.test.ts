/**
 * The connection guard on the real servers (meet-auth and the agent, in this process, over real sockets): what one
 * address and everyone together may hold open, and deadlines enforced within a second. Clients take their own
 * loopback source addresses (127.0.0.x), so "one address" and "another address" are real socket peers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../../edge/agent/config.js';
import { startAgentServer } from '../../../edge/agent/server.js';
import { loadAuthConfig, type AuthConfig } from '../../../edge/auth/config.js';
import { startAuthServer } from '../../../edge/auth/server.js';
import type { ConnectionLimits } from '../../../edge/shared/connection-guard.js';
import { createLogger } from '../../../edge/shared/log.js';
import { generateSealingKeyPair } from '../../../edge/shared/sealing.js';
import { generateSigningSecret } from '../../../edge/shared/signing.js';
import { idleAuthEnv } from '../../support/auth-env.js';
import { until } from '../../support/until.js';

const silent = createLogger({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function authServer(limits: Partial<ConnectionLimits>, env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'meet-guard-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const base = loadAuthConfig(idleAuthEnv(dataDir, { MEET_AUTH_PORT: '0', ...env }));
  // Pressure from the start unless a test says otherwise (pressureConnections may not exceed maxConnections).
  const pressureConnections =
    limits.pressureConnections ?? Math.min(base.connections.pressureConnections, limits.maxConnections ?? Infinity);
  const config: AuthConfig = { ...base, connections: { ...base.connections, ...limits, pressureConnections } };
  const server = await startAuthServer(config, { log: silent });
  cleanups.push(() => server.close());
  return new URL(server.url);
}

interface Raw {
  readonly socket: Socket;
  /** Resolves with what the server sent (possibly nothing) once it closed the connection. */
  readonly closed: Promise<string>;
  readonly isClosed: () => boolean;
}

/** A raw connection from `from` that writes `payload` and keeps the connection open. */
function raw(url: URL, from: string, payload: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), localAddress: from });
    cleanups.push(() => void socket.destroy());
    let received = '';
    let done = false;
    socket.on('data', (chunk) => (received += chunk));
    socket.on('error', () => undefined);
    const closed = new Promise<string>((settle) => socket.once('close', () => ((done = true), settle(received))));
    socket.once('connect', () => {
      socket.write(payload);
      resolve({ socket, closed, isClosed: () => done });
    });
    socket.once('error', reject);
  });
}

/** A whole HTTP request from `from`; resolves with status, headers and body. */
function send(
  url: URL,
  from: string,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string; chunked?: boolean } = {},
) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        localAddress: from,
        method: options.method ?? 'GET',
        path: options.path ?? '/healthz',
        headers: options.headers ?? {},
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    if (options.chunked) for (let i = 0; i < 8; i++) req.write(options.body ?? '');
    else if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Waits until the guard closed `count` of `connections` (the tests then check exactly which). */
const closedAtLeast = (connections: ReadonlyArray<{ isClosed(): boolean }>, count: number) =>
  until(
    `${count} of ${connections.length} connections closed`,
    () => connections.filter((connection) => connection.isClosed()).length,
    (n) => n >= count,
    { timeoutMs: 5000, everyMs: 10 },
  );
const PARTIAL_POST =
  'POST /create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"us';
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };
const METRICS_TOKEN = 'guard-test-metrics-token-0123456789abcdef';

describe('meet-auth connection limits', () => {
  it('below pressure, one address may hold more than its per-address limit (a room behind one NAT)', async () => {
    const url = await authServer({ maxConnectionsPerAddress: 5, pressureConnections: 20 });
    const held = await Promise.all(
      Array.from({ length: 15 }, () =>
        raw(url, '127.0.0.2', 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      ),
    );
    for (const connection of held) expect(await connection.closed).toMatch(/^HTTP\/1\.1 200/);
  });

  it('under pressure, connections over the per-address limit wait in its accept queue; beyond it they are closed', async () => {
    const url = await authServer({
      maxConnectionsPerAddress: 3,
      pressureConnections: 3,
      maxQueuedPerAddress: 2,
      queueWaitMs: 1500,
    });
    const idle = await Promise.all(Array.from({ length: 3 }, () => raw(url, '127.0.0.2', '')));
    const request = 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    // Two wait (one has sent its request, as a browser would, one not yet); a third finds the queue full.
    const waiting = await raw(url, '127.0.0.2', request.replace('\r\n\r\n', '\r\nAccept: text/html\r\n\r\n'));
    const later = await raw(url, '127.0.0.2', '');
    const beyond = await raw(url, '127.0.0.2', request);
    await sleep(300);
    expect([waiting.isClosed(), later.isClosed()]).toEqual([false, false]);
    expect(await beyond.closed).toBe('');
    // Another address is served meanwhile.
    expect((await send(url, '127.0.0.3')).status).toBe(200);
    // A request that waits queueWaitMs without a slot: 429 with Retry-After, as a page a browser shows.
    const answer = await waiting.closed;
    expect(answer).toMatch(/^HTTP\/1\.1 429 /);
    expect(answer).toMatch(/^retry-after: 1\r$/im);
    expect(answer).toMatch(/^content-type: text\/html; charset=utf-8\r$/im);
    expect(answer).toContain('<p>Too many requests from your address at once. Try again in a moment.</p>');
    // A slot given back: the waiting request is served at once.
    later.socket.write(request);
    await sleep(200);
    expect(later.isClosed()).toBe(false);
    idle[0]!.socket.destroy();
    expect(await later.closed).toMatch(/^HTTP\/1\.1 200/);
  });

  it('an address holding its full share of unfinished bodies is held to its per-address limit even without pressure', async () => {
    const url = await authServer({
      maxConnectionsPerAddress: 4,
      pressureConnections: 500,
      maxPendingBodiesPerClient: 2,
      maxQueuedPerAddress: 1,
    });
    await Promise.all(Array.from({ length: 2 }, () => raw(url, '127.0.0.2', PARTIAL_POST)));
    await sleep(200);
    const more = await Promise.all(Array.from({ length: 6 }, () => raw(url, '127.0.0.2', '')));
    const room = await Promise.all(Array.from({ length: 10 }, () => raw(url, '127.0.0.5', '')));
    await closedAtLeast(more, 3);
    // Two more slots (four in all), one waits in the queue, three are closed; another address is not limited.
    expect(more.map((connection) => connection.isClosed())).toEqual([false, false, false, true, true, true]);
    expect(room.filter((connection) => connection.isClosed())).toEqual([]);
  });

  it('a body sent with its headers never counts as unfinished: many at once from one address all reach the app', async () => {
    const url = await authServer({ maxPendingBodiesPerClient: 1 }, { MEET_METRICS_TOKEN: METRICS_TOKEN });
    const answers = await Promise.all(
      Array.from({ length: 100 }, () =>
        send(url, '127.0.0.4', { method: 'POST', path: '/create', headers: JSON_HEADERS, body: '{}' }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 400)); // the app's own answer to every one
    const metrics = (
      await send(url, '127.0.0.3', { path: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).body;
    expect(metrics).not.toMatch(/^meet_auth_connections_refused_total\{reason="bodies_per_client"\} [1-9]/m);
  });

  it('answers unfinished bodies beyond the per-client limit with 429 at once; others redeem meanwhile', async () => {
    const url = await authServer({ maxPendingBodiesPerClient: 3 }, { MEET_METRICS_TOKEN: METRICS_TOKEN });
    const held = await Promise.all(Array.from({ length: 6 }, () => raw(url, '127.0.0.2', PARTIAL_POST)));
    await closedAtLeast(held, 3);
    const refused = held.filter((connection) => connection.isClosed());
    expect(refused).toHaveLength(3);
    for (const connection of refused) expect(await connection.closed).toMatch(/^HTTP\/1\.1 429 [^]*retry-after: 1/i);
    const other = await send(url, '127.0.0.3', {
      method: 'POST',
      path: '/create',
      headers: JSON_HEADERS,
      body: JSON.stringify({ token: 'nope.nope' }),
    });
    expect(other.status).toBe(403); // the app's own answer: the request got through
    // What the guard holds and refused is in /metrics.
    const metrics = (
      await send(url, '127.0.0.3', { path: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).body;
    expect(metrics).toMatch(/^meet_auth_connections\{state="unfinished_body"\} 3$/m);
    expect(metrics).toMatch(/^meet_auth_connections\{state="open"\} [45]$/m); // the three held, this one (and maybe the last, closing)
    expect(metrics).toMatch(/^meet_auth_connections_refused_total\{reason="bodies_per_client"\} 3$/m);
  });

  it('when full, the address holding the most gives way to one holding fewer', async () => {
    const url = await authServer({ maxConnections: 4, maxPendingBodies: 3 });
    // Connections: four idle ones fill the server; a newcomer from another address still gets an answer.
    const idle = await Promise.all(Array.from({ length: 4 }, () => raw(url, '127.0.0.2', '')));
    expect((await send(url, '127.0.0.3')).status).toBe(200);
    expect(idle.filter((connection) => connection.isClosed())).toHaveLength(1);
    for (const connection of idle) connection.socket.destroy();
    await sleep(100);
    // Unfinished bodies: three fill the slots; a newcomer's request is read and answered, one of the three goes.
    const bodies = await Promise.all(Array.from({ length: 3 }, () => raw(url, '127.0.0.2', PARTIAL_POST)));
    await sleep(200);
    expect(bodies.filter((connection) => connection.isClosed())).toHaveLength(0);
    expect(
      (await send(url, '127.0.0.3', { method: 'POST', path: '/create', headers: JSON_HEADERS, body: '{}' })).status,
    ).toBe(400);
    await sleep(100);
    expect(bodies.filter((connection) => connection.isClosed())).toHaveLength(1);
    for (const connection of bodies) connection.socket.destroy();
    await sleep(100);
    // An address holding no more than the newcomer would is not evicted: four addresses with one connection each.
    // The newcomer waits for a slot instead, and gets one when a connection closes.
    const spread = await Promise.all([2, 3, 4, 5].map((n) => raw(url, `127.0.0.${n}`, '')));
    const late = await raw(url, '127.0.0.6', 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await sleep(300);
    expect(late.isClosed()).toBe(false);
    expect(spread.filter((connection) => connection.isClosed())).toHaveLength(0);
    spread[0]!.socket.destroy();
    expect(await late.closed).toMatch(/^HTTP\/1\.1 200/);
  });

  it('when full, a connection whose request is in progress is never the one given up', async () => {
    const url = await authServer({ maxConnections: 3 });
    // Three unfinished bodies from one address: requests in progress, not idle.
    const bodies = await Promise.all(Array.from({ length: 3 }, () => raw(url, '127.0.0.2', PARTIAL_POST)));
    await sleep(200);
    const late = await raw(url, '127.0.0.3', 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await sleep(300);
    expect(bodies.filter((connection) => connection.isClosed())).toHaveLength(0);
    expect(late.isClosed()).toBe(false); // waiting, not reset
    bodies[0]!.socket.destroy();
    expect(await late.closed).toMatch(/^HTTP\/1\.1 200/);
  });

  it('enforces the header and body deadlines within a second (Node alone checks every 30 s)', async () => {
    const url = await authServer({ headersTimeoutMs: 1000, requestTimeoutMs: 2000 });
    const started = performance.now();
    const slowHeaders = await raw(url, '127.0.0.2', 'POST /create HTTP/1.1\r\nHost: x\r\n');
    const silentOne = await raw(url, '127.0.0.2', '');
    const slowBody = await raw(url, '127.0.0.2', PARTIAL_POST);
    await slowHeaders.closed;
    await silentOne.closed;
    expect(performance.now() - started).toBeLessThan(3000);
    await slowBody.closed;
    expect(performance.now() - started).toBeLessThan(4500);
  });

  it('a chunked body longer than the limit is cut at the limit and answered 413 by the app', async () => {
    const url = await authServer({});
    const answer = await send(url, '127.0.0.2', {
      method: 'POST',
      path: '/create',
      headers: JSON_HEADERS,
      body: 'x'.repeat(4096),
      chunked: true,
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: expect.any(String) });
    expect(answer.headers.connection).toBe('close');
  });

  it('behind a trusted proxy, connections are counted in all and bodies per forwarded client', async () => {
    const url = await authServer(
      { maxConnectionsPerAddress: 2, maxPendingBodiesPerClient: 2 },
      { MEET_TRUSTED_PROXIES: '127.0.0.2' },
    );
    const viaProxy = (client: string) =>
      raw(url, '127.0.0.2', PARTIAL_POST.replace('Host: x\r\n', `Host: x\r\nX-Forwarded-For: ${client}\r\n`));
    const held = await Promise.all([
      viaProxy('198.51.100.1'),
      viaProxy('198.51.100.1'),
      viaProxy('198.51.100.1'),
      viaProxy('198.51.100.2'),
    ]);
    await closedAtLeast(held, 1);
    expect(held.map((connection) => connection.isClosed())).toEqual([false, false, true, false]);
  });
});

describe('agent connection limits', () => {
  it('holds the same limits on the agent', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'agent-guard-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const base = loadAgentConfig({
      MEET_DATA_DIR: dataDir,
      MEET_AGENT_PORT: '0',
      MEET_AGENT_SIGNING_SECRETS: generateSigningSecret(),
      MEET_AGENT_SEALING_KEYS: generateSealingKeyPair().privateKey,
      MEET_PROSODY_SOCKET: join(dataDir, 'no-prosody.sock'),
      MEET_LOG_LEVEL: 'silent',
    });
    const agent = await startAgentServer(
      {
        ...base,
        connections: {
          ...base.connections,
          maxConnectionsPerAddress: 4,
          pressureConnections: 4,
          maxQueuedPerAddress: 1,
          queueWaitMs: 1000,
          maxPendingBodiesPerClient: 2,
          headersTimeoutMs: 1000,
          requestTimeoutMs: 2000,
        },
      },
      { log: silent },
    );
    cleanups.push(() => agent.close());
    const url = new URL(agent.url);
    const partial =
      'POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"jo';
    const idle = await Promise.all(Array.from({ length: 4 }, () => raw(url, '127.0.0.2', '')));
    const over = await Promise.all(Array.from({ length: 2 }, () => raw(url, '127.0.0.2', '')));
    await closedAtLeast([...idle, ...over], 1);
    // Under pressure: four hold slots, one waits in the accept queue, the last is closed.
    expect([...idle, ...over].map((connection) => connection.isClosed())).toEqual([
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
    expect((await send(url, '127.0.0.3')).status).toBe(200);
    for (const connection of [...idle, ...over]) connection.socket.destroy();
    await sleep(100);
    const started = performance.now();
    const bodies = await Promise.all(Array.from({ length: 4 }, () => raw(url, '127.0.0.2', partial)));
    await closedAtLeast(bodies, 2);
    const refused = bodies.filter((connection) => connection.isClosed());
    expect(refused).toHaveLength(2);
    for (const connection of refused) expect(await connection.closed).toMatch(/^HTTP\/1\.1 429/);
    await Promise.all(bodies.map((connection) => connection.closed));
    expect(performance.now() - started).toBeLessThan(4500);
  });
});
