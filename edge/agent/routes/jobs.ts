/**
 * `POST /jobs`: the job protocol. A signed job is stored in the inbox before anything else happens; then the
 * worker is woken and the answer held (up to holdMs) until the job is finished, so the happy path answers
 * "created" in one round trip. A repeat of a job id gets the stored result at once when the job is finished,
 * and is held the same way while it is not: meet-auth asks again right after "pending", so that repeat is a
 * long-poll that answers the moment the account exists.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { normaliseUsername } from '../../shared/usernames.js';
import { AgentError } from '../errors.js';
import type { Inbox, JobStatus, StoredJob } from '../inbox.js';
import { signedRequest } from '../middleware/signed-request.js';
import type { AccountWorker } from '../worker.js';

export interface JobRoutesDeps {
  readonly inbox: Inbox;
  readonly worker: AccountWorker;
  readonly signingKeys: readonly Buffer[];
  readonly holdMs: number;
  readonly now?: () => Date;
  readonly log?: { debug(fields: object, message: string): void };
}

const jobSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/),
  username: z.string().refine((name) => {
    const result = normaliseUsername(name);
    return result.ok && result.username === name;
  }),
  sealedPassword: z.string().regex(/^[A-Za-z0-9_-]{1,4096}$/),
});

type Answer = 'created' | 'pending' | 'conflict' | 'failed';
const ANSWER: Record<JobStatus, Answer> = {
  pending: 'pending',
  attempting: 'pending',
  created: 'created',
  conflict: 'conflict',
  failed: 'failed',
};
const isFinal = (status: JobStatus) => ANSWER[status] !== 'pending';

function answer(job: StoredJob) {
  return { id: job.id, status: ANSWER[job.status], ...(job.detail && isFinal(job.status) ? { detail: job.detail } : {}) };
}

export function jobRoutes(deps: JobRoutesDeps) {
  return new Hono().post('/', signedRequest(deps.signingKeys, deps.now), async (c) => {
    let json: unknown;
    try {
      json = JSON.parse(c.var.rawBody);
    } catch {
      throw new AgentError('bad_request', 'the body is not JSON');
    }
    const parsed = jobSchema.safeParse(json);
    if (!parsed.success) {
      throw new AgentError(
        'bad_request',
        `malformed job: ${parsed.error.issues.map((issue) => issue.path.join('.') || 'body').join(', ')}`,
      );
    }
    const job = parsed.data;
    if (job.id !== c.var.webhookId) throw new AgentError('bad_request', 'webhook-id must equal the job id');

    const received = await deps.inbox.receiveSoon(job);
    if (received.kind === 'mismatch') throw new AgentError('bad_request', 'this job id is already stored for another username');
    deps.log?.debug({ job: job.id, isNew: received.isNew }, 'job received');
    if (isFinal(received.job.status)) return c.json(answer(received.job));

    const finished = deps.worker.whenSettled(job.id, deps.holdMs);
    deps.worker.wake();
    await finished;
    const reply = answer(deps.inbox.get(job.id)!);
    deps.log?.debug({ job: job.id, status: reply.status }, 'job answered');
    return c.json(reply);
  });
}
