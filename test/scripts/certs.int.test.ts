/**
 * `npm run certs` end to end, as on the meet-auth host: a real Pebble CA validates HTTP-01 against meet-auth's
 * own plain-HTTP listener (MEET_AUTH_HTTP_PORT), which serves the challenge directory the CLI writes to; meet-auth
 * starts before any certificate exists and picks each new one up over TLS without a restart.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAuthConfig } from '../../edge/auth/config.js';
import { startAuthServer, type AuthServer } from '../../edge/auth/server.js';
import { idleAuthEnv } from '../support/auth-env.js';
import { startPebble, type TestPebble } from '../support/pebble.js';
import { freePort } from '../support/ports.js';
import { runScript } from '../support/run-script.js';
import { until } from '../support/until.js';

const DOMAINS = ['auth.meet.test', 'meet.test'];
const VALIDITY_DAYS = 100;

let pebble: TestPebble;
let auth: AuthServer;
let dataDir: string;
let certsDir: string;
let baseEnv: Record<string, string>;

beforeAll(async () => {
  const httpPort = await freePort();
  pebble = await startPebble({ httpPort, validitySeconds: VALIDITY_DAYS * 86_400 });
  dataDir = mkdtempSync(join(tmpdir(), 'meet-certs-'));
  certsDir = join(dataDir, 'certs');
  // As in the meet-edge container: HTTPS from the certs directory, plain HTTP for the CA; default challenge dir.
  auth = await startAuthServer(
    loadAuthConfig(
      idleAuthEnv(dataDir, {
        MEET_AUTH_PORT: String(await freePort()),
        MEET_AUTH_HTTP_PORT: String(httpPort),
        MEET_PUBLIC_URL: 'https://auth.meet.test',
        MEET_TLS_CERT: join(certsDir, 'cert.crt'),
        MEET_TLS_KEY: join(certsDir, 'cert.key'),
      }),
    ),
    { tlsPollMs: 50 },
  );
  baseEnv = {
    MEET_DATA_DIR: dataDir,
    MEET_CERT_DOMAINS: DOMAINS.join(','),
    MEET_ACME_DIRECTORY: pebble.directoryUrl,
    MEET_ACME_EMAIL: 'ops@meet.test',
    NODE_EXTRA_CA_CERTS: pebble.caFile,
  };
}, 60_000);

afterAll(async () => {
  await auth?.close();
  await pebble?.stop();
  for (const dir of [dataDir, ...accounts]) if (dir) rmSync(dir, { recursive: true, force: true });
});

// The names resolve only inside Pebble (through challtestsrv), so acme-client's own pre-check could not reach them.
const SKIP = '--skip-self-check';
const certs = (args: string[], env: Record<string, string> = {}) =>
  runScript('scripts/certs.mts', args, { cleanEnv: true, env: { ...baseEnv, ...env } });
const read = (name: string) => readFileSync(join(certsDir, name), 'utf8');

/**
 * Settings for a run under a new ACME account, with the same certificate and challenge directories. Pebble may hand
 * an account its earlier valid authorization for a name instead of a new challenge: PEBBLE_AUTHZREUSE=0 still leaves
 * a 1 in 100 chance (pebble v2.4.0 wfe/wfe.go reuses unless `rand.Intn(100) > authzReusePercent`). A new account has
 * no valid authorization, so a test that needs a challenge for every name gets one.
 */
const accounts: string[] = [];
function newAccount(): Record<string, string> {
  const accountDataDir = mkdtempSync(join(tmpdir(), 'meet-certs-account-'));
  accounts.push(accountDataDir);
  return {
    MEET_DATA_DIR: accountDataDir,
    MEET_CERTS_DIR: certsDir,
    MEET_ACME_CHALLENGE_DIR: join(dataDir, 'acme-challenge'),
  };
}
const leafOf = (chain: string) => new X509Certificate(chain.split(/(?<=-----END CERTIFICATE-----)/)[0]!);
const mode = (path: string) => statSync(path).mode & 0o777;

