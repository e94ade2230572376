/**
 * The agents an admin script talks to: meet-auth's own MEET_AGENTS and MEET_AGENT_SIGNING_SECRETS when set (inside
 * meet-edge, or through a tunnel), otherwise the local stack of `npm start` on this data directory (its agent on
 * 127.0.0.1:MEET_AGENT_PORT, keys read from $MEET_DATA_DIR/keys without creating any).
 */
import { loadAuthConfig, type AgentConfig } from '../../edge/auth/config.js';
import { readLocalKeys } from './local-keys.js';
import { localAuthEnv } from './local-stack.js';

export async function adminAgents(
  env: Record<string, string | undefined>,
  dataDir: string,
): Promise<readonly AgentConfig[]> {
  if (env.MEET_AGENTS) return loadAuthConfig(env).agents;
  const agentUrl = `http://127.0.0.1:${env.MEET_AGENT_PORT || 4000}`;
  return loadAuthConfig(localAuthEnv({ dataDir, keys: await readLocalKeys(dataDir), port: 0, agentUrl })).agents;
}
