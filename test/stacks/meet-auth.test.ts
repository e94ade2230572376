import { describe, expect, it } from 'vitest';
import { MEET_AUTH_COMMAND } from '../../stacks/heap-flags.js';
import { synthMeetAuth } from './edge-containers.js';
import { container } from './helpers.js';

describe('MeetAuth', () => {
  it('serves HTTP on 80 by default with its agents and their signing secrets as JSON built by Terraform', () => {
    const edge = container(synthMeetAuth(), 'meet-edge');
    expect(edge).toMatchObject({ command: [...MEET_AUTH_COMMAND], user: '1000:1000' });
    expect(edge.ports).toEqual([{ internal: 8080, external: 80, ip: '0.0.0.0' }, { internal: 8080, external: 80, ip: '::' }]);
    expect(edge.env).toEqual(expect.arrayContaining([
      'MEET_AUTH_HOST=0.0.0.0', 'MEET_AUTH_PORT=8080', 'MEET_PUBLIC_URL=https://auth.example.org', 'MEET_LOG_LEVEL=info',
      '${jsonencode([{"name" = "jitsi", "url" = "http://172.16.1.2:4000", "sealingPublicKey" = "pub"}])}'.replace(/^/, 'MEET_AGENTS='),
      'MEET_AGENT_SIGNING_SECRETS=${jsonencode({"jitsi" = "whsec_a whsec_b"})}',
    ]));
    expect(edge.env.some((entry) => entry.startsWith('MEET_TLS_'))).toBe(false);
    expect(edge.env.some((entry) => entry.startsWith('MEET_METRICS_TOKEN='))).toBe(false);
    // The /metrics bearer token reaches the container environment only (edge/auth/config.ts reads it).
    expect(container(synthMeetAuth({ metricsToken: '${var.metrics_token}' }), 'meet-edge').env).toContain('MEET_METRICS_TOKEN=${var.metrics_token}');
  });

  it('with TLS: certificate paths set, 443 published, and 80 kept for ACME challenges (plain-HTTP listener)', () => {
    const edge = container(synthMeetAuth({ tls: true }), 'meet-edge');
    expect(edge.env).toEqual(expect.arrayContaining(['MEET_TLS_CERT=/certs/cert.crt', 'MEET_TLS_KEY=/certs/cert.key', 'MEET_AUTH_HTTP_PORT=8081']));
    expect(edge.ports).toEqual([
      { internal: 8080, external: 443, ip: '0.0.0.0' }, { internal: 8080, external: 443, ip: '::' },
      { internal: 8081, external: 80, ip: '0.0.0.0' }, { internal: 8081, external: 80, ip: '::' },
    ]);
    expect(container(synthMeetAuth(), 'meet-edge').env.some((entry) => entry.startsWith('MEET_AUTH_HTTP_PORT='))).toBe(false);
  });

  it('passes the meeting site to meet-auth (MEET_MEETING_URL) when given, and refuses one that is not an origin', () => {
    expect(container(synthMeetAuth({ meetingUrl: 'https://meet.example.org' }), 'meet-edge').env).toContain('MEET_MEETING_URL=https://meet.example.org');
    expect(container(synthMeetAuth(), 'meet-edge').env.some((entry) => entry.startsWith('MEET_MEETING_URL='))).toBe(false);
    expect(() => synthMeetAuth({ meetingUrl: 'meet.example.org' })).toThrow('meetingUrl "meet.example.org" must be an http(s) origin');
  });

  it('validation errors', () => {
    expect(() => synthMeetAuth({ agents: [] })).toThrow('the edge needs at least one agent');
    expect(() => synthMeetAuth({ publicUrl: 'auth.example.org' })).toThrow('publicUrl "auth.example.org" must be an http(s) origin without a path');
    const agent = { name: 'a', url: 'http://x:1', sealingPublicKey: 'p', signingSecrets: 's' };
    expect(() => synthMeetAuth({ agents: [agent, agent] })).toThrow('agent name "a" is given twice');
  });
});
