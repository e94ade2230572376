/**
 * Creating accounts in Prosody without ever overwriting one, and checking a password without a network login.
 *
 * - `AdminSocketAccounts` (Prosody 13, the default): over the admin socket on long-lived connections, one Lua
 *   call that checks the name and creates the account with its password and role in a single step (see
 *   createUserLine). Prosody runs it without yielding, so nothing can create the same name in between: it never
 *   overwrites an account, not even one an admin makes at that very moment (`user:create` checks, then yields to
 *   ask for the password, then creates). It also writes the account once instead of four times.
 * - `ProsodyctlAccounts` (Prosody 0.12 fallback): `prosodyctl adduser USER@HOST`, password twice on stdin;
 *   it refuses an existing name too. Never `prosodyctl register`: it silently replaces an existing password.
 *
 * On Prosody 13 with internal_hashed, the agent computes the SCRAM credentials itself (PBKDF2 on libuv's thread
 * pool, i.e. off Prosody's single thread, where it was most of the time an account took) and Prosody only stores
 * them, exactly as its own create_user would have (see storeHashedUserLine): the password never enters Prosody.
 *
 * Both check a password with Prosody's own `usermanager.test_password`, evaluated in the admin shell from a Lua
 * expression in which EVERY byte of the name and password is a `\ddd` escape, so no value can become code.
 */
