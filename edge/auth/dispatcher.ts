/**
 * Delivers outbox jobs to the agents: each job is sent at once, signed (Standard Webhooks, job id as
 * webhook-id and idempotency key), retried with exponential backoff and jitter, and marked dead after
 * `maxAttempts`. A poll picks up retries that came due and jobs an admin put back from the CLI.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../shared/log.js';
import { signRequest } from '../shared/signing.js';
import type { AgentConfig, DispatchConfig } from './config.js';
import type { AuthMetrics } from './metrics.js';
import type { Db } from './store/db.js';
import {
  dueJobs,
  getJob,
  getRequest,
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
}

/** Exponential backoff with equal jitter: half the step fixed, half random, capped. */
export function backoffDelay(attempt: number, config: Pick<DispatchConfig, 'baseDelayMs' | 'maxDelayMs'>, random: () => number): number {
  const step = Math.min(config.maxDelayMs, config.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (step / 2) * random());
}

type AgentAnswer = { status: 'created' | 'pending' | 'conflict' | 'failed'; detail?: string };

function parseAnswer(body: unknown, jobId: string): AgentAnswer | null {
  if (typeof body !== 'object' || body === null) return null;
  const { id, status, detail } = body as Record<string, unknown>;
  if (id !== jobId || !['created', 'pending', 'conflict', 'failed'].includes(status as string)) return null;
  return { status: status as AgentAnswer['status'], ...(typeof detail === 'string' ? { detail: detail.slice(0, 200) } : {}) };
}

export class Dispatcher {
  private readonly agents: Map<string, AgentConfig>;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly settled = new EventEmitter();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: DispatcherOptions) {
    this.agents = new Map(options.agents.map((agent) => [agent.name, agent]));
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.settled.setMaxListeners(0);
  }

  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => this.poll(), this.options.config.pollIntervalMs);
    this.timer.unref();
    this.poll();
  }

  /** Sends these jobs now (called right after a redemption commits). */
  kick(jobIds: readonly string[]): void {
    for (const id of jobIds) {
      const job = getJob(this.options.db, id);
      if (job) this.send(job);
    }
  }

  /** Sends every job that is due; returns once those sends finished (tests await it). */
  async poll(): Promise<void> {
    if (this.closed) return;
    const now = this.now();
    purgeDeadSeals(this.options.db, now - this.options.config.deadSealRetentionMs);
    const due = dueJobs(this.options.db, now, 200).filter((job) => !this.inFlight.has(job.id));
    await Promise.all(due.map((job) => this.send(job)));
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
  }

  private send(job: DueJob): Promise<void> {
    const existing = this.inFlight.get(job.id);
    if (existing) return existing;
    const { config } = this.options;
    const now = this.now();
    if (this.closed || !leaseJob(this.options.db, job.id, now, now + config.requestTimeoutMs + config.baseDelayMs)) return Promise.resolve();
    const delivery = this.deliver(job)
      .catch((error: unknown) => {
        this.options.log.error({ err: error, job: job.id }, 'job delivery crashed');
      })
      .finally(() => this.inFlight.delete(job.id));
    this.inFlight.set(job.id, delivery);
    return delivery;
  }

  private async deliver(job: DueJob): Promise<void> {
    const agent = this.agents.get(job.server);
    const outcome = agent ? await this.attempt(agent, job) : ({ kind: 'retry', detail: 'no agent of that name is configured' } as const);
    const attempt = job.attempts + 1;
    let recorded: JobOutcome;
    if (outcome.kind === 'final') recorded = outcome.outcome;
    else if (attempt >= this.options.config.maxAttempts) recorded = { status: 'dead', detail: `gave up after ${attempt} attempts: ${outcome.detail}` };
    else recorded = { status: 'retry', nextAttemptAt: this.now() + backoffDelay(attempt, this.options.config, this.random), detail: outcome.detail };
    this.options.metrics?.deliveries.inc({ server: job.server, outcome: recorded.status });
    const settlement = recordJobOutcome(this.options.db, job.id, recorded, this.now());
    this.options.log.info(
      { job: job.id, request: job.requestId, server: job.server, attempt, outcome: recorded.status, detail: recorded.detail },
      'job delivery',
    );
    if (settlement?.changed) this.settled.emit(settlement.requestId, settlement.status);
  }

  private async attempt(agent: AgentConfig, job: DueJob): Promise<{ kind: 'final'; outcome: JobOutcome } | { kind: 'retry'; detail: string }> {
    const body = JSON.stringify({ id: job.id, username: job.username, sealedPassword: job.sealedPassword });
    let response: Response;
    try {
      response = await fetch(`${agent.url}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signRequest(agent.signingKeys, job.id, body) },
        body,
        signal: AbortSignal.timeout(this.options.config.requestTimeoutMs),
        redirect: 'error',
      });
    } catch (error) {
      const name = (error as Error).name;
      return { kind: 'retry', detail: name === 'TimeoutError' ? 'agent did not answer in time' : 'agent unreachable' };
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      return { kind: 'retry', detail: `agent answered HTTP ${response.status}` };
    }
    const answer = parseAnswer(await response.json().catch(() => null), job.id);
    if (!answer) return { kind: 'retry', detail: 'agent answered with an unexpected body' };
    switch (answer.status) {
      case 'created':
        return { kind: 'final', outcome: { status: 'created' } };
      case 'conflict':
        return { kind: 'final', outcome: { status: 'conflict', detail: answer.detail ?? 'the name exists on this server with another password' } };
      case 'failed':
        return { kind: 'final', outcome: { status: 'dead', detail: `agent refused: ${answer.detail ?? 'no reason given'}` } };
      case 'pending':
        return { kind: 'retry', detail: 'agent stored the job, not finished yet' };
    }
  }
}
