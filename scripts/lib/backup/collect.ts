/**
 * What one backup holds: meet-auth's database (a consistent online copy through SQLite's backup API, taken while
 * meet-auth keeps writing), every Jitsi host's Prosody accounts of both domains (whole records, fetched through
 * its agent, signed), the certificates, the ACME account, and the local stack's own keys when there is one.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { AgentConfig } from '../../../edge/auth/config.js';
import { exportRecords, hostFiles, listRecords } from '../../../edge/auth/admin/admin-calls.js';
import { databasePath } from '../../../edge/auth/store/db.js';
import { RECORDS_PER_REQUEST, type BackupDomain } from '../../../edge/shared/admin-protocol.js';
import type { Entries } from './archive.js';

export interface CollectOptions {
  readonly dataDir: string;
  readonly agents: readonly AgentConfig[];
  /** @default $MEET_DATA_DIR/certs */
  readonly certsDir?: string;
  readonly progress: (line: string) => void;
}

/** Local-stack keys worth restoring (the agent keys and the service passwords); never the backup key itself. */
const KEY_FILES = ['agent-signing-secret', 'agent-sealing-private-key', 'jicofo-auth-password', 'jvb-auth-password'];

export const ENTRY = {
  database: 'meet-auth.sqlite',
  records: (agent: string, domain: BackupDomain) => `prosody/${agent}/${domain}.json`,
  /** A Jitsi host's own certificate and ACME account, as its agent has them (`certs/cert.crt`, `acme/account.key`…). */
  hostFile: (agent: string, name: string) => `hosts/${agent}/${name}`,
} as const;

async function onlineCopy(dataDir: string): Promise<Buffer> {
  const path = databasePath(dataDir);
  if (!existsSync(path)) throw new Error(`there is no meet-auth database at ${path}`);
  const dir = await mkdtemp(join(tmpdir(), 'meet-backup-'));
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    await db.backup(join(dir, 'copy.sqlite'));
    return await readFile(join(dir, 'copy.sqlite'));
  } finally {
    db.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function addFiles(entries: Entries, dir: string, prefix: string, names?: readonly string[]): Promise<number> {
  const present = await readdir(dir).catch(() => [] as string[]);
  let added = 0;
  for (const name of names ?? present) {
    if (!present.includes(name) || name.includes('.tmp') || name.startsWith('.')) continue;
    entries.set(`${prefix}/${name}`, await readFile(join(dir, name)));
    added++;
  }
  return added;
}

export async function collectBackup(
  options: CollectOptions,
): Promise<{ entries: Entries; summary: Record<string, number | string> }> {
  const { dataDir, progress } = options;
  const entries: Entries = new Map();
  const summary: Record<string, number | string> = {};
  progress('copying the meet-auth database (SQLite online backup)');
  entries.set(ENTRY.database, await onlineCopy(dataDir));
  for (const agent of options.agents) {
    const names = await listRecords(agent);
    for (const domain of ['xmpp', 'auth'] as const) {
      const records: unknown[] = [];
      for (let start = 0; start < names[domain].length; start += RECORDS_PER_REQUEST) {
        records.push(...(await exportRecords(agent, domain, names[domain].slice(start, start + RECORDS_PER_REQUEST))));
      }
      entries.set(ENTRY.records(agent.name, domain), Buffer.from(JSON.stringify(records)));
      summary[`${agent.name}.${domain}Accounts`] = records.length;
    }
    const files = await hostFiles(agent);
    for (const [name, data] of Object.entries(files))
      entries.set(ENTRY.hostFile(agent.name, name), Buffer.from(data, 'base64'));
    summary[`${agent.name}.files`] = Object.keys(files).length;
    progress(
      `${agent.name}: ${names.xmpp.length} account(s), ${names.auth.length} service account(s), ${Object.keys(files).length} certificate/ACME file(s)`,
    );
  }
  summary.certificates = await addFiles(entries, options.certsDir ?? join(dataDir, 'certs'), 'certs', [
    'cert.crt',
    'cert.key',
  ]);
  summary.acme = await addFiles(entries, join(dataDir, 'acme'), 'acme', ['account.key', 'accounts.json']);
  summary.localKeys = await addFiles(entries, join(dataDir, 'keys'), 'keys', KEY_FILES);
  summary.agents = options.agents.map((agent) => agent.name).join(',');
  return { entries, summary };
}
