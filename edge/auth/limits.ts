/**
 * Rate limits that count only failed verifications (bad, used, expired or revoked tickets; bad ticketmaster
 * tokens), per client address and per credential. A request with a valid credential never consults them, so
 * a flood from one address cannot lock out the people who share it (a conference NAT) and nobody sleeps.
 */
import { RateLimiterMemory, RateLimiterRes, RateLimiterSQLite, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimitConfig } from './config.js';
import type { Db } from './store/db.js';
import { addressKey } from '../shared/addresses.js';

export type LimitVerdict = { readonly limited: false } | { readonly limited: true; readonly retryAfterSeconds: number };

export { addressKey } from '../shared/addresses.js';

/**
 * Counters in SQLite (`store`, see openLimitsDatabase) keep memory flat under a flood from many addresses
 * (an IPv6 attacker has millions of /64s); without a store they are kept in memory (unit tests).
 */
export async function openFailureLimiter(config: RateLimitConfig, store?: Db): Promise<FailureLimiter> {
  if (!store) {
    return new FailureLimiter(
      config,
      new RateLimiterMemory({ keyPrefix: 'addr', points: config.addressFailures, duration: config.windowSeconds }),
      new RateLimiterMemory({ keyPrefix: 'cred', points: config.credentialFailures, duration: config.windowSeconds }),
    );
  }
  const sqlite = (tableName: string, points: number) =>
    new Promise<RateLimiterSQLite>((resolve, reject) => {
      const limiter: RateLimiterSQLite = new RateLimiterSQLite(
        {
          storeClient: store,
          storeType: 'better-sqlite3',
          tableName,
          points,
          duration: config.windowSeconds,
          clearExpiredByTimeout: true,
        },
        (error?: Error) => (error ? reject(error) : resolve(limiter)),
      );
    });
  return new FailureLimiter(
    config,
    await sqlite('failures_by_address', config.addressFailures),
    await sqlite('failures_by_credential', config.credentialFailures),
  );
}

export class FailureLimiter {
  constructor(
    readonly config: RateLimitConfig,
    private readonly byAddress: RateLimiterAbstract,
    private readonly byCredential: RateLimiterAbstract,
  ) {}

  /** Counts one failed verification; limited once either budget is spent. */
  async fail(address: string, credential: string | null): Promise<LimitVerdict> {
    const results = await Promise.all([
      consume(this.byAddress, addressKey(address)),
      credential ? consume(this.byCredential, credential) : Promise.resolve(null),
    ]);
    const waits = results.filter((wait): wait is number => wait !== null);
    return waits.length === 0 ? { limited: false } : { limited: true, retryAfterSeconds: Math.max(...waits) };
  }

  /** Whether an address has spent its budget (checked before a verify that costs every Jitsi server a hash). */
  async addressBlocked(address: string): Promise<LimitVerdict> {
    const state = await this.byAddress.get(addressKey(address));
    if (!state || state.consumedPoints < this.config.addressFailures) return { limited: false };
    return { limited: true, retryAfterSeconds: seconds(state.msBeforeNext) };
  }

  /** Whether a credential has spent its budget (checked before an expensive bcrypt verify). */
  async credentialBlocked(credential: string): Promise<LimitVerdict> {
    const state = await this.byCredential.get(credential);
    if (!state || state.consumedPoints < this.config.credentialFailures) return { limited: false };
    return { limited: true, retryAfterSeconds: seconds(state.msBeforeNext) };
  }
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** Consumes one point; the wait in seconds when the budget was already spent, else null. */
async function consume(limiter: RateLimiterAbstract, key: string): Promise<number | null> {
  try {
    await limiter.consume(key);
    return null;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return seconds(rejection.msBeforeNext);
    throw rejection;
  }
}

/** How many of something each key may have in flight at once (bcrypt verifies per address). */
export class InFlightPerKey {
  readonly #counts = new Map<string, number>();
  constructor(private readonly limit: number) {}

  /** A release function when `key` has room, else null. */
  enter(key: string): (() => void) | null {
    const held = this.#counts.get(key) ?? 0;
    if (held >= this.limit) return null;
    this.#counts.set(key, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#counts.get(key) ?? 1) - 1;
      if (left <= 0) this.#counts.delete(key);
      else this.#counts.set(key, left);
    };
  }
}
