/**
 * Creating and administering accounts over Prosody 13's admin socket (the default), on long-lived connections.
 * A create is one Lua call that checks the name and creates the account with its password and role in a single
 * step (see createUserLine). Prosody runs it without yielding, so nothing can create the same name in between: it
 * never overwrites an account, not even one an admin makes at that very moment (`user:create` checks, then yields
 * to ask for the password, then creates). It also writes the account once instead of four times.
 *
 * With internal_hashed, the agent computes the SCRAM credentials itself (scram.ts) and Prosody only stores them
 * (see storeHashedUserLine): the password never enters Prosody. A password is checked with Prosody's own
 * `usermanager.test_password` (testPasswordLine).
 */
import type { DeleteStatus } from '../../shared/accounts-protocol.js';
import {
  ProsodyUnavailableError,
  type CreateOutcome,
  type ProsodyAccounts,
  type ProsodyAdmin,
  type ResetOutcome,
} from './accounts.js';
import { AdminSocketConnection, type ReplResult } from './admin-socket.js';
import { detailOf, parseDelete, parseHashingScheme, parseUserList, resetOutcomeOf, verdictOf } from './answers.js';
import {
  createUserLine,
  deleteUserLine,
  hashingSchemeLine,
  listUsersLine,
  setPasswordLine,
  storeHashedPasswordLine,
  storeHashedUserLine,
  testPasswordLine,
} from './lua.js';
import { hashableOutsideProsody, scramCredentials, type HashingScheme, type ScramCredentials } from './scram.js';
import { DEFAULTS } from '../../../common/config.js';

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
    this.#domain = options.domain ?? DEFAULTS.xmppDomain;
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
    if (/^Error: Could not create user: (?!password fails SASLprep)/i.test(text))
      throw new ProsodyUnavailableError(detailOf(text, password));
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
