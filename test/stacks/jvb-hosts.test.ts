// Extra JVB hosts across both stacks: the staging example's two, and the for_each host groups for N = 0, 1 and 3.
import { describe, expect, it } from 'vitest';
import { checkStack } from '../support/schema/schema-check.js';
import { dockerProviderSchema } from '../support/schema/docker-schema.js';
import { sharedStacks, synthStacks } from './app-helpers.js';
import { container, openstackSchema, productionConfig, resourcesOf } from './helpers.js';

const production = sharedStacks('production');
const cloud = production['production-cloud']!;
const services = production['production-services']!;

describe('extra JVB hosts (staging example)', () => {
  const stacks = sharedStacks('staging');
  const servicesStack = stacks['staging-services']!;
  it("each runs its own jvb with a unique nickname against the Jitsi host's private address; Prosody publishes 5222 there", () => {
    const jvbs = resourcesOf(servicesStack, 'docker_container').filter(
      (item) => item.name === 'jitsi-jvb' && (item.provider as string).startsWith('docker.jvb-'),
    );
    expect(jvbs.map((item) => item.provider)).toEqual(['docker.jvb-1', 'docker.jvb-2']);
    const nicknames = jvbs.map((item) => (item.env as string[]).find((entry) => entry.startsWith('JVB_MUC_NICKNAME=')));
    expect(nicknames).toEqual(['JVB_MUC_NICKNAME=jvb-1', 'JVB_MUC_NICKNAME=jvb-2']);
    const prosody = container(servicesStack, 'jitsi-prosody');
    expect(prosody.ports).toEqual([
      { internal: 5222, external: 5222, ip: '${data.terraform_remote_state.cloud.outputs.jitsi_private_ip}' },
    ]);
    // The floating IPv4, then the host's global IPv6 (both from the cloud stack's state).
    expect(container(servicesStack, 'jitsi-jvb').env).toContain(
      'JVB_ADVERTISE_IPS=${data.terraform_remote_state.cloud.outputs.jitsi_public_ip},${data.terraform_remote_state.cloud.outputs.jitsi_ipv6}',
    );
    const providers = servicesStack.provider?.docker ?? [];
    expect(providers.map((provider) => provider.alias)).toEqual(['jitsi', 'jvb-1', 'jvb-2', 'meet-auth']);
    for (const provider of providers)
      expect(provider.ssh_opts).toEqual(expect.arrayContaining(['-o', 'ProxyJump=bastion.wmcloud.org']));
  });
});

