/**
 * Every admin CLI's human output, run as `npm run` runs it, over a store holding names and messages full of
 * terminal escapes (as a hand-made Prosody account, an old row or a remote error could): no control or format
 * character reaches the terminal, each shows as its \uXXXX escape; --json still gives the exact values.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { openDatabase } from '../../edge/auth/store/db.js';
import { recordJobOutcome } from '../../edge/auth/store/outbox.js';
import { redeem } from '../../edge/auth/store/requests.js';
import { addTicketmaster } from '../../edge/auth/store/ticketmasters.js';
import { mintTicket } from '../../edge/auth/store/tickets.js';
import { generateSealingKeyPair } from '../../edge/shared/sealing.js';
import { generateSigningSecret } from '../../edge/shared/signing.js';
import { runScript } from '../support/run-script.js';

/** Retitles the window, rings, clears the screen, returns the cursor, and reverses and isolates text. */
const HOSTILE = '\u001b]0;pwned\u0007\u001b[2J\rX\u202eY\u2066Z\u0085\u2028\u200bW';
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
let dataDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'meet-terminal-'));
  const db = openDatabase(dataDir);
  await addTicketmaster(db, 'Grace', 4);
  db.prepare('UPDATE ticketmasters SET name = ?').run(`Grace${HOSTILE}`);
  const issuer = db.prepare('SELECT id, name FROM ticketmasters').get() as { id: string; name: string };
  const ticket = mintTicket(db, issuer).ticket;
  const now = Date.now();
  redeem(db, {
    requestId: 'req-terminal',
    selector: ticket.split('.')[0]!,
    issuer: issuer.name,
    username: `eve${HOSTILE}`,
    jobs: [{ id: 'job-terminal', server: 'idle', sealedPassword: 'sealed' }],
    now,
  });
  recordJobOutcome(db, 'job-terminal', { status: 'dead', detail: `agent said: ${HOSTILE}` }, now);
  // One still being created: its name stays in the registry (accounts list).
  const second = mintTicket(db, issuer).ticket;
  redeem(db, {
    requestId: 'req-terminal-2',
    selector: second.split('.')[0]!,
    issuer: issuer.name,
    username: `mallory${HOSTILE}`,
    jobs: [{ id: 'job-terminal-2', server: 'idle', sealedPassword: 'sealed' }],
    now,
  });
  db.close();
  env = {
    MEET_DATA_DIR: dataDir,
    MEET_AGENTS: JSON.stringify([
      { name: 'idle', url: 'http://127.0.0.1:9', sealingPublicKey: generateSealingKeyPair().publicKey },
    ]),
    MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ idle: generateSigningSecret() }),
  };
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const cli = (script: string, ...args: string[]) => runScript(`scripts/${script}`, args, { env });

describe('human output of every CLI', () => {
  const cases: [string, string[]][] = [
    ['ticketmaster.mts', ['list']],
    ['tickets.mts', ['list', '--all']],
    ['tickets.mts', ['jobs']],
    ['tickets.mts', ['audit']],
    ['accounts.mts', ['list']],
    ['ticketmaster.mts', ['revoke', `Grace${HOSTILE}x`]],
  ];
  // Each reads the store (the revoke names no ticketmaster there): they run at once, each a node process.
  for (const [script, args] of cases) {
    it.concurrent(`${script} ${args[0]}: escapes, never sends them`, async ({ expect }) => {
      const result = await cli(script, ...args);
      const output = result.stdout + result.stderr;
      for (const line of output.split('\n'))
        expect(FORBIDDEN.test(line.replaceAll('\t', '')), JSON.stringify(line)).toBe(false);
      expect(output, output).toContain('\\u001b]0;pwned\\u0007\\u001b[2J\\u000dX\\u202eY\\u2066Z');
    });
  }

  it.concurrent('--json keeps the exact values (JSON escapes, parsed back)', async ({ expect }) => {
    const result = await cli('tickets.mts', 'jobs', '--json');
    expect(FORBIDDEN.test(result.stdout.replaceAll('\n', ''))).toBe(false);
    const jobs = JSON.parse(result.stdout) as { username: string; lastError: string }[];
    expect(jobs[0]).toMatchObject({ username: `eve${HOSTILE}`, lastError: `agent said: ${HOSTILE}` });
  });
});
