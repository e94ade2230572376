import { describe, expect, it } from 'vitest';
import { loadCertsConfig } from '../../scripts/lib/certs/config.js';
import { AGENT_COMMAND, certificateEnv, EDGE_COMMAND, edgeImage, MeetAgent, MeetEdge, type EdgeImageSource, type MeetAgentProps, type MeetEdgeProps } from '../../stacks/provisioning.js';
import { container, dockerStack, resourcesOf, synthJson } from './helpers.js';

const HASH = 'ab'.repeat(32);
const built: EdgeImageSource = { kind: 'build', context: '../../..', sourceHash: HASH };

function synthAgent(props: Partial<MeetAgentProps> = {}) {
  const { stack, provider } = dockerStack();
  const image = edgeImage(stack, 'image', provider, built);
  new MeetAgent(stack, 'agent', { provider, image, privateIp: '172.16.1.2', signingSecrets: 'whsec_a', sealingPrivateKeys: 'priv', certificate: { domains: ['meet.example.org'] }, ...props });
  return synthJson(stack);
}

function synthEdge(props: Partial<MeetEdgeProps> = {}) {
  const { stack, provider } = dockerStack();
  const image = edgeImage(stack, 'image', provider, built);
  new MeetEdge(stack, 'edge', {
    provider, image, publicUrl: 'https://auth.example.org',
    agents: [{ name: 'jitsi', url: 'http://172.16.1.2:4000', sealingPublicKey: 'pub', signingSecrets: 'whsec_a whsec_b' }],
    certificate: { domains: ['auth.example.org'] },
    ...props,
  });
  return synthJson(stack);
}

describe('edge image', () => {
  it('is built from the repository with edge/Dockerfile and tagged by the source hash', () => {
    const [image] = resourcesOf(synthAgent(), 'docker_image');
    expect(image).toMatchObject({ name: `wikimedia-meet/edge:${HASH.slice(0, 16)}`, build: { context: '../../..', dockerfile: 'edge/Dockerfile', label: { 'org.wikimedia.meet.source': HASH } } });
  });

  it('or pulled from a registry by digest', () => {
    const { stack, provider } = dockerStack();
    const reference = `ghcr.io/wikimedia/meet-edge@sha256:${'c'.repeat(64)}`;
    expect(edgeImage(stack, 'image', provider, { kind: 'registry', reference }).name).toBe(reference);
    expect(() => edgeImage(stack, 'image2', provider, { kind: 'registry', reference: 'ghcr.io/x:1' })).toThrow('edge image "ghcr.io/x:1" must be pinned by digest');
    expect(() => edgeImage(stack, 'image3', provider, { ...built, sourceHash: 'xyz' })).toThrow('edge image source hash "xyz" is not a hex digest');
  });
});

