/**
 * `npm run accounts` end to end, as an operator runs it against a running stack (real meet-auth store, agent and
 * Prosody 13): list, reset-password with the password on stdin, delete; every change proven by an XMPP login.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAccountsCli, type AccountsIo } from '../../edge/auth/admin/accounts-cli.js';
import { listAudit } from '../../edge/auth/store/audit.js';
import { openDatabase } from '../../edge/auth/store/db.js';
import { localAuthEnv } from '../../scripts/lib/local-stack.js';
import { watchArgv } from '../support/argv-watch.js';
import { ROOT, type ScriptResult } from '../support/run-script.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { xmppLogin } from '../support/xmpp.js';

let stack: TestStack;
/** What the meet-edge container holds: the agents and their signing secrets, as meet-auth has them. */
let env: Record<string, string>;

beforeAll(async () => {
  stack = await startTestStack();
  const { MEET_AGENTS, MEET_AGENT_SIGNING_SECRETS } = localAuthEnv({
    dataDir: stack.dataDir,
    keys: stack.keys,
    port: 0,
    agentUrl: stack.agentUrl,
  });
  env = {
    MEET_DATA_DIR: stack.dataDir,
    MEET_AGENTS: MEET_AGENTS!,
    MEET_AGENT_SIGNING_SECRETS: MEET_AGENT_SIGNING_SECRETS!,
  };
}, 60_000);
afterAll(async () => {
  await stack?.dispose();
});

/** Runs `npm run accounts -- ...args` with `stdin` piped in (not a terminal) and only `runEnv` (plus PATH). */
function accounts(args: readonly string[], stdin = '', runEnv: Record<string, string> = env): Promise<ScriptResult> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'scripts/accounts.mts'), ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...runEnv }, timeout: 60_000 },
      (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(stdin);
  });
}

const login = (username: string, password: string) => xmppLogin({ port: stack.prosody.c2sPort, username, password });

async function makeAccount(username: string, password: string): Promise<void> {
  const [ticket] = stack.tickets(1);
  expect(await stack.redeem(username, password, ticket!)).toMatchObject({ status: 202, body: { status: 'created' } });
}

interface Listed {
  servers: Array<{ name: string; reachable: boolean; error?: string }>;
  accounts: Array<{
    username: string;
    registry: { status: string; ticketmaster: string } | null;
    servers: Record<string, boolean | null>;
  }>;
}

async function listJson(runEnv = env): Promise<Listed> {
  const listed = await accounts(['list', '--json'], '', runEnv);
  expect(listed.code).toBe(0);
  return JSON.parse(listed.stdout) as Listed;
}

