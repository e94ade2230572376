/**
 * A room full of people behind one NAT redeeming at once (docs/architecture.md: "a valid ticket is never limited"): the whole
 * path (real meet-auth, agent and Prosody 13, every account proven by an XMPP login), each person on a connection
 * of their own from the same source address, with meet-auth's connection guard in front.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../support/stack.js';
import { failedLogins } from '../../support/xmpp.js';

const METRICS_TOKEN = 'nat-room-test-metrics-token-0123456789';
let stack: TestStack | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await stack?.dispose();
  stack = undefined;
});

/** `count` people behind `from` redeem at once; resolves when every request has settled. */
async function roomRedeems(current: TestStack, from: string, count: number, prefix: string) {
  const people = Array.from({ length: count }, (_, i) => ({
    username: `${prefix}${i}`,
    password: `nat room password ${i}`,
  }));
  const tickets = current.tickets(count);
  const answers = await Promise.all(
    people.map((person, i) => current.redeemFrom(from, person.username, person.password, tickets[i]!)),
  );
  const settled = await Promise.all(
    answers.map((answer) => (answer.body.request ? current.settled(answer.body.request, 60_000) : undefined)),
  );
  return { people, answers, settled };
}

it('200 people behind one address all redeem at once, and every account logs in', async () => {
  stack = await startTestStack();
  const { people, answers, settled } = await roomRedeems(stack, '127.0.0.9', 200, 'nat');
  expect(answers.filter((answer) => answer.status !== 202)).toEqual([]);
  expect(settled.filter((status) => status?.status !== 'created')).toEqual([]);
  expect(await failedLogins(stack.prosody.c2sPort, people)).toEqual([]);
}, 120_000);

it('under pressure, a room over its per-address limit waits for slots instead of being reset: everyone gets an account', async () => {
  // Scaled down: pressure from 60 connections, 20 per address then; 60 idle connections from elsewhere hold it there.
  stack = await startTestStack({
    authEnv: { MEET_METRICS_TOKEN: METRICS_TOKEN },
    authConnections: {
      maxConnections: 120,
      pressureConnections: 60,
      maxConnectionsPerAddress: 20,
      maxQueuedConnections: 100,
      maxQueuedPerAddress: 100,
      headersTimeoutMs: 30_000,
      requestTimeoutMs: 40_000,
    },
  });
  const url = new URL(stack.authUrl);
  await Promise.all(
    Array.from(
      { length: 60 },
      (_, i) =>
        new Promise<void>((resolve, reject) => {
          const socket = connect(
            { host: url.hostname, port: Number(url.port), localAddress: `127.0.31.${1 + (i % 6)}` },
            resolve,
          );
          socket.once('error', reject);
          sockets.push(socket);
        }),
    ),
  );
  let queuedPeak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const metrics = await fetch(`${stack!.authUrl}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      }).then((response) => response.text());
      queuedPeak = Math.max(
        queuedPeak,
        Number(/^meet_auth_connections\{state="queued"\} (\d+)$/m.exec(metrics)?.[1] ?? 0),
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const { people, answers, settled } = await roomRedeems(stack, '127.0.0.10', 80, 'busy');
  sampling = false;
  await sampler;
  expect(answers.filter((answer) => answer.status !== 202)).toEqual([]);
  expect(settled.filter((status) => status?.status !== 'created')).toEqual([]);
  expect(await failedLogins(stack.prosody.c2sPort, people)).toEqual([]);
  expect(queuedPeak).toBeGreaterThan(0); // the room really was over its limit and waited
  expect(sockets.filter((socket) => socket.destroyed)).toEqual([]); // and took nobody else's connection
}, 120_000);
