/**
 * Operations: health, Prometheus metrics, the stylesheet, and ACME HTTP-01 challenge files. /healthz is public and
 * says only whether the service answers; /metrics (counters, job states, agent names, process figures) only with
 * `Authorization: Bearer <MEET_METRICS_TOKEN>` (compared in constant time), and is not there at all without one.
 */
import { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import type { AuthEnv } from '../context.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { COPY_SCRIPT } from '../pages/copy-script.js';
import { homePage } from '../pages/home.js';
import { STYLESHEET } from '../pages/style.js';
import { acmeChallengeRoutes } from './acme.js';

export function opsRoutes(deps: AppDeps) {
  const metricsAuth =
    deps.config.metricsToken === null ? null : bearerAuth<AuthEnv>({ token: deps.config.metricsToken });
  return new Hono<AuthEnv>()
    .get('/', (c) => c.html(homePage(c.get('i18n'))))
    .get('/assets/meet.css', (c) => {
      c.header('Cache-Control', 'public, max-age=3600');
      return c.body(STYLESHEET, 200, { 'content-type': 'text/css; charset=utf-8' });
    })
    .get('/assets/copy.js', (c) => {
      c.header('Cache-Control', 'public, max-age=3600');
      return c.body(COPY_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8' });
    })
    .get('/healthz', (c) => {
      if (deps.isShuttingDown?.()) throw new AppError('shutting_down');
      deps.db.prepare('SELECT 1').get();
      // Pages and /status still answer, but nothing new can be saved: say so to whoever watches.
      if (deps.dispatcher.storage.full)
        return c.json({ status: 'degraded', problem: 'disk full: new accounts cannot be saved' }, 503);
      return c.json({ status: 'ok' });
    })
    .get(
      '/metrics',
      async (c, next) => {
        if (!metricsAuth) throw new AppError('not_found');
        return metricsAuth(c, next);
      },
      async (c) =>
        c.body(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType }),
    )
    .route('/', acmeChallengeRoutes(deps.config.acmeChallengeDir));
}
