#!/usr/bin/env tsx
/**
 * `npm start`: the local stack (scripts/lib/local-stack.ts) in the foreground: a throwaway Prosody, one agent
 * and meet-auth on 127.0.0.1, state under MEET_DATA_DIR. Ctrl-C (SIGINT) or SIGTERM stops everything cleanly.
 */
import { ensureProsodyInstalled, ProsodyNotInstalledError } from './lib/install-prosody.js';
import { PortBusyError, startLocalStack } from './lib/local-stack.js';
import { DEFAULTS, isBlank, LOG_LEVELS, type LogLevel } from '../common/config.js';
import { EXIT, parseCliArgs, UsageError } from '../edge/shared/cli.js';
import { terminalLines } from '../edge/shared/terminal.js';

const HELP = `usage: npm start

Runs the local stack on 127.0.0.1 until Ctrl-C: a throwaway Prosody (XMPP domain meet.jitsi), one agent and
meet-auth. Keys are generated on first start under $MEET_DATA_DIR/keys/ (mode 0600).

Environment:
  MEET_DATA_DIR      state directory (default .meet)
  MEET_AUTH_PORT     meet-auth port (default 8080)
  MEET_AGENT_PORT    agent port (default 4000)
  MEET_PROSODY_PORT  Prosody client port (default 5222)
  MEET_LOG_LEVEL     info (default), debug, warn, error, silent
  MEET_PROSODY_AUTO_INSTALL  0 = never install Prosody, only say how (default: install it when root on Debian)

Then: npm run ticketmaster -- add <your name>   (prints a ticketmaster token)`;

/** Exits 1 (failed) or, for bad arguments or environment, 2 (see edge/shared/cli.ts). */
function fail(message: string, status: number = EXIT.failed): never {
  console.error(terminalLines(`npm start: ${message}`));
  process.exit(status);
}

let args;
try {
  args = parseCliArgs(process.argv.slice(2), { help: { type: 'boolean' } }, { unknown: 'unexpected argument' });
} catch (error) {
  if (error instanceof UsageError) fail(`${error.message}\n\n${HELP}`, EXIT.usage);
  throw error;
}
if (args.values.help) {
  console.log(HELP);
  process.exit(0);
}
if (args.positionals.length > 0) fail(`unexpected argument ${args.positionals[0]}\n\n${HELP}`, EXIT.usage);

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (isBlank(raw)) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    fail(`${name} must be a port number (1-65535)`, EXIT.usage);
  return value;
}
const logLevel = (process.env.MEET_LOG_LEVEL || 'info') as LogLevel;
if (!LOG_LEVELS.includes(logLevel)) fail(`MEET_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`, EXIT.usage);
const options = {
  dataDir: process.env.MEET_DATA_DIR || DEFAULTS.dataDir,
  authPort: port('MEET_AUTH_PORT', 8080),
  agentPort: port('MEET_AGENT_PORT', 4000),
  prosodyPort: port('MEET_PROSODY_PORT', 5222),
  logLevel,
};

let stack;
try {
  await ensureProsodyInstalled((line) => console.error(terminalLines(line)));
  stack = await startLocalStack(options);
} catch (error) {
  if (error instanceof PortBusyError || error instanceof ProsodyNotInstalledError) fail(error.message);
  fail(`could not start: ${(error as Error).message}`);
}

const running = stack;
console.log(`
Wikimedia Meet local stack is running (state in ${running.dataDir}${running.keysCreated ? ', keys generated' : ''}):
  meet-auth  ${running.authUrl}/create  and  ${running.authUrl}/generate_token
  agent      ${running.agentUrl}  (private; signed jobs only)
  prosody    xmpp://127.0.0.1:${running.prosody.c2sPort}  domain ${running.xmppDomain}, auth domain ${running.authDomain} (focus, jvb)
Get a ticketmaster token: npm run ticketmaster -- add <your name>
Press Ctrl-C to stop.
ready`);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.error(`${signal}: stopping meet-auth, the agent and Prosody…`);
  setTimeout(() => {
    console.error('shutdown took too long; exiting');
    process.exit(1);
  }, 20_000).unref();
  running.close().then(
    () => {
      console.error('stopped');
      process.exit(0);
    },
    (error: unknown) => {
      console.error('shutdown failed:', error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
