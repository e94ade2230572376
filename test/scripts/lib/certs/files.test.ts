/** Atomic replacement of the certificate files and the create-once account key, on a real filesystem. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createFileOnce, replaceFiles } from '../../../../scripts/lib/certs/files.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meet-certs-files-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const mode = (name: string) => statSync(join(dir, name)).mode & 0o777;

it('replaceFiles writes every file with exactly its mode, whatever the umask, and leaves no temp file', async () => {
  const umask = process.umask(0o077);
  try {
    await replaceFiles(dir, [
      { name: 'cert.key', data: 'KEY', mode: 0o600 },
      { name: 'cert.crt', data: 'CHAIN', mode: 0o644 },
    ]);
  } finally {
    process.umask(umask);
  }
  expect(readdirSync(dir).sort()).toEqual(['cert.crt', 'cert.key']);
  expect([readFileSync(join(dir, 'cert.key'), 'utf8'), mode('cert.key')]).toEqual(['KEY', 0o600]);
  expect([readFileSync(join(dir, 'cert.crt'), 'utf8'), mode('cert.crt')]).toEqual(['CHAIN', 0o644]);
});

it('replaceFiles changes no target when one file cannot be written, and removes its temp files', async () => {
  writeFileSync(join(dir, 'cert.key'), 'OLD KEY', { mode: 0o600 });
  writeFileSync(join(dir, 'cert.crt'), 'OLD CHAIN');
  await expect(
    replaceFiles(dir, [
      { name: 'cert.key', data: 'NEW KEY', mode: 0o600 },
      { name: 'missing-dir/cert.crt', data: 'NEW', mode: 0o644 },
    ]),
  ).rejects.toThrow(/ENOENT/);
  expect(readdirSync(dir).sort()).toEqual(['cert.crt', 'cert.key']);
  expect(readFileSync(join(dir, 'cert.key'), 'utf8')).toBe('OLD KEY');
  expect(readFileSync(join(dir, 'cert.crt'), 'utf8')).toBe('OLD CHAIN');
});

it("createFileOnce creates with the mode, and the second of two racing creators keeps the first one's content", async () => {
  const [first, second] = await Promise.all([
    createFileOnce(join(dir, 'account.key'), 'A', 0o600),
    createFileOnce(join(dir, 'account.key'), 'B', 0o600),
  ]);
  expect([first, second].sort()).toEqual([false, true]);
  const content = readFileSync(join(dir, 'account.key'), 'utf8');
  expect(content).toBe(first ? 'A' : 'B');
  expect(await createFileOnce(join(dir, 'account.key'), 'C', 0o600)).toBe(false);
  expect(readFileSync(join(dir, 'account.key'), 'utf8')).toBe(content);
  expect(mode('account.key')).toBe(0o600);
  expect(readdirSync(dir)).toEqual(['account.key']);
});
