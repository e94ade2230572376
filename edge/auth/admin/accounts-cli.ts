/**
 * `npm run accounts -- list | delete <user> [--yes] | reset-password <user>`: the accounts themselves, on every Jitsi
 * server, next to meet-auth's registry of names. It runs where meet-auth runs (its store, its MEET_AGENTS and
 * signing secrets) and asks each agent over the signed account protocol (agent-calls.ts).
 *
 * A new password is read from stdin only (never argv or the environment), checked with the rules of /create and
 * sealed to each agent. Progress goes to stderr, results to stdout.
 */
import { createInterface } from 'node:readline/promises';
import { checkPassword } from '../../shared/passwords.js';
import { terminalLines } from '../../shared/terminal.js';
import { normaliseUsername } from '../../shared/usernames.js';
import { ConfigError, loadAuthConfig, type AgentConfig } from '../config.js';
import {
  listRegistry,
  recordAccountDeleted,
  recordPasswordReset,
  registryEntry,
  type RegistryEntry,
} from '../store/registry.js';
import { deleteAccount, listAccounts, resetPassword, type AgentAnswer } from './agent-calls.js';
import { formatTime, openStore, parseCliArgs, printTable, processIo, UsageError, type CliIo } from './io.js';

const ACCOUNTS_USAGE = `usage: npm run accounts -- <command>

commands:
  list [--json]             every account: meet-auth's registry (request status, when, which ticketmaster invited
                            them) merged with the accounts each Jitsi server's Prosody holds. Names a server holds
                            that the registry does not (made by hand, service accounts) are marked, as are registry
                            names missing on a server.
  delete <user> [--yes]     delete the account on every server. The name is freed for a new redemption only once
                            every server confirmed. Asks first on a terminal; with stdin not a terminal, --yes is
                            required. Safe to run again after a partial failure.
  reset-password <user>     set a new password on every server that has the account (never creates one). The
                            password is read from stdin, one line (asked twice, hidden, on a terminal); same rules as
                            at /create: at least 10 characters, not containing the username.

exit status:
  0  done on every server
  1  a server failed or could not be reached (named in the output; nothing is freed; run the command again),
     or no server has the account
  2  usage or bad input (unknown command, invalid name or password, no --yes without a terminal): nothing changed

environment:
  MEET_DATA_DIR                where meet-auth keeps its database (default .meet)
  MEET_AGENTS, MEET_AGENT_SIGNING_SECRETS
                               the agents, as meet-auth is configured (set in the meet-edge container:
                               docker exec meet-edge node dist/scripts/accounts.mjs list). Without them, the local
                               stack of npm start: its agent on 127.0.0.1:MEET_AGENT_PORT (4000), keys in
                               $MEET_DATA_DIR/keys.`;

export interface AccountsIo extends CliIo {
  /** Whether stdin is a terminal (then the CLI may ask). */
  readonly interactive: boolean;
  /** All of stdin (not a terminal). */
  readAll(): Promise<string>;
  /** Asks on the terminal; `hidden` does not echo what is typed. */
  ask(question: string, hidden: boolean): Promise<string>;
}

export const processAccountsIo: AccountsIo = {
  ...processIo,
  interactive: process.stdin.isTTY === true,
  async readAll() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  ask: (question, hidden) => (hidden ? askHidden(terminalLines(question)) : askVisible(terminalLines(question))),
};

async function askVisible(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/** Reads one line in raw mode, echoing nothing. Ctrl-C cancels. */
function askHidden(question: string): Promise<string> {
  process.stderr.write(question);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (char === '\u0003') {
          finish();
          reject(new InputError('cancelled'));
          return;
        }
        value = char === '\u007f' || char === '\b' ? [...value].slice(0, -1).join('') : value + char;
      }
    };
    stdin.on('data', onData);
  });
}

/** A server failed or could not be reached: exit 1, after the per-server report. */
class ServerFailure extends Error {}

/** Bad input (a name, a password, no confirmation): exit 2 with the reason alone, not the whole usage. */
class InputError extends Error {}

