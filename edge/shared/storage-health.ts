/**
 * A full disk, seen from SQLite (SQLITE_FULL): never a crash. Whoever writes reports what happened here; /healthz
 * reads `full`, and the background loops (dispatcher, worker) back off while it lasts and probe until there is
 * room again. A failed write changes nothing (SQLite rolls the transaction back), so carrying on later is safe.
 */
import { SqliteError } from 'better-sqlite3';

/** Whether `error` is SQLite saying the disk (or the database's size limit) is full. */
export function isStorageFull(error: unknown): boolean {
  return (
    error instanceof SqliteError &&
    (error.code === 'SQLITE_FULL' || (/^SQLITE_IOERR/.test(error.code) && /disk|space/i.test(error.message)))
  );
}

export interface BackoffOptions {
  /** @default 500 ms */
  readonly firstMs?: number;
  /** @default 30 s */
  readonly maxMs?: number;
}

export class StorageHealth {
  #fullSince: number | null = null;
  #delayMs = 0;
  readonly #firstMs: number;
  readonly #maxMs: number;

  constructor(options: BackoffOptions = {}) {
    this.#firstMs = options.firstMs ?? 500;
    this.#maxMs = options.maxMs ?? 30_000;
  }

  /** Since when writes fail for lack of room (ms epoch), or null. */
  get fullSince(): number | null {
    return this.#fullSince;
  }

  get full(): boolean {
    return this.#fullSince !== null;
  }

  /** A write failed with SQLITE_FULL: returns how long to wait before the next try (doubling, capped). */
  wroteNothing(now = Date.now()): number {
    this.#fullSince ??= now;
    this.#delayMs = Math.min(this.#maxMs, this.#delayMs === 0 ? this.#firstMs : this.#delayMs * 2);
    return this.#delayMs;
  }

  /** A write was committed: there is room (again). */
  wrote(): void {
    this.#fullSince = null;
    this.#delayMs = 0;
  }
}
