/**
 * Per-request child logger and metrics. Logs the route pattern, never the query string or the body,
 * so no ticket, token or password can reach a log line through here. `req` is always our own id (also sent back
 * as X-Request-Id); a client's own X-Request-Id is logged as `clientReq`, cut to printable ASCII and 64 characters.
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../shared/log.js';
import type { AuthEnv } from '../context.js';
import type { AuthMetrics } from '../metrics.js';

export function requestLog(log: Logger, metrics: AuthMetrics): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const started = performance.now();
    const clientReq = clientRequestId(c.req.header('x-request-id'));
    const child = log.child({ req: c.get('requestId'), ...(clientReq ? { clientReq } : {}) });
    c.header('X-Request-Id', c.get('requestId'));
    c.set('log', child);
    await next();
    const route = c.req.routePath === '/*' ? 'unmatched' : c.req.routePath;
    const seconds = (performance.now() - started) / 1000;
    metrics.httpRequests.inc({ route, method: c.req.method, status: String(c.res.status) });
    metrics.httpDuration.observe({ route }, seconds);
    child.info(
      {
        method: c.req.method,
        route,
        status: c.res.status,
        ms: Math.round(seconds * 1000),
        client: c.get('clientAddress'),
      },
      'request',
    );
  };
}

const MAX_CLIENT_ID = 64;

/** A client's correlation id as it may be logged: printable ASCII without spaces, at most 64 characters. */
export function clientRequestId(raw: string | undefined): string | undefined {
  const kept = (raw ?? '').replace(/[^\x21-\x7e]/g, '').slice(0, MAX_CLIENT_ID);
  return kept === '' ? undefined : kept;
}