import { spawn } from 'node:child_process';
import { createHash, createHmac, pbkdf2, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { checkPassword } from '../shared/passwords.js';
import { AdminSocketConnection, ProsodyUnavailableError, type ReplResult } from './admin-socket.js';
import type { DeleteStatus } from '../shared/accounts-protocol.js';
import {
  deleteUserLine,
  listUsersLine,
  parseDelete,
  parseUserList,
  setPasswordLine,
  storeHashedPasswordLine,
  type ProsodyAdmin,
  type ResetOutcome,
} from './prosody-admin.js';

export { ProsodyUnavailableError };

export type CreateOutcome =
  | { readonly kind: 'created' }
  | { readonly kind: 'exists' }
  /** Prosody refused for good (e.g. the name or password is not acceptable to it). */
  | { readonly kind: 'rejected'; readonly detail: string };

export interface ProsodyAccounts {
  /** Creates `username@domain` unless it exists. Throws ProsodyUnavailableError when worth retrying. */
  create(username: string, password: string): Promise<CreateOutcome>;
  /** Whether `password` is the password of the existing account `username`. */
  verify(username: string, password: string): Promise<boolean>;
  close(): Promise<void>;
}

/** A Lua string literal with every byte as a decimal escape: nothing inside it can end the string. */
export function luaLiteral(value: string): string {
  let literal = '"';
  for (const byte of Buffer.from(value, 'utf8')) literal += `\\${byte.toString().padStart(3, '0')}`;
  return `${literal}"`;
}

/** The admin-shell line that checks a password (`>` runs it in the server's global environment). */
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
export function openAccountLines(username: string, domain: string): string[] {
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

/** How Prosody hashes passwords for a host (mod_auth_internal_hashed's options). */
export interface HashingScheme {
  readonly hash: 'SHA-1' | 'SHA-256';
  readonly iterations: number;
}

/** SCRAM credentials as mod_auth_internal_hashed stores them: hex keys, a UUID salt, the iteration count. */
export interface ScramCredentials extends HashingScheme {
  readonly storedKey: string;
  readonly serverKey: string;
  readonly salt: string;
}

const pbkdf2Async = promisify(pbkdf2);

/**
 * RFC 5802's StoredKey and ServerKey for `password`, as Prosody's SCRAM hasher makes them (util.sasl.scram).
 * Prosody SASLpreps the password first; only call this for passwords SASLprep leaves unchanged (see
 * hashableOutsideProsody), so hashing the raw UTF-8 bytes gives the same keys a client proves.
 */
export async function scramCredentials(password: string, scheme: HashingScheme, salt: string = randomUUID()): Promise<ScramCredentials> {
  const digest = scheme.hash === 'SHA-1' ? 'sha1' : 'sha256';
  const length = scheme.hash === 'SHA-1' ? 20 : 32;
  const salted = await pbkdf2Async(Buffer.from(password, 'utf8'), salt, scheme.iterations, length, digest);
  const clientKey = createHmac(digest, salted).update('Client Key').digest();
  return {
    ...scheme,
    salt,
    storedKey: createHash(digest).update(clientKey).digest('hex'),
    serverKey: createHmac(digest, salted).update('Server Key').digest('hex'),
  };
}

/**
 * Whether the agent may hash `password` itself: our password policy admits only passwords that SASLprep leaves
 * exactly as they are, so for those the raw bytes are what Prosody would hash. Anything else (which meet-auth
 * never sends) is left to Prosody's own hashing, SASLprep included.
 */
export const hashableOutsideProsody = (password: string) => checkPassword(password, '').ok;

/** Asks Prosody how `domain` hashes passwords; null when it is not internal_hashed (then Prosody must hash). */
export function hashingSchemeLine(domain: string): string {
  return [
    `>local cm, h = require"core.configmanager", ${luaLiteral(domain)}`,
    `local users = prosody.hosts[h] and prosody.hosts[h].users`,
    `if not users or users.name ~= "internal_hashed" then return "none" end`,
    `return tostring(cm.get(h, "password_hash") or "SHA-1") .. " " .. tostring(cm.get(h, "default_iteration_count") or 10000)`,
  ].join(' ');
}

/** Parses the answer to hashingSchemeLine. */
export function parseHashingScheme(text: string): HashingScheme | null {
  const match = /^Result: (SHA-1|SHA-256) (\d+)$/.exec(text.trim());
  if (!match) return null;
  const iterations = Number(match[2]);
  // Prosody's own minimum; anything odd is left to Prosody.
  if (!Number.isSafeInteger(iterations) || iterations < 4096) return null;
  return { hash: match[1] as HashingScheme['hash'], iterations };
}

/**
 * The lines (after openAccountLines) that refuse to store precomputed credentials, answering "Hashing changed",
 * unless host h still hashes the way they were made: Prosody may have been reconfigured since the agent asked.
 */
export function sameHashingLines(scheme: HashingScheme): string[] {
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

const WRONG_PASSWORD = /^Error: (Auth failed|Account disabled|Password fails SASLprep)/;

function verdictOf(result: ReplResult): boolean {
  if (result.ok && result.text.trim() === 'Result: true') return true;
  if (!result.ok && WRONG_PASSWORD.test(result.text.trim())) return false;
  throw new ProsodyUnavailableError(`unexpected answer to a password check: ${result.text.slice(0, 200)}`);
}

/** Prosody's short error text, safe to record (the password is blanked should Prosody ever echo it). */
function detailOf(text: string, password?: string): string {
  const blanked = password ? text.split(password).join('[password]') : text;
  return blanked.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/** A reset's answer: changed, absent, refused by Prosody for good, or trouble worth another try (thrown). */
function resetOutcomeOf(result: ReplResult, password: string): ResetOutcome {
  const text = result.text.trim();
  if (text === 'OK: changed') return { kind: 'changed' };
  if (text === 'OK: absent') return { kind: 'absent' };
  if (/SASLprep|Invalid username|No such host/i.test(text)) return { kind: 'rejected', detail: detailOf(text, password) };
  throw new ProsodyUnavailableError(detailOf(text, password) || 'Prosody did not change the password');
}

export interface AdminSocketAccountsOptions {
  readonly socketPath: string;
  /** @default "meet.jitsi" */
  readonly domain?: string;
  /** Parallel admin connections. Prosody works single-threaded, so more than 2 only adds contention (measured). @default 2 */
  readonly connections?: number;
  readonly commandTimeoutMs?: number;
}

export class AdminSocketAccounts implements ProsodyAccounts, ProsodyAdmin {
  readonly #domain: string;
  readonly #pool: AdminSocketConnection[];
  #scheme: Promise<HashingScheme | null> | undefined;

  constructor(options: AdminSocketAccountsOptions) {
    this.#domain = options.domain ?? 'meet.jitsi';
    this.#pool = Array.from(
      { length: options.connections ?? 2 },
      () => new AdminSocketConnection({ socketPath: options.socketPath, commandTimeoutMs: options.commandTimeoutMs }),
    );
  }

  #run(line: string, password?: string): Promise<ReplResult> {
    const idlest = this.#pool.reduce((best, connection) => (connection.load < best.load ? connection : best));
    return idlest.run(line, password);
  }

  /** How Prosody hashes, asked once per connection generation (a failed ask is asked again next time). */
  #hashingScheme(): Promise<HashingScheme | null> {
    this.#scheme ??= this.#run(hashingSchemeLine(this.#domain)).then(
      (result) => parseHashingScheme(result.text),
      (error: unknown) => {
        this.#scheme = undefined;
        throw error;
      },
    );
    return this.#scheme;
  }

  /**
   * Runs the line `storeLine` makes from SCRAM credentials the agent computed, when it can; null when Prosody must
   * hash instead: the password or host does not allow it, Prosody was reconfigured since we asked ("Hashing
   * changed": ask again next time; this once, Prosody hashes), or the answer is one of `prosodyHashes`.
   */
  async #runPrehashed(
    password: string,
    storeLine: (credentials: ScramCredentials) => string,
    prosodyHashes: readonly string[] = [],
  ): Promise<ReplResult | null> {
    const scheme = hashableOutsideProsody(password) ? await this.#hashingScheme() : null;
    if (!scheme) return null;
    const result = await this.#run(storeLine(await scramCredentials(password, scheme)));
    const text = result.text.trim();
    if (text === 'Error: Hashing changed') this.#scheme = undefined;
    return text === 'Error: Hashing changed' || prosodyHashes.includes(text) ? null : result;
  }

  async create(username: string, password: string): Promise<CreateOutcome> {
    const result =
      (await this.#runPrehashed(password, (credentials) => storeHashedUserLine(username, this.#domain, credentials))) ??
      (await this.#run(createUserLine(username, this.#domain, password)));
    const text = result.text.trim();
    if (result.ok && text.startsWith('OK: Created')) return { kind: 'created' };
    if (text === 'Error: User exists') return { kind: 'exists' };
    // Storage trouble inside Prosody is worth another try; a password Prosody's hashing refuses is not.
    if (/^Error: Could not create user: (?!password fails SASLprep)/i.test(text)) throw new ProsodyUnavailableError(detailOf(text, password));
    return { kind: 'rejected', detail: detailOf(text, password) || 'Prosody refused the account' };
  }

  async verify(username: string, password: string): Promise<boolean> {
    return verdictOf(await this.#run(testPasswordLine(username, this.#domain, password)));
  }

  async list(): Promise<string[]> {
    return parseUserList(await this.#run(listUsersLine(this.#domain)));
  }

  async delete(username: string): Promise<DeleteStatus> {
    return parseDelete(await this.#run(deleteUserLine(username, this.#domain)));
  }

  /** As create: the agent computes the SCRAM keys when it can, so the password never reaches Prosody. */
  async setPassword(username: string, password: string): Promise<ResetOutcome> {
    const storeLine = (credentials: ScramCredentials) => storeHashedPasswordLine(username, this.#domain, credentials);
    const result =
      (await this.#runPrehashed(password, storeLine, ['Error: Prosody hashes'])) ??
      (await this.#run(setPasswordLine(username, this.#domain, password)));
    return resetOutcomeOf(result, password);
  }

  async close(): Promise<void> {
    for (const connection of this.#pool) connection.close();
  }
}

export interface ProsodyctlAccountsOptions {
  /** Prosody's config file, passed as `--config`. */
  readonly configPath?: string;
  /** @default "prosodyctl" */
  readonly prosodyctl?: string;
  /** @default "meet.jitsi" */
  readonly domain?: string;
  /** @default 30 s */
  readonly timeoutMs?: number;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class ProsodyctlAccounts implements ProsodyAccounts, ProsodyAdmin {
  readonly #options: ProsodyctlAccountsOptions;
  readonly #domain: string;

  constructor(options: ProsodyctlAccountsOptions) {
    this.#options = options;
    this.#domain = options.domain ?? 'meet.jitsi';
  }

  /** Runs prosodyctl with `input` on stdin: secrets go there, never into argv. */
  #prosodyctl(args: readonly string[], input: string): Promise<Run> {
    const argv = [...(this.#options.configPath ? ['--config', this.#options.configPath] : []), ...args];
    return new Promise((resolve, reject) => {
      const child = spawn(this.#options.prosodyctl ?? 'prosodyctl', argv, {
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: this.#options.timeoutMs ?? 30_000,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
      child.stdin.on('error', () => undefined);
      child.once('error', (error) => reject(new ProsodyUnavailableError(`cannot run prosodyctl: ${error.message}`)));
      child.once('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input);
    });
  }

  async create(username: string, password: string): Promise<CreateOutcome> {
    const { code, stdout, stderr } = await this.#prosodyctl(['adduser', `${username}@${this.#domain}`], `${password}\n${password}\n`);
    const said = detailOf(`${stdout.replace(/(Enter new|Retype new) password: \S*/g, '')} ${stderr}`);
    if (code === 0) return { kind: 'created' };
    if (/That user already exists/.test(said)) return { kind: 'exists' };
    if (/invalid|does not exist in the config|SASLprep/i.test(said)) return { kind: 'rejected', detail: said };
    throw new ProsodyUnavailableError(`prosodyctl adduser failed (exit ${code}): ${said}`);
  }

  async verify(username: string, password: string): Promise<boolean> {
    return verdictOf(await this.#shell(testPasswordLine(username, this.#domain, password)));
  }

  /** A shell line's answer: the shell prints each result as "| text" (success) or "! text" (error). Needs the server running. */
  async #shell(line: string): Promise<ReplResult> {
    const { stdout } = await this.#prosodyctl(['shell'], `${line}\n`);
    const answer = stdout
      .split('\n')
      .map((text) => text.replace(/^prosody> /, ''))
      .find((text) => /^[|!] /.test(text));
    if (!answer) throw new ProsodyUnavailableError(`prosodyctl shell gave no answer: ${detailOf(stdout)}`);
    return { ok: answer.startsWith('|'), text: answer.slice(2), output: [] };
  }

  async list(): Promise<string[]> {
    return parseUserList(await this.#shell(listUsersLine(this.#domain)));
  }

  /** `prosodyctl deluser` (writes storage directly: sessions already open are not ended on 0.12). */
  async delete(username: string): Promise<DeleteStatus> {
    const { code, stdout, stderr } = await this.#prosodyctl(['deluser', `${username}@${this.#domain}`], '');
    const said = detailOf(`${stdout} ${stderr}`);
    if (code === 0) return 'deleted';
    if (/That user does not exist/.test(said)) return 'absent';
    throw new ProsodyUnavailableError(`prosodyctl deluser failed (exit ${code}): ${said}`);
  }

  /** `prosodyctl passwd`, the password twice on stdin; it refuses a name that does not exist. */
  async setPassword(username: string, password: string): Promise<ResetOutcome> {
    const { code, stdout, stderr } = await this.#prosodyctl(['passwd', `${username}@${this.#domain}`], `${password}\n${password}\n`);
    const said = detailOf(`${stdout.replace(/(Enter new|Retype new) password: \S*/g, '')} ${stderr}`, password);
    if (code === 0) return { kind: 'changed' };
    if (/That user does not exist/.test(said)) return { kind: 'absent' };
    if (/invalid|SASLprep/i.test(said)) return { kind: 'rejected', detail: said };
    throw new ProsodyUnavailableError(`prosodyctl passwd failed (exit ${code}): ${said}`);
  }

  async close(): Promise<void> {}
}
