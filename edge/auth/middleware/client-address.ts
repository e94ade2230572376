/**
 * Resolves the client's address: the socket peer, unless that peer is a trusted proxy, in which case the
 * right-most X-Forwarded-For entry that is not itself a trusted proxy. Anything a client writes into
 * X-Forwarded-For beyond that is ignored, so nobody can pick someone else's rate-limit bucket.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { isIP } from 'node:net';
import type { AuthEnv } from '../context.js';

export type RemoteAddressResolver = (c: Context<AuthEnv>) => string | undefined;

/** The socket peer under @hono/node-server. */
export const socketPeer: RemoteAddressResolver = (c) => c.env?.incoming?.socket?.remoteAddress;

export function normaliseAddress(address: string): string {
  const trimmed = address.trim().replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return (mapped?.[1] ?? trimmed).toLowerCase();
}

export function clientAddress(options: { trustedProxies: readonly string[]; remoteAddress: RemoteAddressResolver }): MiddlewareHandler<AuthEnv> {
  const trusted = new Set(options.trustedProxies.map(normaliseAddress));
  return async (c, next) => {
    const peer = normaliseAddress(options.remoteAddress(c) ?? 'unknown');
    let client = peer;
    if (trusted.has(peer)) {
      const hops = (c.req.header('x-forwarded-for') ?? '').split(',').map(normaliseAddress).filter((hop) => isIP(hop) !== 0);
      while (hops.length > 0 && trusted.has(hops.at(-1)!)) hops.pop();
      client = hops.at(-1) ?? peer;
    }
    c.set('clientAddress', client);
    await next();
  };
}
