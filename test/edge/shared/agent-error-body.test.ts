import { expect, it } from 'vitest';
import { agentErrorBody, readAgentError } from '../../../edge/shared/agent-error-body.js';

it('writes {"error": <message>, "code": <code>} and reads it back', () => {
  expect(agentErrorBody('unavailable', 'Prosody is down')).toEqual({ error: 'Prosody is down', code: 'unavailable' });
  expect(readAgentError(agentErrorBody('unavailable', 'Prosody is down'))).toEqual({
    code: 'unavailable',
    message: 'Prosody is down',
  });
});

it('reads the shape of agents before it, {"error": <code>, "message": <message>} (rolling deploy)', () => {
  expect(readAgentError({ error: 'unavailable', message: 'Prosody is down' })).toEqual({
    code: 'unavailable',
    message: 'Prosody is down',
  });
  expect(readAgentError({ error: 'not_found' })).toEqual({ code: 'not_found', message: undefined });
});

it('reads nothing from what is not an error body', () => {
  for (const json of [null, 'text', 42, [], {}, { code: 7, error: 8 }]) {
    expect(readAgentError(json)).toEqual({ code: undefined, message: undefined });
  }
});
