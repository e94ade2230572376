/**
 * What both service entry points do: read the configuration, serve, and on SIGTERM/SIGINT shut down
 * gracefully within a hard deadline (work in flight finishes; anything unfinished stays durable for the next start).
 * A configuration error prints its own message (every problem, no secret) and exits 1.
 */

const SHUTDOWN_DEADLINE_MS = 15_000;

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
    const server = await service.start(service.load(process.env));
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
    console.error(service.isConfigError(error) ? (error as Error).message : `${service.name} failed to start: ${(error as Error).message}`);
    process.exit(1);
  }
}
