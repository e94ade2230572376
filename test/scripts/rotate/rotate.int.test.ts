/**
 * `npm run rotate` against the real local stack (Prosody 13, the agent, meet-auth): service accounts on the auth
 * domain, ticketmaster tokens, both agent keys with 100 redemptions in flight, dry runs, injected failures.
 */
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../edge/auth/store/db.js';
import { listAudit } from '../../../edge/auth/store/audit.js';
import { addTicketmaster, ticketmasterIdOf, verifyTicketmasterToken } from '../../../edge/auth/store/ticketmasters.js';
import { mintTicket } from '../../../edge/auth/store/tickets.js';
import { startLocalStack, type LocalStack } from '../../../scripts/lib/local-stack.js';
import { runRotateCli, type RotateIo } from '../../../scripts/lib/rotate/cli.js';
import { capture, hashTree } from '../../support/admin-cli.js';
import { freePort } from '../../support/ports.js';
import { until } from '../../support/until.js';
import { xmppLogin } from '../../support/xmpp.js';

let dataDir: string;
let stack: LocalStack;
let db: Db;
let env: Record<string, string>;

const rotate = (args: string[], extra: Partial<RotateIo> = {}) =>
  capture((io) => runRotateCli(args, { ...io, graceMs: 300, ...extra }), env);
const keyLines = async (file: string) => (await readFile(join(dataDir, 'keys', file), 'utf8')).trim().split('\n');
const servicePassword = async (file: string) => (await readFile(join(dataDir, 'keys', file), 'utf8')).trim();
const login = (username: string, password: string, domain = 'auth.meet.jitsi') =>
  xmppLogin({ port: stack.prosody.c2sPort, username, password, domain, mechanism: 'PLAIN' });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'meet-rotate-'));
  const agentPort = await freePort();
  stack = await startLocalStack({
    dataDir,
    authPort: await freePort(),
    agentPort,
    prosodyPort: await freePort(),
    logLevel: 'silent',
  });
  db = openDatabase(dataDir);
  env = {
    MEET_DATA_DIR: dataDir,
    MEET_AGENT_PORT: String(agentPort),
    MEET_ADMIN: 'rotation-test',
    MEET_BCRYPT_COST: '4',
  };
});

