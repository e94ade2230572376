/** Browsers get HTML pages; a client that asks for JSON (Accept, or a JSON body without Accept: text/html) gets JSON. */
import type { MiddlewareHandler } from 'hono';
import type { AuthEnv } from '../context.js';

export function negotiate(): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const accept = c.req.header('accept') ?? '';
    const jsonBody = /^application\/json\b/i.test(c.req.header('content-type') ?? '');
    c.set('wantsJson', accept.includes('application/json') || (jsonBody && !accept.includes('text/html')));
    await next();
  };
}
