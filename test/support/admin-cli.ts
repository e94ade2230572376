/** Runs an admin CLI module in this process with captured stdout/stderr lines and an explicit environment. */
import { createHash } from 'node:crypto';
import { readdir, readFile, lstat } from 'node:fs/promises';
import { join } from 'node:path';

export interface Captured {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

export async function capture(
  run: (io: {
    out: (line: string) => void;
    err: (line: string) => void;
    env: Record<string, string | undefined>;
  }) => Promise<number>,
  env: Record<string, string | undefined>,
): Promise<Captured> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run({ out: (line) => out.push(line), err: (line) => err.push(line), env });
  return { code, out, err };
}

/** sha256 of every file under `dir` (path → hash, plus modes), to prove a command changed no byte. */
export async function hashTree(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  async function walk(current: string): Promise<void> {
    for (const entry of (await readdir(current)).sort()) {
      const path = join(current, entry);
      const info = await lstat(path);
      if (info.isDirectory()) await walk(path);
      else if (info.isFile())
        result[path.slice(dir.length)] = `${(info.mode & 0o777).toString(8)} ${createHash('sha256')
          .update(await readFile(path))
          .digest('hex')}`;
      else result[path.slice(dir.length)] = `special ${(info.mode & 0o777).toString(8)}`;
    }
  }
  await walk(dir);
  return result;
}
