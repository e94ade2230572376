/**
 * `npm run rotate -- acme-account` against a real Pebble: RFC 8555 §7.3.5 key rollover. The account keeps its URL,
 * an order works with the new key, the CA refuses the old one; a dry run changes nothing; a run stopped after the
 * CA switched is finished by the same command.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import acme from 'acme-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainHttpApp } from '../../../edge/auth/routes/acme.js';
import { listAudit } from '../../../edge/auth/store/audit.js';
import { openDatabase } from '../../../edge/auth/store/db.js';
import { obtainCertificate } from '../../../scripts/lib/certs/acme.js';
import { loadCertsConfig, type CertsConfig } from '../../../scripts/lib/certs/config.js';
import { runRotateCli } from '../../../scripts/lib/rotate/cli.js';
import { capture, hashTree } from '../../support/admin-cli.js';
import { startPebble, type TestPebble } from '../../support/pebble.js';
import { freePort } from '../../support/ports.js';

const FAST = { attempts: 20, minMs: 100, maxMs: 500 };
let pebble: TestPebble;
let http: ServerType;
let dataDir: string;
let config: CertsConfig;
let env: Record<string, string>;

beforeAll(async () => {
  const httpPort = await freePort();
  pebble = await startPebble({ httpPort });
  acme.axios.defaults.httpsAgent = new Agent({ ca: pebble.caPem });
  dataDir = mkdtempSync(join(tmpdir(), 'meet-acme-rotate-'));
  env = {
    MEET_DATA_DIR: dataDir,
    MEET_CERT_DOMAINS: 'meet.test',
    MEET_ACME_DIRECTORY: pebble.directoryUrl,
    MEET_ADMIN: 'acme-test',
  };
  config = loadCertsConfig(env);
  mkdirSync(config.challengeDir, { recursive: true });
  http = await new Promise((resolve) => {
    const server = serve(
      { fetch: plainHttpApp(config.challengeDir, 'https://meet.test').fetch, hostname: '127.0.0.1', port: httpPort },
      () => resolve(server),
    );
  });
  await obtainCertificate(config, { progress: () => undefined, selfCheck: false, polling: FAST });
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => http?.close(resolve));
  await pebble?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const keyFile = () => join(config.accountDir, 'account.key');
const accountUrl = () =>
  (JSON.parse(readFileSync(join(config.accountDir, 'accounts.json'), 'utf8')) as Record<string, { url: string }>)[
    pebble.directoryUrl
  ]!.url;

async function urlForKey(key: string): Promise<string | null> {
  const client = new acme.Client({ directoryUrl: pebble.directoryUrl, accountKey: key, backoffAttempts: 1 });
  try {
    await client.createAccount({ onlyReturnExisting: true });
    return client.getAccountUrl();
  } catch {
    return null;
  }
}

describe('rotate acme-account', () => {
  it('--dry-run prints the steps and changes no byte', async () => {
    const before = await hashTree(dataDir);
    const result = await capture((io) => runRotateCli(['acme-account', '--dry-run'], io), env);
    expect(result.code, result.err.join('\n')).toBe(0);
    expect(result.err.join('\n')).toContain('key-change');
    expect(await hashTree(dataDir)).toEqual(before);
  });

  it('rolls the key over: same account URL, orders work with the new key, the old key is refused', async () => {
    const url = accountUrl();
    const oldKey = readFileSync(keyFile(), 'utf8');
    expect(await urlForKey(oldKey)).toBe(url);
    const result = await capture((io) => runRotateCli(['acme-account'], io), env);
    expect(result.code, result.err.join('\n')).toBe(0);
    const newKey = readFileSync(keyFile(), 'utf8');
    expect(newKey).not.toBe(oldKey);
    expect(statSync(keyFile()).mode & 0o777).toBe(0o600);
    expect(accountUrl()).toBe(url);
    expect(await urlForKey(newKey)).toBe(url);
    expect(await urlForKey(oldKey)).toBeNull();
    // An order through the normal path, signed with the new key.
    const issued = await obtainCertificate(config, { progress: () => undefined, selfCheck: false, polling: FAST });
    expect(issued.chainPem).toContain('BEGIN CERTIFICATE');
    const db = openDatabase(dataDir);
    expect(
      listAudit(db).some(
        (entry) =>
          entry.event === 'secret-rotated' &&
          entry.detail?.includes('acme-account') &&
          entry.detail.includes('acme-test'),
      ),
    ).toBe(true);
    db.close();
  });

  it('a run stopped after the CA switched is finished by the same command', async () => {
    const failed = await capture((io) => runRotateCli(['acme-account'], { ...io, failBeforeStep: 3 }), env);
    expect(failed.code).toBe(1);
    expect(failed.err.join('\n')).toMatch(/resume with the same command/);
    const resumed = await capture((io) => runRotateCli(['acme-account'], io), env);
    expect(resumed.code, resumed.err.join('\n')).toBe(0);
    expect(resumed.err.join('\n')).toContain('already has the new key');
    expect(await urlForKey(readFileSync(keyFile(), 'utf8'))).toBe(accountUrl());
  });

  it('a failure before the CA switched leaves the current key working', async () => {
    const key = readFileSync(keyFile(), 'utf8');
    const failed = await capture((io) => runRotateCli(['acme-account'], { ...io, failBeforeStep: 2 }), env);
    expect(failed.code).toBe(1);
    expect(await urlForKey(key)).toBe(accountUrl());
    const finished = await capture((io) => runRotateCli(['acme-account'], io), env);
    expect(finished.code, finished.err.join('\n')).toBe(0);
    expect(await urlForKey(key)).toBeNull();
  });
});