describe('MeetAgent', () => {
  it('runs the agent as uid 1000 on Prosody\'s data volume, on the host network bound to the private address only', () => {
    const agent = container(synthAgent(), 'meet-agent');
    expect(agent).toMatchObject({ user: '1000:1000', command: [...AGENT_COMMAND], network_mode: 'host', read_only: true });
    // No published ports: on the host network the agent binds the private address itself (it refuses 0.0.0.0).
    expect(agent.ports).toBeUndefined();
    // Read-only: it only connects to the admin socket there (test/stacks/agent-socket-mount.test.ts).
    expect(agent.mounts).toEqual(expect.arrayContaining([{ type: 'bind', source: '/srv/state/prosody', target: '/var/lib/prosody', read_only: true }]));
    expect(agent.env).toEqual(expect.arrayContaining([
      'MEET_DATA_DIR=/data', 'MEET_AGENT_HOST=172.16.1.2', 'MEET_AGENT_PORT=4000', 'MEET_AGENT_SIGNING_SECRETS=whsec_a',
      'MEET_AGENT_SEALING_KEYS=priv', 'MEET_PROSODY_SOCKET=/var/lib/prosody/data/prosody.sock', 'MEET_XMPP_DOMAIN=meet.jitsi', 'MEET_PROSODY_MODE=socket',
    ]));
    expect(JSON.stringify(agent)).not.toContain('docker.sock');
  });

  it('defaults: port 4000, domain meet.jitsi, log level info', () => {
    expect(container(synthAgent(), 'meet-agent').env).toContain('MEET_AGENT_PORT=4000');
    expect(container(synthAgent({ port: 4100 }), 'meet-agent').env).toContain('MEET_AGENT_PORT=4100');
    expect(container(synthAgent({ xmppDomain: 'x.example' }), 'meet-agent').env).toContain('MEET_XMPP_DOMAIN=x.example');
    expect(container(synthAgent(), 'meet-agent').env).toContain('MEET_LOG_LEVEL=info');
  });

  it('validation errors', () => {
    expect(() => synthAgent({ port: 80 })).toThrow('agent port 80 must be between 1024 and 65535');
    expect(() => synthAgent({ xmppDomain: 'Bad Domain' })).toThrow('xmppDomain "Bad Domain" is not a domain name');
  });
});

