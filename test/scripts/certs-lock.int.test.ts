/**
 * `npm run certs` runs that overlap, as the daily timer and an admin by hand can: real child processes against a
 * real Pebble, the challenge directory served by meet-auth's plain-HTTP app. One run at a time per directory; a
 * killed run's lock and temp files do not block or litter the next one.
 */
import { hostFilesOf } from '../stacks/helpers.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainHttpApp } from '../../edge/auth/routes/acme.js';
import { startPebble, type TestPebble } from '../support/pebble.js';
import { freePort } from '../support/ports.js';
import { CERT_RENEWAL_LIMITS, hostFiles } from '../../stacks/host-files.js';
import { ROOT } from '../support/run-script.js';
import { until } from '../support/until.js';

const DOMAIN = 'meet.test';
const CHALLENGE_DELAY_MS = 1500;
let pebble: TestPebble;
let http: ServerType;
let challengeRequests = 0;
let dataDir: string;
let certsDir: string;
let acmeDir: string;
let baseEnv: Record<string, string>;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  const httpPort = await freePort();
  // 100 days, so MEET_CERT_RENEW_DAYS=365 makes a fresh certificate due.
  pebble = await startPebble({ httpPort, validitySeconds: 100 * 86_400 });
  dataDir = mkdtempSync(join(tmpdir(), 'meet-certs-lock-'));
  certsDir = join(dataDir, 'certs');
  acmeDir = join(dataDir, 'acme');
  const challengeDir = join(dataDir, 'acme-challenge');
  mkdirSync(challengeDir, { recursive: true });
  const app = plainHttpApp(challengeDir, `https://${DOMAIN}`);
  http = await new Promise((resolve) => {
    const server = serve(
      {
        fetch: async (request) => {
          if (new URL(request.url).pathname.startsWith('/.well-known/acme-challenge/')) {
            challengeRequests += 1;
            // A slow answer keeps an ordering run inside its lock for a while: two runs started together then
            // really overlap, however unevenly the machine starts them.
            await new Promise((resolve) => setTimeout(resolve, CHALLENGE_DELAY_MS));
          }
          return app.fetch(request);
        },
        hostname: '127.0.0.1',
        port: httpPort,
      },
      () => resolve(server),
    );
  });
  baseEnv = {
    PATH: process.env.PATH ?? '',
    MEET_DATA_DIR: dataDir,
    MEET_CERT_DOMAINS: DOMAIN,
    MEET_ACME_DIRECTORY: pebble.directoryUrl,
    NODE_EXTRA_CA_CERTS: pebble.caFile,
  };
}, 60_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await new Promise((resolve) => http?.close(resolve));
  await pebble?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface Run {
  readonly pid: number;
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** `npm run certs -- <args>` as a child process whose pid we know (node itself, as runScript runs it). */
function certs(args: readonly string[], env: Record<string, string> = {}): Run {
  // The names resolve only inside Pebble, so acme-client's own pre-check could not reach them.
  const skip = args[0] === 'status' ? [] : ['--skip-self-check'];
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/certs.mts'), ...args, ...skip], {
    cwd: ROOT,
    env: { ...baseEnv, ...env },
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => {
      child.once('close', (code, signal) => {
        children.delete(child);
        resolve({ code, signal, stdout, stderr });
      });
    },
  );
  return { pid: child.pid!, done };
}

const lockPid = (dir: string) => {
  try {
    return (JSON.parse(readFileSync(join(dir, '.certs.lock'), 'utf8')) as { pid: number }).pid;
  } catch {
    return null;
  }
};
/** Orders Pebble received (its log names each request of the new-order endpoint). */
const ordersAtCa = () => pebble.output().match(/POST \/order-plz/g)?.length ?? 0;
const serial = () => new X509Certificate(readFileSync(join(certsDir, 'cert.crt'), 'utf8')).serialNumber;

