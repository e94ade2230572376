/**
 * The smallest valid meet-auth environment: one agent that nobody will call (no account is requested), with
 * freshly generated keys. For tests that need meet-auth's server but not the account path (TLS, ACME challenges).
 */
import { generateSealingKeyPair } from '../../edge/shared/sealing.js';
import { generateSigningSecret } from '../../edge/shared/signing.js';

export function idleAuthEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MEET_DATA_DIR: dataDir,
    MEET_AUTH_HOST: '127.0.0.1',
    MEET_AGENTS: JSON.stringify([
      { name: 'idle', url: 'http://127.0.0.1:9', sealingPublicKey: generateSealingKeyPair().publicKey },
    ]),
    MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ idle: generateSigningSecret() }),
    MEET_LOG_LEVEL: 'silent',
    ...extra,
  };
}
