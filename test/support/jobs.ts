/**
 * Builds job requests exactly as meet-auth sends them (the fixed protocol): the password sealed to the agent's
 * public key with context `${id}\n${username}`, the body signed Standard-Webhooks style with the job id as
 * webhook-id.
 */
import { randomUUID } from 'node:crypto';
import { seal } from '../../edge/shared/sealing.js';
import { signRequest } from '../../edge/shared/signing.js';

export interface JobRequest {
  readonly id: string;
  readonly username: string;
  readonly body: string;
}

export function makeJob(sealingPublicKey: string, username: string, password: string, id = randomUUID()): JobRequest {
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

/** POSTs a signed job to a running agent and returns its HTTP status and JSON answer. */
export async function sendJob(agentUrl: string, keys: readonly Buffer[], job: JobRequest): Promise<{ status: number; body: any }> {
  const response = await fetch(`${agentUrl}/jobs`, signedInit(keys, job));
  return { status: response.status, body: await response.json() };
}
