/**
 * Waiting on a condition instead of sleeping "long enough": `until` polls a probe (cheap: a status read, a file,
 * a counter) until its value passes, and fails naming what it waited for and the last value it saw.
 * For a process's output line use `waitForLine`, which listens for the line instead of polling.
 */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';

export interface UntilOptions {
  /** @default 20_000 */
  readonly timeoutMs?: number;
  /** @default 25 */
  readonly everyMs?: number;
}

/** Resolves with the first value of `probe()` that `ok` accepts; throws once `timeoutMs` passed without one. */
export async function until<T>(
  what: string,
  probe: () => T | Promise<T>,
  ok: (value: T) => boolean = Boolean,
  { timeoutMs = 20_000, everyMs = 25 }: UntilOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}; last: ${inspect(value, { depth: 4 })}`);
    await sleep(everyMs);
  }
}

/**
 * Resolves once `child` printed a line matching `pattern` on stderr (and stdout, with `stdout: true`); rejects if it
 * exits first or `timeoutMs` passes, with everything it printed.
 */
export function waitForLine(
  child: ChildProcess,
  pattern: RegExp,
  { timeoutMs = 20_000, stdout = false, what = 'child' }: { timeoutMs?: number; stdout?: boolean; what?: string } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const streams = stdout ? [child.stderr, child.stdout] : [child.stderr];
    const timer = setTimeout(
      () => done(new Error(`${what} did not print ${pattern} within ${timeoutMs} ms:\n${seen}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer | string) => {
      seen += String(chunk);
      if (pattern.test(seen)) done();
    };
    const onExit = (code: number | null) =>
      done(new Error(`${what} exited (${code}) before printing ${pattern}:\n${seen}`));
    function done(error?: Error) {
      clearTimeout(timer);
      for (const stream of streams) stream?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve();
    }
    for (const stream of streams) stream?.on('data', onData);
    child.once('exit', onExit);
  });
}
