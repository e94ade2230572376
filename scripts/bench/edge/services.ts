/** The bench's own node processes (meet-auth, the agent, attackers): started from dist/, sampled for resident memory. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { RUNTIME_ENV } from '../../../stacks/heap-flags.js';

const ROOT = resolve(import.meta.dirname, '../../..');

/** `sh -c` arguments that run `node <args>` with the file limit raised to the hard limit (often 1024 soft). */
export function unlimited(args: readonly string[]): string[] {
  return ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', process.execPath, ...args];
}

/** A node process of ours, sampled for resident memory. */
export interface Service {
  readonly pid: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** max(VmHWM, sampled VmRSS) so far, in kB. */
  peakKb(): number;
  stop(): Promise<void>;
}

export function memoryKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : NaN;
  } catch {
    return NaN; // exited
  }
}

/** Starts `node <argv>` and resolves once it prints "listening on <url>" on stderr. */
export async function startService(
  name: string,
  argv: readonly string[],
  env: Record<string, string>,
  stdoutFile?: string,
): Promise<Service> {
  const stdout = stdoutFile ? openSync(stdoutFile, 'w') : 'ignore';
  // Through sh to raise the file limit to the hard limit (thousands of attack connections; exec keeps the pid).
  const child = spawn('/bin/sh', unlimited(argv), {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...RUNTIME_ENV, ...env },
    stdio: ['ignore', stdout, 'pipe'],
  });
  if (typeof stdout === 'number') closeSync(stdout);
  let stderr = '';
  child.once('exit', (code, signal) => {
    if (code !== 0) console.error(`bench edge: ${name} exited (${code ?? signal}): ${stderr.slice(-2000)}`);
  });
  const url = await new Promise<string>((done, fail) => {
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening on (\S+)/.exec(stderr);
      if (match) done(match[1]!);
    });
    child.once('exit', () => fail(new Error(`${name} exited: ${stderr}`)));
  });
  let sampled = 0;
  const sampler = setInterval(() => (sampled = Math.max(sampled, memoryKb(child.pid!, 'VmRSS') || 0)), 100);
  return {
    pid: child.pid!,
    url,
    child,
    peakKb: () => Math.max(sampled, memoryKb(child.pid!, 'VmHWM') || 0),
    stop: async () => {
      clearInterval(sampler);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((done) => child.once('exit', done));
    },
  };
}

/** Compiles edge/ and the container scripts into dist/ (`npm run build`), so the measured code is the working tree's. */
export function build(): number {
  const started = performance.now();
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  return (performance.now() - started) / 1000;
}