/** A TCP listener standing in for a CA that must not be contacted: counts every connection. */
async function silentCa(): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${port}/dir`,
    connections: () => connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Where acme-client's own check of the challenge URLs goes: it fetches http://<name>/.well-known/acme-challenge/<token>
 * through axios, which takes `http_proxy` from the environment, so this stand-in for the names' port 80 sees every
 * such fetch (the names resolve only inside Pebble) and answers from the challenge directory.
 */
async function selfCheckProxy(
  challengeDir: string,
): Promise<{ url: string; fetched: () => string[]; close: () => Promise<void> }> {
  const fetched: string[] = [];
  const server = createHttpServer((request, response) => {
    const url = new URL(request.url ?? '/');
    fetched.push(`${url.host}${url.pathname}`);
    const token = /^\/\.well-known\/acme-challenge\/([\w-]+)$/.exec(url.pathname)?.[1];
    const path = token && join(challengeDir, token);
    if (path && existsSync(path)) response.end(readFileSync(path));
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    fetched: () => [...fetched],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The serial number meet-auth presents to a client that trusts only Pebble's root and checks the name. */
async function servedSerial(rootPem: string): Promise<string> {
  const { port } = new URL(auth.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port), servername: DOMAINS[0], ca: rootPem }, () => {
      const serial = socket.getPeerX509Certificate()!.serialNumber;
      socket.end();
      resolve(serial);
    });
    socket.once('error', reject);
  });
}

/** Waits until meet-auth serves the certificate with `serial` (it polls the files). */
async function expectServed(serial: string): Promise<void> {
  const rootPem = await pebble.rootPem();
  const served = () => servedSerial(rootPem).catch((error: unknown) => String(error));
  await until(`meet-auth serves ${serial}`, served, (last) => last === serial, { timeoutMs: 5000, everyMs: 50 });
}

describe('npm run certs', () => {
  it('--help documents the commands, the environment and the exit codes', async () => {
    const result = await certs(['--help']);
    expect(result.code).toBe(0);
    for (const text of [
      'issue [--force]',
      'renew',
      'status [--json]',
      'MEET_CERT_DOMAINS',
      'MEET_ACME_DIRECTORY',
      'MEET_ACME_SELF_CHECK',
      'MEET_CERT_RENEW_DAYS',
      'MEET_CERT_LOCK_WAIT_SECONDS',
      'One issue or renew runs at a time',
      'exit status',
    ])
      expect(result.stdout).toContain(text);
  });

  it('bad configuration or arguments exit 2 naming the bad value, and write nothing', async () => {
    const [bad, missing, force, unknown, none] = await Promise.all([
      certs(['issue'], {
        MEET_CERT_DOMAINS: 'meet.test,bad_name',
        MEET_ACME_DIRECTORY: 'http://ca.test/dir',
        MEET_CERT_RENEW_DAYS: 'soon',
      }),
      certs(['renew', SKIP], { MEET_CERT_DOMAINS: '' }),
      certs(['renew', '--force']),
      certs(['revoke']),
      certs([]),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('MEET_CERT_DOMAINS: "bad_name" is not a DNS name');
    expect(bad.stderr).toContain('MEET_ACME_DIRECTORY: "http://ca.test/dir"');
    expect(bad.stderr).toContain('MEET_CERT_RENEW_DAYS: "soon"');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('MEET_CERT_DOMAINS: is required');
    expect([force.code, force.stderr.split('\n')[0]]).toEqual([2, 'certs: renew takes no option --force']);
    expect([unknown.code, unknown.stderr.split('\n')[0]]).toEqual([2, 'certs: unknown command "revoke"']);
    expect([none.code, none.stderr.split('\n')[0]]).toEqual([2, 'certs: a command is required']);
    expect(existsSync(certsDir)).toBe(false);
    expect(existsSync(join(dataDir, 'acme'))).toBe(false);
  });

  it('status without a certificate says renewal is due', async () => {
    const result = await certs(['status', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      configuredNames: DOMAINS,
      certificate: null,
      renewalDue: true,
      daysLeft: null,
    });
  });

  let firstSerial: string;
  it("issue obtains a certificate chained to Pebble's intermediate, covering the names, key 0600; meet-auth serves it", async () => {
    const result = await certs(['issue', SKIP]);
    expect(result.stderr, pebble.output()).toContain('certs: issuing: there is no certificate');
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('created the ACME account key');
    expect(result.stdout).toContain(`issued a certificate for ${DOMAINS.join(', ')}`);
    expect(result.stderr).toContain('challenge file removed');

    const chain = read('cert.crt');
    const leaf = leafOf(chain);
    const intermediate = new X509Certificate(await pebble.intermediatePem());
    expect(leaf.checkIssued(intermediate)).toBe(true);
    expect(leaf.verify(intermediate.publicKey)).toBe(true);
    expect(chain).toContain(intermediate.toString().trim());
    for (const name of DOMAINS) expect(leaf.checkHost(name)).toBe(name);
    expect(leaf.checkPrivateKey((await import('node:crypto')).createPrivateKey(read('cert.key')))).toBe(true);
    expect(mode(join(certsDir, 'cert.key'))).toBe(0o600);
    expect(mode(join(dataDir, 'acme', 'account.key'))).toBe(0o600);
    expect(readdirSync(join(dataDir, 'acme-challenge'))).toEqual([]);
    expect(readdirSync(certsDir).sort()).toEqual(['cert.crt', 'cert.key']);
    firstSerial = leaf.serialNumber;
    await expectServed(firstSerial);
  });

  it('renew right after is a no-op that does not contact the CA; so is issue without --force', async () => {
    const before = { crt: read('cert.crt'), key: read('cert.key') };
    const ca = await silentCa();
    try {
      const renew = await certs(['renew', SKIP], { MEET_ACME_DIRECTORY: ca.url });
      expect(renew.code).toBe(0);
      expect(renew.stdout).toMatch(
        new RegExp(`^nothing to do: the certificate is valid for ${VALIDITY_DAYS - 1} more days`),
      );
      const issue = await certs(['issue', SKIP], { MEET_ACME_DIRECTORY: ca.url });
      expect(issue.code).toBe(0);
      expect(issue.stdout).toContain('nothing to do');
      expect(ca.connections()).toBe(0);
    } finally {
      await ca.close();
    }
    expect({ crt: read('cert.crt'), key: read('cert.key') }).toEqual(before);
  });

  it('status shows names, issuer, validity, days left and that renewal is not due', async () => {
    const text = await certs(['status']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/names: +auth\.meet\.test, meet\.test/);
    expect(text.stdout).toMatch(/issuer: +Pebble Intermediate CA/);
    expect(text.stdout).toMatch(/not before: +\d{4}-\d\d-\d\dT/);
    expect(text.stdout).toMatch(/not after: +\d{4}-\d\d-\d\dT/);
    expect(text.stdout).toContain(`days left:        ${VALIDITY_DAYS - 1}`);
    expect(text.stdout).toContain('renewal due:      no');
    const json = JSON.parse((await certs(['status', '--json'])).stdout);
    expect(json).toMatchObject({
      renewalDue: false,
      daysLeft: VALIDITY_DAYS - 1,
      renewDays: 30,
      certificate: { names: DOMAINS, chainLength: 2 },
    });
    expect(json.certificate.issuer).toMatch(/^Pebble Intermediate CA/);
  });

  it('renew inside the renewal window replaces the certificate and key; meet-auth serves the new one without a restart', async () => {
    const before = {
      crt: read('cert.crt'),
      key: read('cert.key'),
      account: readFileSync(join(dataDir, 'acme', 'account.key'), 'utf8'),
    };
    // A window longer than the certificate's whole validity: due at once.
    const result = await certs(['renew', SKIP], { MEET_CERT_RENEW_DAYS: String(VALIDITY_DAYS + 10) });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `renewing: the certificate expires in ${VALIDITY_DAYS - 1} days (renewal window ${VALIDITY_DAYS + 10} days)`,
    );
    const leaf = leafOf(read('cert.crt'));
    expect(leaf.serialNumber).not.toBe(firstSerial);
    expect(read('cert.key')).not.toBe(before.key);
    expect(mode(join(certsDir, 'cert.key'))).toBe(0o600);
    expect(readFileSync(join(dataDir, 'acme', 'account.key'), 'utf8')).toBe(before.account);
    await expectServed(leaf.serialNumber);
  });

  it('renew when the configured names changed obtains a certificate that covers the new name', async () => {
    const result = await certs(['renew', SKIP], { MEET_CERT_DOMAINS: [...DOMAINS, 'www.meet.test'].join(',') });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('renewing: the certificate does not cover www.meet.test');
    expect(leafOf(read('cert.crt')).checkHost('www.meet.test')).toBe('www.meet.test');
  });

  it('MEET_ACME_SELF_CHECK=1 (the default) fetches each challenge URL before the CA validates it; 0 does not, nor --skip-self-check over 1', async () => {
    const proxy = await selfCheckProxy(join(dataDir, 'acme-challenge'));
    // A window longer than the certificate's whole validity: every run orders.
    const due = { MEET_CERT_RENEW_DAYS: String(VALIDITY_DAYS + 10), http_proxy: proxy.url };
    const checked = (fetched: string[]) => fetched.map((entry) => entry.slice(0, entry.indexOf('/'))).sort();
    try {
      for (const env of [{}, { MEET_ACME_SELF_CHECK: '1' }] as Record<string, string>[]) {
        const before = proxy.fetched().length;
        const result = await certs(['renew'], { ...due, ...newAccount(), ...env });
        expect(result.code, result.stderr).toBe(0);
        const fetched = proxy.fetched().slice(before);
        expect(checked(fetched)).toEqual([...DOMAINS].sort());
        for (const entry of fetched) expect(entry).toMatch(/^[\w.]+\/\.well-known\/acme-challenge\/[\w-]+$/);
      }
      const before = proxy.fetched().length;
      const off = await certs(['renew'], { ...due, MEET_ACME_SELF_CHECK: '0' });
      const overridden = await certs(['renew', SKIP], { ...due, MEET_ACME_SELF_CHECK: '1' });
      for (const result of [off, overridden]) {
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toMatch(/^issued a certificate/);
      }
      expect(proxy.fetched().slice(before)).toEqual([]);
      const bad = await certs(['renew'], { ...due, MEET_ACME_SELF_CHECK: 'no' });
      expect([bad.code, bad.stderr.split('\n').slice(0, 2)]).toEqual([
        2,
        [
          'certs: invalid certificate configuration:',
          '  - MEET_ACME_SELF_CHECK: "no" must be 1 (fetch each challenge URL before the CA validates it, the default) or 0 (do not)',
        ],
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('a failing challenge exits 1, leaves the working certificate untouched and removes its token file', async () => {
    const before = { crt: read('cert.crt'), key: read('cert.key') };
    const served = leafOf(before.crt).serialNumber;
    // Tokens go where nothing serves them: Pebble gets 404 and the authorization fails.
    const unserved = mkdtempSync(join(tmpdir(), 'meet-certs-unserved-'));
    try {
      // A new account, so that every name gets a challenge (see newAccount) and the order cannot succeed.
      const result = await certs(['issue', '--force', SKIP], { ...newAccount(), MEET_ACME_CHALLENGE_DIR: unserved });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('challenge file removed');
      expect(result.stderr).toMatch(/issue failed, .*\/\.well-known\/acme-challenge\/[\w-]+ returned 404/);
      expect(result.stderr).toContain('certs: issue failed, the current certificate (if any) is unchanged:');
      expect(readdirSync(unserved)).toEqual([]);
    } finally {
      rmSync(unserved, { recursive: true, force: true });
    }
    expect({ crt: read('cert.crt'), key: read('cert.key') }).toEqual(before);
    expect(readdirSync(certsDir).sort()).toEqual(['cert.crt', 'cert.key']);
    await expectServed(served);
  });
});
