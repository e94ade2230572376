/**
 * What one client address, and everyone together, may hold open on a service's HTTP listener, so that a flood of
 * connections or of half-sent requests cannot exhaust the heap (each request handed to the app costs ~25 KB while
 * it waits for its body).
 *
 * - Connections: at most `maxConnectionsPerAddress` per address (IPv6: per /64); over that, a new connection is
 *   closed at once. At most `maxConnections` in all: when full, the address holding the most connections loses its
 *   oldest one to a newcomer from an address that holds fewer, so a flood from many addresses still leaves room
 *   for everyone else. Trusted proxies are exempt from the per-address count (they carry many clients), not the total.
 * - Unfinished bodies: a request with a body is read here, before the app sees it, into `incoming.rawBody`
 *   (@hono/node-server reads the body from there). While it arrives it holds one of `maxPendingBodiesPerClient`
 *   slots of its client (else 429 at once) and one of `maxPendingBodies` in all (when full, the client with the
 *   most loses its oldest to a client with fewer; else 503 at once).
 * - Deadlines, enforced within a second: headers within `headersTimeoutMs` of the connection (or of the previous
 *   request), the whole request within `requestTimeoutMs`, the TLS handshake within `headersTimeoutMs`. Node
 *   checks its headersTimeout/requestTimeout only every connectionsCheckingInterval, 30 s by default: set to 1 s.
 */
import type { createServer as createHttpServer, IncomingMessage, RequestListener, Server, ServerOptions, ServerResponse } from 'node:http';
import type { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { addressKey, normaliseAddress } from './addresses.js';

export interface ConnectionLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  readonly maxPendingBodies: number;
  readonly maxPendingBodiesPerClient: number;
  /** Bodies are read up to this many bytes (the app's own limit): a longer one is cut there and the app answers 413. */
  readonly maxBodyBytes: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxHeaderBytes: number;
}

export interface ConnectionGuardOptions extends ConnectionLimits {
  /** Peers exempt from the per-address connection count (trusted proxies), normalised. @default none */
  readonly exemptPeers?: ReadonlySet<string>;
  /** The client a request comes from (e.g. through trusted proxies); @default its socket peer */
  readonly clientOf?: (request: IncomingMessage) => string;
  /** Told about each refusal, for metrics and logs. */
  readonly onRefused?: (what: RefusalKind, client: string) => void;
}

export type RefusalKind = 'connections_total' | 'connections_per_address' | 'bodies_total' | 'bodies_per_client';

export interface GuardStats {
  readonly connections: number;
  readonly pendingBodies: number;
}

const peerOf = (socket: Socket) => normaliseAddress(socket.remoteAddress ?? 'unknown');

export class ConnectionGuard {
  readonly #options: ConnectionGuardOptions;
  /** Open connections per address key, oldest first (trusted proxies' are counted in the total only). */
  readonly #socketsBy = new Map<string, Set<Socket>>();
  readonly #keyOf = new WeakMap<Socket, string | null>();
  /** Requests whose body is still arriving, per client, oldest first. */
  readonly #pendingBy = new Map<string, Set<Pending>>();
  #connections = 0;
  #pending = 0;

  constructor(options: ConnectionGuardOptions) {
    for (const [name, value] of Object.entries(options)) {
      if (typeof value === 'number' && (!Number.isInteger(value) || value < 1)) throw new RangeError(`connection limit ${name}: ${value} must be a whole number of at least 1`);
    }
    if (options.headersTimeoutMs > options.requestTimeoutMs) throw new RangeError(`headersTimeoutMs ${options.headersTimeoutMs} must not exceed requestTimeoutMs ${options.requestTimeoutMs}`);
    this.#options = options;
  }

