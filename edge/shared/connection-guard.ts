/**
 * What one client address, and everyone together, may hold open on a service's HTTP listener, so that a flood of
 * connections or of half-sent requests cannot exhaust the heap, while a room of people behind one NAT can still
 * all come in at once. How the limits were sized: docs/decisions/connection-limits.md.
 *
 * - Connections: at most `maxConnections` in all. The per-address limit (`maxConnectionsPerAddress`, IPv6: per /64)
 *   bites only under pressure, once `pressureConnections` are open in all or once the address holds its full share
 *   of unfinished bodies: until then one address (a NAT, a conference hall) may open as many as it needs. A connection over a limit is not reset: it waits in its address's accept
 *   queue (at most `maxQueuedPerAddress` per address, `maxQueuedConnections` in all): its request, once its headers
 *   are in, is held unread until its address has a slot again (connections whose slot is wanted are closed after
 *   their answer instead of kept alive), or answered 429/503 with
 *   Retry-After after `queueWaitMs`. Only beyond the queue is a connection closed at once. When full, the address
 *   holding the most gives up its oldest connection that has no request in progress (idle, or still sending
 *   headers) to a newcomer from an address that holds fewer. Trusted proxies are exempt from the per-address count
 *   (they carry many clients), not the total.
 * - Unfinished bodies: a request with a body is read here, before the app sees it, into `incoming.rawBody`
 *   (@hono/node-server reads the body from there). While it arrives it holds one of `maxPendingBodiesPerClient`
 *   slots of its client (else 429 at once) and one of `maxPendingBodies` in all (when full, the client with the
 *   most loses its oldest to a client with fewer; else 503 at once). A body sent with its headers is read in the
 *   same turn of the event loop, so it never counts against another request.
 * - Deadlines, enforced within a second: headers within `headersTimeoutMs` of the connection (or of the previous
 *   request), the whole request within `requestTimeoutMs`, the TLS handshake within `headersTimeoutMs`. Node
 *   checks its headersTimeout/requestTimeout only every connectionsCheckingInterval, 30 s by default: set to 1 s.
 */
