import { TerraformStack, Testing } from 'cdktf';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider/index.js';
import { describe, expect, it } from 'vitest';
import { ExtraJvbs, type ExtraJvbsProps } from '../../stacks/jvb.js';
import { checkStack } from '../support/schema/schema-check.js';
import { dockerProviderSchema } from '../support/schema/docker-schema.js';
import { resourcesOf, synthJson, type TfJson } from './helpers.js';

type Jvb = {
  env: string[];
  provider: string;
  ports: unknown;
  lifecycle: { replace_triggered_by: string[] };
  image: string;
};

function synth(count: number, props: Partial<ExtraJvbsProps> = {}): TfJson {
  const stack = new TerraformStack(Testing.app(), 'test');
  const hosts = Array.from({ length: count }, (_, index) => ({
    nickname: `jvb-${index + 1}`,
    provider: new DockerProvider(stack, `docker-${index + 1}`, {
      alias: `jvb-${index + 1}`,
      host: `ssh://debian@10.0.0.${index + 1}`,
    }),
    advertiseIp: `185.15.56.${20 + index}`,
  }));
  new ExtraJvbs(stack, 'jvb', {
    hosts,
    imageTag: 'stable-11146-2',
    xmppServer: '172.16.1.2',
    jvbAuthPassword: 'jvb-secret',
    ...props,
  });
  return synthJson(stack);
}
const jvbs = (json: TfJson) => resourcesOf(json, 'docker_container') as unknown as Jvb[];
const envOf = (jvb: Jvb, name: string) => jvb.env.find((entry) => entry.startsWith(`${name}=`));

