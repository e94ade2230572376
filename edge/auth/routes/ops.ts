/** Operations: health, Prometheus metrics, the stylesheet, and ACME HTTP-01 challenge files. */
import { Hono } from 'hono';
import type { AuthEnv } from '../context.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { homePage } from '../pages/home.js';
import { STYLESHEET } from '../pages/style.js';
import { acmeChallengeRoutes } from './acme.js';

export function opsRoutes(deps: AppDeps) {
  return new Hono<AuthEnv>()
    .get('/', (c) => c.html(homePage()))
    .get('/assets/meet.css', (c) => {
      c.header('Cache-Control', 'public, max-age=3600');
      return c.body(STYLESHEET, 200, { 'content-type': 'text/css; charset=utf-8' });
    })
    .get('/healthz', (c) => {
      if (deps.isShuttingDown?.()) throw new AppError('shutting_down');
      deps.db.prepare('SELECT 1').get();
      return c.json({ status: 'ok' });
    })
    .get('/metrics', async (c) => c.body(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType }))
    .route('/', acmeChallengeRoutes(deps.config.acmeChallengeDir));
}
