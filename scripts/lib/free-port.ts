/**
 * A TCP port free on 127.0.0.1 that nothing else is handed meanwhile: for the tests, the benchmarks and a local
 * restore, which pick a port and pass it to a server that binds it a moment later.
 *
 * Asking the OS (listen on port 0) is not enough: it picks from the ephemeral range, where every outgoing connection
 * also takes its source port, so a busy test run can take the port before the server binds it (EADDRINUSE, seen
 * once in CI). So the port comes from below (or above) that range, is checked by binding it, and, where
 * MEET_PORT_CLAIMS_DIR names a directory (test/global-setup.ts makes one per run), is claimed there first with an
 * exclusive create, so that parallel workers and their children never pick the same one.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The directory of the port claims of one test run (shared by its workers and their children). */
export const PORT_CLAIMS_ENV = 'MEET_PORT_CLAIMS_DIR';

/** Linux's own default, for where /proc does not say. */
const DEFAULT_EPHEMERAL: PortRange = [32768, 60999];
/** Below the registered services most often found on a developer's machine (8080, 8443, 9000...). */
const LOWEST = 10_000;
const MIN_RANGE = 1000;
const ATTEMPTS = 200;

export type PortRange = readonly [first: number, last: number];

export interface PickPortOptions {
  /** Where ports are picked from. @default the larger of the spans below and above the ephemeral range */
  readonly range?: PortRange;
  /** Where ports are claimed; empty or unset in the environment, no claims. @default process.env.MEET_PORT_CLAIMS_DIR */
  readonly claimsDir?: string;
  /** @default Math.random */
  readonly random?: () => number;
}

export async function freePort(options: PickPortOptions = {}): Promise<number> {
  const [first, last] = options.range ?? nonEphemeralRange(ephemeralRange());
  const claimsDir = options.claimsDir ?? (process.env[PORT_CLAIMS_ENV] || undefined);
  const random = options.random ?? Math.random;
  const tried = new Set<number>();
  const span = last - first + 1;
  for (let attempt = 0; attempt < ATTEMPTS && tried.size < span; attempt += 1) {
    const port = first + Math.floor(random() * span);
    if (tried.has(port)) continue;
    tried.add(port);
    // A claim stays even when the port is busy: nobody else in the run need try it again.
    if (claimsDir && !claimPort(claimsDir, port)) continue;
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 in ${first}-${last} after ${tried.size} tries`);
}

/** The kernel's ephemeral port range (Linux), or its default. */
export function ephemeralRange(file = '/proc/sys/net/ipv4/ip_local_port_range'): PortRange {
  try {
    const [first, last] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(first) && Number.isInteger(last) && first! <= last!) return [first!, last!];
  } catch {
    // not Linux, or no /proc: assume the default
  }
  return DEFAULT_EPHEMERAL;
}

/** The larger span of ports outside `ephemeral`, from LOWEST up; refuses when neither side leaves enough. */
export function nonEphemeralRange([low, high]: PortRange): PortRange {
  const below: PortRange = [LOWEST, low - 1];
  const above: PortRange = [high + 1, 65_535];
  const size = ([first, last]: PortRange) => last - first + 1;
  const larger = size(below) >= size(above) ? below : above;
  if (size(larger) < MIN_RANGE)
    throw new Error(
      `the ephemeral port range ${low}-${high} leaves fewer than ${MIN_RANGE} ports outside it from ${LOWEST} up`,
    );
  return larger;
}

/** Claims `port` in `dir` (an exclusive create naming this process); false when someone claimed it first. */
export function claimPort(dir: string, port: number): boolean {
  try {
    writeFileSync(join(dir, String(port)), `${process.pid}\n`, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}
