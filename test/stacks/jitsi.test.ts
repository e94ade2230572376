import { describe, expect, it } from 'vitest';
import { Jitsi, type JitsiProps } from '../../stacks/jitsi.js';
import { container, dockerStack, resourcesOf, synthJson } from './helpers.js';

function synth(props: Partial<JitsiProps> = {}) {
  const { stack, provider } = dockerStack();
  new Jitsi(stack, 'jitsi', {
    provider, imageTag: 'stable-11146-2', publicUrl: 'https://meet.example.org', advertiseIp: '185.15.56.10',
    privateIp: '172.16.1.2', jicofoAuthPassword: 'jicofo-secret', jvbAuthPassword: 'jvb-secret', ...props,
  });
  return synthJson(stack);
}

const envMap = (env: string[]) => Object.fromEntries(env.map((entry) => entry.split(/=(.*)/s).slice(0, 2) as [string, string]));

describe('Jitsi', () => {
  it('pulls the four services at the pinned tag from ghcr.io/jitsi', () => {
    expect(resourcesOf(synth(), 'docker_image').map((image) => image.name).sort()).toEqual([
      'ghcr.io/jitsi/jicofo:stable-11146-2', 'ghcr.io/jitsi/jvb:stable-11146-2', 'ghcr.io/jitsi/prosody:stable-11146-2', 'ghcr.io/jitsi/web:stable-11146-2',
    ]);
  });

  it('sets internal auth identically on web, prosody and jicofo', () => {
    const json = synth();
    for (const name of ['jitsi-web', 'jitsi-prosody', 'jitsi-jicofo']) {
      expect(envMap(container(json, name).env)).toMatchObject({ ENABLE_AUTH: '1', AUTH_TYPE: 'internal', ENABLE_GUESTS: '1' });
    }
    expect(envMap(container(synth({ enableGuests: false }), 'jitsi-jicofo').env).ENABLE_GUESTS).toBe('0');
  });

  it('web: redirect, public URL, our certificate and the read-only challenge directory, 80/443 → 8000/8443', () => {
    const web = container(synth(), 'jitsi-web');
    expect(envMap(web.env)).toMatchObject({ ENABLE_HTTP_REDIRECT: '1', PUBLIC_URL: 'https://meet.example.org', ENABLE_LETSENCRYPT: '0', TZ: 'UTC' });
    expect(web.mounts).toEqual(expect.arrayContaining([
      { type: 'bind', source: '/srv/meet/certs', target: '/config/keys', read_only: true },
      { type: 'bind', source: '/srv/meet/acme-challenge', target: '/usr/share/jitsi-meet/.well-known/acme-challenge', read_only: true },
      { type: 'bind', source: '/srv/jitsi/storage/web', target: '/storage', read_only: false },
    ]));
    expect(web.ports).toEqual([{ internal: 8000, external: 80 }, { internal: 8443, external: 443 }]);
    expect(web).toMatchObject({ read_only: true, restart: 'unless-stopped', tmpfs: { '/run': 'size=16M,mode=1750,exec', '/tmp': 'size=16M,mode=1777,noexec' } });
  });

  it('prosody: the service passwords, its data on the host, the xmpp alias; 5222 published only when asked, on the private address', () => {
    const json = synth();
    const prosody = container(json, 'jitsi-prosody');
    expect(envMap(prosody.env)).toMatchObject({ JICOFO_AUTH_PASSWORD: 'jicofo-secret', JVB_AUTH_PASSWORD: 'jvb-secret' });
    expect(prosody.mounts).toEqual(expect.arrayContaining([{ type: 'bind', source: '/srv/jitsi/storage/prosody', target: '/var/lib/prosody', read_only: false }]));
    expect(prosody.networks_advanced).toEqual([{ name: expect.stringContaining('docker_network'), aliases: ['xmpp.meet.jitsi'] }]);
    expect(prosody).not.toHaveProperty('ports');
    expect(container(synth({ publishXmpp: true }), 'jitsi-prosody').ports).toEqual([{ internal: 5222, external: 5222, ip: '172.16.1.2' }]);
  });

  it('jvb: advertises the floating IP on 10000/udp (default port, overridable)', () => {
    const jvb = container(synth(), 'jitsi-jvb');
    expect(envMap(jvb.env)).toMatchObject({ JVB_ADVERTISE_IPS: '185.15.56.10', JVB_PORT: '10000', JVB_AUTH_PASSWORD: 'jvb-secret' });
    expect(jvb.ports).toEqual([{ internal: 10000, external: 10000, protocol: 'udp' }]);
    expect(container(synth({ jvbMediaPort: 10001 }), 'jitsi-jvb').ports).toEqual([{ internal: 10001, external: 10001, protocol: 'udp' }]);
  });

  it('defaults: ghcr.io/jitsi, guests on, UTC, no published 5222', () => {
    const json = synth();
    expect(envMap(container(json, 'jitsi-web').env)).toMatchObject({ ENABLE_GUESTS: '1', TZ: 'UTC' });
    expect(envMap(container(synth({ timezone: 'Europe/Berlin' }), 'jitsi-web').env).TZ).toBe('Europe/Berlin');
    expect(resourcesOf(synth({ imageRepository: 'registry.example.org/jitsi' }), 'docker_image')[0]!.name).toMatch(/^registry\.example\.org\/jitsi\//);
  });

  it('validation errors', () => {
    expect(() => synth({ imageTag: 'stable' })).toThrow('Jitsi image tag "stable" is not a pinned release like "stable-11146-2" (floating tags are refused)');
    expect(() => synth({ imageTag: 'stable-10741' })).toThrow('Jitsi image tag "stable-10741" is older than stable-11146-2, the first release with the rootless layout');
    expect(() => synth({ publicUrl: 'http://meet.example.org/x' })).toThrow('publicUrl "http://meet.example.org/x" must be an https:// origin without a path');
    expect(() => synth({ jvbMediaPort: 80 })).toThrow('jvbMediaPort 80 must be a port between 1024 and 65535');
  });
});