  get stats(): GuardStats {
    return { connections: this.#connections, pendingBodies: this.#pending };
  }

  /** Server options that make Node enforce the deadlines (plus the TLS handshake deadline for https). */
  serverOptions(): ServerOptions & { handshakeTimeout: number } {
    return {
      headersTimeout: this.#options.headersTimeoutMs,
      requestTimeout: this.#options.requestTimeoutMs,
      connectionsCheckingInterval: 1000,
      maxHeaderSize: this.#options.maxHeaderBytes,
      keepAliveTimeout: 5000,
      handshakeTimeout: this.#options.headersTimeoutMs,
    };
  }

  /**
   * A `createServer` for @hono/node-server's serve(): makes the server with `factory` (node:http or node:https),
   * the options above merged over `options`, and the guard in front of the app's listener.
   */
  createServer<F extends typeof createHttpServer | typeof createHttpsServer>(factory: F): F {
    const make = factory as unknown as (options: ServerOptions, listener: RequestListener) => Server;
    return ((options: ServerOptions, listener: RequestListener) => {
      const server = make({ ...options, ...this.serverOptions() }, this.wrap(listener));
      this.attach(server);
      return server;
    }) as unknown as F;
  }

  /** Counts and limits the server's connections. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => {
      const peer = peerOf(socket);
      const key = this.#options.exemptPeers?.has(peer) ? null : addressKey(peer);
      const held = key === null ? 0 : (this.#socketsBy.get(key)?.size ?? 0);
      if (key !== null && held >= this.#options.maxConnectionsPerAddress) return this.#drop(socket, 'connections_per_address', peer);
      if (this.#connections >= this.#options.maxConnections) {
        // Full: the address holding the most gives up its oldest connection, so one that holds few still gets in.
        const victim = heaviestOver(this.#socketsBy, held + 1);
        if (!victim) return this.#drop(socket, 'connections_total', peer);
        this.#options.onRefused?.('connections_total', peerOf(victim));
        this.#untrack(victim);
        victim.destroy();
      }
      this.#track(socket, key);
    });
  }

  #drop(socket: Socket, kind: RefusalKind, peer: string): void {
    socket.destroy();
    this.#options.onRefused?.(kind, peer);
  }

  #track(socket: Socket, key: string | null): void {
    this.#connections++;
    this.#keyOf.set(socket, key);
    if (key !== null) {
      const sockets = this.#socketsBy.get(key) ?? new Set<Socket>();
      sockets.add(socket);
      this.#socketsBy.set(key, sockets);
    }
    socket.once('close', () => this.#untrack(socket));
  }

  #untrack(socket: Socket): void {
    if (!this.#keyOf.has(socket)) return;
    const key = this.#keyOf.get(socket)!;
    this.#keyOf.delete(socket);
    this.#connections--;
    if (key === null) return;
    const sockets = this.#socketsBy.get(key);
    sockets?.delete(socket);
    if (sockets?.size === 0) this.#socketsBy.delete(key);
  }

  /** Reads each request's body (within the limits above) before `listener` sees the request. */
  wrap(listener: RequestListener): RequestListener {
    return (request, response) => {
      if (!hasBody(request)) return listener(request, response);
      const declared = request.headers['content-length'];
      // Longer than the app accepts, said up front: the app answers 413 from the header without reading.
      if (declared !== undefined && Number(declared) > this.#options.maxBodyBytes) return listener(request, response);
      const client = addressKey(this.#options.clientOf?.(request) ?? peerOf(request.socket));
      const held = this.#pendingBy.get(client);
      if ((held?.size ?? 0) >= this.#options.maxPendingBodiesPerClient) return this.#refuse(response, 'bodies_per_client', client);
      if (this.#pending >= this.#options.maxPendingBodies) {
        // Full: the client with the most unfinished bodies loses its oldest one to a client with fewer.
        const victim = heaviestOver(this.#pendingBy, (held?.size ?? 0) + 1);
        if (!victim) return this.#refuse(response, 'bodies_total', client);
        this.#options.onRefused?.('bodies_total', client);
        victim.release();
        victim.request.socket.destroy();
      }
      const pending: Pending = { request, release: () => release() };
      this.#pending++;
      this.#pendingBy.set(client, (held ?? new Set<Pending>()).add(pending));
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        this.#pending--;
        const set = this.#pendingBy.get(client);
        set?.delete(pending);
        if (set?.size === 0) this.#pendingBy.delete(client);
        request.off('data', onData).off('end', onEnd).off('close', release);
      };
      const chunks: Buffer[] = [];
      let size = 0;
      const hand = (body: Buffer) => {
        release();
        (request as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
        listener(request, response);
      };
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size <= this.#options.maxBodyBytes) return;
        // Too long (chunked, no length given): the app sees more than its limit and answers 413; the rest is not read.
        request.pause();
        response.setHeader('connection', 'close');
        hand(Buffer.concat(chunks));
      };
      const onEnd = () => hand(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      request.on('data', onData).once('end', onEnd).once('close', release);
      // A reset connection emits 'error' on the request; it is over and its slot freed by 'close'.
      request.on('error', () => undefined);
    };
  }

  #refuse(response: ServerResponse, kind: 'bodies_total' | 'bodies_per_client', client: string): void {
    this.#options.onRefused?.(kind, client);
    const message = kind === 'bodies_total' ? 'The service is busy. Try again in a moment.' : 'Too many unfinished requests from your address. Try again in a moment.';
    response.writeHead(kind === 'bodies_total' ? 503 : 429, {
      'content-type': 'text/plain; charset=utf-8',
      'retry-after': '1',
      'cache-control': 'no-store',
      connection: 'close',
    });
    response.end(`${message}\n`);
  }
}

/** A request carries a body when it says so with a non-zero length or a transfer encoding. */
function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

interface Pending {
  readonly request: IncomingMessage;
  readonly release: () => void;
}

/** The oldest entry of the largest set, when that set holds more than `than`. */
function heaviestOver<T>(sets: ReadonlyMap<string, Set<T>>, than: number): T | undefined {
  let heaviest: Set<T> | undefined;
  for (const set of sets.values()) if (set.size > (heaviest?.size ?? than)) heaviest = set;
  return heaviest?.values().next().value;
}