describe('ExtraJvbs', () => {
  it.each([1, 3])(
    '%i host(s): one jvb container and image per host provider, own nickname and advertised address',
    (count) => {
      const json = synth(count);
      expect(
        jvbs(json).map((jvb) => [jvb.provider, envOf(jvb, 'JVB_MUC_NICKNAME'), envOf(jvb, 'JVB_ADVERTISE_IPS')]),
      ).toEqual(
        Array.from({ length: count }, (_, index) => [
          `docker.jvb-${index + 1}`,
          `JVB_MUC_NICKNAME=jvb-${index + 1}`,
          `JVB_ADVERTISE_IPS=185.15.56.${20 + index}`,
        ]),
      );
      for (const jvb of jvbs(json)) {
        expect(jvb.env).toEqual(
          expect.arrayContaining([
            'XMPP_SERVER=172.16.1.2',
            'XMPP_PORT=5222',
            'JVB_AUTH_PASSWORD=jvb-secret',
            'JVB_PORT=10000',
          ]),
        );
        expect(jvb.ports).toEqual([
          { internal: 10000, external: 10000, ip: '0.0.0.0', protocol: 'udp' },
          { internal: 10000, external: 10000, ip: '::', protocol: 'udp' },
        ]);
        expect(jvb.env.some((entry) => entry.startsWith('PUBLIC_URL='))).toBe(false);
      }
      const images = resourcesOf(json, 'docker_image');
      expect(images.map((image) => [image.name, image.provider])).toEqual(
        Array.from({ length: count }, (_, index) => ['ghcr.io/jitsi/jvb:stable-11146-2', `docker.jvb-${index + 1}`]),
      );
      expect(checkStack(json, dockerProviderSchema())).toEqual([]);
    },
  );

  it('replace triggers: one for_each terraform_data keyed by nickname, hashing the settings each container runs with', () => {
    const json = synth(3);
    const triggers = Object.entries(json.resource?.terraform_data ?? {});
    expect(triggers).toHaveLength(1);
    const [name, trigger] = triggers[0]!;
    expect(trigger.for_each).toEqual({
      'jvb-1': { advertise_ips: '185.15.56.20' },
      'jvb-2': { advertise_ips: '185.15.56.21' },
      'jvb-3': { advertise_ips: '185.15.56.22' },
    });
    expect(jvbs(json).map((jvb) => jvb.lifecycle.replace_triggered_by)).toEqual(
      ['jvb-1', 'jvb-2', 'jvb-3'].map((key) => [`terraform_data.${name}["${key}"]`]),
    );
    // The hashed settings are the container's, with the per-host values taken from each.key / each.value.
    const hashed = (trigger.input as { sha256: string }).sha256;
    expect(hashed).toContain('join("", ["JVB_MUC_NICKNAME=", each.key])');
    expect(hashed).toContain('join("", ["JVB_ADVERTISE_IPS=", each.value.advertise_ips])');
    for (const entry of jvbs(json)[0]!.env.filter((item) => !/^JVB_(MUC_NICKNAME|ADVERTISE_IPS)=/.test(item)))
      expect(hashed).toContain(`"${entry}"`);
    expect(hashed).toContain('"image" = "ghcr.io/jitsi/jvb:stable-11146-2"');
  });

  it('a setting shared by all bridges changes the one trigger; image, time zone and media port count', () => {
    const input = (json: TfJson) =>
      (Object.values(json.resource?.terraform_data ?? {})[0]!.input as { sha256: string }).sha256;
    const base = input(synth(2));
    expect(input(synth(2, { timezone: 'Europe/Berlin' }))).not.toBe(base);
    expect(input(synth(2, { imageTag: 'stable-11200' }))).not.toBe(base);
    expect(input(synth(2, { jvbMediaPort: 10002 }))).not.toBe(base);
    expect(input(synth(3))).toBe(base);
  });

  it('a host with a global IPv6 advertises it after its floating IPv4', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const provider = new DockerProvider(stack, 'docker', { host: 'ssh://debian@10.0.0.1' });
    new ExtraJvbs(stack, 'jvb', {
      hosts: [{ nickname: 'jvb-1', provider, advertiseIp: '185.15.56.20', advertiseIpv6: '2a02:ec80:a000:1::20' }],
      imageTag: 'stable-11146-2',
      xmppServer: 'x',
      jvbAuthPassword: 'p',
    });
    const json = synthJson(stack);
    expect(envOf(jvbs(json)[0]!, 'JVB_ADVERTISE_IPS')).toBe('JVB_ADVERTISE_IPS=185.15.56.20,2a02:ec80:a000:1::20');
    expect(Object.values(json.resource?.terraform_data ?? {})[0]!.for_each).toEqual({
      'jvb-1': { advertise_ips: '185.15.56.20,2a02:ec80:a000:1::20' },
    });
  });

  it('defaults: UTC, media port 10000, ghcr.io/jitsi', () => {
    expect(jvbs(synth(1))[0]!.env).toContain('TZ=UTC');
    expect(jvbs(synth(1, { jvbMediaPort: 10002 }))[0]!.env).toContain('JVB_PORT=10002');
    expect(resourcesOf(synth(1, { imageRepository: 'r.example.org/j' }), 'docker_image')[0]!.name).toBe(
      'r.example.org/j/jvb:stable-11146-2',
    );
  });

  it('validation errors', () => {
    const withNickname = (nickname: string) => () => {
      const stack = new TerraformStack(Testing.app(), 'test');
      const provider = new DockerProvider(stack, 'docker', { host: 'ssh://debian@10.0.0.1' });
      new ExtraJvbs(stack, 'jvb', {
        hosts: [{ nickname, provider, advertiseIp: '1.2.3.4' }],
        imageTag: 'stable-11146-2',
        xmppServer: 'x',
        jvbAuthPassword: 'p',
      });
    };
    expect(withNickname('JVB 1')).toThrow('JVB nickname "JVB 1" must be lower-case letters, digits and dashes');
    expect(withNickname('jvb-main')).toThrow('JVB nickname "jvb-main" is the Jitsi host\'s own bridge');
    expect(() => synth(0)).toThrow('ExtraJvbs needs at least one host');
    expect(() => synth(1, { imageTag: 'latest' })).toThrow('Jitsi image tag "latest" is not a pinned release');
    expect(() => synth(1, { jvbMediaPort: 0 })).toThrow('jvbMediaPort 0 must be a port between 1024 and 65535');
    const twice = () => {
      const stack = new TerraformStack(Testing.app(), 'test');
      const provider = new DockerProvider(stack, 'docker', { host: 'ssh://debian@10.0.0.1' });
      const host = { nickname: 'jvb-1', provider, advertiseIp: '1.2.3.4' };
      new ExtraJvbs(stack, 'jvb', {
        hosts: [host, host],
        imageTag: 'stable-11146-2',
        xmppServer: 'x',
        jvbAuthPassword: 'p',
      });
    };
    expect(twice).toThrow('JVB nickname "jvb-1" is given twice');
  });
});
