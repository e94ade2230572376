/**
 * Creating and administering accounts with `prosodyctl` (the Prosody 0.12 fallback): `prosodyctl adduser
 * USER@HOST`, password twice on stdin; it refuses an existing name too. Never `prosodyctl register`: it silently
 * replaces an existing password. A password is checked with Prosody's own `usermanager.test_password` in
 * `prosodyctl shell` (testPasswordLine).
 */
import { spawn } from 'node:child_process';
import type { DeleteStatus } from '../../shared/accounts-protocol.js';
import {
  ProsodyUnavailableError,
  type CreateOutcome,
  type ProsodyAccounts,
  type ProsodyAdmin,
  type ResetOutcome,
} from './accounts.js';
import type { ReplResult } from './admin-socket.js';
import { detailOf, parseUserList, verdictOf } from './answers.js';
import { listUsersLine, testPasswordLine } from './lua.js';
import { DEFAULTS } from '../../../common/config.js';

export interface ProsodyctlAccountsOptions {
  /** Prosody's config file, passed as `--config`. */
  readonly configPath?: string;
  /** @default "prosodyctl" */
  readonly prosodyctl?: string;
  /** @default "meet.jitsi" */
  readonly domain?: string;
  /** @default 30 s */
  readonly timeoutMs?: number;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class ProsodyctlAccounts implements ProsodyAccounts, ProsodyAdmin {
  readonly #options: ProsodyctlAccountsOptions;
  readonly #domain: string;

  constructor(options: ProsodyctlAccountsOptions) {
    this.#options = options;
    this.#domain = options.domain ?? DEFAULTS.xmppDomain;
  }

  /** Runs prosodyctl with `input` on stdin: secrets go there, never into argv. */
  #prosodyctl(args: readonly string[], input: string): Promise<Run> {
    const argv = [...(this.#options.configPath ? ['--config', this.#options.configPath] : []), ...args];
    return new Promise((resolve, reject) => {
      const child = spawn(this.#options.prosodyctl ?? 'prosodyctl', argv, {
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: this.#options.timeoutMs ?? 30_000,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
      child.stdin.on('error', () => undefined);
      child.once('error', (error) => reject(new ProsodyUnavailableError(`cannot run prosodyctl: ${error.message}`)));
      child.once('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input);
    });
  }

  async create(username: string, password: string): Promise<CreateOutcome> {
    const { code, stdout, stderr } = await this.#prosodyctl(
      ['adduser', `${username}@${this.#domain}`],
      `${password}\n${password}\n`,
    );
    const said = detailOf(`${stdout.replace(/(Enter new|Retype new) password: \S*/g, '')} ${stderr}`);
    if (code === 0) return { kind: 'created' };
    if (/That user already exists/.test(said)) return { kind: 'exists' };
    if (/invalid|does not exist in the config|SASLprep/i.test(said)) return { kind: 'rejected', detail: said };
    throw new ProsodyUnavailableError(`prosodyctl adduser failed (exit ${code}): ${said}`);
  }

  async verify(username: string, password: string): Promise<boolean> {
    return verdictOf(await this.#shell(testPasswordLine(username, this.#domain, password)));
  }

  /** A shell line's answer: the shell prints each result as "| text" (success) or "! text" (error). Needs the server running. */
  async #shell(line: string): Promise<ReplResult> {
    const { stdout } = await this.#prosodyctl(['shell'], `${line}\n`);
    const answer = stdout
      .split('\n')
      .map((text) => text.replace(/^prosody> /, ''))
      .find((text) => /^[|!] /.test(text));
    if (!answer) throw new ProsodyUnavailableError(`prosodyctl shell gave no answer: ${detailOf(stdout)}`);
    return { ok: answer.startsWith('|'), text: answer.slice(2), output: [] };
  }

  async list(): Promise<string[]> {
    return parseUserList(await this.#shell(listUsersLine(this.#domain)));
  }

  /** `prosodyctl deluser` (writes storage directly: sessions already open are not ended on 0.12). */
  async delete(username: string): Promise<DeleteStatus> {
    const { code, stdout, stderr } = await this.#prosodyctl(['deluser', `${username}@${this.#domain}`], '');
    const said = detailOf(`${stdout} ${stderr}`);
    if (code === 0) return 'deleted';
    if (/That user does not exist/.test(said)) return 'absent';
    throw new ProsodyUnavailableError(`prosodyctl deluser failed (exit ${code}): ${said}`);
  }

  /** `prosodyctl passwd`, the password twice on stdin; it refuses a name that does not exist. */
  async setPassword(username: string, password: string): Promise<ResetOutcome> {
    const { code, stdout, stderr } = await this.#prosodyctl(
      ['passwd', `${username}@${this.#domain}`],
      `${password}\n${password}\n`,
    );
    const said = detailOf(`${stdout.replace(/(Enter new|Retype new) password: \S*/g, '')} ${stderr}`, password);
    if (code === 0) return { kind: 'changed' };
    if (/That user does not exist/.test(said)) return { kind: 'absent' };
    if (/invalid|SASLprep/i.test(said)) return { kind: 'rejected', detail: said };
    throw new ProsodyUnavailableError(`prosodyctl passwd failed (exit ${code}): ${said}`);
  }

  async close(): Promise<void> {}
}
