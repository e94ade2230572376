/** Runs one of the repository's scripts as `npm run` does (node with tsx), and collects its exit code and output. */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { PORT_CLAIMS_ENV } from '../../scripts/lib/free-port.js';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface ScriptResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunScriptOptions {
  /** Added to the environment. */
  readonly env?: Record<string, string>;
  /** Start from an empty environment (plus PATH and the run's port claims) instead of this process's. @default false */
  readonly cleanEnv?: boolean;
}

/** `script` is relative to the repository root, e.g. "scripts/tickets.mts". */
export function runScript(
  script: string,
  args: readonly string[],
  options: RunScriptOptions = {},
): Promise<ScriptResult> {
  const claims = process.env[PORT_CLAIMS_ENV];
  const base = options.cleanEnv
    ? { PATH: process.env.PATH ?? '', ...(claims ? { [PORT_CLAIMS_ENV]: claims } : {}) }
    : process.env;
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, script), ...args],
      { cwd: ROOT, env: { ...base, ...options.env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}
