/**
 * Reads form fields from the POST body only (urlencoded, multipart or JSON), never from the URL.
 * Every field must be a plain string; anything else is a 400 that names the field.
 */
import type { Context } from 'hono';
import { bodyText } from '../../shared/node-body.js';
import type { AuthEnv } from '../context.js';
import { AppError, type ErrorField } from '../errors.js';

export type Fields<K extends string> = Partial<Record<K, string>>;

export async function readFields<K extends ErrorField>(c: Context<AuthEnv>, names: readonly K[]): Promise<Fields<K>> {
  const type = (c.req.header('content-type') ?? '').toLowerCase();
  let body: Record<string, unknown>;
  if (type.startsWith('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await bodyText(c));
    } catch {
      throw new AppError('bad_request', { message: 'The body is not valid JSON.' });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new AppError('bad_request', { message: 'The body must be a JSON object.' });
    body = parsed as Record<string, unknown>;
  } else if (type.startsWith('application/x-www-form-urlencoded')) {
    // What a browser form sends; parsed as parseBody would (a repeated field: the last one counts).
    body = Object.fromEntries(new URLSearchParams(await bodyText(c)));
  } else if (type.startsWith('multipart/form-data')) {
    body = await c.req.parseBody().catch(() => {
      throw new AppError('bad_request', { message: 'The form data could not be read.' });
    });
  } else {
    throw new AppError('bad_request', {
      message: 'Send the form as application/x-www-form-urlencoded, multipart/form-data or application/json.',
    });
  }
  const fields: Fields<K> = {};
  for (const name of names) {
    const value = body[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string')
      throw new AppError('bad_request', { message: `The field "${name}" must be text.`, field: name });
    fields[name] = value;
  }
  return fields;
}
