/**
 * `POST /jobs`: the job protocol (edge/shared/job-protocol.ts), one job or a delivery of several. Every job is
 * stored in the inbox before anything else happens (all of one delivery in one durable commit); then the worker
 * is woken and the answer held (up to holdMs) until the jobs are finished, so the happy path answers "created" in
 * one round trip. A repeat of a job id gets the stored result at once when the job is finished, and is held the
 * same way while it is not: meet-auth asks again right after "pending", so that repeat is a long-poll that
 * answers the moment the account exists.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { MAX_JOBS_PER_DELIVERY, type JobAnswer, type JobMessage } from '../../shared/job-protocol.js';
import { AgentError } from '../errors.js';
import type { Inbox, JobStatus, ReceiveResult, StoredJob } from '../inbox.js';
import { jsonBody } from '../middleware/signed-body.js';
import { signedRequest } from '../middleware/signed-request.js';
import { foldedUsername, sealedPassword } from '../schemas.js';
import type { AccountWorker } from '../worker.js';

export interface JobRoutesDeps {
  readonly inbox: Inbox;
  readonly worker: AccountWorker;
  readonly signingKeys: readonly Buffer[];
  readonly holdMs: number;
  /**
   * Once one job of a delivery is finished, how much longer its answer waits for the others: a job that is slow
   * (Prosody restarting, a retry) must not hold its delivery-mates' users; meet-auth asks again for what is still
   * pending. @default 250 ms
   */
  readonly deliveryGraceMs?: number;
  readonly now?: () => Date;
  readonly log?: { debug(fields: object, message: string): void };
}

const jobId = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/);
const jobSchema = z.strictObject({ id: jobId, username: foldedUsername, sealedPassword });
/** A delivery's jobs are checked one by one: one the agent refuses fails alone, never its delivery-mates. */
const deliverySchema = z.strictObject({
  jobs: z
    .array(z.looseObject({ id: jobId }))
    .min(1)
    .max(MAX_JOBS_PER_DELIVERY),
});

const ANSWER: Record<JobStatus, JobAnswer['status']> = {
  pending: 'pending',
  attempting: 'pending',
  created: 'created',
  conflict: 'conflict',
  failed: 'failed',
};
const isFinal = (status: JobStatus) => ANSWER[status] !== 'pending';

function answer(job: StoredJob): JobAnswer {
  return {
    id: job.id,
    status: ANSWER[job.status],
    ...(job.detail && isFinal(job.status) ? { detail: job.detail } : {}),
  };
}

const MISMATCH = 'this job id is already stored for another username';

export function jobRoutes(deps: JobRoutesDeps) {
  return new Hono().post('/', signedRequest(deps.signingKeys, deps.now), async (c) => {
    const json = jsonBody(c.var.rawBody);
    // A delivery of several jobs, or one job alone (the original form).
    const single = !(typeof json === 'object' && json !== null && 'jobs' in json);
    const parsed = single ? jobSchema.safeParse(json) : deliverySchema.safeParse(json);
    if (!parsed.success) {
      const where = parsed.error.issues.map((issue) => issue.path.join('.') || 'body').join(', ');
      throw new AgentError(
        'bad_request',
        single ? `malformed job: ${where}` : `malformed delivery: ${where} (1 to ${MAX_JOBS_PER_DELIVERY} jobs)`,
      );
    }
    const offered: readonly { id: string }[] = 'jobs' in parsed.data ? parsed.data.jobs : [parsed.data];
    if (single && offered[0]!.id !== c.var.webhookId)
      throw new AgentError('bad_request', 'webhook-id must equal the job id');
    if (new Set(offered.map((job) => job.id)).size !== offered.length)
      throw new AgentError('bad_request', 'a job id appears twice in one delivery');
    // A job that is not one (a name Prosody would fold otherwise, a malformed seal) is answered "failed" with the
    // reason, and stored nowhere: sending it again cannot help.
    const checked = offered.map((job): { job: JobMessage } | { refused: JobAnswer } => {
      const one = jobSchema.safeParse(job);
      return one.success
        ? { job: one.data }
        : { refused: { id: job.id, status: 'failed', detail: `malformed job: ${issuesOf(one.error)}` } };
    });
    const jobs = checked.flatMap((entry) => ('job' in entry ? [entry.job] : []));

    // Asked for in one turn, so the inbox stores them in one transaction (one fsync for the whole delivery).
    const received = new Map(
      (await Promise.all(jobs.map((job) => deps.inbox.receiveSoon(job)))).map((result, index) => [
        jobs[index]!.id,
        result,
      ]),
    );
    if ([...received.values()].some((result) => result.kind === 'stored' && result.isNew)) deps.worker.storage.wrote();
    if (single && received.get(offered[0]!.id)?.kind === 'mismatch') throw new AgentError('bad_request', MISMATCH);
    const open = [...received.values()].flatMap((result) =>
      result.kind === 'stored' && !isFinal(result.job.status) ? [result.job.id] : [],
    );
    deps.log?.debug({ jobs: jobs.map((job) => job.id), open: open.length }, 'jobs received');
    if (open.length > 0) {
      const settling = open.map((id) => deps.worker.whenSettled(id, deps.holdMs));
      deps.worker.wake();
      await allOrGrace(settling, deps.deliveryGraceMs ?? 250);
    }
    const answers = checked.map((entry) =>
      'job' in entry ? answerFor(deps.inbox, entry.job, received.get(entry.job.id)!) : entry.refused,
    );
    deps.log?.debug({ answers: answers.map(({ id, status }) => ({ id, status })) }, 'jobs answered');
    return c.json(single ? answers[0]! : { jobs: answers });
  });
}

function issuesOf(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.join('.') || 'body'} ${issue.message}`)
    .join(', ')
    .slice(0, 180);
}

/** Resolves when all of `settling` have, or `graceMs` after the first of them did, whichever comes first. */
async function allOrGrace(settling: readonly Promise<void>[], graceMs: number): Promise<void> {
  if (settling.length === 1) return settling[0];
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  const grace = Promise.race(settling).then(
    () => new Promise<void>((resolve) => (done ? resolve() : (timer = setTimeout(resolve, graceMs)))),
  );
  try {
    await Promise.race([Promise.all(settling), grace]);
  } finally {
    done = true;
    clearTimeout(timer);
  }
}

/** A job's answer now: its stored state, or "failed" for an id the inbox holds with another username. */
function answerFor(inbox: Inbox, job: JobMessage, received: ReceiveResult): JobAnswer {
  if (received.kind === 'mismatch') return { id: job.id, status: 'failed', detail: MISMATCH };
  return isFinal(received.job.status) ? answer(received.job) : answer(inbox.get(job.id)!);
}
