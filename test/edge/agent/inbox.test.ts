import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Inbox, newOwnerId } from '../../../edge/agent/inbox.js';

let dir: string;
let inbox: Inbox;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inbox-'));
  inbox = new Inbox(join(dir, 'agent.sqlite'));
});
afterEach(async () => {
  inbox.close();
  await rm(dir, { recursive: true, force: true });
});

const job = (n: number, username = `user${n}`) => ({ id: `job-${n}`, username, sealedPassword: `sealed-${n}` });

describe('Inbox', () => {
  it('stores a job once; a repeat returns the stored one; another username under the same id is refused', () => {
    expect(inbox.receive(job(1))).toMatchObject({
      kind: 'stored',
      isNew: true,
      job: { id: 'job-1', status: 'pending' },
    });
    expect(inbox.receive(job(1))).toMatchObject({ kind: 'stored', isNew: false });
    expect(inbox.receive({ ...job(1), username: 'someone-else' })).toEqual({ kind: 'mismatch' });
    expect(inbox.counts()).toMatchObject({ pending: 1 });
  });

  it('keeps its file owner-only', async () => {
    expect((await stat(join(dir, 'agent.sqlite'))).mode & 0o777).toBe(0o600);
  });

  it('a claim marks jobs attempting and nobody else gets them while the lease runs', () => {
    for (let n = 0; n < 5; n++) inbox.receive(job(n));
    const first = inbox.claim('worker-a', 3, 60_000);
    expect(first.map((j) => j.id)).toEqual(['job-0', 'job-1', 'job-2']);
    expect(inbox.get('job-0')).toMatchObject({ status: 'attempting', attempts: 1 });
    const second = inbox.claim('worker-b', 10, 60_000);
    expect(second.map((j) => j.id)).toEqual(['job-3', 'job-4']);
    expect(inbox.claim('worker-c', 10, 60_000)).toEqual([]);
  });

  it('an expired lease, or one held by a process that is gone, is free again', async () => {
    inbox.receive(job(1));
    inbox.receive(job(2));
    const now = Date.now();
    expect(inbox.claim('worker-a', 1, 1_000, now)).toHaveLength(1);
    expect(inbox.claim('worker-b', 1, 1_000, now + 2_000).map((j) => j.id)).toEqual(['job-1']);

    const child = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => child.once('exit', resolve));
    const deadOwner = `${hostname()}:${child.pid}:x`;
    const claimed = inbox.claim(deadOwner, 1, 60_000);
    expect(claimed.map((j) => j.id)).toEqual(['job-2']);
    expect(inbox.claim(newOwnerId(), 1, 60_000).map((j) => j.id)).toEqual(['job-2']);
  });

  it('tells a claim whether this very job got as far as a create before (left attempting), never for a first claim', () => {
    inbox.receive(job(1));
    inbox.receive(job(2));
    const now = Date.now();
    expect(inbox.claim('worker-a', 2, 1_000, now).map((j) => j.attemptedBefore)).toEqual([false, false]);
    expect(inbox.retryLater('job-2', 'worker-a', 'Prosody restarting', now)).toBe(true);
    // job-1's worker vanished mid-create (lease ran out), job-2 was put back after a failed try: both tried before.
    expect(inbox.claim('worker-b', 2, 1_000, now + 2_000).map((j) => [j.id, j.attemptedBefore])).toEqual([
      ['job-1', true],
      ['job-2', true],
    ]);
    inbox.receive(job(3));
    expect(inbox.claim('worker-b', 1, 1_000, now + 2_000)).toMatchObject([{ id: 'job-3', attemptedBefore: false }]);
  });

  it('never hands one username to two workers at once', () => {
    inbox.receive(job(1, 'same'));
    inbox.receive(job(2, 'same'));
    expect(inbox.claim('worker-a', 10, 60_000).map((j) => j.id)).toEqual(['job-1']);
    expect(inbox.claim('worker-b', 10, 60_000)).toEqual([]);
  });

  it('finish records the result, deletes the sealed password, and only the lease holder may', () => {
    inbox.receive(job(1));
    inbox.claim('worker-a', 1, 60_000);
    expect(inbox.finish('job-1', 'worker-b', 'created', null)).toBe(false);
    expect(inbox.finish('job-1', 'worker-a', 'created', null)).toBe(true);
    expect(inbox.get('job-1')).toMatchObject({ status: 'created' });
    expect(inbox.claim('worker-a', 1, 60_000)).toEqual([]);
    expect(inbox.receive(job(1))).toMatchObject({ kind: 'stored', isNew: false, job: { status: 'created' } });
  });

  it('retryLater puts a job back until its time comes', () => {
    inbox.receive(job(1));
    const now = Date.now();
    inbox.claim('worker-a', 1, 60_000, now);
    expect(inbox.retryLater('job-1', 'worker-a', 'Prosody down', now + 5_000, now)).toBe(true);
    expect(inbox.get('job-1')).toMatchObject({ status: 'attempting', detail: 'Prosody down' });
    expect(inbox.claim('worker-a', 1, 60_000, now + 1_000)).toEqual([]);
    expect(inbox.nextDueAt()).toBe(now + 5_000);
    expect(inbox.claim('worker-a', 1, 60_000, now + 5_000)).toMatchObject([{ id: 'job-1', attempts: 2 }]);
  });

  it('two processes claiming at once never get the same job', async () => {
    for (let n = 0; n < 300; n++) inbox.receive(job(n));
    const script = `
      import { Inbox, newOwnerId } from ${JSON.stringify(new URL('../../../edge/agent/inbox.ts', import.meta.url).pathname)};
      const inbox = new Inbox(process.argv[1]);
      const owner = newOwnerId();
      const got = [];
      for (;;) { const jobs = inbox.claim(owner, 3, 60_000); if (!jobs.length) break; got.push(...jobs.map((j) => j.id)); }
      // Stay alive until told (stdin ends): a lease whose owner process is gone is free again.
      console.log(JSON.stringify(got));
      process.stdin.resume();
      await new Promise((resolve) => process.stdin.once('end', resolve));`;
    const children: ChildProcess[] = [];
    const run = () =>
      new Promise<string[]>((resolve, reject) => {
        const child = spawn(process.execPath, [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          script,
          join(dir, 'agent.sqlite'),
        ]);
        children.push(child);
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk;
          if (out.endsWith('\n')) resolve(JSON.parse(out) as string[]);
        });
        child.once('exit', (code) => reject(new Error(`exit ${code} before its claims were printed`)));
      });
    // Both have claimed all they could, each while the other was alive; then both may go.
    const [a, b] = await Promise.all([run(), run()]).finally(() => children.forEach((child) => child.stdin!.end()));
    expect(a.length + b.length).toBe(300);
    expect(new Set([...a, ...b]).size).toBe(300);
  });

  it('receiveSoon: jobs arriving together share one durable transaction, each with its own answer', async () => {
    inbox.receive(job(1));
    const answers = await Promise.all([
      inbox.receiveSoon(job(1)),
      inbox.receiveSoon(job(2)),
      inbox.receiveSoon(job(2)),
      inbox.receiveSoon({ ...job(3), username: 'someone' }),
      inbox.receiveSoon({ ...job(1), username: 'someone-else' }),
    ]);
    expect(answers).toEqual([
      { kind: 'stored', isNew: false, job: expect.objectContaining({ id: 'job-1' }) },
      { kind: 'stored', isNew: true, job: expect.objectContaining({ id: 'job-2', status: 'pending' }) },
      { kind: 'stored', isNew: false, job: expect.objectContaining({ id: 'job-2' }) },
      { kind: 'stored', isNew: true, job: expect.objectContaining({ id: 'job-3', username: 'someone' }) },
      { kind: 'mismatch' },
    ]);
    // Durable: another connection (as after a crash) sees them all.
    const other = new Inbox(join(dir, 'agent.sqlite'));
    expect(other.counts()).toMatchObject({ pending: 3 });
    other.close();
  });

  it('receiveSoon fails cleanly once the inbox is closed', async () => {
    const arriving = inbox.receiveSoon(job(9));
    inbox.close();
    await expect(arriving).rejects.toThrow(/closed/);
    inbox = new Inbox(join(dir, 'agent.sqlite'));
    expect(inbox.get('job-9')).toBeUndefined();
  });

  it('a job finished through the worker connection leaves no trace of its seal in the database files', async () => {
    const secret = 'SEALED-BLOB-THAT-MUST-VANISH-'.repeat(4);
    inbox.receive({ id: 'job-s', username: 'sealed', sealedPassword: secret });
    inbox.claim('worker-a', 1, 60_000);
    expect(inbox.finish('job-s', 'worker-a', 'created', null)).toBe(true);
    inbox.close();
    const bytes = Buffer.concat(
      await Promise.all(
        ['agent.sqlite', 'agent.sqlite-wal'].map((file) => readFile(join(dir, file)).catch(() => Buffer.alloc(0))),
      ),
    );
    // The first copy (from the insert) lives on in the WAL only until the checkpoint on close; none may remain.
    expect(bytes.includes(Buffer.from(secret))).toBe(false);
    inbox = new Inbox(join(dir, 'agent.sqlite'));
  });
});
