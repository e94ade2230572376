/** What the app's routes need; built by server.ts for real, by tests with low bcrypt costs and injected clocks. */
import type { Logger } from '../shared/log.js';
import type { AuthConfig } from './config.js';
import type { Dispatcher } from './dispatcher.js';
import type { FailureLimiter } from './limits.js';
import type { AuthMetrics } from './metrics.js';
import type { RemoteAddressResolver } from './middleware/client-address.js';
import type { Db } from './store/db.js';

export interface AppDeps {
  readonly config: AuthConfig;
  readonly db: Db;
  readonly dispatcher: Dispatcher;
  readonly log: Logger;
  readonly metrics: AuthMetrics;
  readonly limiter: FailureLimiter;
  /** The socket peer's address; defaults to the Node socket under @hono/node-server. */
  readonly remoteAddress?: RemoteAddressResolver;
  readonly now?: () => number;
  readonly isShuttingDown?: () => boolean;
}
