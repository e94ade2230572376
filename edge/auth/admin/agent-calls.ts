/**
 * What `npm run accounts` asks of every agent: signed POSTs of the account protocol (edge/shared/accounts-protocol.ts),
 * each with a fresh random webhook-id (the agent accepts an id only once). Answers are checked against the protocol;
 * any other outcome is one line saying why, for the per-server report.
 */
import {
  ACCOUNTS_PATHS,
  resetSealContext,
  verifySealContext,
  type DeleteStatus,
  type ResetStatus,
  type VerifyStatus,
} from '../../shared/accounts-protocol.js';
import { seal } from '../../shared/sealing.js';
import type { AgentConfig } from '../config.js';
import { describeRefusal, signedPost } from './signed-post.js';

export type AgentAnswer<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** How long one call may take: a list of many accounts, or a reset whose hashing waits for Prosody. */
const TIMEOUT_MS = 20_000;

async function call<T>(
  agent: AgentConfig,
  path: string,
  makeBody: (id: string) => object,
  read: (json: unknown) => T | undefined,
): Promise<AgentAnswer<T>> {
  const answer = await signedPost(agent, path, makeBody, TIMEOUT_MS);
  if (!answer.reached) {
    const error = answer.error as Error & { cause?: { code?: string; message?: string } };
    const why =
      error.name === 'TimeoutError'
        ? `no answer within ${TIMEOUT_MS / 1000} s`
        : (error.cause?.code ?? error.cause?.message ?? error.message);
    return { ok: false, reason: `unreachable at ${agent.url} (${why})` };
  }
  if (answer.status !== 200) return { ok: false, reason: describeRefusal(answer.status, answer.json) };
  const value = read(answer.json);
  return value === undefined
    ? { ok: false, reason: 'answered something other than the account protocol' }
    : { ok: true, value };
}

const field = (json: unknown, name: string): unknown =>
  typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[name] : undefined;

export function listAccounts(agent: AgentConfig): Promise<AgentAnswer<string[]>> {
  return call(
    agent,
    ACCOUNTS_PATHS.list,
    () => ({}),
    (json) => {
      const accounts = field(json, 'accounts');
      return Array.isArray(accounts) && accounts.every((name) => typeof name === 'string') ? accounts : undefined;
    },
  );
}

export function deleteAccount(agent: AgentConfig, username: string): Promise<AgentAnswer<DeleteStatus>> {
  return call(
    agent,
    ACCOUNTS_PATHS.delete,
    () => ({ username }),
    (json) => {
      const status = field(json, 'status');
      return status === 'deleted' || status === 'absent' ? status : undefined;
    },
  );
}

/** The new password is sealed to this agent's key under this request's id and the username. */
export function resetPassword(
  agent: AgentConfig,
  username: string,
  password: string,
): Promise<AgentAnswer<ResetStatus>> {
  return call(
    agent,
    ACCOUNTS_PATHS.resetPassword,
    (id) => ({ username, sealedPassword: seal(agent.sealingPublicKey, password, resetSealContext(id, username)) }),
    (json) => {
      const status = field(json, 'status');
      return status === 'changed' || status === 'absent' ? status : undefined;
    },
  );
}

/** Whether `password` is the account's password on this agent's Prosody; sealed to it under this request's id and the name. */
export function verifyPassword(
  agent: AgentConfig,
  username: string,
  password: string,
): Promise<AgentAnswer<VerifyStatus>> {
  return call(
    agent,
    ACCOUNTS_PATHS.verifyPassword,
    (id) => ({ username, sealedPassword: seal(agent.sealingPublicKey, password, verifySealContext(id, username)) }),
    (json) => {
      const status = field(json, 'status');
      return status === 'valid' || status === 'invalid' ? status : undefined;
    },
  );
}
