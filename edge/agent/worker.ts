/**
 * The account worker: takes due jobs from the inbox (a lease, see inbox.ts), opens each sealed password and
 * creates the account with a non-overwriting command. A name that already exists is a conflict, the account left
 * untouched and its password never consulted, unless this very job tried the create before (the inbox kept it
 * "attempting": a crash between create and record): only then does the job's own password logging in make it
 * created. Consulting the password for any existing account would make every redemption a password guess. Transient trouble (Prosody down or restarting)
 * puts the job back with exponential backoff and jitter.
 *
 * The agent runs one in the background (`start`/`wake`); the cron safety net runs `drain` once.
 */
import { EventEmitter } from 'node:events';
import { openSeal, SealError, sealContext } from '../shared/sealing.js';
import { isStorageFull, StorageHealth } from '../shared/storage-health.js';
import { newOwnerId, type ClaimedJob, type FinalStatus, type Inbox } from './inbox.js';
import { ProsodyUnavailableError, type ProsodyAccounts } from './prosody/accounts.js';

export interface WorkerLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  /** Per-job timeline (claimed, stored in Prosody) for finding where time goes; off unless the level is debug. */
  debug?(fields: object, message: string): void;
}

export interface WorkerOptions {
  readonly inbox: Inbox;
  readonly accounts: ProsodyAccounts;
  /** Sealing private keys, newest first (several during a rotation). */
  readonly sealingKeys: readonly string[];
  readonly log: WorkerLog;
  /** Jobs worked on at once. @default 8 */
  readonly concurrency?: number;
  /** How long a claim lasts; longer than any one create may take. @default 60 s */
  readonly leaseMs?: number;
  /** First retry delay after a transient failure; doubles each attempt. @default 500 ms */
  readonly retryBaseMs?: number;
  /** @default 60 s */
  readonly retryMaxMs?: number;
  /** After this long (since the job arrived) transient failures become a permanent "failed". @default 24 h */
  readonly giveUpAfterMs?: number;
}

export interface Settled {
  readonly id: string;
  readonly status: FinalStatus | 'retry';
  readonly detail: string | null;
}

export interface WorkerSummary {
  created: number;
  conflict: number;
  failed: number;
  retry: number;
}

const CONTROL = /\p{Cc}/u;

export class AccountWorker extends EventEmitter<{ settled: [Settled] }> {
  readonly owner = newOwnerId();
  /** Whether the inbox can be written (SQLITE_FULL seen and not yet over); the app's /healthz and 503s read it. */
  readonly storage = new StorageHealth();
  /** After the inbox refused a write: no claims before this (ms epoch), backing off. */
  #pausedUntil = 0;
  readonly #options: WorkerOptions;
  readonly #concurrency: number;
  #inFlight = 0;
  #running = false;
  #stopping = false;
  #timer: NodeJS.Timeout | undefined;
  #idle: Array<() => void> = [];
  /** Held requests waiting for one job each (a map, not one listener per request: bursts hold thousands). */
  readonly #waiters = new Map<string, Set<() => void>>();

  constructor(options: WorkerOptions) {
    super();
    this.#options = options;
    this.#concurrency = options.concurrency ?? 8;
  }

  /** Works until nothing is due now (jobs put back for later stay for later), then resolves with the tally. */
  async drain(onSettled?: (settled: Settled) => void): Promise<WorkerSummary> {
    const summary: WorkerSummary = { created: 0, conflict: 0, failed: 0, retry: 0 };
    const count = (settled: Settled) => {
      summary[settled.status] += 1;
      onSettled?.(settled);
    };
    this.on('settled', count);
    try {
      await new Promise<void>((resolve) => {
        this.#idle.push(resolve);
        this.#pump();
      });
    } finally {
      this.off('settled', count);
    }
    return summary;
  }