afterAll(async () => {
  db?.close();
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function redeemAll(count: number, prefix: string): Promise<{ requests: string[] }> {
  const token = await addTicketmaster(db, `${prefix}-tm`, 4);
  const issuer = { id: ticketmasterIdOf(token)!, name: `${prefix}-tm` };
  const tickets = Array.from({ length: count }, () => mintTicket(db, issuer).ticket);
  const origin = new URL(stack.authUrl).origin;
  const requests = await Promise.all(
    tickets.map(async (ticket, index) => {
      const response = await fetch(`${stack.authUrl}/create`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', origin },
        body: new URLSearchParams({
          user: `${prefix}${index}`,
          password: `pw-${prefix}-${index}-long enough`,
          token: ticket,
        }),
      });
      expect(response.status).toBe(202);
      return ((await response.json()) as { request: string }).request;
    }),
  );
  return { requests };
}

/** Waits until none of `requests` is pending (past a minute the assertions after it say which are). */
async function settledAll(requests: readonly string[]): Promise<void> {
  const placeholders = requests.map(() => '?').join(',');
  const pending = () =>
    (
      db
        .prepare(`SELECT count(*) AS n FROM requests WHERE status = 'pending' AND id IN (${placeholders})`)
        .get(...requests) as { n: number }
    ).n;
  await until('no request is pending', pending, (n) => n === 0, { timeoutMs: 60_000, everyMs: 100 }).catch(
    () => undefined,
  );
}

describe('the local stack serves the auth domain', () => {
  it('focus@ and jvb@auth.meet.jitsi log in with the passwords of the local secrets', async () => {
    expect(await login('focus', await servicePassword('jicofo-auth-password'))).toBe(true);
    expect(await login('jvb', await servicePassword('jvb-auth-password'))).toBe(true);
    expect(await login('focus', 'not-the-password')).toBe(false);
  });
});

describe('rotate jicofo / jvb', () => {
  for (const [secret, username, file] of [
    ['jicofo', 'focus', 'jicofo-auth-password'],
    ['jvb', 'jvb', 'jvb-auth-password'],
  ] as const) {
    it(`${secret}: the new password logs in, the old one no longer; audited without the value`, async () => {
      const old = await servicePassword(file);
      const result = await rotate([secret]);
      expect(result.code, result.err.join('\n')).toBe(0);
      const fresh = await servicePassword(file);
      expect(fresh).not.toBe(old);
      expect(fresh).toMatch(/^[0-9a-f]{48}$/);
      expect(await login(username, fresh)).toBe(true);
      expect(await login(username, old)).toBe(false);
      expect(await readFile(join(dataDir, 'keys', `${file}.prev`), 'utf8')).toBe(`${old}\n`);
      const entry = listAudit(db).find((row) => row.event === 'secret-rotated' && row.detail?.startsWith(secret));
      expect(entry?.detail).toContain('rotation-test');
      expect(JSON.stringify(listAudit(db))).not.toContain(fresh);
      expect([...result.out, ...result.err].join('\n')).not.toContain(fresh);
    });
  }

  it('a failure at each step leaves the previous password working; the same command resumes', async () => {
    for (const step of [1, 2, 3]) {
      const old = await servicePassword('jicofo-auth-password');
      const failed = await rotate(['jicofo'], { failBeforeStep: step });
      expect(failed.code).toBe(1);
      expect(failed.err.join('\n')).toMatch(/resume with the same command/);
      // Before step 2 ran, nothing changed anywhere.
      if (step <= 2) expect(await login('focus', old)).toBe(true);
      const resumed = await rotate(['jicofo']);
      expect(resumed.code, resumed.err.join('\n')).toBe(0);
      const fresh = await servicePassword('jicofo-auth-password');
      expect(await login('focus', fresh)).toBe(true);
      expect(await login('focus', old)).toBe(false);
    }
  });
});

describe('rotate ticketmaster', () => {
  it('the old token is refused at once, the new one (last stdout line) works, tickets stay theirs', async () => {
    const old = await addTicketmaster(db, 'Rota', 4);
    const result = await rotate(['ticketmaster', 'Rota']);
    expect(result.code, result.err.join('\n')).toBe(0);
    const fresh = result.out.at(-1)!;
    expect(fresh).toMatch(/^tm_/);
    expect(ticketmasterIdOf(fresh)).toBe(ticketmasterIdOf(old));
    expect((await verifyTicketmasterToken(db, old)).ok).toBe(false);
    expect((await verifyTicketmasterToken(db, fresh)).ok).toBe(true);
    // The running meet-auth at once: the old token gets 403, the new one a ticket.
    const generate = (token: string) =>
      fetch(`${stack.authUrl}/generate_token`, {
        method: 'POST',
        headers: {
          accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded',
          origin: new URL(stack.authUrl).origin,
        },
        body: new URLSearchParams({ token }),
      });
    expect((await generate(old)).status).toBe(403);
    expect((await generate(fresh)).status).toBe(200);
    expect(JSON.stringify(listAudit(db))).not.toContain(fresh.split('.')[1]);
  });

  it('an unknown name is bad input (exit 2) and changes nothing', async () => {
    const result = await rotate(['ticketmaster', 'Nobody']);
    expect(result.code).toBe(2);
    expect(result.err.join('\n')).toContain('No ticketmaster is named "Nobody"');
  });
});

describe('rotate agent-signing and agent-sealing', () => {
  it('both keys rotate while 100 redemptions are in flight: 100 accounts, 0 failed deliveries', async () => {
    const signingBefore = await keyLines('agent-signing-secret');
    const sealingBefore = await keyLines('agent-sealing-private-key');
    const burst = redeemAll(100, 'rot');
    const signing = rotate(['agent-signing']);
    const sealing = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return rotate(['agent-sealing']);
    })();
    const [{ requests }, signed, sealed] = await Promise.all([burst, signing, sealing]);
    expect(signed.code, signed.err.join('\n')).toBe(0);
    expect(sealed.code, sealed.err.join('\n')).toBe(0);
    await settledAll(requests);
    const jobs = db
      .prepare(
        `SELECT j.status, j.attempts FROM jobs j JOIN requests r ON r.id = j.request_id WHERE r.username LIKE 'rot%'`,
      )
      .all() as { status: string; attempts: number }[];
    expect(jobs).toHaveLength(100);
    expect(jobs.filter((job) => job.status !== 'created' || job.attempts !== 1)).toEqual([]);
    const signingAfter = await keyLines('agent-signing-secret');
    const sealingAfter = await keyLines('agent-sealing-private-key');
    expect(signingAfter).toHaveLength(1);
    expect(sealingAfter).toHaveLength(1);
    expect(signingBefore).not.toContain(signingAfter[0]);
    expect(sealingBefore).not.toContain(sealingAfter[0]);
    // Every account exists with its password (a few logins; the counts above cover the rest).
    for (const index of [0, 42, 99]) {
      expect(await login(`rot${index}`, `pw-rot-${index}-long enough`, 'meet.jitsi')).toBe(true);
    }
  });

  it('a failure injected at each step leaves redemptions working, and the same command resumes', async () => {
    for (const secret of ['agent-sealing', 'agent-signing']) {
      for (const step of [1, 2, 3]) {
        const failed = await rotate([secret], { failBeforeStep: step - (step > 1 ? step - 1 : 0) });
        // Steps left after a resume are numbered from 1 again: fail the first remaining step each time.
        expect(failed.code).toBe(1);
        expect(failed.err.join('\n')).toMatch(/still works/);
        const { requests } = await redeemAll(3, `f${secret.slice(6, 9)}${step}x`);
        await settledAll(requests);
        const statuses = db
          .prepare(`SELECT status FROM requests WHERE id IN (${requests.map(() => '?').join(',')})`)
          .all(...requests) as { status: string }[];
        expect(statuses.every((row) => row.status === 'created')).toBe(true);
        // Advance one step so the next iteration fails at the next one.
        if (step < 3) {
          const one = await rotate([secret], { failBeforeStep: 2 });
          expect(one.code).toBe(1);
        }
      }
      const finished = await rotate([secret]);
      expect(finished.code, finished.err.join('\n')).toBe(0);
      expect(
        await keyLines(secret === 'agent-signing' ? 'agent-signing-secret' : 'agent-sealing-private-key'),
      ).toHaveLength(1);
    }
  });

  it('--agent names an agent that exists', async () => {
    const result = await rotate(['agent-signing', '--agent', 'elsewhere', '--dry-run']);
    expect(result.code).toBe(2);
    expect(result.err.join('\n')).toContain('no agent is named "elsewhere"');
  });
});

