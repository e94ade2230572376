import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_DISPATCH, loadAuthConfig } from '../../../edge/auth/config.js';
import { generateSealingKeyPair } from '../../../edge/shared/sealing.js';
import { generateSigningSecret } from '../../../edge/shared/signing.js';

const { publicKey } = generateSealingKeyPair();
const secret = generateSigningSecret();
const minimal = {
  MEET_AGENTS: JSON.stringify([{ name: 'jitsi', url: 'http://10.0.0.5:4000/', sealingPublicKey: publicKey }]),
  MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ jitsi: secret }),
};

function problems(env: Record<string, string>): string[] {
  try {
    loadAuthConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadAuthConfig', () => {
  it('admits a burst of 1000 people from as many addresses at once, and 200 behind one NAT (connection limits)', () => {
    const { connections } = loadAuthConfig(minimal);
    // npm run bench -- edge: 1000 redemptions at once must all be answered (docs/decisions/connection-limits.md).
    expect(connections.maxConnections).toBeGreaterThanOrEqual(1000);
    // npm run bench -- accounts: a room of 200 behind one address comes in without the per-address limit.
    expect(connections.pressureConnections).toBeGreaterThanOrEqual(200);
    expect(connections.maxConnectionsPerAddress).toBeLessThan(connections.pressureConnections);
  });

  it('applies the documented defaults', () => {
    const config = loadAuthConfig(minimal);
    expect(config).toMatchObject({
      dataDir: '.meet',
      host: '127.0.0.1',
      port: 8080,
      publicUrl: 'http://127.0.0.1:8080',
      trustedProxies: [],
      tls: null,
      logLevel: 'info',
      holdMs: 2000,
      xmppDomain: 'meet.jitsi',
      dispatch: DEFAULT_DISPATCH,
    });
    expect(config.agents).toHaveLength(1);
    expect(config.agents[0]).toMatchObject({ name: 'jitsi', url: 'http://10.0.0.5:4000', sealingPublicKey: publicKey });
    expect(config.agents[0]!.signingKeys).toHaveLength(1);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every variable', () => {
    const config = loadAuthConfig({
      ...minimal,
      MEET_DATA_DIR: '/var/lib/meet',
      MEET_AUTH_HOST: '0.0.0.0',
      MEET_AUTH_PORT: '443',
      MEET_PUBLIC_URL: 'https://meet-auth.example.org/some/path',
      MEET_TRUSTED_PROXIES: '10.0.0.1, ::1',
      MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ jitsi: `${secret} ${generateSigningSecret()}` }),
      MEET_TLS_CERT: '/etc/cert.pem',
      MEET_TLS_KEY: '/etc/key.pem',
      MEET_LOG_LEVEL: 'warn',
      MEET_HOLD_MS: '0',
    });
    expect(config).toMatchObject({
      dataDir: '/var/lib/meet',
      host: '0.0.0.0',
      port: 443,
      publicUrl: 'https://meet-auth.example.org',
      trustedProxies: ['10.0.0.1', '::1'],
      tls: { certFile: '/etc/cert.pem', keyFile: '/etc/key.pem' },
      logLevel: 'warn',
      holdMs: 0,
    });
    expect(config.agents[0]!.signingKeys).toHaveLength(2);
  });

  it('lists every problem at once', () => {
    const found = problems({
      MEET_AUTH_PORT: '99999',
      MEET_PUBLIC_URL: 'ftp://x',
      MEET_TRUSTED_PROXIES: '10.0.0.1,proxy.local',
      MEET_LOG_LEVEL: 'loud',
      MEET_HOLD_MS: '-5',
      MEET_TLS_CERT: '/etc/cert.pem',
    });
    expect(found.length).toBeGreaterThanOrEqual(6);
    for (const name of [
      'MEET_AUTH_PORT',
      'MEET_PUBLIC_URL',
      'MEET_TRUSTED_PROXIES',
      'MEET_AGENTS',
      'MEET_LOG_LEVEL',
      'MEET_HOLD_MS',
    ]) {
      expect(
        found.some((problem) => problem.startsWith(name)),
        name,
      ).toBe(true);
    }
  });

  it('checks agents and their secrets without ever echoing a secret', () => {
    const leaked = 'whsec_c2hvcnQ=';
    const found = problems({
      MEET_AGENTS: JSON.stringify([
        { name: 'a', url: 'http://a:4000', sealingPublicKey: publicKey },
        { name: 'b', url: 'not a url', sealingPublicKey: 'short' },
        { name: 'a', url: 'http://a2:4000', sealingPublicKey: publicKey },
      ]),
      MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ a: leaked }),
    });
    const text = found.join('\n');
    expect(text).toContain('agent url');
    expect(text).toContain('sealingPublicKey');
    const second = problems({
      MEET_AGENTS: minimal.MEET_AGENTS,
      MEET_AGENT_SIGNING_SECRETS: JSON.stringify({ jitsi: leaked }),
    }).join('\n');
    expect(second).toContain('at least 32 bytes');
    expect(second).not.toContain(leaked);
    expect(second).not.toContain('c2hvcnQ');
    const missing = problems({ MEET_AGENTS: minimal.MEET_AGENTS, MEET_AGENT_SIGNING_SECRETS: '{}' }).join('\n');
    expect(missing).toContain('no signing secret for agent "jitsi"');
    const duplicate = problems({
      MEET_AGENTS: JSON.stringify([
        { name: 'jitsi', url: 'http://a:4000', sealingPublicKey: publicKey },
        { name: 'jitsi', url: 'http://b:4000', sealingPublicKey: publicKey },
      ]),
      MEET_AGENT_SIGNING_SECRETS: minimal.MEET_AGENT_SIGNING_SECRETS,
    }).join('\n');
    expect(duplicate).toContain('unique');
  });

  it('reports malformed JSON without quoting it', () => {
    const found = problems({
      MEET_AGENTS: minimal.MEET_AGENTS,
      MEET_AGENT_SIGNING_SECRETS: `{"jitsi": ${secret}}`,
    }).join('\n');
    expect(found).toContain('MEET_AGENT_SIGNING_SECRETS: is not valid JSON');
    expect(found).not.toContain(secret.slice(6, 20));
  });

  it('requires TLS cert and key together', () => {
    expect(problems({ ...minimal, MEET_TLS_KEY: '/k.pem' }).join('\n')).toContain(
      'MEET_TLS_CERT and MEET_TLS_KEY must be set together',
    );
  });

  it("MEET_MEETING_URL: the meeting site, by default the XMPP domain's; refused when not an http(s) URL or with credentials", () => {
    expect(loadAuthConfig(minimal).meetingUrl).toBe('https://meet.jitsi/');
    expect(loadAuthConfig({ ...minimal, MEET_XMPP_DOMAIN: 'video.example.org' }).meetingUrl).toBe(
      'https://video.example.org/',
    );
    expect(loadAuthConfig({ ...minimal, MEET_MEETING_URL: 'https://meet.wmcloud.org' }).meetingUrl).toBe(
      'https://meet.wmcloud.org/',
    );
    expect(problems({ ...minimal, MEET_MEETING_URL: 'meet.wmcloud.org' }).join('\n')).toContain(
      'MEET_MEETING_URL: must be the http(s) URL of the meeting site',
    );
    expect(problems({ ...minimal, MEET_MEETING_URL: 'javascript:alert(1)' }).join('\n')).toContain('MEET_MEETING_URL');
    expect(problems({ ...minimal, MEET_MEETING_URL: 'https://user:pw@meet.example.org/' }).join('\n')).toContain(
      'MEET_MEETING_URL: must not hold a user name or password',
    );
  });

  it('treats empty variables as unset', () => {
    expect(loadAuthConfig({ ...minimal, MEET_AUTH_PORT: '', MEET_LOG_LEVEL: '' })).toMatchObject({
      port: 8080,
      logLevel: 'info',
    });
  });
});
