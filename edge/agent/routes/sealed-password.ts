/** Opens a password sealed to this agent under `context`; one that does not open is bad_request, saying why. */
import { openSeal, SealError } from '../../shared/sealing.js';
import { AgentError } from '../errors.js';

export function openSealedPassword(sealingKeys: readonly string[], sealed: string, context: string): string {
  try {
    return openSeal(sealingKeys, sealed, context);
  } catch (error) {
    throw new AgentError(
      'bad_request',
      `the sealed password does not open: ${error instanceof SealError ? error.message : 'malformed seal'}`,
    );
  }
}
