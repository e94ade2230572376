/** Runs a real script with tsx against a temp MEET_DATA_DIR, the way an operator would (npm run … = tsx scripts/….mts). */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runScript(script: string, args: readonly string[], env: Record<string, string>): Promise<RunResult> {
  return new Promise((done) => {
    execFile(TSX, [resolve(ROOT, 'scripts', script), ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}