import type {
  createServer as createHttpServer,
  IncomingMessage,
  RequestListener,
  Server,
  ServerOptions,
  ServerResponse,
} from 'node:http';
import type { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { addressKey, normaliseAddress } from './addresses.js';
import { answerRefused } from './refusal.js';

export interface ConnectionLimits {
  readonly maxConnections: number;
  /** What one address may hold while the server is under pressure (see pressureConnections). */
  readonly maxConnectionsPerAddress: number;
  /** From this many open connections in all, the per-address limit applies; below it, any address may open more. */
  readonly pressureConnections: number;
  /** Connections over a limit wait for a slot: at most this many in all... */
  readonly maxQueuedConnections: number;
  /** ...and this many per address (beyond: closed at once)... */
  readonly maxQueuedPerAddress: number;
  /** ...for at most this long once their request is in (then 429/503 with Retry-After; requestTimeoutMs still holds). */
  readonly queueWaitMs: number;
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

/** `queue_timeout`: a queued connection's request waited `queueWaitMs` for a slot and was answered 429/503. */
export type RefusalKind =
  'connections_total' | 'connections_per_address' | 'queue_timeout' | 'bodies_total' | 'bodies_per_client';

export interface GuardStats {
  readonly connections: number;
  /** Connections waiting in an accept queue (not in `connections`). */
  readonly queued: number;
  readonly pendingBodies: number;
}

/** One accepted connection: its address key (null: exempt), whether it holds a slot, and its requests in progress. */
interface Connection {
  readonly key: string | null;
  readonly peer: string;
  admitted: boolean;
  busy: number;
  /** A queued connection's request, waiting for a slot. */
  waiter?: () => void;
}

const peerOf = (socket: Socket) => normaliseAddress(socket.remoteAddress ?? 'unknown');
/** Over TLS, requests arrive on a TLSSocket whose `_parent` is the TCP socket the 'connection' event counted. */
const tcpOf = (socket: Socket) => (socket as Socket & { _parent?: Socket })._parent ?? socket;
/** The accept queue of trusted proxies' connections (they are exempt from the per-address limit, not the total). */
const PROXIES = '(trusted proxies)';

export class ConnectionGuard {
  readonly #options: ConnectionGuardOptions;
  readonly #connectionOf = new WeakMap<Socket, Connection>();
  /** Connections holding a slot, per address key, oldest first (exempt peers' are counted in the total only). */
  readonly #socketsBy = new Map<string, Set<Socket>>();
  /** Connections waiting for a slot, per address key, oldest first (exempt peers never wait). */
  readonly #queuedBy = new Map<string, Set<Socket>>();
  /** Requests whose body is still arriving, per client, oldest first. */
  readonly #pendingBy = new Map<string, Set<Pending>>();
  #connections = 0;
  #queued = 0;
  #pending = 0;

  constructor(options: ConnectionGuardOptions) {
    for (const [name, value] of Object.entries(options)) {
      if (typeof value === 'number' && (!Number.isInteger(value) || value < 1))
        throw new RangeError(`connection limit ${name}: ${value} must be a whole number of at least 1`);
    }
    if (options.headersTimeoutMs > options.requestTimeoutMs)
      throw new RangeError(
        `headersTimeoutMs ${options.headersTimeoutMs} must not exceed requestTimeoutMs ${options.requestTimeoutMs}`,
      );
    if (options.pressureConnections > options.maxConnections)
      throw new RangeError(
        `pressureConnections ${options.pressureConnections} must not exceed maxConnections ${options.maxConnections}`,
      );
    this.#options = options;
  }

  get stats(): GuardStats {
    return { connections: this.#connections, queued: this.#queued, pendingBodies: this.#pending };
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
      const connection: Connection = { key, peer, admitted: false, busy: 0 };
      this.#connectionOf.set(socket, connection);
      socket.once('close', () => this.#forget(socket, connection));
      if (this.#canAdmit(key) || this.#evictFor(key)) return this.#admit(socket, connection);
      const queued = this.#queuedBy.get(key ?? PROXIES);
      if (
        this.#queued >= this.#options.maxQueuedConnections ||
        (queued?.size ?? 0) >= this.#options.maxQueuedPerAddress
      ) {
        this.#connectionOf.delete(socket);
        socket.destroy();
        this.#options.onRefused?.(
          this.#connections >= this.#options.maxConnections ? 'connections_total' : 'connections_per_address',
          peer,
        );
        return;
      }
      this.#queued++;
      this.#queuedBy.set(key ?? PROXIES, (queued ?? new Set<Socket>()).add(socket));
    });
  }

  /**
   * Room for one more connection from `key`: below the total, and below its own limit or with no pressure. An
   * address that holds its full share of unfinished bodies is under pressure itself (a room's forms come whole).
   */
  #canAdmit(key: string | null): boolean {
    if (this.#connections >= this.#options.maxConnections) return false;
    if (key === null || !this.#underPressure(key)) return true;
    return (this.#socketsBy.get(key)?.size ?? 0) < this.#options.maxConnectionsPerAddress;
  }

  #underPressure(key: string): boolean {
    return (
      this.#connections >= this.#options.pressureConnections ||
      (this.#pendingBy.get(key)?.size ?? 0) >= this.#options.maxPendingBodiesPerClient
    );
  }

  /** Full: the address holding the most (more than `key` would) gives up its oldest connection with no request in progress. */
  #evictFor(key: string | null): boolean {
    if (this.#connections < this.#options.maxConnections) return false;
    const than = (key === null ? 0 : (this.#socketsBy.get(key)?.size ?? 0)) + 1;
    const victim = heaviestOver(this.#socketsBy, than, (socket) => this.#connectionOf.get(socket)?.busy === 0);
    if (!victim) return false;
    this.#options.onRefused?.('connections_total', this.#connectionOf.get(victim)?.peer ?? peerOf(victim));
    this.#forget(victim, this.#connectionOf.get(victim)!);
    victim.destroy();
    return true;
  }

  #slotWanted(key: string | null): boolean {
    // Only to its own address's waiters: when the server is simply full, keeping a connection alive is no worse
    // than handing its slot to whoever waits (under a flood of slow headers, that is the attacker).
    if (this.#queuedBy.has(key ?? PROXIES)) return true;
    if (key === null || !this.#underPressure(key)) return false;
    return (this.#socketsBy.get(key)?.size ?? 0) >= this.#options.maxConnectionsPerAddress;
  }

  #admit(socket: Socket, connection: Connection): void {
    connection.admitted = true;
    this.#connections++;
    if (connection.key === null) return;
    const sockets = this.#socketsBy.get(connection.key) ?? new Set<Socket>();
    this.#socketsBy.set(connection.key, sockets.add(socket));
  }

  /** Moves a queued connection into a slot. */
  #promote(socket: Socket, connection: Connection): void {
    this.#dequeue(socket, connection);
    this.#admit(socket, connection);
  }

  #dequeue(socket: Socket, connection: Connection): void {
    this.#queued--;
    const queueKey = connection.key ?? PROXIES;
    const queued = this.#queuedBy.get(queueKey);
    queued?.delete(socket);
    if (queued?.size === 0) this.#queuedBy.delete(queueKey);
    connection.waiter = undefined;
  }

  #forget(socket: Socket, connection: Connection): void {
    if (this.#connectionOf.get(socket) !== connection) return;
    this.#connectionOf.delete(socket);
    if (!connection.admitted) return this.#dequeue(socket, connection);
    this.#connections--;
    if (connection.key !== null) {
      const sockets = this.#socketsBy.get(connection.key);
      sockets?.delete(socket);
      if (sockets?.size === 0) this.#socketsBy.delete(connection.key);
    }
    this.#pump();
  }

  /** Gives freed slots to waiting requests, oldest address first, oldest request of each first. */
  #pump(): void {
    if (this.#queued === 0) return;
    for (const queued of this.#queuedBy.values()) {
      for (const socket of queued) {
        const connection = this.#connectionOf.get(socket);
        if (!connection || !this.#canAdmit(connection.key)) break;
        connection.waiter?.();
      }
      if (this.#connections >= this.#options.maxConnections) return;
    }
  }

  /** Reads each request's body (within the limits above) before `listener` sees the request. */
  wrap(listener: RequestListener): RequestListener {
    return (request, response) => {
      const socket = tcpOf(request.socket);
      const connection = this.#connectionOf.get(socket);
      if (!connection || connection.admitted) return this.#serve(connection, request, response, listener);
      if (this.#canAdmit(connection.key) || this.#evictFor(connection.key)) {
        this.#promote(socket, connection);
        return this.#serve(connection, request, response, listener);
      }
      // Queued: the request waits, unread, for a slot of its address (or anyone's, when pressure eases).
      const timer = setTimeout(() => {
        connection.waiter = undefined;
        this.#refuse(request, response, 'queue_timeout', connection.peer);
      }, this.#options.queueWaitMs);
      connection.waiter = () => {
        clearTimeout(timer);
        this.#promote(socket, connection);
        this.#serve(connection, request, response, listener);
      };
      socket.once('close', () => clearTimeout(timer));
    };
  }

  /** Hands the request to `listener` once its body is read, counting it as in progress until its answer is done. */
  #serve(
    connection: Connection | undefined,
    request: IncomingMessage,
    response: ServerResponse,
    listener: RequestListener,
  ): void {
    if (connection) {
      connection.busy++;
      response.once('close', () => connection.busy--);
      // Its slot is wanted (its address is at its limit under pressure, or others of it wait): given back after the answer
      // rather than kept alive. Idle keep-alive connections are not closed from here (a client may be reusing one
      // right now); they end after keepAliveTimeout (5 s), before a queued request's queueWaitMs.
      if (this.#slotWanted(connection.key)) response.setHeader('connection', 'close');
    }
    if (!hasBody(request)) return listener(request, response);
    const declared = request.headers['content-length'];
    // Longer than the app accepts, said up front: the app answers 413 from the header without reading.
    if (declared !== undefined && Number(declared) > this.#options.maxBodyBytes) return listener(request, response);
    const client = addressKey(this.#options.clientOf?.(request) ?? peerOf(request.socket));
    const held = this.#pendingBy.get(client);
    if ((held?.size ?? 0) >= this.#options.maxPendingBodiesPerClient)
      return this.#refuse(request, response, 'bodies_per_client', client);
    if (this.#pending >= this.#options.maxPendingBodies) {
      // Full: the client with the most unfinished bodies loses its oldest one to a client with fewer.
      const victim = heaviestOver(this.#pendingBy, (held?.size ?? 0) + 1);
      if (!victim) return this.#refuse(request, response, 'bodies_total', client);
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
  }

  /** 503 when everyone together is over a limit, 429 when one client is (edge/shared/refusal.ts). */
  #refuse(
    request: IncomingMessage,
    response: ServerResponse,
    kind: Exclude<RefusalKind, 'connections_total' | 'connections_per_address'>,
    client: string,
  ): void {
    this.#options.onRefused?.(kind, client);
    const busy =
      kind === 'bodies_total' || (kind === 'queue_timeout' && this.#connections >= this.#options.maxConnections);
    answerRefused(request, response, busy ? 'busy' : 'rate_limited');
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

/** The oldest entry (that `may` be taken) of the largest set holding more than `than`. */
function heaviestOver<T>(
  sets: ReadonlyMap<string, Set<T>>,
  than: number,
  may: (entry: T) => boolean = () => true,
): T | undefined {
  let best: { size: number; entry: T } | undefined;
  for (const set of sets.values()) {
    if (set.size <= (best?.size ?? than)) continue;
    for (const entry of set) {
      if (!may(entry)) continue;
      best = { size: set.size, entry };
      break;
    }
  }
  return best?.entry;
}
