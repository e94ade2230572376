/**
 * The signed POST every admin call to an agent is (the account protocol and the admin protocol alike): the body
 * made for a fresh random webhook-id (the agent accepts an id only once), signed, sent with a timeout.
 */
import { randomUUID } from 'node:crypto';
import { readAgentError } from '../../shared/agent-error-body.js';
import { signRequest } from '../../shared/signing.js';
import type { AgentConfig } from '../config.js';

/** The agent's answer (its body parsed, null when not JSON), or why it could not be reached (fetch's error). */
export type SignedPostResult =
  | { readonly reached: true; readonly status: number; readonly json: unknown }
  | { readonly reached: false; readonly error: unknown };

export async function signedPost(
  agent: AgentConfig,
  path: string,
  makeBody: (id: string) => object,
  timeoutMs: number,
): Promise<SignedPostResult> {
  const id = randomUUID();
  const body = JSON.stringify(makeBody(id));
  let response: Response;
  try {
    response = await fetch(`${agent.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signRequest(agent.signingKeys, id, body) },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return { reached: false, error };
  }
  const json: unknown = await response.json().catch(() => null);
  return { reached: true, status: response.status, json };
}

/** An answer other than 200 in one line: "HTTP <status>[ <code>][: <message, at most 300 chars>]". */
export function describeRefusal(status: number, json: unknown): string {
  const { code, message } = readAgentError(json);
  const said = message !== undefined ? `: ${message.slice(0, 300)}` : '';
  return `HTTP ${status}${code !== undefined ? ` ${code}` : ''}${said}`;
}
