import { describe, expect, it } from 'vitest';
import { ExtraJvb, type ExtraJvbProps } from '../../stacks/jvb.js';
import { container, dockerStack, resourcesOf, synthJson } from './helpers.js';

function synth(props: Partial<ExtraJvbProps> = {}) {
  const { stack, provider } = dockerStack();
  new ExtraJvb(stack, 'jvb-1', {
    provider, imageTag: 'stable-11146-2', nickname: 'jvb-1', xmppServer: '172.16.1.2', advertiseIp: '185.15.56.20',
    jvbAuthPassword: 'jvb-secret', publicUrl: 'https://meet.example.org', ...props,
  });
  return synthJson(stack);
}

describe('ExtraJvb', () => {
  it('runs only the jvb container, logging in to the Jitsi host\'s Prosody under its own nickname and address', () => {
    const json = synth();
    expect(resourcesOf(json, 'docker_container')).toHaveLength(1);
    expect(resourcesOf(json, 'docker_image').map((image) => image.name)).toEqual(['ghcr.io/jitsi/jvb:stable-11146-2']);
    expect(container(json, 'jitsi-jvb').env).toEqual(expect.arrayContaining([
      'XMPP_SERVER=172.16.1.2', 'XMPP_PORT=5222', 'JVB_MUC_NICKNAME=jvb-1', 'JVB_ADVERTISE_IPS=185.15.56.20', 'JVB_AUTH_PASSWORD=jvb-secret', 'JVB_PORT=10000',
    ]));
    expect(container(json, 'jitsi-jvb').ports).toEqual([{ internal: 10000, external: 10000, protocol: 'udp' }]);
  });

  it('defaults: UTC, media port 10000, ghcr.io/jitsi', () => {
    expect(container(synth(), 'jitsi-jvb').env).toContain('TZ=UTC');
    expect(container(synth({ jvbMediaPort: 10002 }), 'jitsi-jvb').env).toContain('JVB_PORT=10002');
    expect(resourcesOf(synth({ imageRepository: 'r.example.org/j' }), 'docker_image')[0]!.name).toBe('r.example.org/j/jvb:stable-11146-2');
  });

  it('validation errors', () => {
    expect(() => synth({ nickname: 'JVB 1' })).toThrow('JVB nickname "JVB 1" must be lower-case letters, digits and dashes');
    expect(() => synth({ nickname: 'jvb-main' })).toThrow('JVB nickname "jvb-main" is the Jitsi host\'s own bridge');
    expect(() => synth({ imageTag: 'latest' })).toThrow('Jitsi image tag "latest" is not a pinned release');
    expect(() => synth({ jvbMediaPort: 0 })).toThrow('jvbMediaPort 0 must be a port between 1024 and 65535');
  });
});
