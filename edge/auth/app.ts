/**
 * The meet-auth Hono app: middleware factories, one router per resource, one onError with the closed set of
 * error codes. No `serve` here: server.ts runs it, tests call app.request().
 */
import { Hono, type Context } from 'hono';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { nodeBodyLimit } from '../shared/node-body.js';
import { isStorageFull } from '../shared/storage-health.js';
import type { AuthEnv } from './context.js';
import type { AppDeps } from './deps.js';
import { AppError, type ErrorCode } from './errors.js';
import { clientAddress, socketPeer } from './middleware/client-address.js';
import { language } from './middleware/language.js';
import { negotiate } from './middleware/negotiate.js';
import { requestLog } from './middleware/request-log.js';
import { english } from '../i18n/index.js';
import { localiseMessage } from '../i18n/errors.js';
import { errorPage } from './pages/error.js';
import { accountRoutes } from './routes/accounts.js';
import { opsRoutes } from './routes/ops.js';
import { ownAccountRoutes } from './routes/own-account.js';
import { ticketRoutes } from './routes/tickets.js';

const HTTP_EXCEPTION_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'cross_origin',
  404: 'not_found',
  413: 'payload_too_large',
};

export function createApp(deps: AppDeps) {
  const app = new Hono<AuthEnv>();

  // Our own id for every request; whatever a client sends as X-Request-Id is only logged beside it (request-log.ts).
  app.use(requestId({ headerName: '', generator: () => crypto.randomUUID() }));
  app.use(
    clientAddress({ trustedProxies: deps.config.trustedProxies, remoteAddress: deps.remoteAddress ?? socketPeer }),
  );
  app.use(requestLog(deps.log, deps.metrics));
  app.use(negotiate());
  app.use(language());
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        // Only /assets/copy.js (the ticket page's copy button); every page works without it.
        scriptSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      xFrameOptions: 'DENY',
    }),
  );
  // Answers carry tickets or per-person state: no cache may keep them (the stylesheet overrides this).
  app.use(async (c, next) => {
    await next();
    if (!c.res.headers.has('cache-control')) c.header('Cache-Control', 'no-store');
  });
  app.use(nodeBodyLimit({ maxSize: deps.config.bodyLimitBytes }));
  app.use(csrf({ origin: deps.config.publicUrl }));
  app.use(async (c, next) => {
    if (c.req.method === 'POST' && deps.isShuttingDown?.()) throw new AppError('shutting_down');
    await next();
  });

  app.route('/', opsRoutes(deps));
  app.route('/generate_token', ticketRoutes(deps));
  app.route('/', accountRoutes(deps));
  app.route('/account', ownAccountRoutes(deps));

  const renderError = (c: Context<AuthEnv>, known: AppError) => {
    if (known.retryAfter) c.header('Retry-After', String(known.retryAfter));
    if (known.code === 'unauthorized') c.header('WWW-Authenticate', 'Bearer');
    c.header('Cache-Control', 'no-store');
    if (c.get('wantsJson') ?? (c.req.header('accept') ?? '').includes('application/json')) {
      return c.json(
        { error: known.message, code: known.code, ...(known.field ? { field: known.field } : {}) },
        known.status,
      );
    }
    const i18n = c.get('i18n') ?? english;
    return c.html(errorPage(i18n, known.code === 'not_found', localiseMessage(i18n, known.message)), known.status);
  };

  app.notFound((c) => renderError(c, new AppError('not_found')));

  app.onError((error, c) => {
    let known: AppError;
    if (error instanceof AppError) known = error;
    else if (isStorageFull(error)) {
      // Nothing was written (SQLite rolled it back); the dispatcher backs off and /healthz says degraded meanwhile.
      (c.get('log') ?? deps.log).error({ err: error }, 'the disk is full: a write was refused');
      deps.dispatcher.storage.wroteNothing();
      known = new AppError('storage_full', { retryAfter: 60 });
    } else if (error instanceof HTTPException && HTTP_EXCEPTION_CODES[error.status])
      known = new AppError(HTTP_EXCEPTION_CODES[error.status]!);
    else {
      (c.get('log') ?? deps.log).error({ err: error }, 'unhandled error');
      known = new AppError('internal');
    }
    return renderError(c, known);
  });

  return app;
}