describe('certificate settings (read by `certs renew`, which the timer runs in these containers)', () => {
  const env = (entries: readonly string[]) => Object.fromEntries(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
  type Mount = { type: string; source: string; target: string; read_only: boolean };
  const mounts = (c: Record<string, unknown>) => Object.fromEntries((c.mounts as Mount[]).map((m) => [m.target, m]));

  it('both containers get their names and the certificate and challenge directories as mounted, writable', () => {
    const agent = container(synthAgent(), 'meet-agent');
    const edge = container(synthEdge(), 'meet-edge');
    for (const [c, domain] of [[agent, 'meet.example.org'], [edge, 'auth.example.org']] as const) {
      const vars = env(c.env);
      expect(vars).toMatchObject({ MEET_CERT_DOMAINS: domain, MEET_CERTS_DIR: '/certs', MEET_ACME_CHALLENGE_DIR: '/acme-challenge', MEET_DATA_DIR: '/data' });
      expect(mounts(c)['/certs']).toEqual({ type: 'bind', source: '/srv/state/certs', target: '/certs', read_only: false });
      expect(mounts(c)['/acme-challenge']).toEqual({ type: 'bind', source: '/srv/meet/acme-challenge', target: '/acme-challenge', read_only: false });
      // The account key under $MEET_DATA_DIR/acme stays on the host's data directory, never in the web server's mounts.
      expect(mounts(c)['/data']!.source).toMatch(/^\/srv\/state\/(agent|edge)$/);
      // Defaults: Let's Encrypt production, no contact, 30 days; nothing secret.
      expect(Object.keys(vars).filter((name) => /ACME_DIRECTORY|ACME_EMAIL|RENEW_DAYS/.test(name))).toEqual([]);
      // What the containers get is a valid configuration for the CLI.
      expect(loadCertsConfig(vars)).toMatchObject({ domains: [domain], certsDir: '/certs', challengeDir: '/acme-challenge', accountDir: '/data/acme', renewDays: 30 });
    }
  });

  it('directory, contact and window when given; validation errors', () => {
    const agent = container(synthAgent({ certificate: { domains: ['meet.example.org', 'www.meet.example.org'], acmeDirectory: 'staging', acmeEmail: 'ops@example.org', renewDays: 20 } }), 'meet-agent');
    expect(env(agent.env)).toMatchObject({ MEET_CERT_DOMAINS: 'meet.example.org,www.meet.example.org', MEET_ACME_DIRECTORY: 'staging', MEET_ACME_EMAIL: 'ops@example.org', MEET_CERT_RENEW_DAYS: '20' });
    expect(() => certificateEnv({ domains: [] })).toThrow('the certificate needs at least one domain');
    expect(() => certificateEnv({ domains: ['Meet.Example.org'] })).toThrow('certificate domain "Meet.Example.org" is not a lower-case DNS name');
    expect(() => certificateEnv({ domains: ['meet.example.org'], renewDays: 0 })).toThrow('renewDays 0 must be a whole number from 1 to 365');
  });
});

describe('MeetEdge', () => {
  it('serves HTTP on 80 by default with its agents and their signing secrets as JSON built by Terraform', () => {
    const edge = container(synthEdge(), 'meet-edge');
    expect(edge).toMatchObject({ command: [...EDGE_COMMAND], user: '1000:1000' });
    expect(edge.ports).toEqual([{ internal: 8080, external: 80, ip: '0.0.0.0' }, { internal: 8080, external: 80, ip: '::' }]);
    expect(edge.env).toEqual(expect.arrayContaining([
      'MEET_AUTH_HOST=0.0.0.0', 'MEET_AUTH_PORT=8080', 'MEET_PUBLIC_URL=https://auth.example.org', 'MEET_LOG_LEVEL=info',
      '${jsonencode([{"name" = "jitsi", "url" = "http://172.16.1.2:4000", "sealingPublicKey" = "pub"}])}'.replace(/^/, 'MEET_AGENTS='),
      'MEET_AGENT_SIGNING_SECRETS=${jsonencode({"jitsi" = "whsec_a whsec_b"})}',
    ]));
    expect(edge.env.some((entry) => entry.startsWith('MEET_TLS_'))).toBe(false);
    expect(edge.env.some((entry) => entry.startsWith('MEET_METRICS_TOKEN='))).toBe(false);
    // The /metrics bearer token reaches the container environment only (edge/auth/config.ts reads it).
    expect(container(synthEdge({ metricsToken: '${var.metrics_token}' }), 'meet-edge').env).toContain('MEET_METRICS_TOKEN=${var.metrics_token}');
  });

  it('with TLS: certificate paths set, 443 published, and 80 kept for ACME challenges (plain-HTTP listener)', () => {
    const edge = container(synthEdge({ tls: true }), 'meet-edge');
    expect(edge.env).toEqual(expect.arrayContaining(['MEET_TLS_CERT=/certs/cert.crt', 'MEET_TLS_KEY=/certs/cert.key', 'MEET_AUTH_HTTP_PORT=8081']));
    expect(edge.ports).toEqual([
      { internal: 8080, external: 443, ip: '0.0.0.0' }, { internal: 8080, external: 443, ip: '::' },
      { internal: 8081, external: 80, ip: '0.0.0.0' }, { internal: 8081, external: 80, ip: '::' },
    ]);
    expect(container(synthEdge(), 'meet-edge').env.some((entry) => entry.startsWith('MEET_AUTH_HTTP_PORT='))).toBe(false);
  });

  it('passes the meeting site to meet-auth (MEET_MEETING_URL) when given, and refuses one that is not an origin', () => {
    expect(container(synthEdge({ meetingUrl: 'https://meet.example.org' }), 'meet-edge').env).toContain('MEET_MEETING_URL=https://meet.example.org');
    expect(container(synthEdge(), 'meet-edge').env.some((entry) => entry.startsWith('MEET_MEETING_URL='))).toBe(false);
    expect(() => synthEdge({ meetingUrl: 'meet.example.org' })).toThrow('meetingUrl "meet.example.org" must be an http(s) origin');
  });

  it('validation errors', () => {
    expect(() => synthEdge({ agents: [] })).toThrow('the edge needs at least one agent');
    expect(() => synthEdge({ publicUrl: 'auth.example.org' })).toThrow('publicUrl "auth.example.org" must be an http(s) origin without a path');
    const agent = { name: 'a', url: 'http://x:1', sealingPublicKey: 'p', signingSecrets: 's' };
    expect(() => synthEdge({ agents: [agent, agent] })).toThrow('agent name "a" is given twice');
  });
});
