/**
 * `onlyOnce(inbox)`: after signedRequest, refuses a request whose `webhook-id` the agent has accepted before (401),
 * so a captured signed request (a delete, say) cannot be replayed within its signature window. Ids are kept
 * durably in the inbox until that window has passed for them, then dropped.
 */
import { createMiddleware } from 'hono/factory';
import { DEFAULT_TOLERANCE_SECONDS, TIMESTAMP_HEADER } from '../../shared/signing.js';
import { AgentError } from '../errors.js';
import type { Inbox } from '../inbox.js';

/** Extra time an id is kept after its signature stops verifying (clock steps, slow requests). */
const MARGIN_MS = 60_000;

export function onlyOnce(inbox: Inbox, now: () => Date = () => new Date()) {
  return createMiddleware(async function onlyOnce(c, next) {
    // signedRequest has checked the timestamp: digits, within the tolerance.
    const signedAt = Number(c.req.header(TIMESTAMP_HEADER)) * 1000;
    const expiresAt = signedAt + DEFAULT_TOLERANCE_SECONDS * 1000 + MARGIN_MS;
    if (!inbox.firstSighting(c.var.webhookId, expiresAt, now().getTime())) {
      throw new AgentError('unauthorized', 'request not accepted: replayed (this webhook-id was used before)');
    }
    await next();
  });
}
