/** The real server: HTTP and HTTPS via @hono/node-server, graceful close, and main.ts under SIGTERM. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadAuthConfig } from '../../../edge/auth/config.js';
import { startAuthServer, type AuthServer } from '../../../edge/auth/server.js';
import { openDatabase } from '../../../edge/auth/store/db.js';
import { addTicketmaster } from '../../../edge/auth/store/ticketmasters.js';
import { createLogger } from '../../../edge/shared/log.js';
import { until } from '../../support/until.js';
import { startAgentDouble, type AgentDouble } from './agent-double.js';
import { GOOD_PASSWORD } from './harness.js';
import { writeSelfSigned } from '../../support/self-signed.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(behave?: AgentDouble['behave']) {
  const dataDir = mkdtempSync(join(tmpdir(), 'meet-auth-server-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const agent = await startAgentDouble('jitsi', behave ? { behave } : {});
  cleanups.push(() => agent.close());
  const env = {
    MEET_DATA_DIR: dataDir,
    MEET_AUTH_PORT: '0',
    MEET_AGENTS: JSON.stringify([{ name: agent.name, url: agent.url, sealingPublicKey: agent.sealingPublicKey }]),
    MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ [agent.name]: agent.signingSecrets }),
    // Long: the hold ends when the job is done, and a loaded CI machine still answers "created".
    MEET_HOLD_MS: '15000',
  };
  const db = openDatabase(dataDir);
  const tmToken = await addTicketmaster(db, 'Ada', 4);
  db.close();
  return { dataDir, agent, env, tmToken };
}

async function mint(url: string, tmToken: string): Promise<string> {
  const res = await fetch(`${url}/generate_token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ token: tmToken }),
  });
  return ((await res.json()) as { ticket: string }).ticket;
}

const create = (url: string, ticket: string, user: string) =>
  fetch(`${url}/create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ user, password: GOOD_PASSWORD, token: ticket }),
  });

describe('startAuthServer', () => {
  it('serves over HTTP and close() lets a held /create finish before stopping', async () => {
    const { env, tmToken, agent } = await setup(() => ({ hangMs: 400 }));
    const lines: string[] = [];
    const log = createLogger({
      destination: new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) }),
    });
    const server: AuthServer = await startAuthServer(loadAuthConfig(env), { log });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ticket = await mint(server.url, tmToken);
    const inFlight = create(server.url, ticket, 'graceful');
    await until(
      'the agent holds the delivery',
      () => agent.jobs.length,
      (n) => n > 0,
    );
    const closed = server.close();
    const res = await inFlight;
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: 'created' });
    await closed;
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    expect(lines.join('')).toContain('meet-auth stopped');
    expect(lines.join('')).not.toContain(GOOD_PASSWORD);
  });

  it('serves HTTPS when MEET_TLS_CERT and MEET_TLS_KEY are set', async () => {
    const { env, dataDir } = await setup();
    const cert = join(dataDir, 'cert.pem');
    const key = join(dataDir, 'key.pem');
    writeSelfSigned({ cert, key, commonName: '127.0.0.1', days: 1 });
    const server = await startAuthServer(
      loadAuthConfig({ ...env, MEET_TLS_CERT: cert, MEET_TLS_KEY: key, MEET_LOG_LEVEL: 'silent' }),
    );
    cleanups.push(() => server.close());
    expect(server.url).toMatch(/^https:\/\//);
    const body = await new Promise<string>((done, fail) => {
      httpsRequest(`${server.url}/healthz`, { rejectUnauthorized: false }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => done(text));
      })
        .on('error', fail)
        .end();
    });
    expect(JSON.parse(body)).toEqual({ status: 'ok' });
  });

  it('uses the socket peer as client address, and X-Forwarded-For only from a trusted proxy', async () => {
    const { env } = await setup();
    const server = await startAuthServer({
      ...loadAuthConfig({ ...env, MEET_TRUSTED_PROXIES: '127.0.0.1', MEET_LOG_LEVEL: 'silent' }),
      rateLimits: { addressFailures: 1, credentialFailures: 100, windowSeconds: 60 },
    });
    cleanups.push(() => server.close());
    const bad = (xff: string) =>
      fetch(`${server.url}/create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-forwarded-for': xff },
        body: JSON.stringify({ user: 'x', password: GOOD_PASSWORD, token: 'bad' }),
      });
    expect((await bad('203.0.113.1')).status).toBe(403);
    expect((await bad('203.0.113.1')).status).toBe(429);
    expect((await bad('203.0.113.2')).status).toBe(403);
  });
});

describe('main.ts', () => {
  function startMain(env: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'edge/auth/main.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const url = new Promise<string>((done, fail) => {
      child.stderr.on('data', () => {
        const match = /listening on (\S+)/.exec(stderr);
        if (match) done(match[1]!);
      });
      void exited.then(() => fail(new Error(`exited early: ${stderr}`)));
    });
    url.catch(() => undefined);
    return { child, url, exited, output: () => ({ stdout, stderr }) };
  }

  it('on SIGTERM finishes the request in flight, then exits 0', async () => {
    const { env, tmToken, agent } = await setup(() => ({ hangMs: 500 }));
    const main = startMain(env);
    cleanups.push(() => void main.child.kill('SIGKILL'));
    const url = await main.url;
    const ticket = await mint(url, tmToken);
    const inFlight = create(url, ticket, 'sigterm');
    await until(
      'the agent holds the delivery',
      () => agent.jobs.length,
      (n) => n > 0,
    );
    main.child.kill('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ status: 'created' });
    expect(await main.exited).toBe(0);
    const { stdout, stderr } = main.output();
    expect(stderr).toContain('SIGTERM');
    expect(stdout).toContain('"msg":"ticket redeemed"');
    expect(stdout + stderr).not.toContain(GOOD_PASSWORD);
    expect(stdout + stderr).not.toContain(ticket.split('.')[1]);
    expect(stdout + stderr).not.toContain(tmToken.split('.')[1]);
  });

  it('exits 1 listing configuration problems without echoing secrets', async () => {
    const main = startMain({
      MEET_AGENTS: '[]',
      MEET_AGENT_SIGNING_SECRETS: '{"x": "whsec_dG9vc2hvcnQ="}',
      MEET_AUTH_PORT: 'eighty',
    });
    expect(await main.exited).toBe(1);
    const { stderr } = main.output();
    expect(stderr).toContain('Invalid meet-auth configuration');
    expect(stderr).toContain('MEET_AUTH_PORT');
    expect(stderr).toContain('MEET_AGENTS');
    expect(stderr).not.toContain('dG9vc2hvcnQ');
  });
});
