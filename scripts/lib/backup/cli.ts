/** `npm run backup` and `npm run restore` (see their usage texts): argument handling over collect/store/restore. */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ConfigError } from '../../../edge/auth/config.js';
import { loadAuthConfig } from '../../../edge/auth/config.js';
import { parseCliArgs, runCli, UsageError, type CliIo } from '../../../edge/shared/cli.js';
import { adminAgents } from '../admin-agents.js';
import { actor } from '../rotate/plan.js';
import { readHeader, sealArchive } from './archive.js';
import { collectBackup } from './collect.js';
import { backupKeyOf } from './key.js';
import { restoreArchive } from './restore.js';
import { archiveName, directoryStore, parseS3Url, retained, s3Client, s3Store, type ArchiveStore } from './store.js';
import { DEFAULTS, ENVIRONMENT_NAME, isBlank } from '../../../common/config.js';

const ENVIRONMENT_HELP = `environment:
  MEET_DATA_DIR          meet-auth's state (default .meet)
  MEET_ENVIRONMENT       the environment archives are bound to (default local); an archive opens only there
  MEET_BACKUP_KEY_FILE   the backup key (default $MEET_DATA_DIR/keys/backup.key, 0600; the first backup makes it)
  MEET_BACKUP_KEY        the key itself instead (production: meet-edge's environment, from TF_VAR_backup_key)
  MEET_AGENTS, MEET_AGENT_SIGNING_SECRETS   the agents as meet-auth has them; default: the local stack's
                         agent on 127.0.0.1:MEET_AGENT_PORT (4000)
  MEET_CERTS_DIR         the certificates (default $MEET_DATA_DIR/certs)
  MEET_S3_ENDPOINT, MEET_S3_REGION (us-east-1), MEET_S3_FORCE_PATH_STYLE (1)   object storage; credentials
                         from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
  MEET_BACKUP_KEEP_DAILY (7), MEET_BACKUP_KEEP_WEEKLY (4)   retention after each backup`;

const BACKUP_USAGE = `usage: npm run backup -- --out DIR | --to s3://bucket/prefix
       npm run backup -- list --out DIR | --to s3://bucket/prefix [--json]

Writes one archive: meet-auth's database (SQLite online backup), every Jitsi server's Prosody accounts (whole
records of users and service accounts, fetched through its agent), the certificates, the ACME account and the
local stack's keys, encrypted and authenticated (AES-256-GCM) with the backup key before it leaves this process.
Prints the archive's path or URL alone on the last line of stdout; progress on stderr. Afterwards keeps the
newest archive of each of the last 7 days and 4 weeks there and deletes the others.

${ENVIRONMENT_HELP}

exit status: 0 done, 1 failed, 2 bad usage.`;

const RESTORE_USAGE = `usage: npm run restore -- ARCHIVE      (a file, or s3://bucket/prefix/name)

Rebuilds the stack of MEET_DATA_DIR (a new, empty one too): meet-auth's database (tickets used, unused, revoked
as they were; the audit trail), the keys, certificates and ACME account, and every account in each Jitsi
server's Prosody with its old password. Refuses, changing nothing, an archive that is corrupt, tampered with,
from another environment or made with another key. Refuses to run while meet-auth serves from that data
directory (every meet-auth holds $MEET_DATA_DIR/meet-auth.lock while it runs, meet-edge too when the restore runs
in a one-off container beside it) or the local stack runs there: stop it, restore, start it again. What was
there before is moved into pre-restore-<time>/.

${ENVIRONMENT_HELP}

exit status: 0 done, 1 failed or refused, 2 bad usage.`;

const environmentOf = (io: CliIo) => {
  const name = io.env.MEET_ENVIRONMENT || 'local';
  if (!ENVIRONMENT_NAME.test(name))
    throw new UsageError(`MEET_ENVIRONMENT "${name}" must be lower-case letters, digits and dashes`);
  return name;
};

function count(io: CliIo, name: string, fallback: number): number {
  const raw = io.env[name];
  if (isBlank(raw)) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 1000)
    throw new UsageError(`${name} must be a whole number from 1 to 1000 (got "${raw}")`);
  return value;
}

