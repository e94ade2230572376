/** The closed set of errors the agent answers with (JSON `{ "error": <message>, "code": <code> }`, edge/shared/agent-error-body.ts). */
export const AGENT_ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  not_found: 404,
  payload_too_large: 413,
  internal: 500,
  /** Prosody cannot be reached or did not answer as expected: worth another try later. */
  unavailable: 503,
  /** The agent's disk is full: nothing was stored; worth another try later. */
  storage_full: 503,
} as const;

export type AgentErrorCode = keyof typeof AGENT_ERROR_STATUS;

export class AgentError extends Error {
  readonly status: (typeof AGENT_ERROR_STATUS)[AgentErrorCode];
  constructor(
    readonly code: AgentErrorCode,
    message: string,
  ) {
    super(message);
    this.status = AGENT_ERROR_STATUS[code];
  }
}
