/** Starts a built service with plain node, as its container does, and waits for its "listening on <url>" line. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface NodeServiceOptions {
  /** Working directory (the repository root, or an image layout). */
  readonly cwd: string;
  /** The whole environment besides PATH: no NODE_OPTIONS, so no loader sneaks in. */
  readonly env: Record<string, string>;
  /** Every child started is pushed here, for the test's afterAll to kill. */
  readonly children: ChildProcess[];
}

/** Runs `node <args>`; resolves with the URL the service logs once listening, rejects if it exits first. */
export function startNodeService(args: readonly string[], options: NodeServiceOptions): Promise<string> {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  options.children.push(child);
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening on (\S+)/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`)));
  });
}
