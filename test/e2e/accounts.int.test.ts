/**
 * The whole path against real components: ticket → POST /create (meet-auth) → signed job → agent → worker →
 * Prosody 13 over its admin socket, each account proven by an XMPP login with @xmpp/client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminSocketAccounts } from '../../edge/agent/prosody/socket-accounts.js';
import { listJobs } from '../../edge/auth/store/outbox.js';
import { RETURNS_PER_USE } from '../../edge/auth/store/tickets.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { until } from '../support/until.js';
import { xmppLogin } from '../support/xmpp.js';

let stack: TestStack;
let accounts: AdminSocketAccounts;
beforeAll(async () => {
  stack = await startTestStack();
  accounts = new AdminSocketAccounts({ socketPath: stack.prosody.socketPath });
});
afterAll(async () => {
  await accounts?.close();
  await stack?.dispose();
});

const login = (username: string, password: string) => xmppLogin({ port: stack.prosody.c2sPort, username, password });

it('ticket from /generate_token → /create → account that logs in with its password only', async () => {
  const origin = new URL(stack.authUrl).origin;
  const { execFile } = await import('node:child_process');
  // The ticketmaster CLI, as an operator runs it against the running stack.
  const token = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', 'scripts/ticketmaster.mts', 'add', 'Grace'],
      { env: { ...process.env, MEET_DATA_DIR: stack.dataDir } },
      (error, stdout) => (error ? reject(error) : resolve(stdout.trim().split('\n').at(-1)!)),
    ),
  );
  const minted = await fetch(`${stack.authUrl}/generate_token`, {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', origin },
    body: new URLSearchParams({ token }),
  });
  expect(minted.status).toBe(200);
  const { ticket } = (await minted.json()) as { ticket: string };

  const redeemed = await stack.redeem('Whole.Path', 'whole path password 1', ticket);
  expect(redeemed).toEqual({ status: 202, body: { request: expect.any(String), status: 'created' } });
  expect(await stack.status(redeemed.body.request!)).toEqual({
    status: 'created',
    servers: [{ name: 'local', status: 'created' }],
  });
  expect(await login('whole.path', 'whole path password 1')).toBe(true);
  expect(await login('whole.path', 'whole path password 2')).toBe(false);
  // The ticket was for one account.
  expect((await stack.redeem('another', 'another password 1', ticket)).status).toBe(403);
});

it('an account made beforehand with prosodyctl: redeeming its name is a conflict, and its password still works', async () => {
  const made = await stack.prosody.prosodyctl(
    ['adduser', 'existing@meet.jitsi'],
    'the original password\nthe original password\n',
  );
  expect(made.code).toBe(0);
  const [ticket] = stack.tickets(1);
  const redeemed = await stack.redeem('existing', 'a takeover password', ticket!);
  expect(redeemed.status).toBe(202);
  const settled = await stack.settled(redeemed.body.request!);
  expect(settled).toEqual({ status: 'failed', servers: [{ name: 'local', status: 'conflict' }] });
  expect(await login('existing', 'the original password')).toBe(true);
  expect(await login('existing', 'a takeover password')).toBe(false);
  // The ticket's use was given back: it still makes an account under a free name.
  expect((await stack.redeem('notexisting', 'a takeover password', ticket!)).body.status).toBe('created');
});

it('a hand-made account is no password oracle: redeeming its name with its very password is a conflict, every time, until the ticket is spent', async () => {
  const made = await stack.prosody.prosodyctl(
    ['adduser', 'guarded@meet.jitsi'],
    'secret words 4 guard\nsecret words 4 guard\n',
  );
  expect(made.code).toBe(0);
  const [ticket] = stack.tickets(1);
  for (let n = 0; n <= RETURNS_PER_USE; n++) {
    const redeemed = await stack.redeem(n % 2 ? 'Guarded' : 'guarded', 'secret words 4 guard', ticket!);
    expect(redeemed).toMatchObject({ status: 202, body: { status: 'failed' } });
    expect(await stack.status(redeemed.body.request!)).toEqual({
      status: 'failed',
      servers: [{ name: 'local', status: 'conflict' }],
    });
  }
  // Failures count against the ticket: after RETURNS_PER_USE of them it is spent, right guess or not.
  expect((await stack.redeem('guarded', 'secret words 4 guard', ticket!)).status).toBe(403);
  expect((await stack.redeem('unguarded', 'secret words 4 guard', ticket!)).status).toBe(403);
  expect(await login('guarded', 'secret words 4 guard')).toBe(true);
}, 60_000);

describe('passwords that broke the original cron job all work', () => {
  const passwords: Array<[string, string]> = [
    ['spaces', 'correct horse battery staple'],
    ['quotes', `it's "quoted" here`],
    ['xml specials', 'less < amp & greater >'],
    ['command substitution', 'run $(rm -rf /) now'],
    ['backticks', 'tick `id` tock'],
    ['non-ASCII letters', 'Grüße aus Köln пароль'],
    ['everything at once', `$(x) \`y\` '"' <&> é 密码`],
  ];
  for (const [index, [name, password]] of passwords.entries()) {
    it(name, async () => {
      const [ticket] = stack.tickets(1);
      const username = `pw${index}`;
      expect(await stack.redeem(username, password, ticket!)).toMatchObject({
        status: 202,
        body: { status: 'created' },
      });
      expect(await login(username, password)).toBe(true);
    });
  }

  it('a password with a newline is refused cleanly by the edge, and nothing is created', async () => {
    const [ticket] = stack.tickets(1);
    const redeemed = await stack.redeem('newline', 'first line\nsecond line', ticket!);
    expect(redeemed.status).toBe(400);
    expect(redeemed.body).toMatchObject({ field: 'password', error: expect.stringMatching(/newline/) });
    await expect(accounts.verify('newline', 'first line\nsecond line')).resolves.toBe(false);
    // The ticket is still good.
    expect((await stack.redeem('newline', 'a clean password 1', ticket!)).body.status).toBe('created');
  });
});

it('the agent down for a while: the job arrives after it is back', async () => {
  await stack.stopAgent();
  const [ticket] = stack.tickets(1);
  const redeemed = await stack.redeem('latecomer', 'late password 1', ticket!);
  expect(redeemed).toMatchObject({ status: 202, body: { status: 'pending' } });
  expect(await stack.status(redeemed.body.request!)).toMatchObject({
    status: 'pending',
    servers: [{ status: 'pending' }],
  });
  // A while: until meet-auth has tried twice to deliver to the stopped agent (and backs off).
  const attempts = () => listJobs(stack.db).find((job) => job.requestId === redeemed.body.request)?.attempts ?? 0;
  await until('meet-auth tried the stopped agent twice', attempts, (n) => n >= 2);
  expect(await accounts.verify('latecomer', 'late password 1')).toBe(false);
  await stack.startAgent();
  expect(await stack.settled(redeemed.body.request!, 30_000)).toMatchObject({ status: 'created' });
  expect(await login('latecomer', 'late password 1')).toBe(true);
}, 60_000);
