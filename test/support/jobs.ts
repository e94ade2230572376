/**
 * Builds job requests as the protocol defines them (edge/shared/job-protocol.ts): the password sealed to the
 * agent's public key with context `${id}\n${username}`, the body signed Standard-Webhooks style. A lone job in
 * the original form (job id as webhook-id), or a delivery of several (`{"jobs": [...]}`), as meet-auth sends.
 */
import { randomUUID } from 'node:crypto';
import { seal } from '../../edge/shared/sealing.js';
import { signRequest } from '../../edge/shared/signing.js';

export interface JobRequest {
  readonly id: string;
  readonly username: string;
  readonly body: string;
}

export function makeJob(
  sealingPublicKey: string,
  username: string,
  password: string,
  id: string = randomUUID(),
): JobRequest {
  const sealedPassword = seal(sealingPublicKey, password, `${id}\n${username}`);
  return { id, username, body: JSON.stringify({ id, username, sealedPassword }) };
}

export function signedInit(keys: readonly Buffer[], job: JobRequest, now = new Date()): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signRequest(keys, job.id, job.body, now) },
    body: job.body,
  };
}

/** A delivery of several jobs in one signed request, as meet-auth's dispatcher sends them. */
export function signedDeliveryInit(
  keys: readonly Buffer[],
  jobs: readonly JobRequest[],
  deliveryId = `delivery-${randomUUID()}`,
): RequestInit {
  const body = JSON.stringify({ jobs: jobs.map((job) => JSON.parse(job.body)) });
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signRequest(keys, deliveryId, body) },
    body,
  };
}
