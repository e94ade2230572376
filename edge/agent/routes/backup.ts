/**
 * `POST /backup/{list,export,import}` (edge/shared/admin-protocol.ts): whole account records of the agent's two
 * domains (users' and auth), for `npm run backup` and `npm run restore`. Signed and accepted once, like every
 * admin route; records hold SCRAM keys, never plaintext, and are never logged.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { RECORDS_PER_REQUEST, type BackupDomain } from '../../shared/admin-protocol.js';
import { accountRecord, type AccountRecords } from '../account-records.js';
import { AgentError } from '../errors.js';
import type { Inbox } from '../inbox.js';
import { onlyOnce } from '../middleware/only-once.js';
import { signedRequest } from '../middleware/signed-request.js';
import { parseBody, withProsody } from './body.js';

export interface BackupRoutesDeps {
  readonly inbox: Inbox;
  readonly records?: AccountRecords;
  readonly xmppDomain: string;
  readonly authDomain: string;
  readonly signingKeys: readonly Buffer[];
  readonly now?: () => Date;
  readonly log?: { info(fields: object, message: string): void };
}

const domain = z.enum(['xmpp', 'auth']);
const schemas = {
  list: z.strictObject({}),
  export: z.strictObject({ domain, usernames: z.array(z.string().min(1).max(1023)).max(RECORDS_PER_REQUEST) }),
  import: z.strictObject({ domain, accounts: z.array(accountRecord).max(RECORDS_PER_REQUEST) }),
};

export function backupRoutes(deps: BackupRoutesDeps) {
  const app = new Hono();
  app.use('*', signedRequest(deps.signingKeys, deps.now), onlyOnce(deps.inbox));
  const hostOf = (which: BackupDomain) => (which === 'xmpp' ? deps.xmppDomain : deps.authDomain);
  const records = () => {
    if (!deps.records) throw new AgentError('unavailable', 'account records need the admin socket (MEET_PROSODY_MODE=socket, Prosody 13)');
    return deps.records;
  };

  app.post('/list', async (c) => {
    parseBody(c.var.rawBody, schemas.list);
    const store = records();
    const [xmpp, auth] = await withProsody(() => Promise.all([store.list(deps.xmppDomain), store.list(deps.authDomain)]));
    return c.json({ domains: { xmpp, auth } });
  });

  app.post('/export', async (c) => {
    const body = parseBody(c.var.rawBody, schemas.export);
    const accounts = await withProsody(() => records().export(hostOf(body.domain), body.usernames));
    return c.json({ accounts });
  });

  app.post('/import', async (c) => {
    const body = parseBody(c.var.rawBody, schemas.import);
    const imported = await withProsody(() => records().import(hostOf(body.domain), body.accounts));
    deps.log?.info({ action: 'backup-import', domain: body.domain, imported }, 'account records imported');
    return c.json({ imported });
  });
  return app;
}
