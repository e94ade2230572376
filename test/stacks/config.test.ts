import { describe, expect, it } from 'vitest';
import { EnvironmentConfigError, isCidr, jitsiTagProblem, parseEnvironment } from '../../stacks/config.js';
import { environments } from '../../stacks/environments/index.js';
import { production } from '../../stacks/environments/production.js';
import { staging } from '../../stacks/environments/staging.js';
import { minimal, problemsOf } from './helpers.js';

describe('environment config', () => {
  it('accepts production: meet.wmcloud.org in project "meet", S3 state on Cloud VPS object storage, one Jitsi host', () => {
    const env = parseEnvironment(production);
    expect(env.domains.meet).toBe('meet.wmcloud.org');
    expect(env.openstack.project).toBe('meet');
    expect(env.state).toEqual({
      kind: 's3',
      bucket: 'meet:tofu-state',
      endpoint: 'https://object.eqiad1.wikimediacloud.org',
      region: 'eqiad1',
      keyPrefix: 'meet',
    });
    expect(env.hosts.jvb.count).toBe(0);
    expect(Object.isFrozen(env)).toBe(true);
  });

  it('accepts the staging example and lists every environment once', () => {
    expect(parseEnvironment(staging).hosts.jvb.count).toBe(2);
    const names = environments.map((env) => env.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('places hosts on the dual-stack network and refuses the legacy flat one under either name', () => {
    for (const env of [production, staging]) expect(parseEnvironment(env).network.name).toBe('VXLAN/IPv6-dualstack');
    for (const name of ['lan-flat-cloudinstances2b', 'VLAN/legacy']) {
      expect(problemsOf({ ...minimal, network: { name, floatingIpPool: 'wan' } })).toEqual([
        `network.name: "${name}" is Cloud VPS's legacy flat network, where no new instance may be placed: use "VXLAN/IPv6-dualstack"`,
      ]);
    }
  });

  it("admin (ssh) ranges: Cloud VPS's internal ranges at most, never wider", () => {
    for (const env of [production, staging])
      expect(parseEnvironment(env).adminCidrs).toEqual(['172.16.0.0/17', '2a02:ec80:a000::/56']);
    expect(
      parseEnvironment({ ...minimal, adminCidrs: ['172.16.16.0/21', '2a02:ec80:a000:1::/64'] }).adminCidrs,
    ).toHaveLength(2);
    expect(problemsOf({ ...minimal, adminCidrs: ['172.16.0.0/16', '2a02:ec80::/48'] })).toEqual([
      'adminCidrs.0: "172.16.0.0/16" is wider than /17: ssh may come only from Cloud VPS\'s internal ranges (172.16.0.0/17, 2a02:ec80:a000::/56)',
      'adminCidrs.1: "2a02:ec80::/48" is wider than /56: ssh may come only from Cloud VPS\'s internal ranges (172.16.0.0/17, 2a02:ec80:a000::/56)',
    ]);
  });

  describe('defaults, each on its own', () => {
    const env = parseEnvironment(minimal);
    it('state: local', () => expect(env.state).toEqual({ kind: 'local' }));
    it('image: debian-12.0-bookworm', () => expect(env.image).toBe('debian-12.0-bookworm'));
    it("ssh user: none (the operator's shell name comes as TF_VAR_ssh_user; never debian)", () =>
      expect(env.ssh.user).toBeUndefined());
    it('state volumes: 10 GiB (jitsi), 5 GiB (meet-auth); readiness wait 1800 s', () => {
      expect([env.hosts.jitsi.stateVolumeGb, env.hosts.meetAuth.stateVolumeGb, env.ssh.readySeconds]).toEqual([
        10, 5, 1800,
      ]);
    });
    it('dns ttl: 300', () => expect(env.dns.ttl).toBe(300));
    it('no extra JVB hosts', () => expect(env.hosts.jvb).toEqual({ count: 0 }));
    it('jitsi: pinned stable-11146-2 from ghcr.io/jitsi, guests on, UTC', () =>
      expect(env.jitsi).toEqual({
        imageTag: 'stable-11146-2',
        imageRepository: 'ghcr.io/jitsi',
        enableGuests: true,
        timezone: 'UTC',
      }));
    it('edge: built from the repository, no TLS, log level info', () =>
      expect(env.edge).toEqual({ tls: false, logLevel: 'info' }));
    it('s3 state: region eqiad1 and key prefix meet', () => {
      const s3 = parseEnvironment({
        ...minimal,
        state: { kind: 's3', bucket: 'b', endpoint: 'https://s3.example.org' },
      });
      expect(s3.state).toEqual({
        kind: 's3',
        bucket: 'b',
        endpoint: 'https://s3.example.org',
        region: 'eqiad1',
        keyPrefix: 'meet',
      });
    });
  });

  describe('validation errors name the bad value', () => {
    it('refuses a floating Jitsi tag', () => {
      expect(problemsOf({ ...minimal, jitsi: { imageTag: 'stable' } })).toEqual([
        'jitsi.imageTag: Jitsi image tag "stable" is not a pinned release like "stable-11146-2" (floating tags are refused)',
      ]);
    });
    it('refuses a pre-rootless Jitsi release', () => {
      expect(problemsOf({ ...minimal, jitsi: { imageTag: 'stable-11146-1' } })).toEqual([
        'jitsi.imageTag: Jitsi image tag "stable-11146-1" is older than stable-11146-2, the first release with the rootless layout',
      ]);
    });
    it('refuses a domain outside every zone', () => {
      expect(problemsOf({ ...minimal, domains: { meet: 'meet.example.org', auth: 'auth.example.net' } })).toEqual([
        'domains.auth: "auth.example.net" is in none of the zones meet.example.org.',
      ]);
    });
    it('refuses a bad admin CIDR and an empty list', () => {
      expect(problemsOf({ ...minimal, adminCidrs: ['172.16.0.0/33'] })).toEqual([
        'adminCidrs.0: must be an IPv4 or IPv6 CIDR such as 172.16.0.0/21',
      ]);
      expect(problemsOf({ ...minimal, adminCidrs: [] })).toEqual([
        "adminCidrs: needs at least one CIDR (the bastions' range)",
      ]);
    });
    it('requires a JVB flavor when JVB hosts are asked for', () => {
      expect(problemsOf({ ...minimal, hosts: { ...minimal.hosts, jvb: { count: 2 } } })).toEqual([
        'hosts.jvb.flavor: is required when hosts.jvb.count > 0',
      ]);
    });
    it('refuses an edge image that is not pinned by digest', () => {
      expect(problemsOf({ ...minimal, edge: { image: 'ghcr.io/wikimedia/meet-edge:latest' } })).toEqual([
        'edge.image: must be pinned by digest (…@sha256:<64 hex>)',
      ]);
    });
    it('refuses bad backup settings, naming each value', () => {
      const backup = { bucket: 'meet:backups' };
      expect(
        problemsOf({
          ...minimal,
          backup: {
            bucket: 'Meet Backups',
            prefix: '/x/',
            endpoint: 'http://object.example.org',
            region: 'Eq 1',
            forcePathStyle: 'yes',
            schedule: 'daily\nExecStart=/bin/sh',
            keepDaily: 0,
            keepWeekly: 2.5,
          },
        }),
      ).toEqual([
        'backup.bucket: "Meet Backups" is not an S3 bucket name such as "meet:backups" (lower-case letters, digits, ".", ":", "_", "-")',
        'backup.prefix: "/x/" is not a key prefix such as "production" (lower-case letters, digits, "/", "_", ".", "-"; no leading or trailing "/", no "..")',
        'backup.endpoint: "http://object.example.org" is not an https URL',
        'backup.region: "Eq 1" is not a region name such as "eqiad1"',
        'backup.forcePathStyle: "yes" is not true or false',
        'backup.schedule: "daily\\nExecStart=/bin/sh" is not a systemd OnCalendar expression such as "daily" or "*-*-* 03:00:00"',
        'backup.keepDaily: 0 must be a whole number of days from 1 to 1000',
        'backup.keepWeekly: 2.5 must be a whole number of weeks from 1 to 1000',
      ]);
      expect(problemsOf({ ...minimal, backup: {} })).toEqual([
        'backup.bucket: is required: the bucket the archives go to, such as "meet:backups"',
      ]);
      expect(problemsOf({ ...minimal, backup: { ...backup, prefix: 'a/../b' } })).toHaveLength(1);
      expect(problemsOf({ ...minimal, backup: { ...backup, bucket: 'meet:backups', extra: 1 } })).toEqual([
        'backup: Unrecognized key: "extra"',
      ]);
    });
    it('backup defaults: Cloud VPS object storage (eqiad1, path-style), daily, 7 days and 4 weeks; none without `backup`', () => {
      expect(parseEnvironment({ ...minimal, backup: { bucket: 'meet:backups' } }).backup).toEqual({
        bucket: 'meet:backups',
        endpoint: 'https://object.eqiad1.wikimediacloud.org',
        region: 'eqiad1',
        forcePathStyle: true,
        schedule: 'daily',
        keepDaily: 7,
        keepWeekly: 4,
      });
      expect(parseEnvironment(minimal).backup).toBeUndefined();
    });
    it('refuses unknown keys (typos do not pass silently)', () => {
      expect(problemsOf({ ...minimal, domain: 'x' })).toEqual(['(root): Unrecognized key: "domain"']);
    });
    it('lists every problem at once, naming the environment', () => {
      let caught: unknown;
      try {
        parseEnvironment({ ...minimal, name: 'Bad Name', adminCidrs: ['nope'], jitsi: { imageTag: 'latest' } });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(EnvironmentConfigError);
      const error = caught as EnvironmentConfigError;
      expect(error.problems).toHaveLength(3);
      expect(error.message).toMatch(/^invalid environment "Bad Name":\n {2}- name: /);
    });
  });

  it('jitsiTagProblem accepts newer releases and isCidr knows both families', () => {
    expect(jitsiTagProblem('stable-11146-2')).toBeUndefined();
    expect(jitsiTagProblem('stable-11200')).toBeUndefined();
    expect(jitsiTagProblem('unstable-2026-08-01')).toMatch(/not a pinned release/);
    expect([isCidr('10.0.0.0/8'), isCidr('2a02:ec80::/32'), isCidr('10.0.0.0'), isCidr('::/129')]).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});