/** A CA that accepts connections and never answers: a run ordering from it holds its lock until killed. */
async function hangingCa(): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${port}/dir`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('overlapping certs runs', () => {
  it('renew and issue started together: one orders from the CA, the other waits for it and then finds the fresh certificate', async () => {
    const ordersBefore = ordersAtCa();
    const [a, b] = [certs(['renew']), certs(['issue'])];
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect([ra.code, rb.code], `${ra.stderr}\n${rb.stderr}\n${pebble.output()}`).toEqual([0, 0]);
    const [winner, loser] = ra.stdout.startsWith('issued')
      ? [
          { run: a, result: ra },
          { run: b, result: rb },
        ]
      : [
          { run: b, result: rb },
          { run: a, result: ra },
        ];
    expect(winner.result.stdout).toMatch(/^issued a certificate for meet\.test by Pebble Intermediate CA/);
    expect(loser.result.stdout).toMatch(/^nothing to do: the certificate is valid for \d+ more days/);
    // The loser waited for the winner's lock (it may have found it on either directory), named the winner, then went on.
    expect(loser.result.stderr).toMatch(
      new RegExp(
        `certs: another certs run \\(pid ${winner.run.pid}\\) holds the lock ${dataDir}/(certs|acme)/\\.certs\\.lock \\(\\w+ on host ${hostname()} since \\S+\\); waiting up to 600 s`,
      ),
    );
    expect(loser.result.stderr).toContain('certs: the other run is done; took the lock');
    expect(loser.result.stderr).not.toContain('ordering a certificate');
    expect(ordersAtCa() - ordersBefore).toBe(1);
    expect(challengeRequests).toBeGreaterThanOrEqual(1);
    expect(readdirSync(certsDir).sort()).toEqual(['cert.crt', 'cert.key']);
    expect(readdirSync(acmeDir).sort()).toEqual(['account.key', 'accounts.json']);
  }, 60_000);

  it('a run that cannot get the lock within MEET_CERT_LOCK_WAIT_SECONDS exits 1 naming the holder, and changes nothing', async () => {
    const ca = await hangingCa();
    const before = {
      crt: readFileSync(join(certsDir, 'cert.crt'), 'utf8'),
      key: readFileSync(join(certsDir, 'cert.key'), 'utf8'),
    };
    const holder = certs(['issue', '--force'], { MEET_ACME_DIRECTORY: ca.url });
    try {
      await until(
        'the hanging run holds both locks',
        () => lockPid(certsDir) === holder.pid && lockPid(acmeDir) === holder.pid,
      );
      const started = Date.now();
      const waiter = await certs(['renew'], { MEET_CERT_LOCK_WAIT_SECONDS: '1', MEET_CERT_RENEW_DAYS: '365' }).done;
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(waiter.code).toBe(1);
      const lock = join(certsDir, '.certs.lock');
      expect(waiter.stderr).toContain(
        `certs: another certs run (pid ${holder.pid}) holds the lock ${lock} (issue on host ${hostname()} since `,
      );
      expect(waiter.stderr).toContain('waiting up to 1 s for it to finish');
      expect(waiter.stderr).toMatch(
        new RegExp(
          `certs: renew failed, the current certificate \\(if any\\) is unchanged: another certs run \\(pid ${holder.pid}\\) still holds the lock ${lock} after 1 s of waiting`,
        ),
      );
      expect(waiter.stderr).not.toContain('renewing');
      // status never waits: it reports as usual and leaves the running run's files alone.
      writeFileSync(join(certsDir, '.cert.key.99999.0badcafe.tmp'), 'in use');
      const status = await certs(['status', '--json']).done;
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ certificate: { names: [DOMAIN] } });
      expect(status.stderr).toContain(
        `certs: another certs run (pid ${holder.pid}), issue on host ${hostname()} since `,
      );
      expect(existsSync(join(certsDir, '.cert.key.99999.0badcafe.tmp'))).toBe(true);
      rmSync(join(certsDir, '.cert.key.99999.0badcafe.tmp'));
      expect({
        crt: readFileSync(join(certsDir, 'cert.crt'), 'utf8'),
        key: readFileSync(join(certsDir, 'cert.key'), 'utf8'),
      }).toEqual(before);
    } finally {
      process.kill(holder.pid, 'SIGKILL');
      await holder.done;
      await ca.close();
    }
  }, 60_000);

  it('the lock of a killed run is taken over at once by the next run, which orders normally', async () => {
    // The previous test killed its holder with SIGKILL: both lock files are still there, naming a process that is gone.
    const dead = lockPid(certsDir);
    expect(dead).not.toBeNull();
    expect(lockPid(acmeDir)).toBe(dead);
    const oldSerial = serial();
    const ordersBefore = ordersAtCa();
    const started = Date.now();
    const result = await certs(['renew'], { MEET_CERT_RENEW_DAYS: '365' }).done;
    expect(result.code, result.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
    for (const dir of [certsDir, acmeDir]) {
      expect(result.stderr).toMatch(
        new RegExp(
          `certs: removing the stale lock ${dir}/\\.certs\\.lock of another certs run \\(pid ${dead}\\) \\(issue on host .*\\): its process ${dead} on ${hostname()} is gone`,
        ),
      );
    }
    expect(result.stderr).not.toContain('waiting up to');
    expect(result.stdout).toMatch(/^issued a certificate/);
    expect(ordersAtCa() - ordersBefore).toBe(1);
    expect(serial()).not.toBe(oldSerial);
    expect(readdirSync(certsDir).sort()).toEqual(['cert.crt', 'cert.key']);
    expect(readdirSync(acmeDir).sort()).toEqual(['account.key', 'accounts.json']);
  }, 60_000);

  it('temp files a crash left mid-write are removed by the next status or renew; other files stay', async () => {
    const before = {
      crt: readFileSync(join(certsDir, 'cert.crt'), 'utf8'),
      key: readFileSync(join(certsDir, 'cert.key'), 'utf8'),
    };
    const leave = () => {
      writeFileSync(join(certsDir, '.cert.key.4242.0123abcd.tmp'), 'half a key', { mode: 0o600 });
      writeFileSync(join(certsDir, '.cert.crt.4242.89abcdef.tmp'), '-----BEGIN CERTIFICATE-----\nhalf');
      writeFileSync(join(acmeDir, '.accounts.json.4242.deadbeef.tmp'), '{"half":');
      writeFileSync(join(certsDir, 'README'), 'not ours');
    };
    leave();
    const status = await certs(['status']).done;
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('renewal due:      no');
    expect(status.stderr).toContain(
      `certs: removed 2 temp file(s) an interrupted run left in ${certsDir}: .cert.crt.4242.89abcdef.tmp, .cert.key.4242.0123abcd.tmp`,
    );
    expect(status.stderr).toContain(
      `certs: removed 1 temp file(s) an interrupted run left in ${acmeDir}: .accounts.json.4242.deadbeef.tmp`,
    );
    expect(readdirSync(certsDir).sort()).toEqual(['README', 'cert.crt', 'cert.key']);
    expect(readdirSync(acmeDir).sort()).toEqual(['account.key', 'accounts.json']);

    leave();
    const renew = await certs(['renew']).done;
    expect(renew.code).toBe(0);
    expect(renew.stdout).toMatch(/^nothing to do/);
    expect(renew.stderr).toContain(`removed 2 temp file(s) an interrupted run left in ${certsDir}`);
    expect(renew.stderr).toContain(`removed 1 temp file(s) an interrupted run left in ${acmeDir}`);
    expect(readdirSync(certsDir).sort()).toEqual(['README', 'cert.crt', 'cert.key']);
    expect(readdirSync(acmeDir).sort()).toEqual(['account.key', 'accounts.json']);
    expect({
      crt: readFileSync(join(certsDir, 'cert.crt'), 'utf8'),
      key: readFileSync(join(certsDir, 'cert.key'), 'utf8'),
    }).toEqual(before);
    rmSync(join(certsDir, 'README'));
  }, 60_000);

  it("a run stuck on the network is ended by the renewal timer's own command, and the next run takes its lock over at once", async () => {
    // The timer's ExecStart as rendered, run here without `docker exec <container>` and with the limits shortened;
    // node runs the TypeScript entry point instead of the image's dist/ build.
    const { runSec: renewSec, killAfterSec } = CERT_RENEWAL_LIMITS;
    const exec = hostFilesOf(hostFiles('meet-auth'))
      .find((file) => file.path.endsWith('/meet-cert-renewal.service'))!
      .content.split('\n')
      .find((line) => line.startsWith('ExecStart='))!
      .slice('ExecStart='.length)
      .split(' ');
    expect(exec.slice(0, 3)).toEqual(['/usr/bin/docker', 'exec', 'meet-edge']);
    const limitSec = 8;
    const args = exec.slice(3).flatMap((arg) => {
      if (arg === String(renewSec)) return [String(limitSec)];
      if (arg === `--kill-after=${killAfterSec}`) return ['--kill-after=5'];
      if (arg === 'node') return [process.execPath, '--import', 'tsx'];
      if (arg === 'dist/scripts/certs.mjs') return [join(ROOT, 'scripts/certs.mts')];
      return [arg];
    });
    expect(args.slice(0, 3)).toEqual(['timeout', '--kill-after=5', String(limitSec)]);
    expect(args.at(-1)).toBe('renew');

    const ca = await hangingCa();
    const before = {
      crt: readFileSync(join(certsDir, 'cert.crt'), 'utf8'),
      key: readFileSync(join(certsDir, 'cert.key'), 'utf8'),
    };
    const started = Date.now();
    // Due (window longer than the validity), and no flag: the timer passes none, the container's environment decides.
    const stuck = spawn(args[0]!, args.slice(1), {
      cwd: ROOT,
      env: { ...baseEnv, MEET_ACME_DIRECTORY: ca.url, MEET_CERT_RENEW_DAYS: '365', MEET_ACME_SELF_CHECK: '0' },
    });
    children.add(stuck);
    let stuckErr = '';
    stuck.stderr!.on('data', (chunk) => (stuckErr += chunk));
    const ended = new Promise<number | null>((resolve) =>
      stuck.once('close', (code) => {
        children.delete(stuck);
        resolve(code);
      }),
    );
    try {
      await until('the stuck run holds the lock', () => lockPid(certsDir) !== null && lockPid(acmeDir) !== null);
      const holder = lockPid(certsDir)!;
      expect(holder).not.toBe(stuck.pid); // node under timeout, as in the container
      // coreutils' timeout: exit 124 when it had to stop the command.
      expect(await ended, stuckErr).toBe(124);
      expect(Date.now() - started).toBeGreaterThanOrEqual(limitSec * 1000);
      expect(stuckErr).toContain('renewing: ');
      expect(stuckErr).not.toContain('renew failed');
      expect(() => process.kill(holder, 0)).toThrow();
      expect(lockPid(certsDir)).toBe(holder);
      expect({
        crt: readFileSync(join(certsDir, 'cert.crt'), 'utf8'),
        key: readFileSync(join(certsDir, 'cert.key'), 'utf8'),
      }).toEqual(before);
    } finally {
      if (stuck.exitCode === null) stuck.kill('SIGKILL');
      await ca.close();
    }

    // The next run, with self-check off through MEET_ACME_SELF_CHECK alone (these names resolve only inside Pebble).
    const ordersBefore = ordersAtCa();
    const next = spawn(args[0]!, args.slice(1), {
      cwd: ROOT,
      env: { ...baseEnv, MEET_CERT_RENEW_DAYS: '365', MEET_ACME_SELF_CHECK: '0' },
    });
    children.add(next);
    let nextOut = '';
    let nextErr = '';
    next.stdout!.on('data', (chunk) => (nextOut += chunk));
    next.stderr!.on('data', (chunk) => (nextErr += chunk));
    expect(await new Promise((resolve) => next.once('close', resolve)), nextErr).toBe(0);
    children.delete(next);
    expect(nextErr).toMatch(
      new RegExp(
        `certs: removing the stale lock ${certsDir}/\\.certs\\.lock of another certs run .*: its process \\d+ on ${hostname()} is gone`,
      ),
    );
    expect(nextErr).not.toContain('waiting up to');
    expect(nextOut).toMatch(/^issued a certificate for meet\.test/);
    expect(ordersAtCa() - ordersBefore).toBe(1);
    expect(readdirSync(certsDir).sort()).toEqual(['cert.crt', 'cert.key']);
  }, 60_000);
});
