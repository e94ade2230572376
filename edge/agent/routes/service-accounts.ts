/**
 * `POST /service-accounts/password` (edge/shared/admin-protocol.ts): `npm run rotate -- jicofo|jvb` sets the new
 * password of focus@ or jvb@ on the auth domain here, over Prosody's admin socket, because the images only ever
 * create these accounts (`prosodyctl shell user create` refuses an existing one; register-setup:67,76 @
 * stable-11146-2) and so never apply a changed JICOFO_AUTH_PASSWORD / JVB_AUTH_PASSWORD. Exactly these two names
 * on exactly that domain: no user account can be reached through this route.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { SERVICE_USERNAMES, servicePasswordSealContext } from '../../shared/admin-protocol.js';
import { AgentError } from '../errors.js';
import type { Inbox } from '../inbox.js';
import { onlyOnce } from '../middleware/only-once.js';
import { signedBody } from '../middleware/signed-body.js';
import { signedRequest } from '../middleware/signed-request.js';
import type { ProsodyAdmin } from '../prosody/accounts.js';
import { sealedPassword } from '../schemas.js';
import { openSealedPassword } from './sealed-password.js';
import { withProsody } from './with-prosody.js';

export interface ServiceAccountRoutesDeps {
  readonly inbox: Inbox;
  /** Account administration on the auth domain (not the users' domain). */
  readonly serviceAdmin?: ProsodyAdmin;
  readonly sealingKeys: readonly string[];
  readonly signingKeys: readonly Buffer[];
  readonly now?: () => Date;
  readonly log?: { info(fields: object, message: string): void };
}

const body = z.strictObject({ account: z.enum(SERVICE_USERNAMES), sealedPassword });

export function serviceAccountRoutes(deps: ServiceAccountRoutesDeps) {
  const app = new Hono();
  app.use('*', signedRequest(deps.signingKeys, deps.now), onlyOnce(deps.inbox));
  app.post('/password', signedBody(body), async (c) => {
    const { account, sealedPassword: sealed } = c.var.body;
    const password = openSealedPassword(deps.sealingKeys, sealed, servicePasswordSealContext(c.var.webhookId, account));
    // The images put it unquoted on a shell line and into HOCON strings: only such characters are safe there.
    if (!/^[A-Za-z0-9]{24,128}$/.test(password))
      throw new AgentError('bad_request', 'a service password is 24 to 128 letters and digits');
    const admin = deps.serviceAdmin;
    if (!admin) throw new AgentError('unavailable', 'this agent has no access to the auth domain');
    const outcome = await withProsody(() => admin.setPassword(account, password));
    if (outcome.kind === 'rejected')
      throw new AgentError('bad_request', `Prosody refused the new password: ${outcome.detail}`);
    deps.log?.info(
      { action: 'service-password', account, status: outcome.kind },
      `service account password ${outcome.kind}`,
    );
    return c.json({ status: outcome.kind });
  });
  return app;
}
