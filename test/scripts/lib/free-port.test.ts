import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  claimPort,
  ephemeralRange,
  freePort,
  nonEphemeralRange,
  PORT_CLAIMS_ENV,
  type PortRange,
} from '../../../scripts/lib/free-port.js';
import { ROOT } from '../../support/run-script.js';

const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const claimsDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'meet-free-port-'));
  dirs.push(dir);
  return dir;
};
/** A listener on 127.0.0.1 at `port`, closed after the test. */
async function listenOn(port: number): Promise<void> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}
/**
 * A block of `size` ports outside the ephemeral range, none of them listening now, claimed for this test in the run's
 * claims directory: the tests running beside this one never pick them, and this one binds only these.
 */
async function quietBlock(size: number): Promise<PortRange> {
  const runClaims = process.env[PORT_CLAIMS_ENV];
  const [first, last] = nonEphemeralRange(ephemeralRange());
  for (let start = last - size + 1; start >= first; start -= size) {
    const ports = Array.from({ length: size }, (_, i) => start + i);
    if (runClaims && !ports.every((port) => claimPort(runClaims, port))) continue;
    if ((await Promise.all(ports.map(canListen))).every(Boolean)) return [start, start + size - 1];
  }
  throw new Error(`no quiet block of ${size} ports`);
}
const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer().once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

describe('ephemeralRange / nonEphemeralRange', () => {
  it("reads the kernel's range, and falls back to Linux's default where it cannot", () => {
    const dir = claimsDir();
    writeFileSync(join(dir, 'range'), '40000\t50000\n');
    expect(ephemeralRange(join(dir, 'range'))).toEqual([40000, 50000]);
    writeFileSync(join(dir, 'bad'), 'lots\n');
    expect(ephemeralRange(join(dir, 'bad'))).toEqual([32768, 60999]);
    expect(ephemeralRange(join(dir, 'missing'))).toEqual([32768, 60999]);
  });

  it('takes the larger span outside the ephemeral range, from 10000 up, and refuses when neither is big enough', () => {
    expect(nonEphemeralRange([32768, 60999])).toEqual([10000, 32767]);
    expect(nonEphemeralRange([1024, 40000])).toEqual([40001, 65535]);
    expect(() => nonEphemeralRange([10500, 65000])).toThrow(
      'the ephemeral port range 10500-65000 leaves fewer than 1000 ports outside it from 10000 up',
    );
  });
});

describe('freePort', () => {
  it("never picks from the kernel's ephemeral range, where outgoing connections take their source ports", async () => {
    const [low, high] = ephemeralRange();
    const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
    expect(ports.filter((port) => port >= low && port <= high)).toEqual([]);
    expect(ports.every((port) => port >= 1024 && port <= 65535)).toBe(true);
  });

  it('skips a port something listens on', async () => {
    const [first] = await quietBlock(2);
    await listenOn(first);
    // A "random" that always lands on the busy port first, then on the other one.
    const rolls = [0, 0, 0.99];
    const port = await freePort({ range: [first, first + 1], claimsDir: '', random: () => rolls.shift() ?? 0.99 });
    expect(port).toBe(first + 1);
  });

  it('claims each port once per claims directory: a port claimed already is skipped, and the claim names the process', async () => {
    const [first, last] = await quietBlock(5);
    const dir = claimsDir();
    for (let port = first; port < last; port += 1) writeFileSync(join(dir, String(port)), '1\n');
    expect(await freePort({ range: [first, last], claimsDir: dir })).toBe(last);
    expect(readFileSync(join(dir, String(last)), 'utf8')).toBe(`${process.pid}\n`);
    await expect(freePort({ range: [first, last], claimsDir: dir })).rejects.toThrow(
      `no free port on 127.0.0.1 in ${first}-${last} after 5 tries`,
    );
  });

  it('takes the claims directory from MEET_PORT_CLAIMS_DIR: parallel processes never get the same port', async () => {
    // The test run's own directory (test/global-setup.ts), which every worker inherits.
    expect(process.env[PORT_CLAIMS_ENV]).toMatch(/meet-test-ports-/);
    const [first, last] = await quietBlock(400);
    const dir = claimsDir();
    const script = `
      import { freePort } from './scripts/lib/free-port.ts';
      const ports = [];
      for (let i = 0; i < 90; i += 1) ports.push(await freePort({ range: [${first}, ${last}] }));
      console.log(JSON.stringify(ports));`;
    const child = () =>
      new Promise<number[]>((resolve, reject) =>
        execFile(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '-e', script],
          { cwd: ROOT, env: { ...process.env, [PORT_CLAIMS_ENV]: dir } },
          (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout) as number[])),
        ),
      );
    const picked = (await Promise.all([child(), child(), child(), child()])).flat();
    expect(picked).toHaveLength(360);
    expect(new Set(picked).size).toBe(360);
    expect(readdirSync(dir)).toHaveLength(360);
  });

  it('without a claims directory still hands out a bindable port', async () => {
    const [first, last] = await quietBlock(3);
    await listenOn(first + 1);
    const port = await freePort({ range: [first, last], claimsDir: '' });
    expect([first, last]).toContain(port);
    expect(await canListen(port)).toBe(true);
  });
});
