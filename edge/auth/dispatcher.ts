/**
 * Delivers outbox jobs to the agents: each job is sent at once, signed (Standard Webhooks), in deliveries of up
 * to `maxJobsPerDelivery` jobs (edge/shared/job-protocol.ts: one job alone when it is alone, the jobs redeemed in
 * one turn of the event loop together under a burst); each job id is its own idempotency key. Failures (network,
 * timeouts, 5xx, 401, bad answers) are retried per job with exponential backoff and jitter, and a job is marked
 * dead after `maxAttempts`. "pending" is no failure: the agent has stored the job and is working on it, so the
 * dispatcher asks again at once (the agent holds that repeat until the job is done: a long-poll), without
 * counting an attempt. At most `maxInFlightPerAgent` jobs per agent are in flight; a finished delivery makes
 * room for the next due jobs at once, and a poll picks up retries that came due and jobs an admin put back from
 * the CLI.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../shared/log.js';
import { MAX_JOBS_PER_DELIVERY } from '../shared/job-protocol.js';
import { isStorageFull, StorageHealth } from '../shared/storage-health.js';
import { AgentClient } from './agent-client.js';
import type { AgentConfig, DispatchConfig } from './config.js';
import { attemptDelivery, outcomeOf, type AttemptResult } from './delivery.js';
import type { AuthMetrics } from './metrics.js';
import { probeStorage, type Db } from './store/db.js';
import {
  dueJobs,
  getJob,
  extendJobLease,
  leaseJob,
  purgeDeadSeals,
  recordJobOutcome,
  type DueJob,
  type JobOutcome,
} from './store/outbox.js';
import { getRequest, type RequestStatus } from './store/requests.js';

export interface DispatcherOptions {
  readonly db: Db;
  readonly agents: readonly AgentConfig[];
  readonly config: DispatchConfig;
  readonly log: Logger;
  readonly metrics?: AuthMetrics;
  readonly now?: () => number;
  /** Jitter source in [0, 1); tests pin it. */
  readonly random?: () => number;
  /**
   * Jobs in flight per agent at most. Each delivery holds one keep-alive connection while the agent holds its
   * answer; the agent's worker only needs a queue a little deeper than its own concurrency. @default 128
   */
  readonly maxInFlightPerAgent?: number;
  /** Jobs in one delivery at most (capped at the protocol's MAX_JOBS_PER_DELIVERY). @default 16 */
  readonly maxJobsPerDelivery?: number;
  /**
   * After "pending" the job is asked for again, no sooner than this after the previous ask went out. The agent
   * holds a repeat until the job is finished (up to its hold time), so in practice the re-ask is a long-poll
   * that sees the result at once; this only paces an agent that answers "pending" without holding.
   * @default config.pollIntervalMs
   */
  readonly pendingRecheckMs?: number;
  /** How long one delivery keeps re-asking a pending job before it hands the slot back. @default 30 s */
  readonly pendingLoopMs?: number;
  /** After such a loop, when the job is asked for again (jittered, from the poll). @default 10 s */
  readonly pendingSlowRecheckMs?: number;
  /** Whether the store has room; shared with the app (/healthz, 503s). @default a new StorageHealth */
  readonly storage?: StorageHealth;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Dispatcher {
  private readonly agents: Map<string, AgentConfig>;
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Jobs in flight per agent name (each delivery counts its jobs). */
  private readonly load = new Map<string, number>();
  private readonly settled = new EventEmitter();
  private timer: NodeJS.Timeout | undefined;
  private pumpQueued = false;
  private closed = false;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly maxInFlight: number;
  private readonly client: AgentClient;
  private readonly maxBatch: number;
  /** Jobs kicked during this turn of the event loop, sent together at its end (see kick). */
  private kicked: DueJob[] = [];
  private kickQueued = false;
  /** Whether the store can be written (SQLITE_FULL seen and not yet over). */
  readonly storage: StorageHealth;
  /** While the disk is full: nothing is sent before this (ms epoch); then the poll probes for room. */
  private pausedUntil = 0;

  constructor(private readonly options: DispatcherOptions) {
    this.agents = new Map(options.agents.map((agent) => [agent.name, agent]));
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.maxInFlight = Math.max(1, options.maxInFlightPerAgent ?? 128);
    this.maxBatch = Math.min(MAX_JOBS_PER_DELIVERY, Math.max(1, options.maxJobsPerDelivery ?? 16));
    this.client = new AgentClient(this.maxInFlight);
    this.storage = options.storage ?? new StorageHealth();
    // One waiter per held /create: a burst holds thousands, none of them a leak.
    this.settled.setMaxListeners(0);
  }

  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.poll(), this.options.config.pollIntervalMs);
    this.timer.unref();
    void this.poll();
  }

  /**
   * Sends these jobs now (called right after a redemption commits); those over an agent's limit wait their turn.
   * Jobs kicked in one turn of the event loop leave together at its end, in deliveries of up to maxJobsPerDelivery:
   * under a burst meet-auth takes many redemptions per turn, and one delivery for each would cost more than they do.
   */
  kick(jobIds: readonly string[]): void {
    // While the disk is full the jobs wait in the outbox; the poll sends them once there is room.
    if (this.paused()) return;
    for (const id of jobIds) {
      const job = getJob(this.options.db, id);
      if (job) this.kicked.push(job);
    }
    if (this.kicked.length > 0 && !this.kickQueued) {
      this.kickQueued = true;
      setImmediate(() => this.sendKicked());
    }
  }

  /** Sends every job that is due, as far as the per-agent limits allow; resolves once those sends finished (tests await it). */
  async poll(): Promise<void> {
    if (this.closed || this.paused()) return;
    try {
      if (this.storage.full) {
        probeStorage(this.options.db, this.now());
        this.storage.wrote();
        this.options.log.info('the disk has room again: sending jobs');
      }
      purgeDeadSeals(this.options.db, this.now() - this.options.config.deadSealRetentionMs);
    } catch (error) {
      this.writeFailed(error, 'cannot update the outbox');
      return;
    }
    await Promise.all(this.pump());
  }

  private paused(): boolean {
    return this.pausedUntil > this.now();
  }

  /**
   * A write failed. SQLITE_FULL pauses sending (backing off, doubling up to 30 s): nothing was written, so the jobs
   * are still due and go out once the poll finds room. Anything else is logged: a timer must never end the process.
   */
  private writeFailed(error: unknown, what: string): void {
    if (isStorageFull(error)) {
      const wait = this.storage.wroteNothing(this.now());
      this.pausedUntil = this.now() + wait;
      this.options.log.error({ err: error, retryInMs: wait }, `${what}: the disk is full; backing off`);
    } else this.options.log.error({ err: error }, what);
  }

  /** Deliveries in flight right now (all agents). */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Resolves with the request's status once it is no longer pending, or after `ms`, whichever is first. */
  waitForRequest(requestId: string, ms: number): Promise<RequestStatus> {
    const current = getRequest(this.options.db, requestId)?.status ?? 'pending';
    if (current !== 'pending' || ms <= 0) return Promise.resolve(current);
    return new Promise((resolve) => {
      const done = (status: RequestStatus) => {
        clearTimeout(timer);
        this.settled.off(requestId, done);
        resolve(status);
      };
      const timer = setTimeout(() => done(getRequest(this.options.db, requestId)?.status ?? 'pending'), ms);
      this.settled.on(requestId, done);
    });
  }

  /** Stops polling and waits for the deliveries in flight (and those kicked but not yet sent) to finish and be recorded. */
  async close(): Promise<void> {
    // Jobs kicked this very turn are sent, as if the turn had ended: their redemptions are waiting for them.
    if (!this.closed) this.sendKicked();
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight.values()]);
    this.client.close();
  }

  private sendKicked(): void {
    const kicked = this.kicked;
    this.kicked = [];
    this.kickQueued = false;
    if (this.paused()) return;
    for (const server of this.agents.keys()) {
      const room = this.maxInFlight - (this.load.get(server) ?? 0);
      const jobs = kicked
        .filter((job) => job.server === server && !this.inFlight.has(job.id))
        .slice(0, Math.max(0, room));
      this.sendInDeliveries(server, jobs);
    }
    // Jobs of an agent without room, or of one no longer configured, come back from the pump and the poll.
  }

  /** Fills every agent's free delivery slots with its due jobs (in-flight ones excluded by the query). */
  private pump(): Promise<void>[] {
    const started: Promise<void>[] = [];
    if (this.closed || this.paused()) return started;
    const now = this.now();
    try {
      for (const server of this.agents.keys()) {
        const room = this.maxInFlight - (this.load.get(server) ?? 0);
        if (room <= 0) continue;
        started.push(
          ...this.sendInDeliveries(
            server,
            dueJobs(this.options.db, now, room, { server, exclude: [...this.inFlight.keys()] }),
          ),
        );
      }
    } catch (error) {
      this.writeFailed(error, 'cannot read due jobs');
    }
    return started;
  }

  /** Sends `jobs` of one agent in deliveries of at most maxJobsPerDelivery. */
  private sendInDeliveries(server: string, jobs: readonly DueJob[]): Promise<void>[] {
    const deliveries: Promise<void>[] = [];
    for (let index = 0; index < jobs.length; index += this.maxBatch)
      deliveries.push(this.send(server, jobs.slice(index, index + this.maxBatch)));
    return deliveries;
  }

  /** A finished delivery frees slots: fill them soon (coalesced, so a burst of completions runs one query). */
  private queuePump(): void {
    if (this.pumpQueued || this.closed) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private leaseUntil(from: number): number {
    return from + this.options.config.requestTimeoutMs + this.options.config.baseDelayMs;
  }

  /** Leases the jobs (one transaction) and delivers those it got, as one delivery. */
  private send(server: string, jobs: readonly DueJob[]): Promise<void> {
    const now = this.now();
    if (this.closed || this.paused()) return Promise.resolve();
    const { db } = this.options;
    let leased: DueJob[];
    try {
      leased = db.transaction(() =>
        jobs.filter((job) => !this.inFlight.has(job.id) && leaseJob(db, job.id, now, this.leaseUntil(now))),
      )();
    } catch (error) {
      this.writeFailed(error, 'cannot lease jobs');
      return Promise.resolve();
    }
    if (leased.length === 0) return Promise.resolve();
    this.storage.wrote();
    this.load.set(server, (this.load.get(server) ?? 0) + leased.length);
    const delivery = this.deliver(server, leased)
      // Results that could not be recorded (a full disk, say) are asked for again once the lease runs out: the
      // agent answers a repeated job id with its stored result.
      .catch((error: unknown) =>
        this.writeFailed(error, `job delivery of ${leased.map((job) => job.id).join(' ')} not recorded`),
      )
      .finally(() => {
        for (const job of leased) this.inFlight.delete(job.id);
        this.load.set(server, (this.load.get(server) ?? leased.length) - leased.length);
        this.queuePump();
      });
    for (const job of leased) this.inFlight.set(job.id, delivery);
    return delivery;
  }

  private async deliver(server: string, jobs: readonly DueJob[]): Promise<void> {
    const agent = this.agents.get(server);
    const { config } = this.options;
    const recheckMs = this.options.pendingRecheckMs ?? config.pollIntervalMs;
    const loopStarted = this.now();
    let open = jobs;
    for (;;) {
      const asked = this.now();
      const results: Map<string, AttemptResult> = agent
        ? await attemptDelivery(
            { client: this.client, timeoutMs: config.requestTimeoutMs, log: this.options.log },
            agent,
            open,
          )
        : new Map(open.map((job) => [job.id, { kind: 'retry', detail: 'no agent of that name is configured' }]));
      const pending = open.filter((job) => results.get(job.id)!.kind === 'pending');
      this.recordAll(
        open.flatMap((job) => {
          const outcome = results.get(job.id)!;
          if (outcome.kind === 'pending') return [];
          const attempt = job.attempts + 1;
          return [{ job, attempt, recorded: outcomeOf(outcome, attempt, config, this.now(), this.random) }];
        }),
      );
      if (pending.length === 0) return;
      // "pending" is not a failure: the agent has stored the job and is working on it. Ask again soon (a long-poll,
      // as the agent holds the repeat), without counting an attempt; after a long while, hand the slots back and
      // come back later from the poll, so a stuck agent cannot hold every slot.
      const now = this.now();
      const again = Math.max(0, asked + recheckMs - now);
      if (!this.closed && now - loopStarted < (this.options.pendingLoopMs ?? 30_000)) {
        const { db } = this.options;
        open = db.transaction(() =>
          pending.filter((job) => extendJobLease(db, job.id, this.leaseUntil(now + again))),
        )();
        if (open.length === 0) return;
        this.options.metrics?.deliveries.inc({ server, outcome: 'pending' }, open.length);
        if (again > 0) await sleep(again);
        continue;
      }
      const slow = this.options.pendingSlowRecheckMs ?? 10_000;
      this.recordAll(
        pending.map((job) => ({
          job,
          attempt: job.attempts,
          recorded: {
            status: 'recheck',
            nextAttemptAt: now + (this.closed ? 0 : Math.round(slow / 2 + (slow / 2) * this.random())),
            detail: 'agent stored the job, not finished yet',
          },
        })),
      );
      return;
    }
  }

  /** Records the outcomes of one delivery in one transaction, then wakes the /create requests they settled. */
  private recordAll(records: readonly { job: DueJob; attempt: number; recorded: JobOutcome }[]): void {
    if (records.length === 0) return;
    const { db } = this.options;
    const now = this.now();
    const settlements = db.transaction(() =>
      records.map(({ job, recorded }) => recordJobOutcome(db, job.id, recorded, now)),
    )();
    records.forEach(({ job, attempt, recorded }, index) => {
      this.options.metrics?.deliveries.inc({ server: job.server, outcome: recorded.status });
      this.options.log.info(
        {
          job: job.id,
          request: job.requestId,
          server: job.server,
          attempt,
          outcome: recorded.status,
          detail: recorded.detail,
        },
        'job delivery',
      );
      const settlement = settlements[index];
      if (settlement?.changed) this.settled.emit(settlement.requestId, settlement.status);
    });
  }
}
