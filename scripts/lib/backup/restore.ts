/**
 * `npm run restore -- ARCHIVE`: rebuilds the stack of MEET_DATA_DIR (a brand-new one too) from an archive. Every
 * check comes first (format, environment, key, authentication, the database's integrity, every account record), so
 * a bad archive changes nothing. It refuses to restore under a running meet-auth (the local stack's or production's
 * meet-edge: each holds $MEET_DATA_DIR/meet-auth.lock while it runs) or a running local stack: stop it first, the
 * database and Prosody's storage must not change under running services. What was there before is moved, not deleted,
 * into `pre-restore-<time>/`. Accounts are written back through the agent (signed /backup/import): for the local
 * stack a temporary one is started on free ports and stopped again.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { accountRecord, type AccountRecord } from '../../../edge/agent/prosody/account-records.js';
import type { AgentConfig } from '../../../edge/auth/config.js';
import { importRecords, restoreHostFiles } from '../../../edge/auth/admin/admin-calls.js';
import { audit } from '../../../edge/auth/store/audit.js';
import { DB_FILE, openDatabase } from '../../../edge/auth/store/db.js';
import { MIGRATIONS } from '../../../edge/auth/store/migrations.js';
import { takeDataDir, type HeldLock } from '../../../edge/auth/store/serving-lock.js';
import { RECORDS_PER_REQUEST } from '../../../edge/shared/admin-protocol.js';
import { freePort } from '../free-port.js';
import { runningStackPid } from '../local-secrets.js';
import { startLocalStack } from '../local-stack.js';
import { ArchiveError, openArchive, type ArchiveHeader, type Entries } from './archive.js';
import { ENTRY } from './collect.js';

export interface RestoreOptions {
  readonly archive: Buffer;
  readonly archiveName: string;
  readonly key: Buffer;
  readonly environment: string;
  readonly dataDir: string;
  /** Agents to import into (production: meet-auth's MEET_AGENTS); absent: the local stack of dataDir. */
  readonly agents?: readonly AgentConfig[];
  readonly certsDir?: string;
  readonly who: string;
  readonly progress: (line: string) => void;
}

