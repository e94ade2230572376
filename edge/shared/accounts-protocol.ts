/**
 * The account-administration protocol between meet-auth's `npm run accounts` and an agent: signed POSTs
 * (edge/shared/signing.ts) beside `/jobs`, each with a fresh random `webhook-id` that the agent accepts only once.
 *
 * - `POST /accounts/list`   `{}`                              → `{"accounts": ["alice", …]}` (the XMPP domain's accounts)
 * - `POST /accounts/delete` `{"username"}`                    → `{"status": "deleted" | "absent"}`
 * - `POST /accounts/reset-password` `{"username", "sealedPassword"}` → `{"status": "changed" | "absent"}`
 *
 * The new password is sealed to the agent (edge/shared/sealing.ts) under resetSealContext: three lines where a job's
 * context has two (neither ids nor usernames hold a newline), so a reset's seal never opens as a job's, nor a job's
 * as a reset's, and a seal made for one request id or name does not open for another.
 */

export const ACCOUNTS_PATHS = {
  list: '/accounts/list',
  delete: '/accounts/delete',
  resetPassword: '/accounts/reset-password',
  /** `{"username", "sealedPassword"}` → `{"status": "valid" | "invalid"}`: the account's owner, at /account. */
  verifyPassword: '/accounts/verify-password',
} as const;

export type DeleteStatus = 'deleted' | 'absent';
export type ResetStatus = 'changed' | 'absent';

/** The context a reset's new password is sealed under: bound to this one request and this one name. */
export function resetSealContext(requestId: string, username: string): string {
  return `password-reset\n${requestId}\n${username}`;
}

export type VerifyStatus = 'valid' | 'invalid';

/**
 * The context a password to check is sealed under (meet-auth's /account): a fourth kind of seal, so it never opens
 * as a job's, a reset's, or for another request or name.
 */
export function verifySealContext(requestId: string, username: string): string {
  return `password-verify\n${requestId}\n${username}`;
}
