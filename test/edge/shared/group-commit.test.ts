import Database from 'better-sqlite3';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../../edge/shared/group-commit.js';

let dir: string;
const opened: Database.Database[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'group-commit-'));
});
afterEach(async () => {
  for (const db of opened.splice(0)) if (db.open) db.close();
  await rm(dir, { recursive: true, force: true });
});

function open(name = 'store.sqlite'): Database.Database {
  const db = new Database(join(dir, name));
  db.pragma('journal_mode = WAL');
  // Keep every frame in the WAL, so its size counts the commits' writes.
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE IF NOT EXISTS items (name TEXT PRIMARY KEY, n INTEGER NOT NULL)');
  opened.push(db);
  return db;
}

const insert = (db: Database.Database) => (item: { name: string; n: number }) => {
  db.prepare('INSERT INTO items (name, n) VALUES (?, ?)').run(item.name, item.n);
  if (item.n < 0) throw new Error(`negative: ${item.name}`);
  return item.n * 2;
};

describe('GroupCommit', () => {
  it('resolves each write of a turn with its own result, committed (another connection sees them)', async () => {
    const db = open();
    const group = new GroupCommit(db, insert(db));
    const results = await Promise.all([1, 2, 3].map((n) => group.submit({ name: `item${n}`, n })));
    expect(results).toEqual([2, 4, 6]);
    const other = open();
    expect(other.prepare('SELECT name FROM items ORDER BY name').pluck().all()).toEqual(['item1', 'item2', 'item3']);
  });

  it('undoes only the write that throws (its savepoint); the others of the batch commit', async () => {
    const db = open();
    const group = new GroupCommit(db, insert(db));
    const settled = await Promise.allSettled([
      group.submit({ name: 'kept1', n: 1 }),
      // Its row is inserted, then the write throws: the row must go with it.
      group.submit({ name: 'undone', n: -1 }),
      group.submit({ name: 'kept1', n: 5 }),
      group.submit({ name: 'kept2', n: 2 }),
    ]);
    expect(settled.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ message: 'negative: undone' });
    expect((settled[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    expect(db.prepare('SELECT name, n FROM items ORDER BY name').all()).toEqual([
      { name: 'kept1', n: 1 },
      { name: 'kept2', n: 2 },
    ]);
  });

  it('writes the WAL once per turn, not once per write', async () => {
    const grouped = open('grouped.sqlite');
    const group = new GroupCommit(grouped, insert(grouped));
    await Promise.all(Array.from({ length: 50 }, (_, n) => group.submit({ name: `g${n}`, n })));
    const separate = open('separate.sqlite');
    const alone = new GroupCommit(separate, insert(separate));
    for (let n = 0; n < 50; n++) await alone.submit({ name: `s${n}`, n });
    const [groupedWal, separateWal] = await Promise.all(
      ['grouped.sqlite-wal', 'separate.sqlite-wal'].map((file) => stat(join(dir, file))),
    );
    // 50 commits write at least 50 frames of 4 KiB; one commit of the same rows writes a handful.
    expect(separateWal!.size).toBeGreaterThan(50 * 4096);
    expect(groupedWal!.size).toBeLessThan(10 * 4096);
  });

  it('fails every write of the batch when the transaction cannot run, and every submit after close', async () => {
    const db = open();
    const group = new GroupCommit(db, insert(db));
    const doomed = [group.submit({ name: 'a', n: 1 }), group.submit({ name: 'b', n: 2 })];
    db.close();
    for (const write of doomed) await expect(write).rejects.toThrow(/not open/);
    group.close();
    await expect(group.submit({ name: 'c', n: 3 })).rejects.toThrow('the store is closed');
  });

  it('close() fails the writes still waiting for their turn', async () => {
    const db = open();
    const group = new GroupCommit(db, insert(db));
    const waiting = group.submit({ name: 'late', n: 1 });
    group.close();
    await expect(waiting).rejects.toThrow('the store is closed');
    expect(db.prepare('SELECT COUNT(*) FROM items').pluck().get()).toBe(0);
  });
});
