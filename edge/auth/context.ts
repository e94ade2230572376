/** The Hono environment of the meet-auth app: what middleware puts on the context for the routes. */
import type { HttpBindings } from '@hono/node-server';
import type { I18n } from '../i18n/index.js';
import type { Logger } from '../shared/log.js';

export interface AuthEnv {
  /** Under @hono/node-server, `incoming` is the Node request; under app.request() it is absent. */
  Bindings: Partial<HttpBindings>;
  Variables: {
    requestId: string;
    log: Logger;
    /** The client's address, through trusted proxies only. */
    clientAddress: string;
    /** The client asked for JSON (Accept: application/json) rather than HTML pages. */
    wantsJson: boolean;
    /** The reader's language (?uselang, else Accept-Language) for HTML pages. */
    i18n: I18n;
  };
}
