/**
 * Per-request child logger and metrics. Logs the route pattern, never the query string or the body,
 * so no ticket, token or password can reach a log line through here.
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../shared/log.js';
import type { AuthEnv } from '../context.js';
import type { AuthMetrics } from '../metrics.js';

export function requestLog(log: Logger, metrics: AuthMetrics): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const started = performance.now();
    const child = log.child({ req: c.get('requestId') });
    c.set('log', child);
    await next();
    const route = c.req.routePath === '/*' ? 'unmatched' : c.req.routePath;
    const seconds = (performance.now() - started) / 1000;
    metrics.httpRequests.inc({ route, method: c.req.method, status: String(c.res.status) });
    metrics.httpDuration.observe({ route }, seconds);
    child.info({ method: c.req.method, route, status: c.res.status, ms: Math.round(seconds * 1000), client: c.get('clientAddress') }, 'request');
  };
}
