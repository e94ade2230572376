/**
 * Starts and stops a local Prosody with the configuration of prosody-config.ts, in the foreground as a child
 * process, and waits until both its admin socket and its client port answer. Used by `npm start`, the tests
 * (through test/support/prosody.ts) and the benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { prosodyPaths, renderProsodyConfig, type LocalProsodyConfigOptions } from './prosody-config.js';
import { DEFAULTS } from '../../common/config.js';

export const PROSODY_INSTALL_HINT =
  'Prosody 13 is needed. On Debian bookworm install it from backports, as root:\n' +
  '  echo "deb http://deb.debian.org/debian bookworm-backports main" > /etc/apt/sources.list.d/backports.list\n' +
  '  apt-get update && apt-get install -y -t bookworm-backports prosody\n' +
  '  systemctl disable --now prosody   # the local stack runs its own Prosody';

class ProsodyMissingError extends Error {
  constructor(binary: string) {
    super(`cannot find the Prosody executable "${binary}". ${PROSODY_INSTALL_HINT}`);
  }
}

export interface LocalProsodyOptions extends LocalProsodyConfigOptions {
  /** @default "prosody" (on PATH; /usr/bin/prosody on Debian) */
  readonly prosodyBinary?: string;
  /** @default - 20 s */
  readonly startTimeoutMs?: number;
}

export interface LocalProsody {
  readonly dir: string;
  readonly domain: string;
  readonly c2sPort: number;
  readonly configPath: string;
  readonly socketPath: string;
  readonly logPath: string;
  pid(): number | undefined;
  /** Stops Prosody (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** Kills Prosody at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again with the same configuration and data (after stop or kill). */
  start(): Promise<void>;
}

function whenExited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function answers(target: { path: string } | { port: number; host: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(target as never);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function logTail(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').slice(-15).join('\n');
}

export async function startLocalProsody(options: LocalProsodyOptions): Promise<LocalProsody> {
  const paths = prosodyPaths(options.dir);
  const domain = options.domain ?? DEFAULTS.xmppDomain;
  const binary = options.prosodyBinary ?? 'prosody';
  await mkdir(paths.data, { recursive: true, mode: 0o700 });
  await mkdir(paths.certs, { recursive: true, mode: 0o700 });
  await writeFile(paths.config, renderProsodyConfig(options), { mode: 0o600 });
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    // A killed Prosody leaves its socket and pidfile behind; a fresh one removes the socket itself.
    await rm(paths.pidfile, { force: true });
    const spawned = spawn(binary, ['--config', paths.config, '-F'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    spawned.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()).slice(-4000));
    const failed = new Promise<never>((_, reject) => {
      spawned.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'ENOENT' ? new ProsodyMissingError(binary) : error),
      );
      spawned.once('exit', async (code, signal) =>
        reject(new Error(`prosody exited during start (${signal ?? code}):\n${stderr}${await logTail(paths.log)}`)),
      );
    });
    child = spawned;
    const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
    const ready = (async () => {
      while (Date.now() < deadline) {
        if (
          existsSync(paths.socket) &&
          (await answers({ path: paths.socket })) &&
          (await answers({ host: '127.0.0.1', port: options.c2sPort }))
        ) {
          return;
        }
        await sleep(50);
      }
      spawned.kill('SIGKILL');
      throw new Error(`prosody did not become ready in time:\n${await logTail(paths.log)}`);
    })();
    try {
      await Promise.race([ready, failed]);
    } finally {
      failed.catch(() => undefined);
    }
    spawned.removeAllListeners('exit');
  }

  async function stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    running.kill(signal);
    const timer = setTimeout(() => running.kill('SIGKILL'), 5_000);
    await whenExited(running);
    clearTimeout(timer);
  }

  await start();
  return {
    dir: options.dir,
    domain,
    c2sPort: options.c2sPort,
    configPath: paths.config,
    socketPath: paths.socket,
    logPath: paths.log,
    pid: () => child?.pid,
    stop: () => stop('SIGTERM'),
    kill: () => stop('SIGKILL'),
    start,
  };
}
