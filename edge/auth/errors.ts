/**
 * The closed set of errors meet-auth answers with. Each code has one status; the message is written for the
 * person at the form. Anything else is an internal error: logged with its stack, answered with a generic 500.
 * JSON clients get `{ "error": <message>, "code": <code>, "field"?: <field> }` (docs/architecture.md, "Errors").
 */
export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  bad_credentials: 403,
  /** A wrong username or password at /account (one message for both). */
  bad_account: 403,
  cross_origin: 403,
  not_found: 404,
  username_taken: 409,
  payload_too_large: 413,
  rate_limited: 429,
  shutting_down: 503,
  storage_full: 503,
  /** An agent could not be reached or failed, so an own-account change was not made everywhere. */
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorField =
  'user' | 'password' | 'token' | 'uses' | 'expires_in_hours' | 'new_password' | 'confirm' | 'selector';

/** One message for every bad, used, expired or revoked ticket or ticketmaster token. */
export const BAD_CREDENTIALS_MESSAGE =
  'That ticket or token is not valid: it may be mistyped, used up, expired or revoked.';

export const DEFAULT_MESSAGES: Record<ErrorCode, string> = {
  bad_request: 'The request was not understood.',
  unauthorized: 'This needs a valid bearer token.',
  bad_credentials: BAD_CREDENTIALS_MESSAGE,
  bad_account: 'That username and password do not match an account.',
  cross_origin: 'This form must be sent from this site.',
  not_found: 'Nothing is here.',
  username_taken: 'That username is already taken. Choose another; your ticket is still valid.',
  payload_too_large: 'The request is too large.',
  rate_limited: 'Too many failed attempts from here. Wait a little and try again.',
  shutting_down: 'The service is restarting. Try again in a moment.',
  storage_full:
    'The service cannot save anything right now (its disk is full), so nothing was changed. Try again in a few minutes.',
  unavailable: 'Not every Wikimedia Meet server could be reached, so nothing was changed. Try again in a few minutes.',
  internal: 'Something went wrong on our side. Try again later.',
};

export interface AppErrorOptions {
  /** For the person at the form. @default the code's DEFAULT_MESSAGES entry */
  readonly message?: string;
  /** The form field the error is about. */
  readonly field?: ErrorField;
  /** Seconds, for rate_limited and storage_full (the Retry-After header). */
  readonly retryAfter?: number;
}

export class AppError extends Error {
  readonly status: (typeof ERROR_STATUS)[ErrorCode];
  readonly field: ErrorField | undefined;
  readonly retryAfter: number | undefined;
  constructor(
    readonly code: ErrorCode,
    options: AppErrorOptions = {},
  ) {
    super(options.message ?? DEFAULT_MESSAGES[code]);
    this.status = ERROR_STATUS[code];
    this.field = options.field;
    this.retryAfter = options.retryAfter;
  }
}