describe('extra JVB hosts as for_each groups: N = 0, 1, 3', () => {
  const withJvbs = (count: number) =>
    synthStacks([
      productionConfig((env) => ({
        ...env,
        hosts: { ...env.hosts, jvb: { count, flavor: 'g4.cores8.ram16.disk20' } },
      })),
    ]);
  const names = (count: number) => Array.from({ length: count }, (_, index) => `jvb-${index + 1}`);

  it('N = 0: no JVB group, no JVB outputs, no JVB security group, no extra providers', () => {
    const stacks = withJvbs(0);
    const cloudStack = stacks['production-cloud']!;
    expect(Object.keys(cloudStack.output ?? {}).filter((name) => name.startsWith('jvb'))).toEqual([]);
    expect(resourcesOf(cloudStack, 'openstack_compute_instance_v2').map((item) => item.name)).toEqual([
      'jitsi',
      'meet-auth',
    ]);
    expect(resourcesOf(cloudStack, 'openstack_networking_secgroup_v2').map((group) => group.name)).toEqual([
      'production-jitsi',
      'production-meet-auth',
    ]);
    expect(stacks['production-services']!.provider?.docker?.map((provider) => provider.alias)).toEqual([
      'jitsi',
      'meet-auth',
    ]);
  });

  it.each([1, 3])(
    'N = %i: one for_each resource per kind, per-host providers, nicknames and advertised IPs from the map outputs',
    (count) => {
      const stacks = withJvbs(count);
      const cloudStack = stacks['production-cloud']!;
      const servicesStack = stacks['production-services']!;
      const keys = Object.fromEntries(names(count).map((name) => [name, name]));
      const instances = resourcesOf(cloudStack, 'openstack_compute_instance_v2');
      expect(instances.map((item) => item.name).sort()).toEqual(['${each.key}', 'jitsi', 'meet-auth']);
      const ports = resourcesOf(cloudStack, 'openstack_networking_port_v2');
      const jvbPort = ports.find((port) => port.for_each)!;
      expect(jvbPort.for_each).toEqual(keys);
      expect(jvbPort.security_group_ids).toEqual([
        expect.stringMatching(/^\$\{openstack_networking_secgroup_v2\.network-security_jvb_[A-F0-9]+\.id\}$/),
        expect.stringMatching(/^\$\{data\.openstack_networking_secgroup_v2\.default-group\.id\}$/),
      ]);
      expect(
        resourcesOf(cloudStack, 'openstack_networking_floatingip_v2')
          .filter((ip) => ip.for_each)
          .map((ip) => ip.for_each),
      ).toEqual([keys]);
      expect(resourcesOf(cloudStack, 'openstack_networking_floatingip_associate_v2')).toHaveLength(3);
      expect(Object.keys(cloudStack.output ?? {})).toEqual(
        expect.arrayContaining(['jvb_private_ips', 'jvb_public_ips']),
      );
      // The JVB group: media from the world, ssh from the admins, nothing else; Prosody's 5222 opens to it.
      const rules = resourcesOf(cloudStack, 'openstack_networking_secgroup_rule_v2');
      const jvbRules = rules
        .filter((rule) => /network-security_jvb_/.test(rule.security_group_id as string))
        .map((rule) => `${rule.port_range_min}/${rule.protocol} ${rule.remote_ip_prefix}`);
      expect(jvbRules.sort()).toEqual([
        '10000/udp 0.0.0.0/0',
        '10000/udp ::/0',
        '22/tcp 172.16.0.0/17',
        '22/tcp 2a02:ec80:a000::/56',
      ]);
      expect(rules.filter((rule) => rule.port_range_min === 5222).map((rule) => rule.remote_group_id)).toEqual([
        expect.stringMatching(/network-security_jvb_/),
      ]);

      const providers = servicesStack.provider?.docker ?? [];
      expect(providers.map((provider) => provider.alias)).toEqual(['jitsi', ...names(count), 'meet-auth']);
      for (const name of names(count)) {
        expect(providers.find((provider) => provider.alias === name)!.host).toBe(
          `ssh://\${var.ssh_user}@\${data.terraform_remote_state.cloud.outputs.jvb_private_ips["${name}"]}`,
        );
      }
      const jvbs = resourcesOf(servicesStack, 'docker_container').filter((item) =>
        (item.provider as string).startsWith('docker.jvb-'),
      );
      expect(
        jvbs.map((item) => [
          item.provider,
          ...(item.env as string[]).filter((entry) => /^(JVB_MUC_NICKNAME|JVB_ADVERTISE_IPS|XMPP_SERVER)=/.test(entry)),
        ]),
      ).toEqual(
        names(count).map((name) => [
          `docker.${name}`,
          'XMPP_SERVER=${data.terraform_remote_state.cloud.outputs.jitsi_private_ip}',
          `JVB_MUC_NICKNAME=${name}`,
          `JVB_ADVERTISE_IPS=\${data.terraform_remote_state.cloud.outputs.jvb_public_ips["${name}"]},\${data.terraform_remote_state.cloud.outputs.jvb_ipv6s["${name}"]}`,
        ]),
      );
      const triggers = Object.entries(servicesStack.resource?.terraform_data ?? {}).filter(([, body]) => body.for_each);
      expect(triggers.map(([, body]) => Object.keys(body.for_each as object))).toEqual([names(count)]);
      expect(jvbs.map((item) => (item.lifecycle as { replace_triggered_by: string[] }).replace_triggered_by)).toEqual(
        names(count).map((name) => [`terraform_data.${triggers[0]![0]}["${name}"]`]),
      );
      for (const [name, stack] of Object.entries(stacks)) {
        for (const schema of [openstackSchema(), dockerProviderSchema()])
          expect(checkStack(stack, schema), name).toEqual([]);
      }
    },
  );

  it('the production stacks (N = 0) are the same as before the host groups existed: no for_each anywhere', () => {
    for (const stack of [cloud, services]) {
      for (const instances of Object.values(stack.resource ?? {}))
        for (const body of Object.values(instances)) expect(body).not.toHaveProperty('for_each');
    }
  });
});
