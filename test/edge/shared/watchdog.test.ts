/**
 * The event-loop watchdog, in child processes of its own: a main thread stuck for good (Atomics.wait: no turn of
 * the event loop, no signal handler runs, as in meet-auth's crypto deadlock) is killed with a message on stderr;
 * a busy but turning one is left alone.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { watchdogSeconds } from '../../../edge/shared/service-main.js';
import { startWatchdog } from '../../../edge/shared/watchdog.js';

const WATCHDOG = resolve(import.meta.dirname, '../../../edge/shared/watchdog.ts');

function runChild(
  body: string,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; ms: number }> {
  const script = `import { startWatchdog } from ${JSON.stringify(WATCHDOG)};\nstartWatchdog({ name: 'test-service', stallMs: 1500, beatMs: 200 });\n${body}`;
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((done) =>
    child.once('exit', (code, signal) => done({ code, signal, stderr, ms: performance.now() - started })),
  );
}

describe('startWatchdog', () => {
  it('kills a process whose main thread is stuck, saying so on stderr', async () => {
    // Stuck for 30 s unless killed.
    const result = await runChild(`Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30_000);`);
    expect(result.signal).toBe('SIGKILL');
    expect(result.stderr).toMatch(/test-service: event loop stalled for \d+ s; killing the process so it restarts/);
    expect(result.ms).toBeLessThan(15_000);
  }, 30_000);

  it('leaves a busy process alone while its event loop keeps turning, and does not keep it alive', async () => {
    // 4 s of work in 50 ms slices (longer than the 1.5 s limit in all), then the process ends on its own.
    const result = await runChild(`
      const until = Date.now() + 4000;
      await new Promise((done) => {
        const slice = () => { const end = Date.now() + 50; while (Date.now() < end); Date.now() < until ? setImmediate(slice) : done(); };
        slice();
      });`);
    expect(result).toMatchObject({ code: 0, signal: null });
    expect(result.stderr).toBe('');
  }, 30_000);

  it('refuses a stall limit not longer than the beat', () => {
    expect(() => startWatchdog({ name: 'x', stallMs: 1000, beatMs: 1000 })).toThrow(
      'watchdog stallMs (1000) must be longer than beatMs (1000)',
    );
  });
});

describe('MEET_WATCHDOG_SECONDS', () => {
  it('defaults to 30 s, takes 0 (off) and 5..3600, and refuses anything else naming the value', () => {
    expect(watchdogSeconds(undefined)).toBe(30);
    expect(watchdogSeconds('')).toBe(30);
    expect(watchdogSeconds('0')).toBe(0);
    expect(watchdogSeconds('5')).toBe(5);
    expect(watchdogSeconds('3600')).toBe(3600);
    for (const bad of ['4', '3601', '-1', '1.5', 'abc', '30s']) {
      expect(() => watchdogSeconds(bad)).toThrow(`MEET_WATCHDOG_SECONDS: ${JSON.stringify(bad)} must be 0 (off)`);
    }
  });
});
