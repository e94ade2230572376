import { TerraformOutput } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { MeetHostGroup, type MeetHostGroupProps } from '../../stacks/host-group.js';
import { checkStack } from '../support/schema/schema-check.js';
import { openstackSchema, openstackStack, synthJson, type TfJson } from './helpers.js';

const base: MeetHostGroupProps = {
  names: ['jvb-1', 'jvb-2', 'jvb-3'],
  flavorId: 'flavor-id',
  imageId: 'image-id',
  networkId: 'net-id',
  securityGroupIds: ['sg-jvb'],
  floatingIpPool: 'wan-transport-eqiad',
  userData: '#cloud-config\n{}\n',
  metadata: { role: 'jvb' },
};
function synthGroup(props: Partial<MeetHostGroupProps> = {}): TfJson {
  const stack = openstackStack();
  const group = new MeetHostGroup(stack, 'jvb', { ...base, ...props });
  new TerraformOutput(stack, 'private', { value: group.privateIps });
  new TerraformOutput(stack, 'public', { value: group.publicIps });
  new TerraformOutput(stack, 'ipv6', { value: group.ipv6s });
  return synthJson(stack);
}
const only = (json: TfJson, type: string) => {
  const entries = Object.entries(json.resource?.[type] ?? {});
  expect(entries, type).toHaveLength(1);
  return { name: entries[0]![0], body: entries[0]![1] };
};

describe('MeetHostGroup', () => {
  it('one for_each resource per kind, keyed by host name, whatever the count', () => {
    const json = synthGroup();
    const keys = { 'jvb-1': 'jvb-1', 'jvb-2': 'jvb-2', 'jvb-3': 'jvb-3' };
    const port = only(json, 'openstack_networking_port_v2');
    expect(port.body).toMatchObject({
      for_each: keys,
      name: '${each.key}',
      network_id: 'net-id',
      security_group_ids: ['sg-jvb'],
      admin_state_up: true,
    });
    const instance = only(json, 'openstack_compute_instance_v2');
    expect(instance.body).toMatchObject({
      for_each: `\${openstack_networking_port_v2.${port.name}}`,
      name: '${each.key}',
      flavor_id: 'flavor-id',
      image_id: 'image-id',
      user_data: '#cloud-config\n{}\n',
      metadata: { role: 'jvb' },
      network: [{ port: '${each.value.id}' }],
    });
    const ip = only(json, 'openstack_networking_floatingip_v2');
    expect(ip.body).toMatchObject({
      for_each: keys,
      pool: 'wan-transport-eqiad',
      description: '${each.key} public address',
    });
    expect(only(json, 'openstack_networking_floatingip_associate_v2').body).toMatchObject({
      for_each: `\${openstack_networking_floatingip_v2.${ip.name}}`,
      floating_ip: '${each.value.address}',
      port_id: `\${openstack_networking_port_v2.${port.name}[each.key].id}`,
      // The same-key port's IPv4, by family: a floating IPv4 maps to the port's IPv4, never to its IPv6.
      fixed_ip: `\${[for ip in openstack_networking_port_v2.${port.name}[each.key].all_fixed_ips : ip if !strcontains(ip, ":")][0]}`,
    });
    // all_fixed_ips comes in the API's order (dual-stack: an IPv4 and an IPv6), so each address is picked by family.
    expect(json.output?.private?.value).toBe(
      `\${{ for key, val in openstack_networking_port_v2.${port.name}: key => [for ip in val.all_fixed_ips : ip if !strcontains(ip, ":")][0] }}`,
    );
    expect(json.output?.ipv6?.value).toBe(
      `\${{ for key, val in openstack_networking_port_v2.${port.name}: key => [for ip in val.all_fixed_ips : ip if strcontains(ip, ":")][0] }}`,
    );
    expect((port.body.lifecycle as { postcondition: unknown[] }).postcondition).toEqual([
      {
        condition:
          '${length([for ip in self.all_fixed_ips : ip if !strcontains(ip, ":")]) == 1 && length([for ip in self.all_fixed_ips : ip if strcontains(ip, ":")]) == 1}',
        error_message:
          'the port of host ${each.key} needs exactly one IPv4 and one IPv6 address (network VXLAN/IPv6-dualstack); it has: ${join(", ", self.all_fixed_ips)}',
      },
    ]);
    expect(json.output?.public?.value).toBe(
      `\${{ for key, val in openstack_networking_floatingip_v2.${ip.name}: key => val.address }}`,
    );
    expect(checkStack(json, openstackSchema())).toEqual([]);
  });

  it('the synthesized size does not grow with the count beyond the for_each keys', () => {
    const size = (count: number) =>
      JSON.stringify(synthGroup({ names: Array.from({ length: count }, (_, index) => `jvb-${index + 1}`) })).length;
    expect(size(50) - size(1)).toBeLessThan(49 * 2 * 40);
  });

  it('defaults: no user data and no metadata', () => {
    const instance = only(
      synthGroup({ userData: undefined, metadata: undefined }),
      'openstack_compute_instance_v2',
    ).body;
    expect(instance).not.toHaveProperty('user_data');
    expect(instance).not.toHaveProperty('metadata');
  });

  it('validation errors', () => {
    expect(() => synthGroup({ names: [] })).toThrow('a host group needs at least one host name');
    expect(() => synthGroup({ names: ['jvb-1', 'jvb-1'] })).toThrow('host name "jvb-1" is given twice');
    expect(() => synthGroup({ names: ['JVB_1'] })).toThrow(
      'host name "JVB_1" must be lower-case letters, digits and dashes (max 63), starting with a letter',
    );
    expect(() => synthGroup({ securityGroupIds: [] })).toThrow(
      'host "jvb-1" has no security group: it would get the project\'s default group',
    );
    expect(() => synthGroup({ userData: 'x'.repeat(50_000) })).toThrow(
      'user data of host "jvb-1" is 66668 bytes in base64 (50000 raw); Nova accepts at most 65535',
    );
  });
});
