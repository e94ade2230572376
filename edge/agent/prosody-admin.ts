/**
 * Administering existing accounts in Prosody: list the domain's accounts, delete one, set a new password. The
 * admin-shell lines here run inside Prosody without yielding (one Lua chunk, no prompt), so the existence check
 * and the change are one step: a reset never creates an account, not even one deleted at that very moment.
 * Every value is a `\ddd` literal (luaLiteral), so no name or password can become code.
 *
 * Live sessions: Prosody 13's usermanager fires "user-deleted" and "user-password-changed", on which mod_c2s
 * closes the account's sessions; deleting goes through usermanager, and a reset from precomputed SCRAM keys fires
 * the same event itself, so both end the account's live sessions in the same call.
 */
import { luaLiteral, openAccountLines, sameHashingLines, type ScramCredentials } from './prosody.js';
import { ProsodyUnavailableError, type ReplResult } from './admin-socket.js';
import type { DeleteStatus, ResetStatus } from '../shared/accounts-protocol.js';

export type ResetOutcome = { readonly kind: ResetStatus } | { readonly kind: 'rejected'; readonly detail: string };

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

/** The admin-shell line that lists `domain`'s usernames as a JSON array. */
export function listUsersLine(domain: string): string {
  return [
    `>local um, json, h = require"core.usermanager", require"util.json", ${luaLiteral(domain)}`,
    `if not prosody.hosts[h] then return nil, "No such host" end`,
    `local names = {} for u in um.users(h) do names[#names + 1] = u end`,
    `return json.encode_array(names)`,
  ].join(' ');
}

/** Parses the answer to listUsersLine ("Result: [...]"). */
export function parseUserList(result: ReplResult): string[] {
  const text = result.text.trim();
  if (result.ok && text.startsWith('Result: ')) {
    try {
      const names: unknown = JSON.parse(text.slice('Result: '.length));
      if (Array.isArray(names) && names.every((name) => typeof name === 'string')) return names.sort();
    } catch {
      // fall through
    }
  }
  throw new ProsodyUnavailableError(`unexpected answer to the account list: ${text.slice(0, 200)}`);
}

/** The admin-shell line that deletes `username@domain` through usermanager, or answers "absent". */
export function deleteUserLine(username: string, domain: string): string {
  return [
    ...openAccountLines(username, domain),
    `if not um.user_exists(u, h) then return true, "absent" end`,
    `local ok, err = um.delete_user(u, h)`,
    `if not ok then return nil, "Could not delete user: " .. tostring(err) end`,
    `return true, "deleted"`,
  ].join(' ');
}

export function parseDelete(result: ReplResult): DeleteStatus {
  const text = result.text.trim();
  if (text === 'OK: deleted') return 'deleted';
  if (text === 'OK: absent') return 'absent';
  throw new ProsodyUnavailableError(`unexpected answer to a delete: ${text.slice(0, 200)}`);
}

/**
 * The admin-shell line that stores new SCRAM credentials on the existing account `username@domain`, as
 * mod_auth_internal_hashed's set_password would (new salt, keys, updated time, any plaintext dropped, the rest of
 * the record kept), then fires "user-password-changed" as usermanager does. Answers "absent" when there is no
 * account, "Hashing changed" when the host no longer hashes the way the credentials were made, and "Prosody
 * hashes" when the account keeps a higher iteration count than the default (Prosody would keep it).
 */
export function storeHashedPasswordLine(username: string, domain: string, credentials: ScramCredentials): string {
  return [
    ...openAccountLines(username, domain),
    ...sameHashingLines(credentials),
    `local store = sm.open(h, "accounts") local account = store:get(u)`,
    `if not account then return true, "absent" end`,
    `if (account.iteration_count or 0) > ${credentials.iterations} then return nil, "Prosody hashes" end`,
    `account.stored_key, account.server_key = ${luaLiteral(credentials.storedKey)}, ${luaLiteral(credentials.serverKey)}`,
    `account.salt, account.iteration_count, account.password, account.updated = ${luaLiteral(credentials.salt)}, ${credentials.iterations}, nil, os.time()`,
    `local ok, err = store:set(u, account)`,
    `if not ok then return nil, "Could not change password: " .. tostring(err) end`,
    `prosody.events.fire_event("user-password-changed", { username = u, host = h })`,
    `return true, "changed"`,
  ].join(' ');
}

/** The admin-shell line that has Prosody itself hash and set `password` on the existing account (any auth backend). */
export function setPasswordLine(username: string, domain: string, password: string): string {
  return [
    ...openAccountLines(username, domain),
    `if not um.user_exists(u, h) then return true, "absent" end`,
    `local ok, err = um.set_password(u, ${luaLiteral(password)}, h, nil)`,
    `if not ok then return nil, "Could not change password: " .. tostring(err) end`,
    `return true, "changed"`,
  ].join(' ');
}
