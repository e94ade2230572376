/**
 * `signedBody(schema)`: after signedRequest, parses the verified raw body as JSON against `schema` and puts the
 * result on `c.var.body`; anything else is the closed error bad_request, before the route touches any state.
 * The one way the agent's signed routes read their bodies (POST /jobs, whose single-or-delivery form has its own
 * messages, uses jsonBody and its own schemas).
 */
import { createMiddleware } from 'hono/factory';
import type { z } from 'zod';
import { AgentError } from '../errors.js';

/** The verified raw body as JSON, or bad_request "the body is not JSON". */
export function jsonBody(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new AgentError('bad_request', 'the body is not JSON');
  }
}

/** The verified raw body parsed against `schema`; bad_request naming every field that is wrong. */
function parseBody<T extends z.ZodType>(raw: string, schema: T): z.infer<T> {
  const parsed = schema.safeParse(jsonBody(raw));
  if (!parsed.success) {
    const where = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
    throw new AgentError('bad_request', `malformed request: ${where}`);
  }
  return parsed.data;
}

export function signedBody<T extends z.ZodType>(schema: T) {
  return createMiddleware<{ Variables: { body: z.infer<T> } }>(async function signedBody(c, next) {
    // Only signedRequest sets rawBody: without it there is nothing verified to read (a wiring mistake, 500).
    if (typeof c.var.rawBody !== 'string') throw new Error('signedBody must run after signedRequest');
    c.set('body', parseBody(c.var.rawBody, schema));
    await next();
  });
}
