/**
 * Entry point: `tsx edge/agent/main.ts`. Reads the environment, serves, and on SIGTERM/SIGINT shuts down
 * gracefully with a hard deadline. Jobs still unfinished stay in the inbox for the next start or the cron run.
 */
import { AgentConfigError, loadAgentConfig } from './config.js';
import { startAgentServer } from './server.js';

const SHUTDOWN_DEADLINE_MS = 15_000;

try {
  const config = loadAgentConfig(process.env);
  const server = await startAgentServer(config);
  console.error(`agent listening on ${server.url}`);
  const stop = (signal: string) => {
    console.error(`${signal}: finishing jobs in flight`);
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
  console.error(error instanceof AgentConfigError ? error.message : `agent failed to start: ${(error as Error).message}`);
  process.exit(1);
}
