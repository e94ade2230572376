/** Operations: health, Prometheus metrics, the stylesheet, and ACME HTTP-01 challenge files. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';
import type { AuthEnv } from '../context.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../errors.js';
import { homePage } from '../pages/home.js';
import { STYLESHEET } from '../pages/style.js';

/** RFC 8555 tokens are base64url; anything else cannot name a challenge file (and cannot climb out of the directory). */
const ACME_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

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
    .get('/.well-known/acme-challenge/:token', async (c) => {
      const token = c.req.param('token');
      if (!ACME_TOKEN.test(token)) throw new AppError('not_found');
      const content = await readFile(join(deps.config.dataDir, 'acme-challenge', token), 'utf8').catch(() => null);
      if (content === null) throw new AppError('not_found');
      return c.text(content.trim());
    });
}
