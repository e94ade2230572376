import { describe, expect, it } from 'vitest';
import { AGENT_COMMAND } from '../../stacks/heap-flags.js';
import { synthAgent } from './edge-containers.js';
import { container } from './helpers.js';

describe('MeetAgent', () => {
  it("runs the agent as uid 1000 on Prosody's data volume, on the host network bound to the private address only", () => {
    const agent = container(synthAgent(), 'meet-agent');
    expect(agent).toMatchObject({
      user: '1000:1000',
      command: [...AGENT_COMMAND],
      network_mode: 'host',
      read_only: true,
    });
    // No published ports: on the host network the agent binds the private address itself (it refuses 0.0.0.0).
    expect(agent.ports).toBeUndefined();
    // Read-only: it only connects to the admin socket there (test/stacks/agent-socket-mount.int.test.ts).
    expect(agent.mounts).toEqual(
      expect.arrayContaining([
        { type: 'bind', source: '/srv/state/prosody', target: '/var/lib/prosody', read_only: true },
      ]),
    );
    expect(agent.env).toEqual(
      expect.arrayContaining([
        'MEET_DATA_DIR=/data',
        'MEET_AGENT_HOST=172.16.1.2',
        'MEET_AGENT_PORT=4000',
        'MEET_AGENT_SIGNING_SECRETS=whsec_a',
        'MEET_AGENT_SEALING_KEYS=priv',
        'MEET_PROSODY_SOCKET=/var/lib/prosody/data/prosody.sock',
        'MEET_XMPP_DOMAIN=meet.jitsi',
        'MEET_PROSODY_MODE=socket',
      ]),
    );
    expect(JSON.stringify(agent)).not.toContain('docker.sock');
  });

  it('defaults: port 4000, domain meet.jitsi, log level info', () => {
    expect(container(synthAgent(), 'meet-agent').env).toContain('MEET_AGENT_PORT=4000');
    expect(container(synthAgent({ port: 4100 }), 'meet-agent').env).toContain('MEET_AGENT_PORT=4100');
    expect(container(synthAgent({ xmppDomain: 'x.example' }), 'meet-agent').env).toContain(
      'MEET_XMPP_DOMAIN=x.example',
    );
    expect(container(synthAgent(), 'meet-agent').env).toContain('MEET_LOG_LEVEL=info');
  });

  it('validation errors', () => {
    expect(() => synthAgent({ port: 80 })).toThrow('agent port 80 must be between 1024 and 65535');
    expect(() => synthAgent({ xmppDomain: 'Bad Domain' })).toThrow('xmppDomain "Bad Domain" is not a domain name');
  });
});
