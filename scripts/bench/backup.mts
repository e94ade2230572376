/**
 * `npm run bench -- backup`: backup and restore of 10,000 accounts (MEET_BENCH_BACKUP_ACCOUNTS) on the real local
 * stack. What each figure means: docs/development.md#bench-backup.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scramCredentials } from '../../edge/agent/prosody/scram.js';
import { importRecords } from '../../edge/auth/admin/admin-calls.js';
import { openDatabase } from '../../edge/auth/store/db.js';
import { addTicketmaster, ticketmasterIdOf } from '../../edge/auth/store/ticketmasters.js';
import { mintTicket } from '../../edge/auth/store/tickets.js';
import { RECORDS_PER_REQUEST } from '../../edge/shared/admin-protocol.js';
import { adminAgents } from '../lib/admin-agents.js';
import { runBackupCli, runRestoreCli } from '../lib/backup/cli.js';
import { freePort } from '../lib/free-port.js';
import { startLocalStack } from '../lib/local-stack.js';
import type { BenchFigures } from './parts.mts';

const quiet = { out: (_line: string) => undefined, err: (_line: string) => undefined };

function freePorts(count: number): Promise<number[]> {
  return Promise.all(Array.from({ length: count }, () => freePort()));
}

export async function run(): Promise<BenchFigures> {
  const total = Number(process.env.MEET_BENCH_BACKUP_ACCOUNTS || 10_000);
  const root = await mkdtemp(join(tmpdir(), 'meet-bench-backup-'));
  const source = join(root, 'source');
  const target = join(root, 'target');
  const out = join(root, 'archives');
  const [authPort, agentPort, prosodyPort] = await freePorts(3);
  const stack = await startLocalStack({ dataDir: source, authPort, agentPort, prosodyPort, logLevel: 'silent' });
  let restored: Awaited<ReturnType<typeof startLocalStack>> | undefined;
  try {
    const password = (i: number) => `bench password ${i}`;
    console.error(`backup bench: putting ${total} accounts into Prosody and meet-auth (not timed)`);
    const [agent] = await adminAgents({ MEET_AGENT_PORT: String(agentPort) }, source);
    // Low iteration count: only the set-up's hashing gets cheaper; records and logins are the same shape.
    for (let start = 0; start < total; start += RECORDS_PER_REQUEST) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(RECORDS_PER_REQUEST, total - start) }, async (_, k) => {
          const i = start + k;
          const c = await scramCredentials(password(i), { hash: 'SHA-1', iterations: 64 });
          const now = Math.floor(Date.now() / 1000);
          return {
            username: `user${i}`,
            account: {
              stored_key: c.storedKey,
              server_key: c.serverKey,
              salt: c.salt,
              iteration_count: c.iterations,
              created: now,
              updated: now,
            },
          };
        }),
      );
      await importRecords(agent!, 'xmpp', batch);
    }
    const db = openDatabase(source);
    const token = await addTicketmaster(db, 'Bench', 4);
    const issuer = { id: ticketmasterIdOf(token)!, name: 'Bench' };
    db.transaction(() => {
      const now = Date.now();
      for (let i = 0; i < total; i++) {
        const { ticket } = mintTicket(db, issuer);
        const selector = ticket.split('.')[0]!;
        const request = randomUUID();
        db.prepare('UPDATE tickets SET uses = 1 WHERE selector = ?').run(selector);
        db.prepare(
          `INSERT INTO requests (id, username, ticket_selector, status, created_at, finished_at) VALUES (?, ?, ?, 'created', ?, ?)`,
        ).run(request, `user${i}`, selector, now, now);
        db.prepare('INSERT INTO usernames (username, request_id, reserved_at) VALUES (?, ?, ?)').run(
          `user${i}`,
          request,
          now,
        );
        db.prepare(
          `INSERT INTO jobs (id, request_id, server, status, attempts, next_attempt_at, updated_at) VALUES (?, ?, 'local', 'created', 1, ?, ?)`,
        ).run(randomUUID(), request, now, now);
        db.prepare(
          `INSERT INTO audit (at, event, ticketmaster, ticket_selector, username, request_id) VALUES (?, 'account-created', 'Bench', ?, ?, ?)`,
        ).run(now, selector, `user${i}`, request);
      }
    })();
    db.close();

    const env = { MEET_DATA_DIR: source, MEET_AGENT_PORT: String(agentPort), MEET_ADMIN: 'bench' };
    const lines: string[] = [];
    let startedAt = performance.now();
    const backupCode = await runBackupCli(['--out', out], { ...quiet, out: (line) => lines.push(line), env });
    const backupMs = performance.now() - startedAt;
    if (backupCode !== 0) throw new Error('the backup failed');
    const archive = lines.at(-1)!;
    const archiveBytes = (await stat(archive)).size;
    await stack.close();

    const keyFile = join(root, 'backup.key');
    await copyFile(join(source, 'keys', 'backup.key'), keyFile);
    startedAt = performance.now();
    const restoreCode = await runRestoreCli([archive], {
      ...quiet,
      env: { MEET_DATA_DIR: target, MEET_BACKUP_KEY_FILE: keyFile, MEET_ADMIN: 'bench' },
    });
    const restoreMs = performance.now() - startedAt;
    if (restoreCode !== 0) throw new Error('the restore failed');

    const [a, b, c] = await freePorts(3);
    restored = await startLocalStack({
      dataDir: target,
      authPort: a,
      agentPort: b,
      prosodyPort: c,
      logLevel: 'silent',
    });
    const { client } = await import('@xmpp/client');
    let failed = 0;
    const sample = Array.from({ length: 20 }, (_, k) => Math.floor((k * total) / 20));
    for (const i of sample) {
      const xmpp = client({
        service: `xmpp://127.0.0.1:${c}`,
        domain: 'meet.jitsi',
        username: `user${i}`,
        password: password(i),
      });
      xmpp.reconnect.stop();
      xmpp.on('error', () => undefined);
      try {
        await xmpp.start();
      } catch {
        failed++;
      } finally {
        await xmpp.stop().catch(() => undefined);
      }
    }
    return {
      accounts: total,
      backup_s: Number((backupMs / 1000).toFixed(2)),
      restore_s: Number((restoreMs / 1000).toFixed(2)),
      archive_bytes: archiveBytes,
      restored_sample_logins_failed: failed,
      goal_backup_s: 10,
      goal_restore_s: 60,
    };
  } finally {
    await restored?.close();
    await stack.close();
    await rm(root, { recursive: true, force: true });
  }
}
