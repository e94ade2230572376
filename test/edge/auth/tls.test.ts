/**
 * meet-auth's HTTPS certificate follows the files without a restart (the daily `certs renew` replaces them), it
 * starts before the first certificate exists, and its plain-HTTP listener answers ACME challenges and redirects
 * everything else. Real TLS clients, real certificates from openssl.
 */
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { connect } from 'node:tls';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadAuthConfig } from '../../../edge/auth/config.js';
import { startAuthServer, type AuthServer } from '../../../edge/auth/server.js';
import { createLogger } from '../../../edge/shared/log.js';
import { idleAuthEnv } from '../../support/auth-env.js';
import { freePort } from '../../support/ports.js';
import { until } from '../../support/until.js';
import { writeSelfSigned } from '../../support/self-signed.js';

let dir: string;
let certsDir: string;
let challengeDir: string;
let server: AuthServer;
const logLines: string[] = [];

/** A self-signed pair in `<dir>/<name>.crt|.key`. */
function makePair(name: string): { crt: string; key: string; fingerprint: string } {
  const crt = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  writeSelfSigned({ cert: crt, key, commonName: name, days: 2 });
  return { crt, key, fingerprint: new X509Certificate(readFileSync(crt)).fingerprint256 };
}

/** Puts a file in place the way `certs` does: a temp file renamed over the target. */
function install(source: string, target: string) {
  copyFileSync(source, `${target}.tmp`);
  renameSync(`${target}.tmp`, target);
}

function served(): Promise<string> {
  const { port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

async function eventuallyServed(fingerprint: string): Promise<void> {
  await until(
    `meet-auth serves ${fingerprint}`,
    () => served().catch((error: Error) => error.message),
    (last) => last === fingerprint,
    { timeoutMs: 3000 },
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meet-auth-tls-'));
  certsDir = join(dir, 'certs');
  challengeDir = join(dir, 'challenges');
  mkdirSync(certsDir);
  mkdirSync(challengeDir);
  const log = createLogger({
    level: 'info',
    destination: new Writable({ write: (chunk, _e, cb) => (logLines.push(String(chunk)), cb()) }),
  });
  server = await startAuthServer(
    loadAuthConfig(
      idleAuthEnv(join(dir, 'data'), {
        MEET_AUTH_PORT: '0',
        MEET_AUTH_HTTP_PORT: String(await freePort()),
        MEET_PUBLIC_URL: 'https://auth.example.test',
        MEET_TLS_CERT: join(certsDir, 'cert.crt'),
        MEET_TLS_KEY: join(certsDir, 'cert.key'),
        MEET_ACME_CHALLENGE_DIR: challengeDir,
      }),
    ),
    { log, tlsPollMs: 20 },
  );
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('meet-auth TLS and its plain-HTTP listener', () => {
  it('starts without a certificate: HTTPS handshakes fail, the HTTP listener serves challenges and redirects the rest', async () => {
    expect(server.url).toMatch(/^https:/);
    await expect(served()).rejects.toThrow();
    expect(logLines.join('')).toContain('no usable TLS certificate yet');
    writeFileSync(join(challengeDir, 'tok-1'), 'tok-1.thumbprint');
    const challenge = await fetch(`${server.httpUrl}/.well-known/acme-challenge/tok-1`);
    expect([challenge.status, await challenge.text()]).toEqual([200, 'tok-1.thumbprint']);
    expect((await fetch(`${server.httpUrl}/.well-known/acme-challenge/nope`)).status).toBe(404);
    expect((await fetch(`${server.httpUrl}/.well-known/acme-challenge/..%2Fcerts`)).status).toBe(404);
    for (const [path, location] of [
      ['/', 'https://auth.example.test/'],
      ['/create?x=1', 'https://auth.example.test/create?x=1'],
    ] as const) {
      const res = await fetch(`${server.httpUrl}${path}`, { redirect: 'manual' });
      expect([res.status, res.headers.get('location')]).toEqual([301, location]);
    }
    const post = await fetch(`${server.httpUrl}/create`, { method: 'POST', body: 'user=x', redirect: 'manual' });
    expect(post.status).toBe(301);
    // Never an open redirect: a path that looks protocol-relative stays on our origin.
    const { port } = new URL(server.httpUrl!);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port: Number(port) }, () =>
        socket.end('GET //evil.example/x HTTP/1.0\r\nHost: a\r\n\r\n'),
      );
      let text = '';
      socket.on('data', (chunk) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.once('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 301/);
    expect(raw).toMatch(/\r\nlocation: https:\/\/auth\.example\.test\/\/evil\.example\/x\r\n/i);
  });

  it('serves the first certificate once written, then each renewed one; a key that does not match is skipped', async () => {
    const first = makePair('first');
    install(first.key, join(certsDir, 'cert.key'));
    install(first.crt, join(certsDir, 'cert.crt'));
    await eventuallyServed(first.fingerprint);
    expect(logLines.join('')).toContain('TLS certificate loaded');

    // Between the two renames of a renewal the new key sits beside the old certificate: keep serving the old pair.
    const second = makePair('second');
    install(second.key, join(certsDir, 'cert.key'));
    await until(
      'meet-auth looked at the new key',
      () => logLines.join(''),
      (log) => log.includes('is not the key of'),
      { timeoutMs: 3000 },
    );
    expect(await served()).toBe(first.fingerprint);
    expect(logLines.join('')).toContain('is not the key of');

    install(second.crt, join(certsDir, 'cert.crt'));
    await eventuallyServed(second.fingerprint);
    // Healthy over the reloaded context, as a client sees it.
    const { port } = new URL(server.url);
    const health = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: Number(port), rejectUnauthorized: false }, () =>
        socket.end('GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n'),
      );
      let text = '';
      socket.on('data', (chunk) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.once('error', reject);
    });
    expect(health).toMatch(/^HTTP\/1\.1 200/);
  });
});

describe('configuration', () => {
  it('MEET_AUTH_HTTP_PORT needs TLS; the challenge directory defaults to $MEET_DATA_DIR/acme-challenge', () => {
    expect(() => loadAuthConfig(idleAuthEnv('/d', { MEET_AUTH_HTTP_PORT: '8081' }))).toThrow(ConfigError);
    expect(() => loadAuthConfig(idleAuthEnv('/d', { MEET_AUTH_HTTP_PORT: '8081' }))).toThrow(
      'MEET_AUTH_HTTP_PORT: 8081 is set without MEET_TLS_CERT',
    );
    const config = loadAuthConfig(idleAuthEnv('/d'));
    expect([config.acmeChallengeDir, config.httpPort]).toEqual(['/d/acme-challenge', null]);
    expect(loadAuthConfig(idleAuthEnv('/d', { MEET_ACME_CHALLENGE_DIR: '/acme-challenge' })).acmeChallengeDir).toBe(
      '/acme-challenge',
    );
  });
});
