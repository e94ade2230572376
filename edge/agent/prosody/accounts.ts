/**
 * What the agent asks of Prosody about accounts, whichever way it reaches it (admin socket on Prosody 13, see
 * socket-accounts.ts; prosodyctl on 0.12, see prosodyctl-accounts.ts). Both backends implement both interfaces.
 */
import type { DeleteStatus, ResetStatus } from '../../shared/accounts-protocol.js';

/** Prosody cannot be reached or stopped answering: worth retrying later. */
export class ProsodyUnavailableError extends Error {}

export type CreateOutcome =
  | { readonly kind: 'created' }
  | { readonly kind: 'exists' }
  /** Prosody refused for good (e.g. the name or password is not acceptable to it). */
  | { readonly kind: 'rejected'; readonly detail: string };

export type ResetOutcome = { readonly kind: ResetStatus } | { readonly kind: 'rejected'; readonly detail: string };

export interface ProsodyAccounts {
  /** Creates `username@domain` unless it exists. Throws ProsodyUnavailableError when worth retrying. */
  create(username: string, password: string): Promise<CreateOutcome>;
  /** Whether `password` is the password of the existing account `username`. */
  verify(username: string, password: string): Promise<boolean>;
  close(): Promise<void>;
}

/** What both ways of reaching Prosody (admin socket, prosodyctl) offer for existing accounts. */
export interface ProsodyAdmin {
  /** The usernames of every account of the XMPP domain. */
  list(): Promise<string[]>;
  delete(username: string): Promise<DeleteStatus>;
  /** Whether `password` is the password of the existing account `username` (false when there is none). */
  verify(username: string, password: string): Promise<boolean>;
  /** Sets `password` on the existing account `username`; never creates one ("absent"). */
  setPassword(username: string, password: string): Promise<ResetOutcome>;
}
