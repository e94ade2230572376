/**
 * `onlyOnce(inbox)`: after signedRequest, refuses a request whose `webhook-id` the agent has accepted before (401),
 * so a captured signed request (a delete, say) cannot be replayed, also after the clock steps back: ids are kept by
 * their signed timestamp, and a timestamp older than the ids still kept is refused (Inbox.firstSighting).
 */
import { createMiddleware } from 'hono/factory';
import { TIMESTAMP_HEADER } from '../../shared/signing.js';
import { AgentError } from '../errors.js';
import type { Inbox } from '../inbox.js';

export function onlyOnce(inbox: Inbox) {
  return createMiddleware(async function onlyOnce(c, next) {
    // signedRequest has checked the timestamp: digits, within the tolerance, covered by the signature.
    const sighting = inbox.firstSighting(c.var.webhookId, Number(c.req.header(TIMESTAMP_HEADER)) * 1000);
    if (sighting === 'replayed')
      throw new AgentError('unauthorized', 'request not accepted: replayed (this webhook-id was used before)');
    if (sighting === 'too-old') {
      throw new AgentError(
        'unauthorized',
        'request not accepted: stale (signed long before the newest request accepted; has a clock stepped back?)',
      );
    }
    await next();
  });
}