  /** Resolves when job `id` gets a final result here, or after `timeoutMs`, whichever is first. */
  whenSettled(id: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(id) ?? new Set();
      this.#waiters.set(id, waiters);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(id) === waiters) this.#waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      waiters.add(done);
    });
  }

  /** Background mode: works whenever woken and whenever a put-back job falls due. */
  start(): void {
    this.#running = true;
    this.wake();
  }

  wake(): void {
    this.#pump();
  }

  /** Stops taking jobs and waits for the ones in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#stopping = true;
    clearTimeout(this.#timer);
    if (this.#inFlight > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    // Claims go in batches, at least half the concurrency at a time (or whatever is due when idle): a claim is a
    // write transaction, and one per job (woken by every arriving request) would cost more than the job itself.
    const batch = Math.ceil(this.#concurrency / 2);
    while (
      !this.#stopping &&
      Date.now() >= this.#pausedUntil &&
      this.#concurrency - this.#inFlight >= (this.#inFlight === 0 ? 1 : batch)
    ) {
      let jobs: ClaimedJob[];
      try {
        if (this.storage.full) {
          this.#options.inbox.probeStorage();
          this.storage.wrote();
          this.#options.log.info({}, 'the inbox has room again: working on jobs');
        }
        jobs = this.#options.inbox.claim(
          this.owner,
          this.#concurrency - this.#inFlight,
          this.#options.leaseMs ?? 60_000,
        );
      } catch (error) {
        // A full disk, SQLITE_BUSY beyond the busy timeout, or a closed inbox: try again later, backing off.
        this.#writeFailed(error, 'cannot claim jobs from the inbox');
        jobs = [];
      }
      if (jobs.length === 0) break;
      for (const job of jobs) {
        this.#options.log.debug?.({ job: job.id }, 'job claimed');
        this.#inFlight += 1;
        // A result that could not be recorded (a full disk): the job is claimed again once its lease runs out, and
        // as this job tried the create, an account it made then counts as created.
        void this.#process(job)
          .catch((error: unknown) => this.#writeFailed(error, `could not record the result of job ${job.id}`))
          .finally(() => {
            this.#inFlight -= 1;
            this.#pump();
          });
      }
    }
    if (this.#inFlight === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
      this.#schedule();
    }
  }

  /** Backs off after a failed write; SQLITE_FULL also marks the storage full until a probe finds room. */
  #writeFailed(error: unknown, what: string): void {
    const wait = isStorageFull(error) ? this.storage.wroteNothing() : 1_000;
    this.#pausedUntil = Date.now() + wait;
    this.#options.log.error({ err: error, retryInMs: wait }, isStorageFull(error) ? `${what}: the disk is full` : what);
  }

  /** Sleeps until the next put-back job is due, or the back-off is over (background mode only). */
  #schedule(): void {
    clearTimeout(this.#timer);
    if (!this.#running) return;
    let due: number | undefined;
    try {
      due = this.#pausedUntil > Date.now() ? this.#pausedUntil : this.#options.inbox.nextDueAt();
    } catch (error) {
      this.#options.log.error({ err: error }, 'cannot read the inbox');
    }
    const wait = due === undefined ? 5_000 : Math.min(5_000, Math.max(20, due - Date.now()));
    this.#timer = setTimeout(() => this.#pump(), wait);
    this.#timer.unref();
  }

  async #process(job: ClaimedJob): Promise<void> {
    const { inbox, log } = this.#options;
    const settle = (status: FinalStatus, detail: string | null) => {
      if (!inbox.finish(job.id, this.owner, status, detail)) {
        log.warn({ job: job.id }, 'lost the lease on a job before recording its result');
        return;
      }
      log.info({ job: job.id, username: job.username, status, attempts: job.attempts }, `account ${status}`);
      this.emit('settled', { id: job.id, status, detail });
      for (const done of [...(this.#waiters.get(job.id) ?? [])]) done();
    };

    let password: string;
    try {
      password = openSeal(this.#options.sealingKeys, job.sealedPassword, sealContext(job.id, job.username));
    } catch (error) {
      settle(
        'failed',
        `the sealed password does not open: ${error instanceof SealError ? error.message : 'malformed seal'}`,
      );
      return;
    }
    if (CONTROL.test(password)) {
      settle('failed', 'the password contains control characters');
      return;
    }

    try {
      const outcome = await this.#options.accounts.create(job.username, password);
      log.debug?.({ job: job.id, outcome: outcome.kind }, 'job stored in prosody');
      if (outcome.kind === 'created') settle('created', null);
      else if (outcome.kind === 'rejected') settle('failed', outcome.detail);
      else if (job.attemptedBefore && (await this.#options.accounts.verify(job.username, password)))
        settle('created', 'the account already existed with this password');
      else settle('conflict', 'the name exists on this server already; left untouched');
    } catch (error) {
      const detail =
        error instanceof ProsodyUnavailableError ? error.message : 'unexpected error while creating the account';
      if (!(error instanceof ProsodyUnavailableError)) log.error({ err: error, job: job.id }, detail);
      if (Date.now() - job.receivedAt > (this.#options.giveUpAfterMs ?? 24 * 3_600_000)) {
        settle('failed', `gave up: ${detail}`);
        return;
      }
      const base = this.#options.retryBaseMs ?? 500;
      const delay =
        Math.min(this.#options.retryMaxMs ?? 60_000, base * 2 ** (job.attempts - 1)) * (0.5 + Math.random() / 2);
      if (inbox.retryLater(job.id, this.owner, detail, Date.now() + Math.round(delay))) {
        log.warn(
          { job: job.id, attempts: job.attempts, retryInMs: Math.round(delay), detail },
          'account not created yet, will retry',
        );
        this.emit('settled', { id: job.id, status: 'retry', detail });
      }
    }
  }
}
