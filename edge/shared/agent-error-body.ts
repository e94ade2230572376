/**
 * The agent's JSON error body: `{ "error": <message>, "code": <code> }`, the shape meet-auth answers with too.
 * Agents before it answered `{ "error": <code>, "message": <message> }`; readAgentError reads both, so meet-auth
 * and the CLIs work with old and new agents alike during a rolling deploy.
 */
export interface AgentErrorBody {
  readonly error: string;
  readonly code: string;
}

export function agentErrorBody(code: string, message: string): AgentErrorBody {
  return { error: message, code };
}

/** The code and message of an agent's error answer in either shape; undefined for what either lacks. */
export function readAgentError(json: unknown): {
  readonly code: string | undefined;
  readonly message: string | undefined;
} {
  if (typeof json !== 'object' || json === null) return { code: undefined, message: undefined };
  const { error, code, message } = json as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  // The old shape has no `code`: its `error` was the code.
  if (typeof code === 'string') return { code, message: text(error) };
  return { code: text(error), message: text(message) };
}
