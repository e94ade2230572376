import { afterEach, describe, expect, it } from 'vitest';
import { GOOD_PASSWORD, startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('concurrent redemptions on the real store', () => {
  it('50 simultaneous redemptions of one ticket make exactly one account', async () => {
    h = await startHarness({ agents: [{ name: 'a' }, { name: 'b' }] });
    const ticket = await h.ticket();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        h!.post('/create', { user: `racer${i}`, password: GOOD_PASSWORD, token: ticket }, { from: `192.0.2.${i}` }),
      ),
    );
    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((status) => status === 202)).toHaveLength(1);
    expect(statuses.filter((status) => status !== 202).every((status) => status === 403 || status === 429)).toBe(true);
    expect(h.db.prepare('SELECT count(*) AS n FROM usernames').get()).toEqual({ n: 1 });
    expect(h.db.prepare('SELECT count(*) AS n FROM requests').get()).toEqual({ n: 1 });
    expect(h.db.prepare('SELECT uses, uses_allowed FROM tickets').get()).toEqual({ uses: 1, uses_allowed: 1 });
    expect(h.agents.map((agent) => agent.jobs.length)).toEqual([1, 1]);
  });

  it('50 simultaneous redemptions of one name with 50 tickets make exactly one account; 49 tickets stay usable', async () => {
    h = await startHarness();
    const tickets = await Promise.all(Array.from({ length: 50 }, () => h!.ticket()));
    const answers = await Promise.all(
      tickets.map((token) => h!.post('/create', { user: 'Samename', password: GOOD_PASSWORD, token })),
    );
    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((status) => status === 202)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(49);
    expect(h.db.prepare('SELECT count(*) AS n FROM tickets WHERE uses = 0').get()).toEqual({ n: 49 });
  });

  it('100 distinct simultaneous redemptions make 100 accounts on every server', async () => {
    h = await startHarness({ agents: [{ name: 'a' }, { name: 'b' }], holdMs: 5000 });
    const tickets = await Promise.all(Array.from({ length: 100 }, () => h!.ticket()));
    const answers = await Promise.all(
      tickets.map((token, i) => h!.post('/create', { user: `person${i}`, password: GOOD_PASSWORD, token })),
    );
    expect(answers.map((res) => res.status)).toEqual(Array(100).fill(202));
    const bodies = (await Promise.all(answers.map((res) => res.json()))) as { request: string; status: string }[];
    expect(new Set(bodies.map((body) => body.request)).size).toBe(100);
    expect(bodies.every((body) => body.status === 'created')).toBe(true);
    expect(h.db.prepare(`SELECT count(*) AS n FROM requests WHERE status = 'created'`).get()).toEqual({ n: 100 });
    for (const agent of h.agents) expect(new Set(agent.jobs.map((job) => job.username)).size).toBe(100);
  });
});
