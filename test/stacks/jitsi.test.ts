import { describe, expect, it } from 'vitest';
import { ACME_CHALLENGE_LOCATION, WEB_ACME_SNIPPET_FILE } from '../../stacks/jitsi-web.js';
import { container, resourcesOf, synthJitsi } from './helpers.js';

const envMap = (env: string[]) =>
  Object.fromEntries(env.map((entry) => entry.split(/=(.*)/s).slice(0, 2) as [string, string]));

describe('Jitsi', () => {
  it('pulls the four services at the pinned tag from ghcr.io/jitsi', () => {
    expect(
      resourcesOf(synthJitsi(), 'docker_image')
        .map((image) => image.name)
        .sort(),
    ).toEqual([
      'ghcr.io/jitsi/jicofo:stable-11146-2',
      'ghcr.io/jitsi/jvb:stable-11146-2',
      'ghcr.io/jitsi/prosody:stable-11146-2',
      'ghcr.io/jitsi/web:stable-11146-2',
    ]);
  });

  it('sets internal auth on each container that reads it, with the same values', () => {
    const json = synthJitsi();
    const auth = (name: string) =>
      Object.entries(envMap(container(json, name).env)).filter(([key]) =>
        /^(ENABLE_AUTH|AUTH_TYPE|ENABLE_GUESTS)$/.test(key),
      );
    expect(Object.fromEntries(auth('jitsi-prosody'))).toEqual({
      ENABLE_AUTH: '1',
      AUTH_TYPE: 'internal',
      ENABLE_GUESTS: '1',
    });
    expect(Object.fromEntries(auth('jitsi-web'))).toEqual({ ENABLE_AUTH: '1', ENABLE_GUESTS: '1' });
    expect(Object.fromEntries(auth('jitsi-jicofo'))).toEqual({ ENABLE_AUTH: '1', AUTH_TYPE: 'internal' });
    const noGuests = synthJitsi({ enableGuests: false });
    expect([
      envMap(container(noGuests, 'jitsi-web').env).ENABLE_GUESTS,
      envMap(container(noGuests, 'jitsi-prosody').env).ENABLE_GUESTS,
    ]).toEqual(['0', '0']);
  });

  it('web: redirect, public URL, our certificate, 80/443 → 8000/8443 on IPv4 and IPv6', () => {
    const web = container(synthJitsi(), 'jitsi-web');
    expect(envMap(web.env)).toMatchObject({
      ENABLE_HTTP_REDIRECT: '1',
      PUBLIC_URL: 'https://meet.example.org',
      ENABLE_LETSENCRYPT: '0',
      TZ: 'UTC',
    });
    expect(web.mounts).toEqual(
      expect.arrayContaining([
        { type: 'bind', source: '/srv/state/certs', target: '/config/keys', read_only: true },
        { type: 'bind', source: '/srv/jitsi/storage/web', target: '/storage', read_only: false },
      ]),
    );
    expect(web.ports).toEqual([
      { internal: 8000, external: 80, ip: '0.0.0.0' },
      { internal: 8000, external: 80, ip: '::' },
      { internal: 8443, external: 443, ip: '0.0.0.0' },
      { internal: 8443, external: 443, ip: '::' },
    ]);
    expect(web).toMatchObject({
      read_only: true,
      restart: 'unless-stopped',
      tmpfs: { '/run': 'size=16M,mode=1750,exec', '/tmp': 'size=16M,mode=1777,noexec' },
    });
  });

  it('prosody: the service passwords, its data on the host, the xmpp alias; 5222 published only when asked, on the private address', () => {
    const json = synthJitsi();
    const prosody = container(json, 'jitsi-prosody');
    expect(envMap(prosody.env)).toMatchObject({
      JICOFO_AUTH_PASSWORD: 'jicofo-secret',
      JVB_AUTH_PASSWORD: 'jvb-secret',
    });
    expect(prosody.mounts).toEqual(
      expect.arrayContaining([
        { type: 'bind', source: '/srv/state/prosody', target: '/var/lib/prosody', read_only: false },
      ]),
    );
    expect(prosody.networks_advanced).toEqual([
      { name: expect.stringContaining('docker_network'), aliases: ['xmpp.meet.jitsi'] },
    ]);
    expect(prosody).not.toHaveProperty('ports');
    expect(container(synthJitsi({ publishXmpp: true }), 'jitsi-prosody').ports).toEqual([
      { internal: 5222, external: 5222, ip: '172.16.1.2' },
    ]);
  });

  it("web: the challenge directory read-only at /acme-challenge, served through the image's nginx-custom hook", () => {
    const web = container(synthJitsi(), 'jitsi-web');
    expect(web.mounts).toEqual(
      expect.arrayContaining([
        { type: 'bind', source: '/srv/meet/acme-challenge', target: '/acme-challenge', read_only: true },
      ]),
    );
    // The entrypoint writes the location into /config/nginx-custom (copied to /run/web/config by the config step),
    // then execs the image's own entrypoint, /init (base/Dockerfile:74).
    const entrypoint = web.entrypoint as string[];
    expect(entrypoint.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(entrypoint[2]).toMatch(new RegExp(`> ${WEB_ACME_SNIPPET_FILE}; exec /init$`));
    expect(entrypoint[4]).toBe(ACME_CHALLENGE_LOCATION);
    expect(ACME_CHALLENGE_LOCATION).toContain(
      'location ^~ /.well-known/acme-challenge/ {\n    alias /acme-challenge/;',
    );
    // Terraform would interpolate "${" or "%{" in these strings.
    expect(JSON.stringify(entrypoint)).not.toMatch(/[$%]\{/);
  });

  it("web: nginx re-resolves Prosody every 10 s instead of trusting Docker DNS's 600 s TTL", () => {
    expect(envMap(container(synthJitsi(), 'jitsi-web').env).NGINX_RESOLVER).toBe('127.0.0.11 valid=10s');
  });

  it('jvb: advertises the floating IPv4 and the global IPv6 on 10000/udp of both (default port, overridable)', () => {
    const jvb = container(synthJitsi({ advertiseIpv6: '2a02:ec80:a000:1::10' }), 'jitsi-jvb');
    expect(envMap(jvb.env)).toMatchObject({
      JVB_ADVERTISE_IPS: '185.15.56.10,2a02:ec80:a000:1::10',
      JVB_PORT: '10000',
      JVB_AUTH_PASSWORD: 'jvb-secret',
    });
    expect(envMap(container(synthJitsi(), 'jitsi-jvb').env).JVB_ADVERTISE_IPS).toBe('185.15.56.10');
    expect(jvb.ports).toEqual([
      { internal: 10000, external: 10000, ip: '0.0.0.0', protocol: 'udp' },
      { internal: 10000, external: 10000, ip: '::', protocol: 'udp' },
    ]);
    expect(container(synthJitsi({ jvbMediaPort: 10001 }), 'jitsi-jvb').ports).toEqual([
      { internal: 10001, external: 10001, ip: '0.0.0.0', protocol: 'udp' },
      { internal: 10001, external: 10001, ip: '::', protocol: 'udp' },
    ]);
  });

  it('defaults: ghcr.io/jitsi, guests on, UTC, no published 5222', () => {
    const json = synthJitsi();
    expect(envMap(container(json, 'jitsi-web').env)).toMatchObject({ ENABLE_GUESTS: '1', TZ: 'UTC' });
    expect(envMap(container(synthJitsi({ timezone: 'Europe/Berlin' }), 'jitsi-web').env).TZ).toBe('Europe/Berlin');
    expect(resourcesOf(synthJitsi({ imageRepository: 'registry.example.org/jitsi' }), 'docker_image')[0]!.name).toMatch(
      /^registry\.example\.org\/jitsi\//,
    );
  });

  it('validation errors', () => {
    expect(() => synthJitsi({ imageTag: 'stable' })).toThrow(
      'Jitsi image tag "stable" is not a pinned release like "stable-11146-2" (floating tags are refused)',
    );
    expect(() => synthJitsi({ imageTag: 'stable-10741' })).toThrow(
      'Jitsi image tag "stable-10741" is older than stable-11146-2, the first release with the rootless layout',
    );
    expect(() => synthJitsi({ publicUrl: 'http://meet.example.org/x' })).toThrow(
      'publicUrl "http://meet.example.org/x" must be an https:// origin without a path',
    );
    expect(() => synthJitsi({ jvbMediaPort: 80 })).toThrow('jvbMediaPort 80 must be a port between 1024 and 65535');
  });
});
