/**
 * obtainCertificate in-process against a real Pebble; the challenge directory is served by meet-auth's own
 * plain-HTTP app (the one its HTTP listener runs) on the port Pebble validates.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainHttpApp } from '../../../../edge/auth/routes/acme.js';
import { obtainCertificate } from '../../../../scripts/lib/certs/acme.js';
import { loadCertsConfig, type CertsConfig } from '../../../../scripts/lib/certs/config.js';
import { requirePebble, startPebble, type TestPebble } from '../../../support/pebble.js';
import { freePort } from '../../../support/ports.js';

/** Pebble (PEBBLE_VA_NOSLEEP) validates at once; no need to wait a second between polls. */
const FAST = { attempts: 20, minMs: 100, maxMs: 500 };
let pebble: TestPebble;
let http: ServerType;
let dataDir: string;
let config: CertsConfig;

beforeAll(async () => {
  const httpPort = await freePort();
  pebble = await startPebble({ httpPort });
  // acme-client talks through its own axios instance; in this process it must trust Pebble's listener.
  acme.axios.defaults.httpsAgent = new Agent({ ca: pebble.caPem });
  dataDir = mkdtempSync(join(tmpdir(), 'meet-acme-'));
  config = loadCertsConfig({
    MEET_DATA_DIR: dataDir,
    MEET_CERT_DOMAINS: 'meet.test,www.meet.test',
    MEET_ACME_DIRECTORY: pebble.directoryUrl,
  });
  mkdirSync(config.challengeDir, { recursive: true });
  http = await new Promise((resolve) => {
    const server = serve(
      { fetch: plainHttpApp(config.challengeDir, 'https://meet.test').fetch, hostname: '127.0.0.1', port: httpPort },
      () => resolve(server),
    );
  });
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => http?.close(resolve));
  await pebble?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('obtainCertificate', () => {
  it("returns a chain from Pebble's intermediate for every name with its own key; creates the account key once", async () => {
    const lines: string[] = [];
    const first = await obtainCertificate(config, {
      progress: (line) => lines.push(line),
      selfCheck: false,
      polling: FAST,
    });
    const [leafPem, ...rest] = first.chainPem.split(/(?<=-----END CERTIFICATE-----\n?)/);
    const leaf = new X509Certificate(leafPem!);
    const intermediate = new X509Certificate(await pebble.intermediatePem());
    expect(leaf.verify(intermediate.publicKey)).toBe(true);
    expect(rest.join('')).toContain(intermediate.toString().trim());
    expect(leaf.checkHost('meet.test')).toBe('meet.test');
    expect(leaf.checkHost('www.meet.test')).toBe('www.meet.test');
    expect(leaf.checkPrivateKey(createPrivateKey(first.keyPem))).toBe(true);
    // Nothing is installed by obtainCertificate itself, and no challenge file is left.
    expect(readdirSync(dataDir).sort()).toEqual(['acme', 'acme-challenge']);
    expect(readdirSync(config.accountDir).sort()).toEqual(['account.key', 'accounts.json']);
    expect(readdirSync(config.challengeDir)).toEqual([]);
    const accountKey = join(config.accountDir, 'account.key');
    expect(statSync(accountKey).mode & 0o777).toBe(0o600);
    expect(statSync(config.accountDir).mode & 0o777).toBe(0o700);
    expect(lines.filter((line) => line.startsWith('created the ACME account key'))).toHaveLength(1);
    expect(lines.filter((line) => line.startsWith('registered the ACME account'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('challenge file removed'))).toHaveLength(2);

    const keyBefore = readFileSync(accountKey, 'utf8');
    const again: string[] = [];
    const second = await obtainCertificate(config, {
      progress: (line) => again.push(line),
      selfCheck: false,
      polling: FAST,
    });
    expect(readFileSync(accountKey, 'utf8')).toBe(keyBefore);
    expect(again.some((line) => line.startsWith('created'))).toBe(false);
    expect(second.keyPem).not.toBe(first.keyPem);
    expect(again.some((line) => line.startsWith('registered'))).toBe(false);
  });

  it('keeps the account URL per CA (0600) and updates the contact only when MEET_ACME_EMAIL changes', async () => {
    const file = join(config.accountDir, 'accounts.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(stored[pebble.directoryUrl]).toEqual({
      url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+\//),
      contact: [],
    });
    const withEmail = { ...config, email: 'ops@meet.test' };
    const lines: string[] = [];
    await obtainCertificate(withEmail, { progress: (line) => lines.push(line), selfCheck: false, polling: FAST });
    expect(lines).toContain("updated the account's contact to mailto:ops@meet.test");
    expect(JSON.parse(readFileSync(file, 'utf8'))[pebble.directoryUrl]).toEqual({
      url: stored[pebble.directoryUrl].url,
      contact: ['mailto:ops@meet.test'],
    });
    const later: string[] = [];
    await obtainCertificate(withEmail, { progress: (line) => later.push(line), selfCheck: false, polling: FAST });
    expect(later.some((line) => line.startsWith('updated') || line.startsWith('registered'))).toBe(false);
  });

  it('checks the challenge URL itself by default, and removes the token file when that fails', async () => {
    // The name does not resolve outside Pebble: fail after one quick retry instead of minutes of backoff.
    // acme-client keeps its retry settings on its axios instance, outside axios's types.
    const settings = (
      acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number; retryDefaultDelay: number } }
    ).acmeSettings;
    const saved = { ...settings };
    Object.assign(settings, { retryMaxAttempts: 1, retryDefaultDelay: 0 });
    // A new account: Pebble would now and then hand the old one its valid authorizations and skip the challenge
    // (PEBBLE_AUTHZREUSE=0 still reuses 1 time in 100, see test/support/pebble.ts).
    const newAccount = loadCertsConfig({
      MEET_DATA_DIR: join(dataDir, 'self-check'),
      MEET_CERT_DOMAINS: 'meet.test,www.meet.test',
      MEET_ACME_DIRECTORY: pebble.directoryUrl,
      MEET_ACME_CHALLENGE_DIR: config.challengeDir,
    });
    try {
      await expect(
        obtainCertificate(newAccount, { progress: () => undefined, polling: { attempts: 1, minMs: 0, maxMs: 0 } }),
      ).rejects.toThrow(
        /^network error: (ENOTFOUND|EAI_AGAIN) from http:\/\/(www\.)?meet\.test:80\/\.well-known\/acme-challenge\/[\w-]+$/,
      );
    } finally {
      Object.assign(settings, saved);
    }
    expect(readdirSync(config.challengeDir)).toEqual([]);
  });

  it('refuses a broken account key naming the file, before contacting the CA', async () => {
    const broken = loadCertsConfig({
      MEET_DATA_DIR: join(dataDir, 'broken'),
      MEET_CERT_DOMAINS: 'meet.test',
      MEET_ACME_DIRECTORY: 'https://127.0.0.1:9/dir',
    });
    mkdirSync(broken.accountDir, { recursive: true });
    writeFileSync(join(broken.accountDir, 'account.key'), 'garbage');
    await expect(obtainCertificate(broken, { progress: () => undefined })).rejects.toThrow(
      `ACME account key ${join(broken.accountDir, 'account.key')}`,
    );
  });
});

it('requirePebble says what is missing and how to install it', () => {
  expect(() => requirePebble(['/nonexistent/pebble'])).toThrow(
    "/nonexistent/pebble not found: the ACME tests need Debian's pebble package (bash .ci/setup, or apt-get install pebble)",
  );
});
