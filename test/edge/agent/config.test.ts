import { describe, expect, it } from 'vitest';
import { ConfigError, isPrivateAddress, loadAgentConfig } from '../../../edge/agent/config.js';
import { generateSealingKeyPair } from '../../../edge/shared/sealing.js';
import { generateSigningSecret } from '../../../edge/shared/signing.js';

const secret = generateSigningSecret();
const sealing = generateSealingKeyPair();
const valid = {
  MEET_AGENT_SIGNING_SECRETS: secret,
  MEET_AGENT_SEALING_KEYS: sealing.privateKey,
  MEET_PROSODY_SOCKET: '/run/prosody.sock',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadAgentConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a configuration error');
}

describe('loadAgentConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadAgentConfig(valid)).toMatchObject({
      dataDir: '.meet',
      inboxPath: '.meet/agent.sqlite',
      host: '127.0.0.1',
      port: 4000,
      holdMs: 1500,
      xmppDomain: 'meet.jitsi',
      prosody: { mode: 'socket', socketPath: '/run/prosody.sock' },
      sealingKeys: [sealing.privateKey],
    });
  });

  it('takes two signing secrets during a rotation, and the prosodyctl mode', () => {
    const config = loadAgentConfig({
      ...valid,
      MEET_AGENT_SIGNING_SECRETS: `${secret} ${generateSigningSecret()}`,
      MEET_PROSODY_MODE: 'prosodyctl',
      MEET_PROSODYCTL_CONFIG: '/etc/prosody/prosody.cfg.lua',
    });
    expect(config.signingKeys).toHaveLength(2);
    expect(config.prosody).toEqual({
      mode: 'prosodyctl',
      configPath: '/etc/prosody/prosody.cfg.lua',
      prosodyctl: 'prosodyctl',
    });
  });

  it('lists every problem at once and never echoes a secret', () => {
    const list = problems({
      MEET_AGENT_SIGNING_SECRETS: 'whsec_dG9vc2hvcnQ=',
      MEET_AGENT_SEALING_KEYS: 'not-a-key-SECRETVALUE',
      MEET_AGENT_PORT: '99999',
    });
    expect(list.join('\n')).toMatch(/MEET_AGENT_SIGNING_SECRETS/);
    expect(list.join('\n')).toMatch(/MEET_AGENT_SEALING_KEYS/);
    expect(list.join('\n')).toMatch(/MEET_AGENT_PORT/);
    expect(list.join('\n')).toMatch(/MEET_PROSODY_SOCKET/);
    expect(list.join('\n')).not.toContain('SECRETVALUE');
    expect(list.join('\n')).not.toContain('dG9vc2hvcnQ');
  });

  it('listens only on a private address', () => {
    for (const host of ['0.0.0.0', '::', '8.8.8.8', 'localhost'])
      expect(problems({ ...valid, MEET_AGENT_HOST: host }).join()).toMatch(/MEET_AGENT_HOST/);
    for (const host of ['127.0.0.1', '10.1.2.3', '172.16.5.4', '192.168.1.1', '100.64.0.9', '::1', 'fd00::1'])
      expect(isPrivateAddress(host)).toBe(true);
  });

  it('the cron worker may run without the signing secrets', () => {
    const { MEET_AGENT_SIGNING_SECRETS: _omit, ...withoutSecrets } = valid;
    expect(problems(withoutSecrets).join()).toMatch(/MEET_AGENT_SIGNING_SECRETS/);
    expect(loadAgentConfig(withoutSecrets, { requireSigningSecrets: false }).signingKeys).toEqual([]);
  });
});