function storeOf(io: CliIo, out: string | undefined, to: string | undefined): ArchiveStore {
  if ((out === undefined) === (to === undefined))
    throw new UsageError('give exactly one of --out DIR or --to s3://bucket/prefix');
  if (out !== undefined) return directoryStore(out);
  try {
    parseS3Url(to!);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return s3Store(to!, s3Client(io.env));
}

async function agentsOf(io: CliIo, dataDir: string) {
  try {
    return await adminAgents(io.env, dataDir);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

export function runBackupCli(args: readonly string[], io: CliIo): Promise<number> {
  return runCli(io, 'backup', BACKUP_USAGE, async () => {
    const { values: argv, positionals } = parseCliArgs(args, {
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
      out: { type: 'string' },
      to: { type: 'string' },
    });
    if (argv.help) return io.out(BACKUP_USAGE);
    const [command, ...rest] = positionals;
    if (rest.length > 0 || (command !== undefined && command !== 'list'))
      throw new UsageError(`unexpected argument "${rest[0] ?? command}"`);
    const environment = environmentOf(io);
    const store = storeOf(io, argv.out, argv.to);
    if (command === 'list') {
      const names = await store.list();
      if (argv.json) return io.out(JSON.stringify(names.map((name) => ({ name, where: store.where(name) }))));
      if (names.length === 0) io.err('no archives there');
      for (const name of names) io.out(store.where(name));
      return;
    }
    const daily = count(io, 'MEET_BACKUP_KEEP_DAILY', 7);
    const weekly = count(io, 'MEET_BACKUP_KEEP_WEEKLY', 4);
    const dataDir = io.env.MEET_DATA_DIR || DEFAULTS.dataDir;
    const agents = await agentsOf(io, dataDir);
    const key = await backupKeyOf(io.env, true);
    const started = Date.now();
    const { entries, summary } = await collectBackup({
      dataDir,
      agents,
      ...(io.env.MEET_CERTS_DIR ? { certsDir: io.env.MEET_CERTS_DIR } : {}),
      progress: io.err,
    });
    const now = new Date();
    const archive = sealArchive(entries, key, environment, summary, now);
    const name = archiveName(environment, now);
    await store.put(name, archive);
    io.err(`archive of ${archive.length} bytes written in ${Date.now() - started} ms`);
    const all = await store.list();
    const keep = retained(all, daily, weekly);
    for (const old of all.filter((candidate) => !keep.has(candidate) && candidate !== name)) {
      await store.remove(old);
      io.err(`retention: removed ${store.where(old)}`);
    }
    io.out(store.where(name));
  });
}

export function runRestoreCli(args: readonly string[], io: CliIo): Promise<number> {
  return runCli(io, 'restore', RESTORE_USAGE, async () => {
    const { values: argv, positionals } = parseCliArgs(args, { help: { type: 'boolean', short: 'h' } });
    if (argv.help) return io.out(RESTORE_USAGE);
    const [source, ...rest] = positionals;
    if (!source) throw new UsageError('which archive?');
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
    const environment = environmentOf(io);
    let archive: Buffer;
    if (source.startsWith('s3://')) {
      const slash = source.lastIndexOf('/');
      archive = await s3Store(source.slice(0, slash), s3Client(io.env)).get(source.slice(slash + 1));
    } else {
      archive = await readFile(source).catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read ${source} (${error.code ?? error.message})`);
      });
    }
    readHeader(archive);
    const key = await backupKeyOf(io.env, false);
    const dataDir = io.env.MEET_DATA_DIR || DEFAULTS.dataDir;
    let agents;
    try {
      agents = io.env.MEET_AGENTS ? loadAuthConfig(io.env).agents : undefined;
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(error.message);
      throw error;
    }
    const started = Date.now();
    const result = await restoreArchive({
      archive,
      archiveName: basename(source),
      key,
      environment,
      dataDir,
      who: actor(io.env),
      progress: io.err,
      ...(agents ? { agents } : {}),
      ...(io.env.MEET_CERTS_DIR ? { certsDir: io.env.MEET_CERTS_DIR } : {}),
    });
    io.err(
      `restored ${result.accounts} account record(s) from the backup of ${result.header.createdAt} in ${Date.now() - started} ms`,
    );
  });
}
