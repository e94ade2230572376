/**
 * Group commit for SQLite (better-sqlite3): writes asked for in the same turn of the event loop run in one
 * transaction, each inside its own savepoint, so one that throws is undone alone and the others still commit.
 * Why: under a burst a commit per write costs more than the writes themselves (docs/decisions/batching.md).
 *
 * Each promise settles after the shared COMMIT has returned: whatever durability the connection promises holds
 * before the caller sees its result. If the COMMIT itself fails, every write of the batch fails with it.
 */
import type Database from 'better-sqlite3';

type Outcome<O> = { readonly ok: true; readonly value: O } | { readonly ok: false; readonly error: unknown };

interface Pending<I, O> {
  readonly input: I;
  readonly resolve: (value: O) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit<I, O> {
  readonly #db: Database.Database;
  /** One write in a transaction of its own; run inside the batch, better-sqlite3 makes that a SAVEPOINT. */
  readonly #one: (input: I) => O;
  #queue: Pending<I, O>[] = [];
  #closed = false;

  /** `write` runs inside the shared transaction (in a savepoint of its own); it must be synchronous. */
  constructor(db: Database.Database, write: (input: I) => O) {
    this.#db = db;
    this.#one = db.transaction(write);
  }

  /** Runs `write(input)` with the other writes of this turn; resolves with its result once they are committed. */
  submit(input: I): Promise<O> {
    if (this.#closed) return Promise.reject(new Error('the store is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      if (this.#queue.length === 1) setImmediate(() => this.#flush());
    });
  }

  /** Fails the writes not yet run; later submits fail at once. */
  close(): void {
    this.#closed = true;
    for (const pending of this.#queue.splice(0)) pending.reject(new Error('the store is closed'));
  }

  #flush(): void {
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    let outcomes: Outcome<O>[];
    try {
      outcomes = this.#db
        .transaction(() =>
          batch.map(({ input }): Outcome<O> => {
            try {
              // A throw rolls back this write's savepoint only.
              return { ok: true, value: this.#one(input) };
            } catch (error) {
              return { ok: false, error };
            }
          }),
        )
        .immediate();
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    outcomes.forEach((outcome, index) =>
      outcome.ok ? batch[index]!.resolve(outcome.value) : batch[index]!.reject(outcome.error),
    );
  }
}
