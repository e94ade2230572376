/**
 * `POST /backup/{list,export,import}` (edge/shared/admin-protocol.ts): whole account records of the agent's two
 * domains (users' and auth), for `npm run backup` and `npm run restore`. Signed and accepted once, like every
 * admin route; records hold SCRAM keys, never plaintext, and are never logged.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Hono } from 'hono';
import { writeFileAtomically } from '../../shared/atomic-file.js';
import { z } from 'zod';
import { RECORDS_PER_REQUEST, type BackupDomain } from '../../shared/admin-protocol.js';
import { accountRecord, type AccountRecords } from '../prosody/account-records.js';
import { AgentError } from '../errors.js';
import type { Inbox } from '../inbox.js';
import { onlyOnce } from '../middleware/only-once.js';
import { signedBody } from '../middleware/signed-body.js';
import { signedRequest } from '../middleware/signed-request.js';
import { withProsody } from './with-prosody.js';

export interface BackupRoutesDeps {
  readonly inbox: Inbox;
  readonly records?: AccountRecords;
  readonly xmppDomain: string;
  readonly authDomain: string;
  /** Where the host's certificate and ACME account are (absent: the files routes answer unavailable). */
  readonly certsDir?: string;
  readonly acmeDir?: string;
  readonly signingKeys: readonly Buffer[];
  readonly now?: () => Date;
  readonly log?: { info(fields: object, message: string): void };
}

const domain = z.enum(['xmpp', 'auth']);
/** The only files the backup routes read or write, with their modes. */
const HOST_FILES = {
  'certs/cert.crt': 0o644,
  'certs/cert.key': 0o600,
  'acme/account.key': 0o600,
  'acme/accounts.json': 0o600,
} as const;
type HostFile = keyof typeof HOST_FILES;
const hostFile = z.enum(Object.keys(HOST_FILES) as [HostFile, ...HostFile[]]);
const schemas = {
  list: z.strictObject({}),
  export: z.strictObject({ domain, usernames: z.array(z.string().min(1).max(1023)).max(RECORDS_PER_REQUEST) }),
  import: z.strictObject({ domain, accounts: z.array(accountRecord).max(RECORDS_PER_REQUEST) }),
  restoreFiles: z.strictObject({ files: z.partialRecord(hostFile, z.string().regex(/^[A-Za-z0-9+/=]{0,40000}$/)) }),
};

export function backupRoutes(deps: BackupRoutesDeps) {
  const app = new Hono();
  app.use('*', signedRequest(deps.signingKeys, deps.now), onlyOnce(deps.inbox));
  const hostOf = (which: BackupDomain) => (which === 'xmpp' ? deps.xmppDomain : deps.authDomain);
  const records = () => {
    if (!deps.records)
      throw new AgentError(
        'unavailable',
        'account records need the admin socket (MEET_PROSODY_MODE=socket, Prosody 13)',
      );
    return deps.records;
  };

  app.post('/list', signedBody(schemas.list), async (c) => {
    const store = records();
    const [xmpp, auth] = await withProsody(() =>
      Promise.all([store.list(deps.xmppDomain), store.list(deps.authDomain)]),
    );
    return c.json({ domains: { xmpp, auth } });
  });

  app.post('/export', signedBody(schemas.export), async (c) => {
    const body = c.var.body;
    const accounts = await withProsody(() => records().export(hostOf(body.domain), body.usernames));
    return c.json({ accounts });
  });

  const pathOf = (name: HostFile) => {
    if (!deps.certsDir || !deps.acmeDir)
      throw new AgentError('unavailable', 'this agent does not know where the certificate and ACME account are');
    const [dir, file] = name.split('/') as ['certs' | 'acme', string];
    return join(dir === 'certs' ? deps.certsDir : deps.acmeDir, file);
  };

  /** The host's certificate and ACME account, base64, those that exist. */
  app.post('/files', signedBody(schemas.list), async (c) => {
    const files: Partial<Record<HostFile, string>> = {};
    for (const name of Object.keys(HOST_FILES) as HostFile[]) {
      const data = await readFile(pathOf(name)).catch(() => null);
      if (data) files[name] = data.toString('base64');
    }
    return c.json({ files });
  });

  app.post('/restore-files', signedBody(schemas.restoreFiles), async (c) => {
    const body = c.var.body;
    const names = Object.keys(body.files) as HostFile[];
    for (const name of names)
      await writeFileAtomically(pathOf(name), Buffer.from(body.files[name]!, 'base64'), HOST_FILES[name]);
    deps.log?.info({ action: 'backup-restore-files', files: names }, 'host files restored');
    return c.json({ restored: names.length });
  });

  app.post('/import', signedBody(schemas.import), async (c) => {
    const body = c.var.body;
    const imported = await withProsody(() => records().import(hostOf(body.domain), body.accounts));
    deps.log?.info({ action: 'backup-import', domain: body.domain, imported }, 'account records imported');
    return c.json({ imported });
  });
  return app;
}
