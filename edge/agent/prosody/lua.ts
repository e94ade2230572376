/**
 * The admin-shell lines the agent sends Prosody (`>` runs a line in the server's global environment). Each runs
 * inside Prosody as one Lua chunk without yielding, so an existence check and the change after it are one step:
 * a create never overwrites an account and a reset never creates one, not even one an admin makes or deletes at
 * that very moment. EVERY byte of every name and password is a `\ddd` escape (luaLiteral), so no value can
 * become code.
 *
 * Live sessions: Prosody 13's usermanager fires "user-deleted" and "user-password-changed", on which mod_c2s
 * closes the account's sessions; deleting goes through usermanager, and a reset from precomputed SCRAM keys fires
 * the same event itself, so both end the account's live sessions in the same call.
 */
import type { HashingScheme, ScramCredentials } from './scram.js';

/** A Lua string literal with every byte as a decimal escape: nothing inside it can end the string. */
export function luaLiteral(value: string): string {
  let literal = '"';
  for (const byte of Buffer.from(value, 'utf8')) literal += `\\${byte.toString().padStart(3, '0')}`;
  return `${literal}"`;
}

/** The admin-shell line that checks a password with Prosody's own `usermanager.test_password`. */
export function testPasswordLine(username: string, domain: string, password: string): string {
  return `>require"core.usermanager".test_password(${luaLiteral(username)}, ${luaLiteral(domain)}, ${luaLiteral(password)})`;
}

/**
 * The admin-shell line that creates `username@domain` with `password` unless the name exists: what
 * `user:create` does (nodeprep, the host's default provisioned role, Prosody's own hashing with its configured
 * iteration count) in one call that never yields. Every byte of every value is a `\ddd` escape.
 */
export function createUserLine(username: string, domain: string, password: string): string {
  return [
    ...openAccountLines(username, domain),
    `if um.user_exists(u, h) then return nil, "User exists" end`,
    `local ok, err = um.create_user(u, ${luaLiteral(password)}, h)`,
    ...finishAccountLines,
  ].join(' ');
}

/** The start of every line about one account (create, delete, reset): its modules and the prepped, known JID (u, h). */
function openAccountLines(username: string, domain: string): string[] {
  return [
    `>local um, cm, jid, sm = require"core.usermanager", require"core.configmanager", require"util.jid", require"core.storagemanager"`,
    `local u, h = jid.prepped_split(${luaLiteral(`${username}@${domain}`)})`,
    `if not u then return nil, "Invalid username" end`,
    `if not prosody.hosts[h] then return nil, "No such host" end`,
  ];
}

/** The end of both create lines: given the write's `ok, err`, the host's default provisioned role, as user:create. */
const finishAccountLines = [
  `if not ok then return nil, "Could not create user: " .. tostring(err) end`,
  `local role = cm.get("*", "default_provisioned_role") or "prosody:member"`,
  `local role_ok, role_err = um.set_user_role(u, h, role)`,
  `if not role_ok then um.delete_user(u, h) return nil, "Could not create user: could not assign role: " .. tostring(role_err) end`,
  `return true, "Created " .. u .. "@" .. h .. " with role '" .. role .. "'"`,
];

/** Asks Prosody how `domain` hashes passwords; "none" when it is not internal_hashed (then Prosody must hash). */
export function hashingSchemeLine(domain: string): string {
  return [
    `>local cm, h = require"core.configmanager", ${luaLiteral(domain)}`,
    `local users = prosody.hosts[h] and prosody.hosts[h].users`,
    `if not users or users.name ~= "internal_hashed" then return "none" end`,
    `return tostring(cm.get(h, "password_hash") or "SHA-1") .. " " .. tostring(cm.get(h, "default_iteration_count") or 10000)`,
  ].join(' ');
}

/**
 * The lines (after openAccountLines) that refuse to store precomputed credentials, answering "Hashing changed",
 * unless host h still hashes the way they were made: Prosody may have been reconfigured since the agent asked.
 */
function sameHashingLines(scheme: HashingScheme): string[] {
  return [
    `local users = prosody.hosts[h].users`,
    `if not users or users.name ~= "internal_hashed" or (cm.get(h, "password_hash") or "SHA-1") ~= ${luaLiteral(scheme.hash)}`,
    `or (cm.get(h, "default_iteration_count") or 10000) ~= ${scheme.iterations} then return nil, "Hashing changed" end`,
  ];
}

/**
 * The admin-shell line that creates `username@domain` from precomputed SCRAM credentials unless the name exists,
 * in one call that never yields: the same account record mod_auth_internal_hashed's create_user writes (stored_key,
 * server_key, salt, iteration_count, created, updated), then the host's default provisioned role, as
 * createUserLine. It first re-checks that the host still hashes the way the credentials were made (a config
 * reload in between answers "Hashing changed", and the caller starts over). Every value is a `\ddd` literal.
 */
export function storeHashedUserLine(username: string, domain: string, credentials: ScramCredentials): string {
  return [
    ...openAccountLines(username, domain),
    ...sameHashingLines(credentials),
    `if um.user_exists(u, h) then return nil, "User exists" end`,
    `local now = os.time()`,
    `local ok, err = sm.open(h, "accounts"):set(u, { stored_key = ${luaLiteral(credentials.storedKey)}, server_key = ${luaLiteral(credentials.serverKey)},`,
    `salt = ${luaLiteral(credentials.salt)}, iteration_count = ${credentials.iterations}, created = now, updated = now })`,
    ...finishAccountLines,
  ].join(' ');
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
