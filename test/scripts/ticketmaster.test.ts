import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../edge/auth/store/db.js';
import { verifyTicketmasterToken } from '../../edge/auth/store/ticketmasters.js';
import { checkTicket, mintTicket } from '../../edge/auth/store/tickets.js';

import { runScript as runRepoScript } from '../support/run-script.js';

/** Runs the real script against a temp MEET_DATA_DIR, as `npm run` does. */
const runScript = (script: string, args: readonly string[], env: Record<string, string>) =>
  runRepoScript(`scripts/${script}`, args, { env });

let dataDir: string;
let env: Record<string, string>;
beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'meet-tm-cli-'));
  env = { MEET_DATA_DIR: dataDir, MEET_BCRYPT_COST: '4' };
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const tm = (...args: string[]) => runScript('ticketmaster.mts', args, env);

describe('npm run ticketmaster', () => {
  it('--help prints usage and exits 0', async () => {
    const result = await tm('--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('add <name>');
  });

  it('add prints the bare token alone on the last line of stdout, other output on stderr; the token works at once', async () => {
    const result = await tm('add', 'Ada');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^tm_[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}\n$/);
    expect(result.stderr).toContain('Added ticketmaster "Ada"');
    const db = openDatabase(dataDir);
    try {
      const check = await verifyTicketmasterToken(db, result.stdout.trim());
      expect(check.ok).toBe(true);
    } finally {
      db.close();
    }
  });

  it('a token added while meet-auth runs works at once against the running server', async () => {
    const { startAgentDouble } = await import('../edge/auth/agent-double.js');
    const { loadAuthConfig } = await import('../../edge/auth/config.js');
    const { startAuthServer } = await import('../../edge/auth/server.js');
    const agent = await startAgentDouble('jitsi');
    const server = await startAuthServer(
      loadAuthConfig({
        MEET_DATA_DIR: dataDir,
        MEET_AUTH_PORT: '0',
        MEET_LOG_LEVEL: 'silent',
        MEET_AGENTS: JSON.stringify([{ name: agent.name, url: agent.url, sealingPublicKey: agent.sealingPublicKey }]),
        MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ [agent.name]: agent.signingSecrets }),
      }),
    );
    try {
      const token = (await tm('add', 'Live')).stdout.trim();
      const res = await fetch(`${server.url}/generate_token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ token }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toHaveProperty('ticket');
    } finally {
      await server.close();
      await agent.close();
    }
  });

  it('refuses a duplicate name, a bad name and a missing name with a clear message and non-zero exit', async () => {
    // Independent refusals: run at once (each is a node process of its own).
    const [duplicate, bad, missing, unknown, none, badOption, badCost] = await Promise.all([
      tm('add', 'Ada'),
      tm('add', '<script>'),
      tm('add'),
      tm('frobnicate'),
      tm(),
      tm('list', '--colour'),
      runScript('ticketmaster.mts', ['add', 'Zed'], { ...env, MEET_BCRYPT_COST: '99' }),
    ]);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('already exists');
    expect(duplicate.stdout).toBe('');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('ticketmaster name');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('usage:');
    expect(unknown.code).toBe(2);
    expect(none.code).toBe(2);
    expect(badOption.code).toBe(2);
    expect(badCost.code).toBe(2);
  });

  it('list shows ticketmasters without secrets', async () => {
    const result = await tm('list');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Ada\s+active/);
    expect(result.stdout).not.toContain('tm_');
    const json = JSON.parse((await tm('list', '--json')).stdout) as { name: string }[];
    expect(json.map((row) => row.name)).toContain('Ada');
    expect(JSON.stringify(json)).not.toMatch(/secret|hash/i);
  });

  it("revoke disables the token and voids the ticketmaster's unredeemed tickets", async () => {
    const token = (await tm('add', 'Revokee')).stdout.trim();
    const db = openDatabase(dataDir);
    try {
      const check = await verifyTicketmasterToken(db, token);
      if (!check.ok) throw new Error('token should verify');
      const ticket = mintTicket(db, check.ticketmaster).ticket;
      expect(checkTicket(db, ticket).ok).toBe(true);
      const result = await tm('revoke', 'Revokee');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('1 unredeemed ticket(s) voided');
      expect((await verifyTicketmasterToken(db, token)).ok).toBe(false);
      expect(checkTicket(db, ticket).ok).toBe(false);
      expect((await tm('list')).stdout).toMatch(/Revokee\s+revoked/);
      const again = await tm('revoke', 'Revokee');
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('already revoked');
      expect((await tm('revoke', 'Nobody')).code).toBe(1);
    } finally {
      db.close();
    }
  });
});
