/**
 * `signedRequest(keys)`: lets a request through only when its Standard-Webhooks signature verifies with one of
 * `keys` (two during a rotation) and its timestamp is within ±300 s. Anything else is answered 401 before any
 * state is touched. The verified raw body is put on `c.var.rawBody` (the signature covers exactly those bytes).
 */
import { createMiddleware } from 'hono/factory';
import { bodyText } from '../../shared/node-body.js';
import { ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyRequest } from '../../shared/signing.js';
import { AgentError } from '../errors.js';

declare module 'hono' {
  interface ContextVariableMap {
    rawBody: string;
    webhookId: string;
  }
}

export function signedRequest(keys: readonly Buffer[], now: () => Date = () => new Date()) {
  return createMiddleware(async function signedRequest(c, next) {
    const body = await bodyText(c);
    const id = c.req.header(ID_HEADER);
    const failure = verifyRequest(
      keys,
      { id, timestamp: c.req.header(TIMESTAMP_HEADER), signature: c.req.header(SIGNATURE_HEADER), body },
      now(),
    );
    if (failure) throw new AgentError('unauthorized', `request not accepted: ${failure}`);
    c.set('rawBody', body);
    c.set('webhookId', id!);
    await next();
  });
}
