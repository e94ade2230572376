/**
 * One delivery of jobs to one agent, and what it means for each job: the signed POST, the agent's answers read as
 * attempt results, and the outcome a finished attempt records (final, a retry with backoff, or dead).
 */
import type { Logger } from '../shared/log.js';
import { deliveryBody, parseDeliveryAnswer, type JobAnswer } from '../shared/job-protocol.js';
import { signRequest } from '../shared/signing.js';
import { AgentTimeoutError, type AgentClient, type AgentReply } from './agent-client.js';
import type { AgentConfig, DispatchConfig } from './config.js';
import { randomId } from './store/ids.js';
import type { DueJob, JobOutcome } from './store/outbox.js';

/** Exponential backoff with equal jitter: half the step fixed, half random, capped. */
export function backoffDelay(
  attempt: number,
  config: Pick<DispatchConfig, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number,
): number {
  const step = Math.min(config.maxDelayMs, config.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (step / 2) * random());
}

export type AttemptResult =
  { kind: 'final'; outcome: JobOutcome } | { kind: 'pending' } | { kind: 'retry'; detail: string };

/** What an agent's answer for one job means for that job's delivery. */
function resultOf(answer: JobAnswer): AttemptResult {
  switch (answer.status) {
    case 'created':
      return { kind: 'final', outcome: { status: 'created' } };
    case 'conflict':
      return {
        kind: 'final',
        outcome: { status: 'conflict', detail: answer.detail ?? 'the name exists on this server already' },
      };
    case 'failed':
      // A refusal for good (bad name, seal that does not open, Prosody refusing): no retry can fix it.
      return {
        kind: 'final',
        outcome: { status: 'failed', detail: `agent refused: ${answer.detail ?? 'no reason given'}` },
      };
    case 'pending':
      return { kind: 'pending' };
  }
}

/** What attempt number `attempt` records when it ended in `result` at `now`: final, a retry, or dead after maxAttempts. */
export function outcomeOf(
  result: Exclude<AttemptResult, { kind: 'pending' }>,
  attempt: number,
  config: DispatchConfig,
  now: number,
  random: () => number,
): JobOutcome {
  if (result.kind === 'final') return result.outcome;
  if (attempt >= config.maxAttempts)
    return { status: 'dead', detail: `gave up after ${attempt} attempts: ${result.detail}` };
  return { status: 'retry', nextAttemptAt: now + backoffDelay(attempt, config, random), detail: result.detail };
}

/** What one delivery needs besides its jobs. */
export interface DeliveryContext {
  readonly client: AgentClient;
  readonly timeoutMs: number;
  readonly log: Logger;
}

/** One delivery of `jobs` to `agent`: each job's result (a failure of the delivery is every job's failure). */
export async function attemptDelivery(
  { client, timeoutMs, log }: DeliveryContext,
  agent: AgentConfig,
  jobs: readonly DueJob[],
): Promise<Map<string, AttemptResult>> {
  const all = (result: AttemptResult) => new Map(jobs.map((job) => [job.id, result]));
  const body = deliveryBody(jobs);
  const deliveryId = `delivery_${randomId(12)}`;
  let response: AgentReply;
  log.debug({ delivery: deliveryId, jobs: jobs.map((job) => job.id) }, 'jobs sent');
  try {
    response = await client.post(
      `${agent.url}/jobs`,
      { 'content-type': 'application/json', ...signRequest(agent.signingKeys, deliveryId, body) },
      body,
      timeoutMs,
    );
  } catch (error) {
    return all({
      kind: 'retry',
      detail: error instanceof AgentTimeoutError ? 'agent did not answer in time' : 'agent unreachable',
    });
  }
  // Redirects are not followed: any status but 200 is a failed attempt.
  if (response.status !== 200) return all({ kind: 'retry', detail: `agent answered HTTP ${response.status}` });
  const answers = parseDeliveryAnswer(
    response.json,
    jobs.map((job) => job.id),
  );
  if (!answers) return all({ kind: 'retry', detail: 'agent answered with an unexpected body' });
  return new Map(jobs.map((job) => [job.id, resultOf(answers.get(job.id)!)]));
}
