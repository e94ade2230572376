/**
 * Entry point: `tsx edge/auth/main.ts`. Reads the environment, serves, and on SIGTERM/SIGINT shuts down
 * gracefully with a hard deadline.
 */
import { ConfigError, loadAuthConfig } from './config.js';
import { startAuthServer } from './server.js';

const SHUTDOWN_DEADLINE_MS = 15_000;

try {
  const config = loadAuthConfig(process.env);
  const server = await startAuthServer(config);
  console.error(`meet-auth listening on ${server.url}`);
  const stop = (signal: string) => {
    console.error(`${signal}: finishing requests and deliveries in flight`);
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
  console.error(error instanceof ConfigError ? error.message : `meet-auth failed to start: ${(error as Error).message}`);
  process.exit(1);
}
