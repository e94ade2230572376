/** meet-auth and the agent as the accounts bench runs them: their own node processes from dist/ with the image's environment, sampled for CPU. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RUNTIME_ENV } from '../../../stacks/heap-flags.js';

const ROOT = resolve(import.meta.dirname, '../../..');
/** Extra node flags for both services, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (space separated). */
const EXTRA_NODE_FLAGS = (process.env.MEET_BENCH_ACCOUNTS_NODE_FLAGS ?? '').split(' ').filter(Boolean);

/** CPU seconds (user + system, all threads) a process has used so far, from /proc/<pid>/stat (clock ticks of 10 ms). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** meet-auth or the agent as its own node process (as deployed: separate processes, production heap flags). */
export interface Service {
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startService(
  name: string,
  entry: string,
  flags: readonly string[],
  env: Record<string, string>,
  healthUrl: string,
): Promise<Service> {
  const logDir = process.env.MEET_BENCH_ACCOUNTS_LOG_DIR;
  const stdout = logDir ? openSync(join(logDir, `${name}.log`), 'w') : 'ignore';
  const child: ChildProcess = spawn(process.execPath, [...flags, ...EXTRA_NODE_FLAGS, entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...RUNTIME_ENV, ...env },
    stdio: ['ignore', stdout, 'pipe'],
  });
  if (typeof stdout === 'number') closeSync(stdout);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  for (let tries = 0; ; tries++) {
    if (child.exitCode !== null) throw new Error(`${name} exited: ${stderr.slice(-2000)}`);
    const up = await fetch(healthUrl).then(
      (response) => response.ok,
      () => false,
    );
    if (up) break;
    if (tries > 300) throw new Error(`${name} did not come up: ${stderr.slice(-2000)}`);
    await new Promise((done) => setTimeout(done, 50));
  }
  return {
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