async function checkDatabase(bytes: Buffer): Promise<void> {
  if (!bytes.subarray(0, 16).equals(Buffer.from('SQLite format 3\0')))
    throw new ArchiveError("the archive's database is not an SQLite database");
  const dir = await mkdtemp(join(tmpdir(), 'meet-restore-check-'));
  try {
    await writeFile(join(dir, 'check.sqlite'), bytes);
    const db = new Database(join(dir, 'check.sqlite'), { readonly: true });
    try {
      const result = db.pragma('integrity_check', { simple: true });
      if (result !== 'ok')
        throw new ArchiveError(`the archive's database fails its integrity check (${String(result)})`);
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > MIGRATIONS.length)
        throw new ArchiveError(
          `the archive's database (schema ${version}) is newer than this meet-auth (${MIGRATIONS.length})`,
        );
    } finally {
      db.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const recordList = z.array(accountRecord);

export async function restoreArchive(options: RestoreOptions): Promise<{ header: ArchiveHeader; accounts: number }> {
  const { dataDir } = options;
  // 1. Everything is checked before anything changes.
  const { header, entries } = openArchive(options.archive, options.key, options.environment);
  const database = entries.get(ENTRY.database);
  if (!database) throw new ArchiveError('the archive holds no meet-auth database');
  await checkDatabase(database);
  const records = new Map<string, { xmpp: AccountRecord[]; auth: AccountRecord[] }>();
  const hostFiles = new Map<string, Record<string, string>>();
  for (const [name, data] of entries) {
    const file = /^hosts\/([^/]+)\/((?:certs|acme)\/[^/]+)$/.exec(name);
    if (!file) continue;
    const files = hostFiles.get(file[1]!) ?? {};
    files[file[2]!] = data.toString('base64');
    hostFiles.set(file[1]!, files);
  }
  for (const name of entries.keys()) {
    const match = /^prosody\/([^/]+)\/(xmpp|auth)\.json$/.exec(name);
    if (!match) continue;
    const parsed = recordList.safeParse(JSON.parse(entries.get(name)!.toString('utf8')));
    if (!parsed.success) throw new ArchiveError(`the archive's ${name} holds an invalid account record`);
    const agent = records.get(match[1]!) ?? { xmpp: [], auth: [] };
    agent[match[2] as 'xmpp' | 'auth'] = parsed.data;
    records.set(match[1]!, agent);
  }
  const local = options.agents === undefined;
  const targetNames = local ? ['local'] : options.agents!.map((agent) => agent.name);
  const missing = [...new Set([...records.keys(), ...hostFiles.keys()])].filter((name) => !targetNames.includes(name));
  if (missing.length > 0)
    throw new ArchiveError(
      `the archive holds accounts of agent(s) ${missing.join(', ')}, which this stack does not have (${targetNames.join(', ')}); nothing was changed`,
    );
  if (local) {
    const pid = runningStackPid(dataDir);
    if (pid !== null)
      throw new Error(
        `a local stack is running on ${dataDir} (pid ${pid}): stop it (Ctrl-C) and run the restore again; nothing was changed`,
      );
  }
  // Any meet-auth serving from dataDir (the local stack's, or meet-edge seen from a one-off container) holds its
  // lock: refused, nothing changed. Held from here on, so none starts while the files are replaced.
  let dirLock: HeldLock | undefined = takeDataDir(dataDir);
  try {
    return await replaceAndImport(options, {
      header,
      entries,
      records,
      hostFiles,
      local,
      releaseDir: () => {
        dirLock?.release();
        dirLock = undefined;
      },
    });
  } finally {
    dirLock?.release();
  }
}

interface Checked {
  readonly header: ArchiveHeader;
  readonly entries: Entries;
  readonly records: Map<string, { xmpp: AccountRecord[]; auth: AccountRecord[] }>;
  readonly hostFiles: Map<string, Record<string, string>>;
  readonly local: boolean;
  /** Gives the data directory back (before the local stack's own meet-auth starts on it). */
  readonly releaseDir: () => void;
}

async function replaceAndImport(
  options: RestoreOptions,
  { header, entries, records, hostFiles, local, releaseDir }: Checked,
): Promise<{ header: ArchiveHeader; accounts: number }> {
  const { dataDir, progress } = options;
  // 2. Move what is there aside, then write the archive's files.
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const aside = join(dataDir, `pre-restore-${new Date().toISOString().replace(/[-:.]/g, '')}`);
  const moveAside = async (name: string) => {
    if (!existsSync(join(dataDir, name))) return;
    await mkdir(aside, { recursive: true, mode: 0o700 });
    await rename(join(dataDir, name), join(aside, name.replaceAll('/', '_')));
  };
  for (const name of [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, ...(local ? ['prosody'] : [])])
    await moveAside(name);
  for (const [name, data] of entries) {
    const target =
      name === ENTRY.database
        ? join(dataDir, DB_FILE)
        : name.startsWith('certs/') && options.certsDir
          ? join(options.certsDir, name.slice('certs/'.length))
          : /^(certs|acme|keys)\/[^/]+$/.test(name)
            ? join(dataDir, name)
            : null;
    if (target === null) continue;
    if (existsSync(target) && name !== ENTRY.database) await moveAside(name);
    await mkdir(join(target, '..'), { recursive: true, mode: 0o700 });
    const mode = name === 'certs/cert.crt' ? 0o644 : 0o600;
    await writeFile(target, data, { mode });
    await chmod(target, mode);
  }
  progress(
    `restored the database and ${[...entries.keys()].filter((name) => name !== ENTRY.database && !name.startsWith('prosody/')).length} file(s)${existsSync(aside) ? `; what was there is in ${aside}` : ''}`,
  );

  // 3. Accounts, through the agents.
  let accounts = 0;
  const importInto = async (agents: readonly AgentConfig[]) => {
    for (const agent of agents) {
      const mine = records.get(agent.name);
      if (!mine) continue;
      for (const domain of ['xmpp', 'auth'] as const) {
        for (let start = 0; start < mine[domain].length; start += RECORDS_PER_REQUEST) {
          accounts += await importRecords(agent, domain, mine[domain].slice(start, start + RECORDS_PER_REQUEST));
        }
      }
      const files = hostFiles.get(agent.name);
      if (files) await restoreHostFiles(agent, files);
      progress(
        `${agent.name}: ${mine.xmpp.length} account(s), ${mine.auth.length} service account(s) and ${Object.keys(files ?? {}).length} certificate/ACME file(s) restored`,
      );
    }
  };
  if (local) {
    progress('starting the local stack of this data directory for the accounts (it stops again afterwards)');
    releaseDir();
    const stack = await startLocalStack({
      dataDir,
      authPort: await freePort(),
      agentPort: await freePort(),
      prosodyPort: await freePort(),
      logLevel: 'silent',
    });
    try {
      const { adminAgents } = await import('../admin-agents.js');
      await importInto(await adminAgents({ MEET_AGENT_PORT: new URL(stack.agentUrl).port }, dataDir));
    } finally {
      await stack.close();
    }
  } else {
    await importInto(options.agents!);
  }
  const db = openDatabase(dataDir);
  try {
    audit(db, {
      at: Date.now(),
      event: 'backup-restored',
      detail: `${options.archiveName} (made ${header.createdAt}) restored by ${options.who}`,
    });
  } finally {
    db.close();
  }
  return { header, accounts };
}
