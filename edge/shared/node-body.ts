/**
 * Request bodies read straight from Node's IncomingMessage when the app runs under @hono/node-server.
 *
 * Touching `c.req.raw.body` (as hono's bodyLimit does on every request, GETs included) makes the node adapter
 * build a full WHATWG Request with a web stream over the socket, and reading it goes through that stream: under a
 * burst that was a large part of each request's CPU. These helpers look only at headers, and read the body from
 * the Node stream directly. Without a Node request (tests calling app.request()) or once something else has
 * started reading the body, they fall back to hono's own way, so behaviour is the same either way.
 */
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

function nodeRequestOf(c: Context): IncomingMessage | undefined {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  return incoming && typeof incoming === 'object' && 'readableDidRead' in incoming
    ? (incoming as IncomingMessage)
    : undefined;
}

/** hono's bodyLimit, decided from the Content-Length header alone when there is one (the usual case). */
export function nodeBodyLimit(options: Parameters<typeof bodyLimit>[0]): MiddlewareHandler {
  const fallback = bodyLimit(options);
  return async function nodeBodyLimit(c, next) {
    const length = c.req.header('content-length');
    if (nodeRequestOf(c) && c.req.header('transfer-encoding') === undefined) {
      if (length === undefined || !/^\d+$/.test(length)) {
        // No body (GET) or a malformed length: Node's parser already refuses the latter.
        return next();
      }
      if (Number(length) > options.maxSize) return options.onError ? options.onError(c) : fallback(c, next);
      return next();
    }
    return fallback(c, next);
  };
}

/** The request body as UTF-8 text: from the Node stream when untouched, else from hono's Request. */
export async function bodyText(c: Context): Promise<string> {
  const incoming = nodeRequestOf(c);
  // Read already, before the app saw the request (connection-guard.ts).
  const raw = (incoming as { rawBody?: unknown } | undefined)?.rawBody;
  if (raw instanceof Buffer) return raw.toString('utf8');
  if (!incoming || incoming.readableDidRead || incoming.readableEnded) return c.req.text();
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
