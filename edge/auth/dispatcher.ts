/**
 * Delivers outbox jobs to the agents: each job is sent at once, signed (Standard Webhooks, job id as
 * webhook-id and idempotency key). Failures (network, timeouts, 5xx, 401, bad answers) are retried with
 * exponential backoff and jitter and the job is marked dead after `maxAttempts`. "pending" is no failure: the
 * agent has stored the job and is working on it, so the dispatcher asks again at once (the agent holds that
 * repeat until the job is done: a long-poll), without counting an attempt. At most `maxInFlightPerAgent`
 * deliveries per agent are in flight; a finished one makes room for the next due job at once, and a poll picks
 * up retries that came due and jobs an admin put back from the CLI.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../shared/log.js';
import { signRequest } from '../shared/signing.js';
import { AgentClient, AgentTimeoutError, type AgentReply } from './agent-client.js';
import type { AgentConfig, DispatchConfig } from './config.js';
import type { AuthMetrics } from './metrics.js';
import type { Db } from './store/db.js';
import {
  dueJobs,
  getJob,
  getRequest,
  extendJobLease,
  leaseJob,
  purgeDeadSeals,
  recordJobOutcome,
  type DueJob,
  type JobOutcome,
  type RequestStatus,
} from './store/requests.js';

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
   * Deliveries in flight per agent at most. Each holds one keep-alive connection while the agent holds its
   * answer; the agent's worker only needs a queue a little deeper than its own concurrency. @default 128
   */
  readonly maxInFlightPerAgent?: number;
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
}

/** Exponential backoff with equal jitter: half the step fixed, half random, capped. */
export function backoffDelay(attempt: number, config: Pick<DispatchConfig, 'baseDelayMs' | 'maxDelayMs'>, random: () => number): number {
  const step = Math.min(config.maxDelayMs, config.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (step / 2) * random());
}

type AgentAnswer = { status: 'created' | 'pending' | 'conflict' | 'failed'; detail?: string };
type AttemptResult = { kind: 'final'; outcome: JobOutcome } | { kind: 'pending' } | { kind: 'retry'; detail: string };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function parseAnswer(body: unknown, jobId: string): AgentAnswer | null {
  if (typeof body !== 'object' || body === null) return null;
  const { id, status, detail } = body as Record<string, unknown>;
  if (id !== jobId || !['created', 'pending', 'conflict', 'failed'].includes(status as string)) return null;
  return { status: status as AgentAnswer['status'], ...(typeof detail === 'string' ? { detail: detail.slice(0, 200) } : {}) };
}

export class Dispatcher {
  private readonly agents: Map<string, AgentConfig>;
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Deliveries in flight per agent name. */
  private readonly load = new Map<string, number>();
  private readonly settled = new EventEmitter();
  private timer: NodeJS.Timeout | undefined;
  private pumpQueued = false;
  private closed = false;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly maxInFlight: number;
  private readonly client: AgentClient;

