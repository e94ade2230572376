/**
 * The agent's Hono app: `POST /jobs` (signed job protocol), `POST /accounts/*` (signed account administration,
 * edge/shared/accounts-protocol.ts) and `GET /healthz`. One onError with the closed set
 * of error codes in errors.ts. No `serve` here: server.ts runs it, tests call app.request().
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { agentErrorBody } from '../shared/agent-error-body.js';
import { MAX_JOBS_PER_DELIVERY } from '../shared/job-protocol.js';
import { nodeBodyLimit } from '../shared/node-body.js';
import { isStorageFull } from '../shared/storage-health.js';
import type { Logger } from '../shared/log.js';
import { AgentError } from './errors.js';
import type { Inbox } from './inbox.js';
import type { ProsodyAdmin } from './prosody/accounts.js';
import type { AccountRecords } from './prosody/account-records.js';
import { accountRoutes } from './routes/accounts.js';
import { backupRoutes } from './routes/backup.js';
import { serviceAccountRoutes } from './routes/service-accounts.js';
import { jobRoutes } from './routes/jobs.js';
import type { AccountWorker } from './worker.js';
import { DEFAULTS } from '../../common/config.js';

export interface AgentAppDeps {
  readonly inbox: Inbox;
  readonly worker: AccountWorker;
  readonly signingKeys: readonly Buffer[];
  readonly holdMs: number;
  readonly log: Logger;
  /** Existing accounts in Prosody, for the account routes. */
  readonly admin: ProsodyAdmin;
  /** Sealing private keys, newest first: new passwords of resets arrive sealed to them. */
  readonly sealingKeys: readonly string[];
  /** Account administration on the auth domain, for the service-account route (rotation of jicofo/jvb). */
  readonly serviceAdmin?: ProsodyAdmin;
  /** Whole account records, for the backup routes (socket mode only). */
  readonly records?: AccountRecords;
  /** @default "meet.jitsi" */
  readonly xmppDomain?: string;
  /** @default "auth.meet.jitsi" */
  readonly authDomain?: string;
  /** The host's certificate and ACME account directories, for the backup routes. */
  readonly certsDir?: string;
  readonly acmeDir?: string;
  /** Clock for signature timestamps (tests). */
  readonly now?: () => Date;
}

/** A job is ~500 bytes (its sealed password at most 4 KiB); a delivery carries at most MAX_JOBS_PER_DELIVERY. */
const BODY_LIMIT_BYTES = MAX_JOBS_PER_DELIVERY * 4608;

export function createAgentApp(deps: AgentAppDeps) {
  const app = new Hono();
  app.use(
    nodeBodyLimit({
      maxSize: BODY_LIMIT_BYTES,
      onError: () => {
        throw new AgentError('payload_too_large', `a delivery is at most ${BODY_LIMIT_BYTES} bytes`);
      },
    }),
  );
  app.get('/healthz', (c) =>
    deps.worker.storage.full
      ? c.json({ status: 'degraded', problem: 'disk full: new jobs cannot be stored', inbox: deps.inbox.counts() }, 503)
      : c.json({ status: 'ok', inbox: deps.inbox.counts() }),
  );
  app.route('/jobs', jobRoutes(deps));
  app.route('/accounts', accountRoutes(deps));
  app.route('/service-accounts', serviceAccountRoutes(deps));
  app.route(
    '/backup',
    backupRoutes({
      ...deps,
      xmppDomain: deps.xmppDomain ?? DEFAULTS.xmppDomain,
      authDomain: deps.authDomain ?? DEFAULTS.authDomain,
    }),
  );

  app.notFound((c) => c.json(agentErrorBody('not_found', 'no such route'), 404));
  app.onError((error, c) => {
    let known: AgentError;
    if (error instanceof AgentError) known = error;
    else if (isStorageFull(error)) {
      deps.worker.storage.wroteNothing();
      deps.log.error({ err: error }, 'the disk is full: a write was refused');
      known = new AgentError(
        'storage_full',
        'the agent cannot store anything right now (its disk is full); nothing was changed',
      );
    } else if (error instanceof HTTPException && error.status === 413)
      known = new AgentError('payload_too_large', 'too large');
    else {
      deps.log.error({ err: error }, 'unhandled error');
      known = new AgentError('internal', 'internal error');
    }
    if (known.code === 'unauthorized') deps.log.warn({ path: c.req.path }, known.message);
    return c.json(agentErrorBody(known.code, known.message), known.status);
  });
  return app;
}
