import { describe, expect, it } from 'vitest';
import { loadCertsConfig } from '../../scripts/lib/certs/config.js';
import { certificateEnv } from '../../stacks/certificate-env.js';
import { synthAgent, synthMeetAuth } from './edge-containers.js';
import { container } from './helpers.js';

describe('certificate settings (read by `certs renew`, which the timer runs in these containers)', () => {
  const env = (entries: readonly string[]) =>
    Object.fromEntries(
      entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
    );
  type Mount = { type: string; source: string; target: string; read_only: boolean };
  const mounts = (c: Record<string, unknown>) => Object.fromEntries((c.mounts as Mount[]).map((m) => [m.target, m]));

  it('both containers get their names and the certificate and challenge directories as mounted, writable', () => {
    const agent = container(synthAgent(), 'meet-agent');
    const edge = container(synthMeetAuth(), 'meet-edge');
    for (const [c, domain] of [
      [agent, 'meet.example.org'],
      [edge, 'auth.example.org'],
    ] as const) {
      const vars = env(c.env);
      expect(vars).toMatchObject({
        MEET_CERT_DOMAINS: domain,
        MEET_CERTS_DIR: '/certs',
        MEET_ACME_CHALLENGE_DIR: '/acme-challenge',
        MEET_DATA_DIR: '/data',
      });
      expect(mounts(c)['/certs']).toEqual({
        type: 'bind',
        source: '/srv/state/certs',
        target: '/certs',
        read_only: false,
      });
      expect(mounts(c)['/acme-challenge']).toEqual({
        type: 'bind',
        source: '/srv/meet/acme-challenge',
        target: '/acme-challenge',
        read_only: false,
      });
      // The account key under $MEET_DATA_DIR/acme stays on the host's data directory, never in the web server's mounts.
      expect(mounts(c)['/data']!.source).toMatch(/^\/srv\/state\/(agent|edge)$/);
      // Defaults: Let's Encrypt production, no contact, 30 days; nothing secret.
      expect(Object.keys(vars).filter((name) => /ACME_DIRECTORY|ACME_EMAIL|RENEW_DAYS/.test(name))).toEqual([]);
      // What the containers get is a valid configuration for the CLI.
      expect(loadCertsConfig(vars)).toMatchObject({
        domains: [domain],
        certsDir: '/certs',
        challengeDir: '/acme-challenge',
        accountDir: '/data/acme',
        renewDays: 30,
      });
    }
  });

  it('directory, contact and window when given; validation errors', () => {
    const agent = container(
      synthAgent({
        certificate: {
          domains: ['meet.example.org', 'www.meet.example.org'],
          acmeDirectory: 'staging',
          acmeEmail: 'ops@example.org',
          renewDays: 20,
        },
      }),
      'meet-agent',
    );
    expect(env(agent.env)).toMatchObject({
      MEET_CERT_DOMAINS: 'meet.example.org,www.meet.example.org',
      MEET_ACME_DIRECTORY: 'staging',
      MEET_ACME_EMAIL: 'ops@example.org',
      MEET_CERT_RENEW_DAYS: '20',
    });
    expect(() => certificateEnv({ domains: [] })).toThrow('the certificate needs at least one domain');
    expect(() => certificateEnv({ domains: ['Meet.Example.org'] })).toThrow(
      'certificate domain "Meet.Example.org" is not a lower-case DNS name',
    );
    expect(() => certificateEnv({ domains: ['meet.example.org'], renewDays: 0 })).toThrow(
      'renewDays 0 must be a whole number from 1 to 365',
    );
  });
});
