/** signedBody: the one way the agent's signed routes read their JSON bodies (after signedRequest). */
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AgentError } from '../../../../edge/agent/errors.js';
import { signedBody } from '../../../../edge/agent/middleware/signed-body.js';
import { signedRequest } from '../../../../edge/agent/middleware/signed-request.js';
import { generateSigningSecret, parseSigningSecrets, signRequest } from '../../../../edge/shared/signing.js';

const keys = parseSigningSecrets(generateSigningSecret());
const schema = z.strictObject({ username: z.string().min(1), count: z.number().int() });

function app(withSignature = true) {
  const seen: unknown[] = [];
  const hono = new Hono();
  if (withSignature) hono.use('*', signedRequest(keys));
  hono.post('/thing', signedBody(schema), (c) => (seen.push(c.var.body), c.json({ username: c.var.body.username })));
  hono.onError((error, c) =>
    error instanceof AgentError
      ? c.json({ error: error.message, code: error.code }, error.status)
      : c.json({ error: error.message, code: 'internal' }, 500),
  );
  return { hono, seen };
}

const signed = (body: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...signRequest(keys, randomUUID(), body) },
  body,
});

async function send(hono: Hono, init: RequestInit) {
  const res = await hono.request('/thing', init);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('signedBody', () => {
  it('hands the route the parsed, validated body', async () => {
    const { hono, seen } = app();
    expect(await send(hono, signed(JSON.stringify({ username: 'alice', count: 2 })))).toEqual({
      status: 200,
      json: { username: 'alice' },
    });
    expect(seen).toEqual([{ username: 'alice', count: 2 }]);
  });

  it('answers bad_request for a body that is not JSON, and the route never runs', async () => {
    const { hono, seen } = app();
    expect(await send(hono, signed('{"username": '))).toEqual({
      status: 400,
      json: { error: 'the body is not JSON', code: 'bad_request' },
    });
    expect(seen).toEqual([]);
  });

  it('names every wrong field, and refuses fields the schema does not know', async () => {
    const { hono, seen } = app();
    const wrong = await send(hono, signed(JSON.stringify({ username: '', count: 1.5 })));
    expect(wrong).toMatchObject({
      status: 400,
      json: { error: expect.stringMatching(/^malformed request: username: .+; count: .+$/), code: 'bad_request' },
    });
    const extra = await send(hono, signed(JSON.stringify({ username: 'bob', count: 1, admin: true })));
    expect(extra).toMatchObject({ status: 400, json: { error: expect.stringContaining('malformed request: body: ') } });
    expect(seen).toEqual([]);
  });

  it('reads nothing of a request whose signature does not verify', async () => {
    const { hono, seen } = app();
    const forged = {
      ...signed(JSON.stringify({ username: 'alice', count: 2 })),
      body: JSON.stringify({ username: 'mallory', count: 2 }),
    };
    expect(await send(hono, forged)).toMatchObject({ status: 401, json: { code: 'unauthorized' } });
    expect(seen).toEqual([]);
  });

  it('refuses to read an unverified body when signedRequest is missing (a wiring mistake)', async () => {
    const { hono, seen } = app(false);
    expect(await send(hono, signed(JSON.stringify({ username: 'alice', count: 2 })))).toEqual({
      status: 500,
      json: { error: 'signedBody must run after signedRequest', code: 'internal' },
    });
    expect(seen).toEqual([]);
  });
});
