/**
 * The job protocol between meet-auth's dispatcher and an agent: `POST /jobs`, signed (edge/shared/signing.ts).
 *
 * A delivery carries one job or several: `{"jobs": [job, …]}` (at most MAX_JOBS_PER_DELIVERY), answered with
 * `{"jobs": [answer, …]}` in the same order. Why several: under a burst one signed request, one durable inbox
 * commit and one held answer per job cost the agent and meet-auth more than the jobs' own work; a delivery of
 * many shares them. A lone job keeps the original form as well (`job` in, `answer` out, the job id as
 * `webhook-id`), which agents accept from older meet-auths. Either way each job id is its own idempotency key:
 * a repeat of a job id, in whatever delivery, gets that job's stored result.
 */

export interface JobMessage {
  readonly id: string;
  readonly username: string;
  readonly sealedPassword: string;
}

export type JobAnswerStatus = 'created' | 'pending' | 'conflict' | 'failed';

export interface JobAnswer {
  readonly id: string;
  readonly status: JobAnswerStatus;
  readonly detail?: string;
}

/** Jobs one delivery may carry: bounds the body (each sealed password is at most 4 KiB) and the held answer. */
export const MAX_JOBS_PER_DELIVERY = 32;

const STATUSES: readonly string[] = ['created', 'pending', 'conflict', 'failed'];

/** The body of a delivery of `jobs` (the batch form, also for one job). */
export function deliveryBody(jobs: readonly JobMessage[]): string {
  return JSON.stringify({ jobs: jobs.map(({ id, username, sealedPassword }) => ({ id, username, sealedPassword })) });
}

/**
 * The answers of a delivery, by job id, or null when the body is not an answer to exactly these jobs (in order).
 * Details are cut to 200 characters: they end up in meet-auth's store and logs.
 */
export function parseDeliveryAnswer(body: unknown, jobIds: readonly string[]): Map<string, JobAnswer> | null {
  if (typeof body !== 'object' || body === null) return null;
  const answers = (body as { jobs?: unknown }).jobs;
  if (!Array.isArray(answers) || answers.length !== jobIds.length) return null;
  const byId = new Map<string, JobAnswer>();
  for (const [index, answer] of answers.entries()) {
    if (typeof answer !== 'object' || answer === null) return null;
    const { id, status, detail } = answer as Record<string, unknown>;
    if (id !== jobIds[index] || typeof status !== 'string' || !STATUSES.includes(status)) return null;
    byId.set(id, {
      id,
      status: status as JobAnswerStatus,
      ...(typeof detail === 'string' ? { detail: detail.slice(0, 200) } : {}),
    });
  }
  return byId;
}
