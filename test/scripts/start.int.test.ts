/** `npm start` as a user runs it: a child process in the foreground, stopped with Ctrl-C (SIGINT). */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { ROOT, runScript } from '../support/run-script.js';
import { until } from '../support/until.js';
import { xmppLogin } from '../support/xmpp.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), 'meet-start-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/start.mts')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = async () => {
    await until(
      'npm start is ready',
      () => {
        if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
        return output.includes('\nready');
      },
      Boolean,
      { timeoutMs: 120_000, everyMs: 50 },
    );
  };
  return { child, exited, ready, output: () => output };
}

const runCli = (script: string, args: string[], env: Record<string, string>) => runScript(script, args, { env });

const portsFree = async (ports: number[]) => {
  for (const port of ports) {
    await new Promise<void>((resolve, reject) => {
      const server = createServer().once('error', reject);
      server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
    });
  }
};

it('runs Prosody, agent and meet-auth on loopback; a ticketmaster token turns into a working account; Ctrl-C stops all', async () => {
  const dataDir = await tempDir();
  const ports = {
    MEET_AUTH_PORT: await freePort(),
    MEET_AGENT_PORT: await freePort(),
    MEET_PROSODY_PORT: await freePort(),
  };
  const env = {
    MEET_DATA_DIR: dataDir,
    MEET_LOG_LEVEL: 'warn',
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
  };
  const stack = start(env);
  await stack.ready();
  const authUrl = `http://127.0.0.1:${ports.MEET_AUTH_PORT}`;
  expect(stack.output()).toContain(`${authUrl}/create`);
  expect(stack.output()).toContain(`xmpp://127.0.0.1:${ports.MEET_PROSODY_PORT}`);

  // Keys: generated on first start, owner-only.
  expect((await stat(join(dataDir, 'keys'))).mode & 0o777).toBe(0o700);
  for (const file of ['agent-signing-secret', 'agent-sealing-private-key']) {
    expect((await stat(join(dataDir, 'keys', file))).mode & 0o777).toBe(0o600);
  }

  const added = await runCli('scripts/ticketmaster.mts', ['add', 'Lin'], { MEET_DATA_DIR: dataDir });
  expect(added.code).toBe(0);
  const token = added.stdout.trim().split('\n').at(-1)!;
  const headers = { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', origin: authUrl };
  const minted = await fetch(`${authUrl}/generate_token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams({ token }),
  });
  const { ticket } = (await minted.json()) as { ticket: string };
  const created = await fetch(`${authUrl}/create`, {
    method: 'POST',
    headers,
    body: new URLSearchParams({ user: 'starter', password: 'started password 1', token: ticket }),
  });
  expect(await created.json()).toMatchObject({ status: 'created' });
  expect(await xmppLogin({ port: ports.MEET_PROSODY_PORT, username: 'starter', password: 'started password 1' })).toBe(
    true,
  );

  stack.child.kill('SIGINT');
  expect(await stack.exited).toBe(0);
  expect(stack.output()).toContain('stopped');
  await portsFree(Object.values(ports));

  // A second start reuses the keys and the accounts.
  const again = start(env);
  await again.ready();
  expect(again.output()).not.toContain('keys generated');
  expect(
    await xmppLogin({
      port: ports.MEET_PROSODY_PORT,
      username: 'starter',
      password: 'started password 1',
      mechanism: 'PLAIN',
    }),
  ).toBe(true);
  again.child.kill('SIGTERM');
  expect(await again.exited).toBe(0);
}, 90_000);

it('says which port is busy and exits non-zero', async () => {
  const dataDir = await tempDir();
  const busy = createServer();
  const port = await new Promise<number>((resolve) =>
    busy.listen(0, '127.0.0.1', () => resolve((busy.address() as { port: number }).port)),
  );
  cleanups.push(() => new Promise((resolve) => busy.close(() => resolve())));
  const stack = start({
    MEET_DATA_DIR: dataDir,
    MEET_AGENT_PORT: String(port),
    MEET_AUTH_PORT: String(await freePort()),
    MEET_PROSODY_PORT: String(await freePort()),
  });
  expect(await stack.exited).not.toBe(0);
  expect(stack.output()).toContain(`port ${port} on 127.0.0.1 (MEET_AGENT_PORT) is already in use`);
});

it('when Prosody is missing and may not be installed automatically, says exactly how to install it', async () => {
  const dataDir = await tempDir();
  // As root npm start would install Prosody itself; MEET_PROSODY_AUTO_INSTALL=0 forbids that, as for a non-root user.
  const stack = start({
    MEET_DATA_DIR: dataDir,
    MEET_PROSODY_AUTO_INSTALL: '0',
    PATH: `${join(ROOT, 'node_modules/.bin')}:/nonexistent`,
    HOME: dataDir,
  });
  expect(await stack.exited).toBe(1);
  expect(stack.output()).toContain('Prosody is not installed');
  expect(stack.output()).toContain('apt-get install -y -t bookworm-backports prosody');
});

it('--help prints usage and exits 0; an unknown argument or a bad setting exits 2 (usage or bad input)', async () => {
  const help = await runCli('scripts/start.mts', ['--help'], {});
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('MEET_PROSODY_PORT');
  const bad = await runCli('scripts/start.mts', ['--bogus'], {});
  expect(bad.code).toBe(2);
  expect(bad.stderr.split('\n')[0]).toBe('npm start: unexpected argument --bogus');
  const positional = await runCli('scripts/start.mts', ['now'], {});
  expect([positional.code, positional.stderr.split('\n')[0]]).toEqual([2, 'npm start: unexpected argument now']);
  const port = await runCli('scripts/start.mts', [], { MEET_AUTH_PORT: '70000' });
  expect([port.code, port.stderr.trim()]).toEqual([2, 'npm start: MEET_AUTH_PORT must be a port number (1-65535)']);
  const level = await runCli('scripts/start.mts', [], { MEET_LOG_LEVEL: 'loud' });
  expect(level.code).toBe(2);
  expect(level.stderr).toContain('MEET_LOG_LEVEL must be one of');
});