it('--help documents the commands and exit codes', async () => {
  const help = await accounts(['--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('usage: npm run accounts');
  expect(help.stdout).toMatch(/exit status:\n\s+0 .*\n\s+1 .*\n(.*\n)*\s+2 /);
});

describe('list', () => {
  it('merges the registry (with its ticketmaster) with the accounts on the server, marking hand-made ones', async () => {
    await makeAccount('Listed.One', 'listed password 1');
    expect(
      (await stack.prosody.prosodyctl(['adduser', 'byhand@meet.jitsi'], 'by hand password\nby hand password\n')).code,
    ).toBe(0);
    const listed = await listJson();
    expect(listed.servers).toEqual([{ name: 'local', reachable: true }]);
    expect(listed.accounts.find((account) => account.username === 'listed.one')).toMatchObject({
      registry: { status: 'created', ticketmaster: 'E2E' },
      servers: { local: true },
    });
    expect(listed.accounts.find((account) => account.username === 'byhand')).toEqual({
      username: 'byhand',
      registry: null,
      servers: { local: true },
    });

    const table = await accounts(['list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^USERNAME\s+REGISTRY\s+REQUESTED\s+TICKETMASTER\s+LOCAL\s+NOTE$/m);
    expect(table.stdout).toMatch(/^listed\.one\s+created\s+\S+Z\s+E2E\s+yes$/m);
    expect(table.stdout).toMatch(/^byhand\s+-\s+-\s+-\s+yes\s+not in registry/m);
  });

  it('shows a registry name the server lacks', async () => {
    await makeAccount('vanished', 'gone soon secret 1');
    expect((await stack.prosody.prosodyctl(['shell', 'user', 'delete', 'vanished@meet.jitsi'])).code).toBe(0);
    const table = await accounts(['list']);
    expect(table.stdout).toMatch(/^vanished\s+created\s+\S+\s+E2E\s+MISSING\s+missing on local$/m);
  });

  it('works against the local stack with only MEET_DATA_DIR (and the agent port, as npm start takes it)', async () => {
    const local = await listJson({ MEET_DATA_DIR: stack.dataDir, MEET_AGENT_PORT: new URL(stack.agentUrl).port });
    expect(local.accounts.map((account) => account.username)).toContain('listed.one');
  });
});

describe('reset-password', () => {
  it('reads the new password from stdin and sets it on the server: the new one logs in, the old one no longer', async () => {
    await makeAccount('resetter', 'the first password 1');
    const password = `new $(id) \`x\` '"' <&> é 密码`;
    const watch = watchArgv(password);
    let reset: ScriptResult;
    try {
      reset = await accounts(['reset-password', 'Resetter'], `${password}\n`);
    } finally {
      await watch.stop();
    }
    expect(reset.stderr).toContain('local: changed');
    expect(reset).toMatchObject({ code: 0, stdout: 'local\tchanged\n' });
    expect(watch.hits).toEqual([]);
    expect(await login('resetter', password)).toBe(true);
    expect(await login('resetter', 'the first password 1')).toBe(false);
    const db = openDatabase(stack.dataDir);
    try {
      const entry = listAudit(db, 50).find((row) => row.event === 'password-reset' && row.username === 'resetter');
      expect(entry).toMatchObject({ detail: 'local: changed' });
      expect(JSON.stringify(listAudit(db, 1000))).not.toContain(password);
    } finally {
      db.close();
    }
  });

  it('a password the rules refuse, or two lines: exit 2, nothing changed', async () => {
    await makeAccount('keeper', 'steady secret 1x');
    for (const input of ['short\n', 'my keeper secret\n', 'first line\nsecond line\n', '']) {
      const refused = await accounts(['reset-password', 'keeper'], input);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/refused|one line|required/);
      expect(refused.stdout).toBe('');
    }
    expect(await login('keeper', 'steady secret 1x')).toBe(true);
  });

  it('an unknown user: exit 1, nothing created', async () => {
    const unknown = await accounts(['reset-password', 'nobody'], 'some fine password\n');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('local\tabsent\n');
    expect(unknown.stderr).toContain('no server has an account "nobody"');
    expect(await login('nobody', 'some fine password')).toBe(false);
  });
});

describe('delete', () => {
  it('without --yes and stdin not a terminal: exit 2, nothing deleted', async () => {
    await makeAccount('careful', 'cautious secret 1');
    const refused = await accounts(['delete', 'careful']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('add --yes');
    expect(await login('careful', 'cautious secret 1')).toBe(true);
  });

  it('--yes: deleted on the server, login refused, gone from the list, and the name can be redeemed again', async () => {
    await makeAccount('leaver', 'departing secret 1');
    const deleted = await accounts(['delete', 'Leaver', '--yes']);
    expect(deleted.stderr).toContain('local: deleted');
    expect(deleted).toMatchObject({ code: 0, stdout: expect.stringContaining('local\tdeleted\n') });
    expect(deleted.stdout).toContain('free to be redeemed again');
    expect(await login('leaver', 'departing secret 1')).toBe(false);
    expect((await listJson()).accounts.map((account) => account.username)).not.toContain('leaver');
    await makeAccount('leaver', 'returning secret 2');
    expect(await login('leaver', 'returning secret 2')).toBe(true);
  });

  it('an unknown or invalid user', async () => {
    const unknown = await accounts(['delete', 'nobody', '--yes']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no server has an account "nobody"');
    const invalid = await accounts(['delete', 'no body', '--yes']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('"no body" is not a valid username');
  });

  it('the agent down: exit 1 naming it, the name stays reserved; once it is back the same command finishes', async () => {
    await makeAccount('stayer', 'remaining secret 1');
    await stack.stopAgent();
    try {
      const failed = await accounts(['delete', 'stayer', '--yes']);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/local: FAILED: unreachable/);
      expect(failed.stderr).toContain('may still exist on local');
      const listed = await accounts(['list']);
      expect(listed.code).toBe(1);
      expect(listed.stderr).toContain('could not list the accounts of local');
    } finally {
      await stack.startAgent();
    }
    expect(await login('stayer', 'remaining secret 1')).toBe(true);
    const [ticket] = stack.tickets(1);
    expect((await stack.redeem('stayer', 'another secret 2', ticket!)).status).toBe(409);
    expect((await accounts(['delete', 'stayer', '--yes'])).code).toBe(0);
    expect(await login('stayer', 'remaining secret 1')).toBe(false);
  }, 60_000);
});

it('delete is refused while the account is still being created (its delivery could recreate it afterwards)', async () => {
  await stack.stopAgent();
  let requestId: string;
  try {
    const [ticket] = stack.tickets(1);
    const redeemed = await stack.redeem('inflight', 'underway secret 1', ticket!);
    expect(redeemed.body.status).toBe('pending');
    requestId = redeemed.body.request!;
    const refused = await accounts(['delete', 'inflight', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('"inflight" is still being created on local');
    expect(refused.stdout).toBe('');
  } finally {
    await stack.startAgent();
  }
  expect((await stack.settled(requestId)).status).toBe('created');
  expect((await accounts(['delete', 'inflight', '--yes'])).code).toBe(0);
}, 60_000);

describe('on a terminal (the module with a scripted terminal)', () => {
  function terminal(answers: string[]) {
    const out: string[] = [];
    const asked: Array<{ question: string; hidden: boolean }> = [];
    const io: AccountsIo = {
      out: (line) => out.push(line),
      err: () => undefined,
      env,
      interactive: true,
      readAll: () => Promise.reject(new Error('a terminal is asked, not read')),
      ask: async (question, hidden) => {
        asked.push({ question, hidden });
        return answers.shift() ?? '';
      },
    };
    return { io, out, asked };
  }

  it('delete asks first: anything but "yes" deletes nothing; "yes" deletes', async () => {
    await makeAccount('asked', 'politely secret 1');
    const declined = terminal(['y']);
    expect(await runAccountsCli(['delete', 'asked'], declined.io)).toBe(2);
    expect(declined.asked).toEqual([
      { question: expect.stringContaining('Delete the account "asked" (registered'), hidden: false },
    ]);
    expect(await login('asked', 'politely secret 1')).toBe(true);
    const confirmed = terminal(['yes']);
    expect(await runAccountsCli(['delete', 'asked'], confirmed.io)).toBe(0);
    expect(await login('asked', 'politely secret 1')).toBe(false);
  });

  it('reset-password asks twice without echo; two different answers change nothing', async () => {
    await makeAccount('twice', 'original secret 1');
    const differ = terminal(['first new secret', 'second new secret']);
    expect(await runAccountsCli(['reset-password', 'twice'], differ.io)).toBe(2);
    expect(differ.asked.map((ask) => ask.hidden)).toEqual([true, true]);
    expect(await login('twice', 'original secret 1')).toBe(true);
    expect(
      await runAccountsCli(['reset-password', 'twice'], terminal(['agreed new secret', 'agreed new secret']).io),
    ).toBe(0);
    expect(await login('twice', 'agreed new secret')).toBe(true);
  });
});

it('usage errors: exit 2', async () => {
  expect((await accounts([])).code).toBe(2);
  expect((await accounts(['explode'])).code).toBe(2);
  expect((await accounts(['list', '--bogus'])).code).toBe(2);
  const noAgents = await accounts(['list'], '', { MEET_DATA_DIR: join(stack.dataDir, 'elsewhere') });
  expect(noAgents.code).toBe(2);
  expect(noAgents.stderr).toContain('no agents configured');
});
