/**
 * Resolves the client's address: the socket peer, unless that peer is a trusted proxy, in which case the
 * right-most X-Forwarded-For entry that is not itself a trusted proxy. Anything a client writes into
 * X-Forwarded-For beyond that is ignored, so nobody can pick someone else's rate-limit bucket.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { isIP } from 'node:net';
import { normaliseAddress } from '../../shared/addresses.js';
import type { AuthEnv } from '../context.js';

export type RemoteAddressResolver = (c: Context<AuthEnv>) => string | undefined;

/** The socket peer under @hono/node-server. */
export const socketPeer: RemoteAddressResolver = (c) => c.env?.incoming?.socket?.remoteAddress;

/** The client behind `peer`: itself, or when it is a trusted proxy the right-most untrusted X-Forwarded-For hop. */
export function clientOf(peer: string, forwardedFor: string | undefined, trusted: ReadonlySet<string>): string {
  const from = normaliseAddress(peer);
  if (!trusted.has(from)) return from;
  const hops = (forwardedFor ?? '')
    .split(',')
    .map(normaliseAddress)
    .filter((hop) => isIP(hop) !== 0);
  while (hops.length > 0 && trusted.has(hops.at(-1)!)) hops.pop();
  return hops.at(-1) ?? from;
}

export function clientAddress(options: {
  trustedProxies: readonly string[];
  remoteAddress: RemoteAddressResolver;
}): MiddlewareHandler<AuthEnv> {
  const trusted = new Set(options.trustedProxies.map(normaliseAddress));
  return async (c, next) => {
    c.set('clientAddress', clientOf(options.remoteAddress(c) ?? 'unknown', c.req.header('x-forwarded-for'), trusted));
    await next();
  };
}