  constructor(private readonly options: DispatcherOptions) {
    this.agents = new Map(options.agents.map((agent) => [agent.name, agent]));
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.maxInFlight = Math.max(1, options.maxInFlightPerAgent ?? 128);
    this.client = new AgentClient(this.maxInFlight);
    // One waiter per held /create: a burst holds thousands, none of them a leak.
    this.settled.setMaxListeners(0);
  }

  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.poll(), this.options.config.pollIntervalMs);
    this.timer.unref();
    void this.poll();
  }

  /** Sends these jobs now (called right after a redemption commits); those over an agent's limit wait their turn. */
  kick(jobIds: readonly string[]): void {
    for (const id of jobIds) {
      const job = getJob(this.options.db, id);
      if (job && this.hasRoom(job.server)) void this.send(job);
    }
  }

  /** Sends every job that is due, as far as the per-agent limits allow; resolves once those sends finished (tests await it). */
  async poll(): Promise<void> {
    if (this.closed) return;
    purgeDeadSeals(this.options.db, this.now() - this.options.config.deadSealRetentionMs);
    await Promise.all(this.pump());
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

  /** Stops polling and waits for the deliveries in flight to finish and be recorded. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight.values()]);
    this.client.close();
  }

  private hasRoom(server: string): boolean {
    return (this.load.get(server) ?? 0) < this.maxInFlight;
  }

  /** Fills every agent's free delivery slots with its due jobs (in-flight ones excluded by the query). */
  private pump(): Promise<void>[] {
    const started: Promise<void>[] = [];
    if (this.closed) return started;
    const now = this.now();
    for (const server of this.agents.keys()) {
      const room = this.maxInFlight - (this.load.get(server) ?? 0);
      if (room <= 0) continue;
      for (const job of dueJobs(this.options.db, now, room, { server, exclude: [...this.inFlight.keys()] })) started.push(this.send(job));
    }
    return started;
  }

  /** A finished delivery frees a slot: fill it soon (coalesced, so a burst of completions runs one query). */
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

  private send(job: DueJob): Promise<void> {
    const existing = this.inFlight.get(job.id);
    if (existing) return existing;
    const now = this.now();
    if (this.closed || !leaseJob(this.options.db, job.id, now, this.leaseUntil(now))) return Promise.resolve();
    this.load.set(job.server, (this.load.get(job.server) ?? 0) + 1);
    const delivery = this.deliver(job)
      .catch((error: unknown) => {
        this.options.log.error({ err: error, job: job.id }, 'job delivery crashed');
      })
      .finally(() => {
        this.inFlight.delete(job.id);
        this.load.set(job.server, (this.load.get(job.server) ?? 1) - 1);
        this.queuePump();
      });
    this.inFlight.set(job.id, delivery);
    return delivery;
  }

  private async deliver(job: DueJob): Promise<void> {
    const agent = this.agents.get(job.server);
    const { config } = this.options;
    const recheckMs = this.options.pendingRecheckMs ?? config.pollIntervalMs;
    const loopStarted = this.now();
    for (;;) {
      const asked = this.now();
      const outcome: AttemptResult = agent ? await this.attempt(agent, job) : { kind: 'retry', detail: 'no agent of that name is configured' };
      if (outcome.kind === 'pending') {
        // Not a failure: the agent has stored the job and is working on it. Ask again soon (a long-poll, as the
        // agent holds the repeat), without counting an attempt; after a long while, hand the slot back and
        // come back later from the poll, so a stuck agent cannot hold every slot.
        const now = this.now();
        const again = Math.max(0, asked + recheckMs - now);
        if (!this.closed && now - loopStarted < (this.options.pendingLoopMs ?? 30_000) && extendJobLease(this.options.db, job.id, this.leaseUntil(now + again))) {
          this.options.metrics?.deliveries.inc({ server: job.server, outcome: 'pending' });
          if (again > 0) await sleep(again);
          continue;
        }
        const slow = this.options.pendingSlowRecheckMs ?? 10_000;
        this.record(job, job.attempts, {
          status: 'recheck',
          nextAttemptAt: now + (this.closed ? 0 : Math.round(slow / 2 + (slow / 2) * this.random())),
          detail: 'agent stored the job, not finished yet',
        });
        return;
      }
      const attempt = job.attempts + 1;
      let recorded: JobOutcome;
      if (outcome.kind === 'final') recorded = outcome.outcome;
      else if (attempt >= config.maxAttempts) recorded = { status: 'dead', detail: `gave up after ${attempt} attempts: ${outcome.detail}` };
      else recorded = { status: 'retry', nextAttemptAt: this.now() + backoffDelay(attempt, config, this.random), detail: outcome.detail };
      this.record(job, attempt, recorded);
      return;
    }
  }

  private record(job: DueJob, attempt: number, recorded: JobOutcome): void {
    this.options.metrics?.deliveries.inc({ server: job.server, outcome: recorded.status });
    const settlement = recordJobOutcome(this.options.db, job.id, recorded, this.now());
    this.options.log.info(
      { job: job.id, request: job.requestId, server: job.server, attempt, outcome: recorded.status, detail: recorded.detail },
      'job delivery',
    );
    if (settlement?.changed) this.settled.emit(settlement.requestId, settlement.status);
  }

  private async attempt(agent: AgentConfig, job: DueJob): Promise<AttemptResult> {
    const body = JSON.stringify({ id: job.id, username: job.username, sealedPassword: job.sealedPassword });
    let response: AgentReply;
    this.options.log.debug({ job: job.id }, 'job sent');
    try {
      response = await this.client.post(
        `${agent.url}/jobs`,
        { 'content-type': 'application/json', ...signRequest(agent.signingKeys, job.id, body) },
        body,
        this.options.config.requestTimeoutMs,
      );
    } catch (error) {
      return { kind: 'retry', detail: error instanceof AgentTimeoutError ? 'agent did not answer in time' : 'agent unreachable' };
    }
    // Redirects are not followed: any status but 200 is a failed attempt.
    if (response.status !== 200) return { kind: 'retry', detail: `agent answered HTTP ${response.status}` };
    const answer = parseAnswer(response.json, job.id);
    if (!answer) return { kind: 'retry', detail: 'agent answered with an unexpected body' };
    switch (answer.status) {
      case 'created':
        return { kind: 'final', outcome: { status: 'created' } };
      case 'conflict':
        return { kind: 'final', outcome: { status: 'conflict', detail: answer.detail ?? 'the name exists on this server with another password' } };
      case 'failed':
        return { kind: 'final', outcome: { status: 'dead', detail: `agent refused: ${answer.detail ?? 'no reason given'}` } };
      case 'pending':
        return { kind: 'pending' };
    }
  }
}
