/**
 * Entry point of the agent (`node dist/edge/agent/main.js`, or `tsx edge/agent/main.ts` from source). Jobs still
 * unfinished at shutdown stay in the inbox for the next start or the cron run.
 */
import { runServiceMain } from '../shared/service-main.js';
import { ConfigError, loadAgentConfig } from './config.js';
import { startAgentServer } from './server.js';

await runServiceMain({
  name: 'agent',
  inFlight: 'jobs in flight',
  load: loadAgentConfig,
  isConfigError: (error) => error instanceof ConfigError,
  start: startAgentServer,
});
