/** Parses a verified raw body as JSON against a schema; anything else is the closed error bad_request. */
import type { z } from 'zod';
import { AgentError } from '../errors.js';
import { ProsodyUnavailableError } from '../prosody/accounts.js';

export function parseBody<T extends z.ZodType>(raw: string, schema: T): z.infer<T> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new AgentError('bad_request', 'the body is not JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
    throw new AgentError('bad_request', `malformed request: ${where}`);
  }
  return parsed.data;
}

/** Runs a Prosody call; Prosody trouble is the closed error "unavailable" (503), worth another try. */
export async function withProsody<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ProsodyUnavailableError) throw new AgentError('unavailable', `Prosody: ${error.message}`);
    throw error;
  }
}