describe('--dry-run and --help', () => {
  it('--help lists every secret', async () => {
    const result = await rotate(['--help']);
    expect(result.code).toBe(0);
    for (const secret of [
      'agent-signing',
      'agent-sealing',
      'ticketmaster <name>',
      'jicofo',
      'jvb',
      'acme-account',
      'backup-key',
    ]) {
      expect(result.out.join('\n')).toContain(secret);
    }
  });

  it('every dry run prints its steps and changes no byte of the data directory', async () => {
    await stack.close();
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dataDir, 'keys', 'backup.key'), `${Buffer.alloc(32, 7).toString('base64url')}\n`, {
      mode: 0o600,
    });
    await addTicketmaster(db, 'Dry', 4);
    db.close();
    const before = await hashTree(dataDir);
    for (const args of [
      ['agent-signing'],
      ['agent-sealing'],
      ['ticketmaster', 'Dry'],
      ['jicofo'],
      ['jvb'],
      ['backup-key'],
    ]) {
      const result = await rotate([...args, '--dry-run']);
      expect(result.code, `${args.join(' ')}: ${result.err.join('\n')}`).toBe(0);
      expect(result.err.join('\n')).toMatch(/dry run: .* would take these steps/);
      expect(result.err.join('\n')).toMatch(/ 1\. /);
    }
    expect(await hashTree(dataDir)).toEqual(before);
    db = openDatabase(dataDir);
  });
});

describe('rotate jicofo in production (--secrets-file)', () => {
  it('sets the password through the agents, then replaces the TF_VAR line atomically (0600, .prev kept) and prints the deploy', async () => {
    const { createSecretsFile } = await import('../../../scripts/lib/secrets-file.js');
    const { readSecretVariable } = await import('../../../scripts/lib/rotate/secrets-file-edit.js');
    const { stat } = await import('node:fs/promises');
    const restarted = await startLocalStack({
      dataDir,
      authPort: await freePort(),
      agentPort: await freePort(),
      prosodyPort: await freePort(),
      logLevel: 'silent',
    });
    try {
      const file = join(dataDir, 'staging.env');
      await createSecretsFile(file, 'staging');
      const before = await readFile(file, 'utf8');
      const keys = await import('../../../scripts/lib/local-keys.js').then((m) => m.readLocalKeys(dataDir));
      const prodEnv = {
        ...env,
        MEET_AGENTS: JSON.stringify([
          { name: 'jitsi', url: restarted.agentUrl, sealingPublicKey: keys.sealingPublicKey },
        ]),
        MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ jitsi: keys.signingSecret }),
      };
      const result = await capture(
        (io) => runRotateCli(['jicofo', '--secrets-file', file, '--env', 'staging'], io),
        prodEnv,
      );
      expect(result.code, result.err.join('\n')).toBe(0);
      const after = await readFile(file, 'utf8');
      const fresh = readSecretVariable(after, 'jicofo_auth_password')!;
      expect(fresh).not.toBe(readSecretVariable(before, 'jicofo_auth_password'));
      expect(readSecretVariable(after, 'jvb_auth_password')).toBe(readSecretVariable(before, 'jvb_auth_password'));
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await readFile(`${file}.prev`, 'utf8')).toBe(before);
      expect((await stat(`${file}.prev`)).mode & 0o777).toBe(0o600);
      expect(result.err.join('\n')).toContain('npx cdktf deploy staging-services');
      expect(await readFile(`${file}.audit`, 'utf8')).toMatch(/secret-rotated jicofo .* by rotation-test/);
      expect(
        await xmppLogin({
          port: restarted.prosody.c2sPort,
          username: 'focus',
          password: fresh,
          domain: 'auth.meet.jitsi',
          mechanism: 'PLAIN',
        }),
      ).toBe(true);
      expect([...result.out, ...result.err].join('\n')).not.toContain(fresh);
    } finally {
      await restarted.close();
    }
  });
});
