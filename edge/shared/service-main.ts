/**
 * What both service entry points do: read the configuration, serve, and on SIGTERM/SIGINT shut down
 * gracefully within a hard deadline (work in flight finishes; anything unfinished stays durable for the next start).
 * A configuration error prints its own message (every problem, no secret) and exits 1. A watchdog thread kills the
 * process when its event loop stalls for MEET_WATCHDOG_SECONDS (30; 0 turns it off), so a hang becomes a restart.
 */
import { startWatchdog } from './watchdog.js';

const SHUTDOWN_DEADLINE_MS = 15_000;
const DEFAULT_WATCHDOG_SECONDS = 30;

/** MEET_WATCHDOG_SECONDS: whole seconds, 0 (off) or 5 to 3600. */
export function watchdogSeconds(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_WATCHDOG_SECONDS;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (seconds === 0 || (seconds >= 5 && seconds <= 3600)) return seconds;
  throw new WatchdogConfigError(
    `MEET_WATCHDOG_SECONDS: ${JSON.stringify(value)} must be 0 (off) or a whole number of seconds from 5 to 3600`,
  );
}

class WatchdogConfigError extends Error {}

export interface ServiceMain<Config> {
  /** Shown in log lines, e.g. "meet-auth". */
  readonly name: string;
  /** What shutdown waits for, e.g. "requests and deliveries in flight". */
  readonly inFlight: string;
  readonly load: (env: NodeJS.ProcessEnv) => Config;
  /** Errors whose message is meant for the operator as it is (configuration problems). */
  readonly isConfigError: (error: unknown) => boolean;
  readonly start: (config: Config) => Promise<{ readonly url: string; close(): Promise<void> }>;
}

export async function runServiceMain<Config>(service: ServiceMain<Config>): Promise<void> {
  try {
    const config = service.load(process.env);
    const stallSeconds = watchdogSeconds(process.env.MEET_WATCHDOG_SECONDS);
    const server = await service.start(config);
    if (stallSeconds > 0) startWatchdog({ name: service.name, stallMs: stallSeconds * 1000 });
    console.error(`${service.name} listening on ${server.url}`);
    const stop = (signal: string) => {
      console.error(`${signal}: finishing ${service.inFlight}`);
      setTimeout(() => {
        console.error('shutdown deadline passed; exiting');
        process.exit(1);
      }, SHUTDOWN_DEADLINE_MS).unref();
      server.close().then(
        () => process.exit(0),
        (error: unknown) => {
          console.error('shutdown failed:', error);
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  } catch (error) {
    const plain = service.isConfigError(error) || error instanceof WatchdogConfigError;
    console.error(plain ? (error as Error).message : `${service.name} failed to start: ${(error as Error).message}`);
    process.exit(1);
  }
}
