/**
 * Event-loop watchdog for the services: a thread of its own kills the process when the main thread has not come
 * round its event loop for `stallMs`, so a hang becomes a restart (Docker's restart policy, `unless-stopped`)
 * instead of an outage that lasts until someone looks. Nothing is lost by it: meet-auth and the agent keep every
 * request and job in SQLite and pick them up on start.
 *
 * Why: meet-auth once deadlocked for good inside node:crypto under a burst, alive but answering nothing
 * (docs/decisions/sealing-keys.md).
 *
 * The main thread stores the time into shared memory once a second (an unref'd timer: it keeps nothing alive);
 * the watchdog reads it. Its message goes straight to file descriptor 2: a worker's process.stderr is relayed by
 * the main thread, the very thread that is stuck.
 */
import { Worker } from 'node:worker_threads';

export interface WatchdogOptions {
  /** The service's name in the message. */
  readonly name: string;
  /** How long the event loop may go without a turn before the process is killed. @default 30 s */
  readonly stallMs?: number;
  /** How often the main thread stores a beat and the watchdog looks. @default 1 s */
  readonly beatMs?: number;
}

export interface Watchdog {
  stop(): Promise<void>;
}

// Plain JavaScript, run with eval and no inherited flags: no loader needed in the thread, from source (tsx) and
// from dist/ alike; dynamic imports work whether the eval'd code counts as CommonJS or as a module.
const WATCHDOG_THREAD = `
(async () => {
  const { workerData } = await import('node:worker_threads');
  const { writeSync } = await import('node:fs');
  const beat = new Float64Array(workerData.shared);
  setInterval(() => {
    const silentMs = Date.now() - beat[0];
    if (silentMs <= workerData.stallMs) return;
    writeSync(2, workerData.name + ': event loop stalled for ' + Math.round(silentMs / 1000) + ' s; killing the process so it restarts\\n');
    process.kill(process.pid, 'SIGKILL');
  }, workerData.beatMs);
})();
`;

export function startWatchdog(options: WatchdogOptions): Watchdog {
  const stallMs = options.stallMs ?? 30_000;
  const beatMs = options.beatMs ?? 1_000;
  if (!(stallMs > beatMs)) throw new Error(`watchdog stallMs (${stallMs}) must be longer than beatMs (${beatMs})`);
  const shared = new SharedArrayBuffer(8);
  const beat = new Float64Array(shared);
  beat[0] = Date.now();
  const timer = setInterval(() => (beat[0] = Date.now()), beatMs);
  timer.unref();
  const thread = new Worker(WATCHDOG_THREAD, {
    eval: true,
    execArgv: [],
    workerData: { shared, stallMs, beatMs, name: options.name },
  });
  thread.unref();
  // Losing the watchdog must not take the service down with it: say so once and serve on.
  thread.once('error', (error) => console.error(`${options.name}: the event-loop watchdog stopped: ${error.message}`));
  return {
    stop: async () => {
      clearInterval(timer);
      await thread.terminate();
    },
  };
}
