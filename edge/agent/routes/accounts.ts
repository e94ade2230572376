/**
 * Account administration (edge/shared/accounts-protocol.ts): list the XMPP domain's accounts, delete one, set a
 * new password on an existing one. Every request is signed and accepted once only (onlyOnce). A new password
 * arrives sealed to this agent under the request's own id and username, is checked against the same rules as at
 * /create, and never reaches a log or an answer; a reset never creates an account ("absent").
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { DeleteStatus, ResetStatus } from '../../shared/accounts-protocol.js';
import { resetSealContext, verifySealContext, type VerifyStatus } from '../../shared/accounts-protocol.js';
import { checkPassword } from '../../shared/passwords.js';
import { AgentError } from '../errors.js';
import type { Inbox } from '../inbox.js';
import { onlyOnce } from '../middleware/only-once.js';
import { signedBody } from '../middleware/signed-body.js';
import { signedRequest } from '../middleware/signed-request.js';
import type { ProsodyAdmin } from '../prosody/accounts.js';
import { foldedUsername, sealedPassword } from '../schemas.js';
import { openSealedPassword } from './sealed-password.js';
import { withProsody } from './with-prosody.js';

export interface AccountRoutesDeps {
  readonly inbox: Inbox;
  readonly admin: ProsodyAdmin;
  /** Sealing private keys, newest first. */
  readonly sealingKeys: readonly string[];
  readonly signingKeys: readonly Buffer[];
  readonly now?: () => Date;
  readonly log?: { info(fields: object, message: string): void };
}

const schemas = {
  list: z.strictObject({}),
  delete: z.strictObject({ username: foldedUsername }),
  reset: z.strictObject({ username: foldedUsername, sealedPassword }),
  verify: z.strictObject({ username: foldedUsername, sealedPassword }),
};

export function accountRoutes(deps: AccountRoutesDeps) {
  const app = new Hono();
  app.use('*', signedRequest(deps.signingKeys, deps.now), onlyOnce(deps.inbox));

  app.post('/list', signedBody(schemas.list), async (c) => {
    const accounts = await withProsody(() => deps.admin.list());
    deps.log?.info({ action: 'list', accounts: accounts.length }, 'accounts listed');
    return c.json({ accounts });
  });

  app.post('/delete', signedBody(schemas.delete), async (c) => {
    const body = c.var.body;
    const status: DeleteStatus = await withProsody(() => deps.admin.delete(body.username));
    deps.log?.info({ action: 'delete', username: body.username, status }, `account ${status}`);
    return c.json({ status });
  });

  app.post('/reset-password', signedBody(schemas.reset), async (c) => {
    const body = c.var.body;
    const password = openSealedPassword(
      deps.sealingKeys,
      body.sealedPassword,
      resetSealContext(c.var.webhookId, body.username),
    );
    const policy = checkPassword(password, body.username);
    if (!policy.ok) throw new AgentError('bad_request', `the new password is not acceptable: ${policy.error}`);
    const outcome = await withProsody(() => deps.admin.setPassword(body.username, password));
    if (outcome.kind === 'rejected')
      throw new AgentError('bad_request', `Prosody refused the new password: ${outcome.detail}`);
    const status: ResetStatus = outcome.kind;
    deps.log?.info(
      { action: 'reset-password', username: body.username, status },
      status === 'changed' ? 'password changed' : 'no such account',
    );
    return c.json({ status });
  });

  // The owner's own password, checked with Prosody's own test_password against its stored credentials (SCRAM keys
  // for internal_hashed): no login, no session. The verdict is all that leaves; the password reaches no log.
  app.post('/verify-password', signedBody(schemas.verify), async (c) => {
    const body = c.var.body;
    const password = openSealedPassword(
      deps.sealingKeys,
      body.sealedPassword,
      verifySealContext(c.var.webhookId, body.username),
    );
    const status: VerifyStatus = (await withProsody(() => deps.admin.verify(body.username, password)))
      ? 'valid'
      : 'invalid';
    deps.log?.info({ action: 'verify-password', username: body.username, status }, `password ${status}`);
    return c.json({ status });
  });

  return app;
}
