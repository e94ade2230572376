#!/usr/bin/env tsx
/**
 * `npm run accounts -- list | delete <user> [--yes] | reset-password <user>` (see --help). Logic:
 * edge/auth/admin/accounts-cli.ts. Without MEET_AGENTS it talks to the local stack of `npm start`, wired as
 * scripts/lib/local-stack.ts wires meet-auth: its agent on 127.0.0.1:MEET_AGENT_PORT, keys in $MEET_DATA_DIR/keys.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { processAccountsIo, runAccountsCli } from '../edge/auth/admin/accounts-cli.js';
import { DEFAULTS } from '../common/config.js';

async function localStackEnv(env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const dataDir = env.MEET_DATA_DIR || DEFAULTS.dataDir;
  if (env.MEET_AGENTS || !existsSync(join(dataDir, 'keys'))) return {};
  const { ensureLocalKeys } = await import('./lib/local-keys.js');
  const { localAuthEnv } = await import('./lib/local-stack.js');
  const agentUrl = `http://127.0.0.1:${env.MEET_AGENT_PORT || 4000}`;
  return localAuthEnv({ dataDir, keys: await ensureLocalKeys(dataDir), port: 0, agentUrl });
}

const env = { ...process.env, ...(await localStackEnv(process.env)) };
process.exitCode = await runAccountsCli(process.argv.slice(2), { ...processAccountsIo, env });