function agentsOf(io: CliIo): readonly AgentConfig[] {
  if (!io.env.MEET_AGENTS) {
    throw new UsageError(
      'no agents configured: set MEET_AGENTS and MEET_AGENT_SIGNING_SECRETS as meet-auth has them, or start the local stack (npm start) first',
    );
  }
  try {
    return loadAuthConfig(io.env).agents;
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

function usernameOf(raw: string | undefined, command: string): string {
  if (raw === undefined) throw new UsageError(`${command} needs a username`);
  const result = normaliseUsername(raw);
  if (!result.ok) throw new InputError(`"${raw}" is not a valid username: ${result.error}`);
  return result.username;
}

/** Asks every agent at once; reports each on stderr as it answers. */
async function everyAgent<T>(
  io: CliIo,
  agents: readonly AgentConfig[],
  ask: (agent: AgentConfig) => Promise<AgentAnswer<T>>,
  describe: (value: T) => string,
): Promise<Map<string, AgentAnswer<T>>> {
  const answers = await Promise.all(
    agents.map(async (agent) => {
      const answer = await ask(agent);
      io.err(`${agent.name}: ${answer.ok ? describe(answer.value) : `FAILED: ${answer.reason}`}`);
      return [agent.name, answer] as const;
    }),
  );
  return new Map(answers);
}

const summary = <T>(answers: Map<string, AgentAnswer<T>>) =>
  [...answers].map(([name, answer]) => `${name}: ${answer.ok ? String(answer.value) : 'failed'}`).join(', ');

/** The servers whose call failed. */
const failedOf = <T>(answers: Map<string, AgentAnswer<T>>) =>
  [...answers].filter(([, answer]) => !answer.ok).map(([name]) => name);

/** The result on stdout: one line per server, what it did or why it failed. */
function printAnswers<T>(io: CliIo, answers: Map<string, AgentAnswer<T>>): void {
  for (const [name, answer] of answers)
    io.out(`${name}\t${answer.ok ? String(answer.value) : `failed: ${answer.reason}`}`);
}

interface ListedAccount {
  readonly username: string;
  readonly registry: Omit<RegistryEntry, 'username'> | null;
  /** Per server: whether its Prosody has the account; null when the server could not be asked. */
  readonly servers: Record<string, boolean | null>;
}

async function list(io: AccountsIo, json: boolean): Promise<void> {
  const agents = agentsOf(io);
  const db = openStore(io);
  let registry: RegistryEntry[];
  try {
    registry = listRegistry(db);
  } finally {
    db.close();
  }
  io.err(`Asking ${agents.length} server(s): ${agents.map((agent) => agent.name).join(', ')}`);
  const answers = await everyAgent(io, agents, listAccounts, (names) => `${names.length} account(s)`);
  const onServer = new Map([...answers].map(([name, answer]) => [name, answer.ok ? new Set(answer.value) : null]));
  const byName = new Map(registry.map(({ username, ...entry }) => [username, entry]));
  const names = [...new Set([...byName.keys(), ...[...onServer.values()].flatMap((set) => [...(set ?? [])])])].sort();
  const accounts: ListedAccount[] = names.map((username) => ({
    username,
    registry: byName.get(username) ?? null,
    servers: Object.fromEntries([...onServer].map(([server, set]) => [server, set ? set.has(username) : null])),
  }));
  const failed = failedOf(answers);

  if (json) {
    const servers = [...answers].map(([name, answer]) => ({
      name,
      ...(answer.ok ? { reachable: true } : { reachable: false, error: answer.reason }),
    }));
    io.out(JSON.stringify({ servers, accounts }, null, 2));
  } else {
    const serverNames = agents.map((agent) => agent.name);
    printTable(
      io,
      ['USERNAME', 'REGISTRY', 'REQUESTED', 'TICKETMASTER', ...serverNames.map((name) => name.toUpperCase()), 'NOTE'],
      accounts.map((account) => [
        account.username,
        account.registry?.status ?? '-',
        formatTime(account.registry?.requestedAt ?? null),
        account.registry?.ticketmaster ?? '-',
        ...serverNames.map(
          (server) =>
            ({ true: 'yes', false: 'MISSING', null: '?' })[
              String(account.servers[server]) as 'true' | 'false' | 'null'
            ],
        ),
        noteOf(account),
      ]),
      'No accounts, in the registry or on any server.',
    );
  }
  if (failed.length > 0) throw new ServerFailure(`could not list the accounts of ${failed.join(', ')} (shown as "?")`);
}

function noteOf(account: ListedAccount): string {
  const missing = Object.entries(account.servers)
    .filter(([, has]) => has === false)
    .map(([server]) => server);
  if (!account.registry) return 'not in registry (made by hand?)';
  if (account.registry.pendingOn.length > 0) return `being created on ${account.registry.pendingOn.join(', ')}`;
  if (missing.length > 0) return `missing on ${missing.join(', ')}`;
  return '';
}

async function remove(io: AccountsIo, rawName: string | undefined, yes: boolean): Promise<void> {
  const username = usernameOf(rawName, 'delete');
  const agents = agentsOf(io);
  const db = openStore(io);
  try {
    const entry = registryEntry(db, username);
    if (entry && entry.pendingOn.length > 0) {
      throw new ServerFailure(
        `"${username}" is still being created on ${entry.pendingOn.join(', ')} (request ${entry.requestId}); deleting now could be undone by ` +
          'that delivery. Try again once `npm run tickets -- jobs` shows it settled.',
      );
    }
    const where = agents.map((agent) => agent.name).join(', ');
    if (!yes) {
      if (!io.interactive)
        throw new InputError(
          `refusing to delete "${username}" without confirmation: stdin is not a terminal; add --yes`,
        );
      const registryNote = entry
        ? `registered ${formatTime(entry.requestedAt)}, invited by ${entry.ticketmaster}`
        : 'not in the registry';
      const answer = await io.ask(
        `Delete the account "${username}" (${registryNote}) on ${where}? Type "yes" to confirm: `,
        false,
      );
      if (answer.trim().toLowerCase() !== 'yes') throw new InputError('not confirmed; nothing deleted');
    }
    io.err(`Deleting "${username}" on ${where}`);
    const answers = await everyAgent(io, agents, (agent) => deleteAccount(agent, username), String);
    const failed = failedOf(answers);
    const deletedSomewhere = [...answers.values()].some((answer) => answer.ok && answer.value === 'deleted');
    const freed = recordAccountDeleted(db, username, summary(answers), failed.length === 0);
    printAnswers(io, answers);
    if (failed.length > 0) {
      throw new ServerFailure(
        `"${username}" may still exist on ${failed.join(', ')}; the name stays reserved. Run the same command again once ${failed.length > 1 ? 'they are' : 'it is'} reachable.`,
      );
    }
    if (freed) io.out(`Deleted "${username}" on every server; the name is free to be redeemed again.`);
    else if (deletedSomewhere)
      io.out(`Deleted "${username}" on every server that had it (it was not in the registry).`);
    else throw new ServerFailure(`no server has an account "${username}", and the registry does not hold the name`);
  } finally {
    db.close();
  }
}

/** One line from stdin (asked twice, hidden, on a terminal); never from argv or the environment. */
async function readNewPassword(io: AccountsIo, username: string): Promise<string> {
  if (io.interactive) {
    const first = await io.ask(`New password for "${username}": `, true);
    const second = await io.ask('The same again: ', true);
    if (first !== second) throw new InputError('the two passwords differ; nothing changed');
    return first;
  }
  const lines = (await io.readAll()).replace(/\r?\n$/, '').split(/\r?\n/);
  if (lines.length > 1)
    throw new InputError('stdin must hold the new password on one line (it held more); nothing changed');
  return lines[0] ?? '';
}

async function reset(io: AccountsIo, rawName: string | undefined): Promise<void> {
  const username = usernameOf(rawName, 'reset-password');
  const agents = agentsOf(io);
  const password = await readNewPassword(io, username);
  const policy = checkPassword(password, username);
  if (!policy.ok) throw new InputError(`the new password is refused: ${policy.error} Nothing changed.`);
  const db = openStore(io);
  try {
    io.err(`Setting a new password for "${username}" on ${agents.map((agent) => agent.name).join(', ')}`);
    const answers = await everyAgent(
      io,
      agents,
      (agent) => resetPassword(agent, username, password),
      (status) => (status === 'changed' ? 'changed' : 'no such account here (not created)'),
    );
    recordPasswordReset(db, username, summary(answers));
    printAnswers(io, answers);
    const failed = failedOf(answers);
    if (failed.length > 0)
      throw new ServerFailure(`the password was not changed on ${failed.join(', ')}; run the same command again`);
    if (![...answers.values()].some((answer) => answer.ok && answer.value === 'changed')) {
      throw new ServerFailure(`no server has an account "${username}"; nothing was changed or created`);
    }
  } finally {
    db.close();
  }
}

export async function runAccountsCli(args: readonly string[], io: AccountsIo): Promise<number> {
  try {
    const { values: argv, positionals } = parseCliArgs(args, {
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' },
    });
    if (argv.help) {
      io.out(ACCOUNTS_USAGE);
      return 0;
    }
    const [command, name, ...extra] = positionals;
    if (extra.length > 0 || (command === 'list' && name !== undefined))
      throw new UsageError(`unexpected argument "${extra[0] ?? name}"`);
    switch (command) {
      case 'list':
        await list(io, argv.json ?? false);
        return 0;
      case 'delete':
        await remove(io, name, argv.yes ?? false);
        return 0;
      case 'reset-password':
        await reset(io, name);
        return 0;
      case undefined:
        throw new UsageError('a command is required');
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`accounts: ${error.message}\n\n${ACCOUNTS_USAGE}`);
      return 2;
    }
    if (error instanceof InputError) {
      io.err(`accounts: ${error.message}`);
      return 2;
    }
    io.err(`accounts: ${(error as Error).message}`);
    return 1;
  }
}
