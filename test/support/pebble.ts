/**
 * A throwaway real Pebble (Let's Encrypt's test CA, Debian package `pebble`) with pebble-challtestsrv as its DNS,
 * answering every name with 127.0.0.1, so Pebble validates HTTP-01 against `httpPort` on loopback, where a test
 * serves the challenge directory. Pebble's own HTTPS listener uses a certificate made here; trust it with
 * `NODE_EXTRA_CA_CERTS=<caFile>` (child processes) or `ca: caPem` (in-process agents).
 *
 *   const pebble = await startPebble({ httpPort });
 *   afterAll(() => pebble.stop());
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireInstalled } from './installed.js';
import { freePort } from './ports.js';
import { writeSelfSigned } from './self-signed.js';
import { waitForLine } from './until.js';

requireInstalled('Pebble', 'test/support/pebble.ts');

const PEBBLE = '/usr/bin/pebble';
const CHALLTESTSRV = '/usr/bin/pebble-challtestsrv';

export interface TestPebble {
  /** The ACME directory URL (MEET_ACME_DIRECTORY). */
  readonly directoryUrl: string;
  /** PEM file of Pebble's listener certificate, for NODE_EXTRA_CA_CERTS. */
  readonly caFile: string;
  readonly caPem: string;
  /** Pebble's issuing intermediate and root (management interface), PEM. */
  intermediatePem(): Promise<string>;
  rootPem(): Promise<string>;
  /** Everything Pebble and challtestsrv printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export interface PebbleOptions {
  /** Where Pebble connects for HTTP-01 validation (on 127.0.0.1). */
  readonly httpPort: number;
  /** Validity of issued certificates. @default Pebble's (5 years) */
  readonly validitySeconds?: number;
}

/** Fails with a clear message (and how to fix it) when Pebble is not installed. */
export function requirePebble(binaries: readonly string[] = [PEBBLE, CHALLTESTSRV]): void {
  const missing = binaries.filter((binary) => !existsSync(binary));
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(' and ')} not found: the ACME tests need Debian's pebble package (bash .ci/setup, or apt-get install pebble)`,
    );
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function startPebble(options: PebbleOptions): Promise<TestPebble> {
  requirePebble();
  const dir = await mkdtemp(join(tmpdir(), 'pebble-'));
  const caFile = join(dir, 'listener.crt');
  const keyFile = join(dir, 'listener.key');
  writeSelfSigned({
    cert: caFile,
    key: keyFile,
    commonName: 'pebble listener',
    altNames: ['IP:127.0.0.1', 'DNS:localhost'],
    days: 2,
  });

  const [acmePort, managementPort, dnsPort, challtestsrvPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const configFile = join(dir, 'pebble.json');
  await writeFile(
    configFile,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: caFile,
        privateKey: keyFile,
        httpPort: options.httpPort,
        tlsPort: await freePort(),
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        ...(options.validitySeconds ? { certificateValidityPeriod: options.validitySeconds } : {}),
      },
    }),
  );

  let log = '';
  const collect = (child: ChildProcess) => {
    child.stdout!.on('data', (chunk) => (log += chunk));
    child.stderr!.on('data', (chunk) => (log += chunk));
    return child;
  };
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map(stopChild));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // Only the DNS server is needed (every A query answered with 127.0.0.1, no AAAA); its challenge servers are off.
    const dns = collect(
      spawn(
        CHALLTESTSRV,
        [
          '-defaultIPv4',
          '127.0.0.1',
          '-defaultIPv6',
          '',
          '-dns01',
          `127.0.0.1:${dnsPort}`,
          '-http01',
          '',
          '-https01',
          '',
          '-tlsalpn01',
          '',
          '-management',
          `127.0.0.1:${challtestsrvPort}`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    children.push(dns);
    await waitForLine(dns, /Starting challenge servers/, {
      stdout: true,
      timeoutMs: 15_000,
      what: 'pebble-challtestsrv',
    });
    const pebble = collect(
      spawn(PEBBLE, ['-config', configFile, '-dnsserver', `127.0.0.1:${dnsPort}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
        // No random validation delay, no spurious bad-nonce errors, and almost no reuse of an account's valid
        // authorizations: 0 still reuses 1 time in 100 (pebble v2.4.0 wfe/wfe.go), so a test that needs a
        // challenge for every name orders under a new account.
        env: {
          PATH: process.env.PATH ?? '',
          PEBBLE_VA_NOSLEEP: '1',
          PEBBLE_WFE_NONCEREJECT: '0',
          PEBBLE_AUTHZREUSE: '0',
        },
      }),
    );
    children.push(pebble);
    await waitForLine(pebble, /ACME directory available at/, { stdout: true, timeoutMs: 15_000, what: 'pebble' });
  } catch (error) {
    await stop();
    throw error;
  }

  const caPem = await readFile(caFile, 'utf8');
  const management = (path: string) =>
    new Promise<string>((resolve, reject) => {
      request({ host: '127.0.0.1', port: managementPort, path, ca: caPem }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(body) : reject(new Error(`pebble ${path}: HTTP ${res.statusCode}`)),
        );
      })
        .on('error', reject)
        .end();
    });
  return {
    directoryUrl: `https://127.0.0.1:${acmePort}/dir`,
    caFile,
    caPem,
    intermediatePem: () => management('/intermediates/0'),
    rootPem: () => management('/roots/0'),
    output: () => log,
    stop,
  };
}
