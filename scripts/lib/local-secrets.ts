/**
 * The local stack's other secrets under `$MEET_DATA_DIR/keys/` (mode 0600, made on first start like the agent
 * keys): the passwords of Jitsi's service accounts `focus` (jicofo) and `jvb` on the auth domain, and the
 * backup key. Also the stack's pidfile, which tells the admin scripts whether a stack runs on this data directory.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULTS } from '../../common/config.js';
import { keysDir } from './local-keys.js';

/** The two service accounts Jitsi's images create (register-setup:67,76 @ stable-11146-2), by the secret's name. */
export const SERVICE_ACCOUNTS = {
  jicofo: { username: 'focus', file: 'jicofo-auth-password', variable: 'jicofo_auth_password' },
  jvb: { username: 'jvb', file: 'jvb-auth-password', variable: 'jvb_auth_password' },
} as const;
export type ServiceName = keyof typeof SERVICE_ACCOUNTS;

/** The images' XMPP_AUTH_DOMAIN default. */
export const AUTH_DOMAIN = DEFAULTS.authDomain;

/** Hex survives both places the images put these passwords: a shell command line and a HOCON string. */
export const newServicePassword = () => randomBytes(24).toString('hex');

async function readOrCreate(path: string, generate: () => string): Promise<string> {
  try {
    await writeFile(path, `${generate()}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
  }
  return (await readFile(path, 'utf8')).trim();
}

export async function ensureServicePasswords(dataDir: string): Promise<Record<ServiceName, string>> {
  const dir = keysDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return {
    jicofo: await readOrCreate(join(dir, SERVICE_ACCOUNTS.jicofo.file), newServicePassword),
    jvb: await readOrCreate(join(dir, SERVICE_ACCOUNTS.jvb.file), newServicePassword),
  };
}

export const servicePasswordPath = (dataDir: string, service: ServiceName) =>
  join(keysDir(dataDir), SERVICE_ACCOUNTS[service].file);

const STACK_PID_FILE = 'stack.pid';

export async function writeStackPid(dataDir: string): Promise<void> {
  await writeFile(join(dataDir, STACK_PID_FILE), `${process.pid}\n`, { mode: 0o600 });
}

export async function removeStackPid(dataDir: string): Promise<void> {
  const path = join(dataDir, STACK_PID_FILE);
  if ((await readFile(path, 'utf8').catch(() => '')).trim() === String(process.pid)) await rm(path, { force: true });
}

/** The pid of a local stack running on `dataDir`, or null (no pidfile, or its process is gone). */
export function runningStackPid(dataDir: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, STACK_PID_FILE), 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}
