/** Entry point of meet-auth (`node dist/edge/auth/main.js`, or `tsx edge/auth/main.ts` from source). */
import { runServiceMain } from '../shared/service-main.js';
import { ConfigError, loadAuthConfig } from './config.js';
import { startAuthServer } from './server.js';

await runServiceMain({
  name: 'meet-auth',
  inFlight: 'requests and deliveries in flight',
  load: loadAuthConfig,
  isConfigError: (error) => error instanceof ConfigError,
  start: startAuthServer,
});
