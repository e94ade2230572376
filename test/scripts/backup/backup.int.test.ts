/**
 * `npm run backup` / `npm run restore` against the real local stack (Prosody 13, agent, meet-auth) and a real
 * S3-compatible server on loopback (s3rver through @aws-sdk/client-s3). A restore into a brand-new data directory
 * is proven by XMPP logins with the old passwords, the tickets' states and the audit trail; bad archives are
 * refused without changing a byte.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../edge/auth/store/db.js';
import { addTicketmaster, ticketmasterIdOf } from '../../../edge/auth/store/ticketmasters.js';
import { mintTicket, revokeTicket } from '../../../edge/auth/store/tickets.js';
import { runBackupCli, runRestoreCli } from '../../../scripts/lib/backup/cli.js';
import { retained } from '../../../scripts/lib/backup/store.js';
import { readLocalKeys } from '../../../scripts/lib/local-keys.js';
import { localAuthEnv, startLocalStack, type LocalStack } from '../../../scripts/lib/local-stack.js';
import { capture, hashTree } from '../../support/admin-cli.js';
import { startNodeService } from '../../support/node-service.js';
import { freePort } from '../../support/ports.js';
import { startS3, type TestS3 } from '../../support/s3.js';
import { xmppLogin } from '../../support/xmpp.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
let source: string;
let outDir: string;
let stack: LocalStack;
let s3: TestS3;
let env: Record<string, string>;
const users = [
  { username: 'ada', password: 'she has a long password' },
  { username: 'bob', password: 'his: quotes \' " and spaces' },
  { username: 'cleo', password: 'Ünïcödé пароль 密码 ok' },
];
let archivePath: string;

const snapshot = (dataDir: string) => {
  const db = openDatabase(dataDir);
  try {
    return {
      tickets: db
        .prepare('SELECT selector, uses, uses_allowed, revoked_at, expires_at FROM tickets ORDER BY selector')
        .all(),
      ticketmasters: db.prepare('SELECT id, name, secret_hash, revoked_at FROM ticketmasters ORDER BY id').all(),
      usernames: db.prepare('SELECT username FROM usernames ORDER BY username').all(),
      audit: db
        .prepare(
          "SELECT at, event, ticketmaster, ticket_selector, username, detail FROM audit WHERE event <> 'backup-restored' ORDER BY id",
        )
        .all(),
    };
  } finally {
    db.close();
  }
};

beforeAll(async () => {
  source = await mkdtemp(join(tmpdir(), 'meet-backup-src-'));
  outDir = await mkdtemp(join(tmpdir(), 'meet-backup-out-'));
  s3 = await startS3(['meet-backups']);
  const agentPort = await freePort();
  stack = await startLocalStack({
    dataDir: source,
    authPort: await freePort(),
    agentPort,
    prosodyPort: await freePort(),
    logLevel: 'silent',
  });
  env = { MEET_DATA_DIR: source, MEET_AGENT_PORT: String(agentPort), MEET_ADMIN: 'backup-test', ...s3.env };
  const db = openDatabase(source);
  const token = await addTicketmaster(db, 'Keeper', 4);
  const issuer = { id: ticketmasterIdOf(token)!, name: 'Keeper' };
  const origin = new URL(stack.authUrl).origin;
  for (const user of users) {
    const response = await fetch(`${stack.authUrl}/create`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', origin },
      body: new URLSearchParams({ user: user.username, password: user.password, token: mintTicket(db, issuer).ticket }),
    });
    const answer = (await response.json()) as { status: string };
    expect(answer.status, JSON.stringify(answer)).toBe('created');
  }
  mintTicket(db, issuer); // unused
  await mkdir(join(source, 'certs'), { recursive: true });
  await mkdir(join(source, 'acme'), { recursive: true });
  for (const [name, mode] of [
    ['certs/cert.crt', 0o644],
    ['certs/cert.key', 0o600],
    ['acme/account.key', 0o600],
    ['acme/accounts.json', 0o600],
  ] as const) {
    await writeFile(join(source, name), `contents of ${name}\n`, { mode });
  }
  revokeTicket(db, mintTicket(db, issuer).ticket.split('.')[0]!); // revoked
  db.close();
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await s3?.stop();
  for (const dir of [source, outDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

describe('npm run backup', () => {
  it('--out DIR writes one encrypted archive and prints its path alone on the last stdout line', async () => {
    const result = await capture((io) => runBackupCli(['--out', outDir], io), env);
    expect(result.code, result.err.join('\n')).toBe(0);
    archivePath = result.out.at(-1)!;
    expect(archivePath.startsWith(outDir)).toBe(true);
    const bytes = await readFile(archivePath);
    // Nothing readable inside: no name, no password, no SQLite header.
    for (const needle of ['SQLite format 3', 'stored_key', 'Keeper', 'cleo'])
      expect(bytes.includes(Buffer.from(needle))).toBe(false);
    const key = await readFile(join(source, 'keys', 'backup.key'), 'utf8');
    expect(key.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.err.join('\n')).toMatch(/local: 3 account\(s\), 2 service account\(s\)/);
  });

  it('--to s3://bucket/prefix uploads to a real S3 server; list shows it', async () => {
    const result = await capture((io) => runBackupCli(['--to', 's3://meet-backups/daily'], io), env);
    expect(result.code, result.err.join('\n')).toBe(0);
    const url = result.out.at(-1)!;
    expect(url).toMatch(/^s3:\/\/meet-backups\/daily\/meet-local-\d{8}T\d{6}Z-\d{3}\.meetbak$/);
    const listed = await capture((io) => runBackupCli(['list', '--to', 's3://meet-backups/daily'], io), env);
    expect(listed.out).toEqual([url]);
  });

  it('bad usage exits 2', async () => {
    expect((await capture((io) => runBackupCli([], io), env)).code).toBe(2);
    expect((await capture((io) => runBackupCli(['--to', 'http://nope'], io), env)).code).toBe(2);
    expect((await capture((io) => runBackupCli(['--help'], io), env)).code).toBe(0);
  });
});

describe('npm run restore', () => {
  it('refuses while the local stack runs on the data directory, changing nothing', async () => {
    const before = await hashTree(join(source, 'keys'));
    const result = await capture((io) => runRestoreCli([archivePath], io), env);
    expect(result.code).toBe(1);
    expect(result.err.join('\n')).toMatch(/a local stack is running .* stop it/);
    expect(await hashTree(join(source, 'keys'))).toEqual(before);
  });

  it('refuses tampered, truncated, other-environment and wrong-key archives with a clear error, changing nothing', async () => {
    const target = await mkdtemp(join(tmpdir(), 'meet-restore-bad-'));
    try {
      const keyFile = join(target, 'backup.key');
      await copyFile(join(source, 'keys', 'backup.key'), keyFile);
      const good = await readFile(archivePath);
      const tampered = Buffer.from(good);
      tampered[tampered.length - 10]! ^= 1;
      const cases: Array<[string, Buffer, Record<string, string>, RegExp]> = [
        ['tampered', tampered, {}, /tampered/],
        ['truncated', good.subarray(0, 40), {}, /corrupt/],
        ['not an archive', Buffer.from('hello world, not a backup'), {}, /not a Wikimedia Meet backup/],
        ['other environment', good, { MEET_ENVIRONMENT: 'staging' }, /from the environment "local", not "staging"/],
      ];
      const before = await hashTree(target);
      for (const [what, bytes, extra, message] of cases) {
        const file = join(tmpdir(), `meet-bad-${process.pid}.meetbak`);
        await writeFile(file, bytes);
        const result = await capture((io) => runRestoreCli([file], io), {
          MEET_DATA_DIR: join(target, 'data'),
          MEET_BACKUP_KEY_FILE: keyFile,
          ...extra,
        });
        await rm(file);
        expect(result.code, what).toBe(1);
        expect(result.err.join('\n'), what).toMatch(message);
      }
      await writeFile(keyFile, `${Buffer.alloc(32, 9).toString('base64url')}\n`, { mode: 0o600 });
      const wrongKey = await capture((io) => runRestoreCli([archivePath], io), {
        MEET_DATA_DIR: join(target, 'data'),
        MEET_BACKUP_KEY_FILE: keyFile,
      });
      expect(wrongKey.code).toBe(1);
      expect(wrongKey.err.join('\n')).toMatch(/wrong backup key/);
      const after = await hashTree(target);
      delete after['/backup.key'];
      delete before['/backup.key'];
      expect(after).toEqual(before);
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });

  it('rebuilds a brand-new data directory: every account logs in with its old password, tickets and audit as they were', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'meet-restore-new-'));
    const keyFile = join(tmpdir(), `meet-restore-key-${process.pid}`);
    await copyFile(join(source, 'keys', 'backup.key'), keyFile);
    const jicofo = (await readFile(join(source, 'keys', 'jicofo-auth-password'), 'utf8')).trim();
    const expected = snapshot(source);
    let restored: LocalStack | undefined;
    try {
      const dataDir = join(fresh, 'data');
      // From object storage, to prove that path too.
      const [url] = (await capture((io) => runBackupCli(['list', '--to', 's3://meet-backups/daily'], io), env)).out;
      const result = await capture((io) => runRestoreCli([url!], io), {
        MEET_DATA_DIR: dataDir,
        MEET_BACKUP_KEY_FILE: keyFile,
        MEET_ADMIN: 'restorer',
        ...s3.env,
      });
      expect(result.code, result.err.join('\n')).toBe(0);
      expect(snapshot(dataDir)).toEqual(expected);
      restored = await startLocalStack({
        dataDir,
        authPort: await freePort(),
        agentPort: await freePort(),
        prosodyPort: await freePort(),
        logLevel: 'silent',
      });
      for (const user of users)
        expect(await xmppLogin({ port: restored.prosody.c2sPort, ...user }), user.username).toBe(true);
      expect(
        await xmppLogin({ port: restored.prosody.c2sPort, username: 'ada', password: 'not her password at all' }),
      ).toBe(false);
      expect(
        await xmppLogin({
          port: restored.prosody.c2sPort,
          username: 'focus',
          password: jicofo,
          domain: 'auth.meet.jitsi',
          mechanism: 'PLAIN',
        }),
      ).toBe(true);
      const { stat } = await import('node:fs/promises');
      for (const [name, mode] of [
        ['certs/cert.crt', 0o644],
        ['certs/cert.key', 0o600],
        ['acme/account.key', 0o600],
        ['acme/accounts.json', 0o600],
      ] as const) {
        expect(await readFile(join(dataDir, name), 'utf8')).toBe(`contents of ${name}\n`);
        expect((await stat(join(dataDir, name))).mode & 0o777, name).toBe(mode);
      }
      const db = openDatabase(dataDir);
      expect(db.prepare("SELECT detail FROM audit WHERE event = 'backup-restored'").all()).toEqual([
        { detail: expect.stringContaining('restored by restorer') },
      ]);
      db.close();
    } finally {
      await restored?.close();
      await rm(fresh, { recursive: true, force: true });
      await rm(keyFile, { force: true });
    }
  });
});

describe('restore beside a running meet-auth (production: a one-off container next to meet-edge)', () => {
  it('refuses while a real meet-auth serves from the data directory, changing nothing; restores once it has stopped', async () => {
    const target = await mkdtemp(join(tmpdir(), 'meet-restore-live-'));
    const children: ChildProcess[] = [];
    try {
      const dataDir = join(target, 'data');
      const keyFile = join(target, 'backup.key');
      await copyFile(join(source, 'keys', 'backup.key'), keyFile);
      // What the directory held before: a ticketmaster of its own and an old certificate.
      const db = openDatabase(dataDir);
      await addTicketmaster(db, 'Before', 4);
      db.close();
      await mkdir(join(dataDir, 'certs'), { recursive: true });
      await writeFile(join(dataDir, 'certs', 'cert.crt'), 'the old certificate\n');
      // meet-auth as meet-edge runs it (its own process, its agents from MEET_AGENTS): here the source stack's agent.
      const authEnv = localAuthEnv({
        dataDir,
        keys: await readLocalKeys(source),
        port: await freePort(),
        agentUrl: stack.agentUrl,
      });
      const start = () =>
        startNodeService(['--import', 'tsx', 'edge/auth/main.ts'], {
          cwd: ROOT,
          env: { ...authEnv, MEET_LOG_LEVEL: 'silent', MEET_WATCHDOG_SECONDS: '0' },
          children,
        });
      const url = await start();
      const restoreEnv = {
        MEET_DATA_DIR: dataDir,
        MEET_BACKUP_KEY_FILE: keyFile,
        MEET_AGENTS: authEnv.MEET_AGENTS!,
        MEET_AGENT_SIGNING_SECRETS: authEnv.MEET_AGENT_SIGNING_SECRETS!,
        MEET_ADMIN: 'restorer',
      };
      // meet-auth writes its own databases as it runs; everything else must stay as it is, byte for byte.
      const files = async () =>
        Object.fromEntries(
          Object.entries(await hashTree(dataDir)).filter(([name]) => !/^\/(meet-auth|rate-limits)\.sqlite/.test(name)),
        );
      const before = { files: await files(), db: snapshot(dataDir) };
      const refused = await capture((io) => runRestoreCli([archivePath], io), restoreEnv);
      expect(refused.code).toBe(1);
      expect(refused.err.join('\n')).toContain(
        `meet-auth is running on ${dataDir}, or another restore is (it holds ${join(dataDir, 'meet-auth.lock')}): stop meet-auth (production: docker stop meet-edge; locally: Ctrl-C), restore, then start it again; nothing was changed`,
      );
      expect({ files: await files(), db: snapshot(dataDir) }).toEqual(before);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);

      // Stopped as docker stop does (SIGTERM): the same restore goes through.
      const [running] = children;
      running!.kill('SIGTERM');
      await once(running!, 'exit');
      const restored = await capture((io) => runRestoreCli([archivePath], io), restoreEnv);
      expect(restored.code, restored.err.join('\n')).toBe(0);
      const after = snapshot(dataDir);
      expect(after.ticketmasters).toEqual(snapshot(source).ticketmasters);
      expect(after.tickets).toEqual(snapshot(source).tickets);
      expect(await readFile(join(dataDir, 'certs', 'cert.crt'), 'utf8')).toBe('contents of certs/cert.crt\n');
      // And meet-auth starts again on the restored directory.
      expect((await fetch(`${await start()}/healthz`)).status).toBe(200);
    } finally {
      for (const child of children) child.kill('SIGKILL');
      await Promise.all(
        children
          .filter((child) => child.exitCode === null && child.signalCode === null)
          .map((child) => once(child, 'exit')),
      );
      await rm(target, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("the agent's file routes", () => {
  it('read and write only the certificate and the ACME account, nothing else', async () => {
    const { adminAgents } = await import('../../../scripts/lib/admin-agents.js');
    const { hostFiles, restoreHostFiles } = await import('../../../edge/auth/admin/admin-calls.js');
    const [agent] = await adminAgents(env, source);
    expect(Object.keys(await hostFiles(agent!)).sort()).toEqual([
      'acme/account.key',
      'acme/accounts.json',
      'certs/cert.crt',
      'certs/cert.key',
    ]);
    for (const name of ['../../etc/evil', 'keys/agent-signing-secret', 'certs/other.pem']) {
      await expect(restoreHostFiles(agent!, { [name]: 'AAAA' })).rejects.toThrow(/HTTP 400/);
    }
  });
});

describe('retention', () => {
  it('keeps the newest archive of each of the last 7 days and 4 ISO weeks', () => {
    const names: string[] = [];
    for (let day = 0; day < 40; day++) {
      for (const hour of ['01', '13']) {
        const date = new Date(Date.UTC(2026, 10, 30) - day * 86_400_000);
        names.push(`meet-local-${date.toISOString().slice(0, 10).replaceAll('-', '')}T${hour}0000Z-000.meetbak`);
      }
    }
    const keep = [...retained(names, 7, 4)].sort();
    // Days 2026-11-24..30 at 13:00; the 4 newest ISO weeks are those of Mon 11-30, Sun 11-29 (both kept already),
    // Sun 11-22 and Sun 11-15.
    expect(keep).toEqual(
      ['20261115', '20261122', '20261124', '20261125', '20261126', '20261127', '20261128', '20261129', '20261130'].map(
        (day) => `meet-local-${day}T130000Z-000.meetbak`,
      ),
    );
  });
});
