/** Runs a Prosody call; Prosody trouble is the closed error "unavailable" (503), worth another try. */
import { AgentError } from '../errors.js';
import { ProsodyUnavailableError } from '../prosody/accounts.js';

export async function withProsody<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ProsodyUnavailableError) throw new AgentError('unavailable', `Prosody: ${error.message}`);
    throw error;
  }
}
