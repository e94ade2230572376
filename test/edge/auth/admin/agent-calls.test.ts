/**
 * The admin CLIs read an agent's error answer whichever shape it has: `{"error": <message>, "code": <code>}`
 * from this agent, `{"error": <code>, "message": <message>}` from an older one still running during a rolling
 * deploy. A real HTTP server plays each agent.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hostFiles } from '../../../../edge/auth/admin/admin-calls.js';
import { listAccounts } from '../../../../edge/auth/admin/agent-calls.js';
import type { AgentConfig } from '../../../../edge/auth/config.js';
import { generateSealingKeyPair } from '../../../../edge/shared/sealing.js';
import { generateSigningSecret, parseSigningSecrets } from '../../../../edge/shared/signing.js';

const ANSWERS = {
  '/new': { error: 'Prosody did not answer', code: 'unavailable' },
  '/old': { error: 'unavailable', message: 'Prosody did not answer' },
};
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const prefix = Object.keys(ANSWERS).find((path) => request.url!.startsWith(`${path}/`)) as keyof typeof ANSWERS;
    request
      .resume()
      .on('end', () =>
        response.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify(ANSWERS[prefix])),
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const agent = (path: string): AgentConfig => ({
  name: `agent${path.replace('/', '-')}`,
  url: `${base}${path}`,
  sealingPublicKey: generateSealingKeyPair().publicKey,
  signingKeys: parseSigningSecrets(generateSigningSecret()),
});

it('accounts: the same reason from a new and an old agent', async () => {
  expect(await listAccounts(agent('/new'))).toEqual({
    ok: false,
    reason: 'HTTP 503 unavailable: Prosody did not answer',
  });
  expect(await listAccounts(agent('/old'))).toEqual({
    ok: false,
    reason: 'HTTP 503 unavailable: Prosody did not answer',
  });
});

it('admin calls (backup, rotate): the same error from a new and an old agent', async () => {
  for (const path of ['/new', '/old']) {
    const failure = await hostFiles(agent(path)).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe(
      `agent agent-${path.slice(1)} answered HTTP 503 unavailable: Prosody did not answer`,
    );
  }
});
