/** Shared answers: credential failures that feed the rate limiter, and per-route error rendering. */
import type { Context } from 'hono';
import { localiseMessage } from '../../i18n/errors.js';
import type { AuthEnv } from '../context.js';
import type { AppDeps } from '../deps.js';
import { AppError } from '../errors.js';
import type { FormError } from '../pages/layout.js';

/** A failed verification: counts against the address and the credential; 429 once either is spent, else 403. */
export async function credentialFailure(
  c: Context<AuthEnv>,
  deps: AppDeps,
  kind: 'ticket' | 'ticketmaster',
  credential: string | null,
): Promise<never> {
  deps.metrics.verificationFailures.inc({ kind });
  const verdict = await deps.limiter.fail(c.get('clientAddress'), credential ? `${kind}:${credential}` : null);
  if (verdict.limited) {
    deps.metrics.rateLimited.inc({ kind });
    throw new AppError('rate_limited', { retryAfter: verdict.retryAfterSeconds });
  }
  throw new AppError('bad_credentials', { field: 'token' });
}

/** An error as a form shows it: in the reader's language, next to its field. */
export function formErrorOf(c: Context<AuthEnv>, error: AppError): FormError {
  return { message: localiseMessage(c.get('i18n'), error.message), ...(error.field ? { field: error.field } : {}) };
}

/** HTML clients get the form again with the message; JSON clients (and unknown errors) go to onError. */
export function renderFormError(
  c: Context<AuthEnv>,
  error: unknown,
  render: (error: AppError) => Response | Promise<Response>,
): Response | Promise<Response> {
  if (!(error instanceof AppError) || c.get('wantsJson') || error.code === 'internal') throw error;
  if (error.retryAfter) c.header('Retry-After', String(error.retryAfter));
  return render(error);
}
