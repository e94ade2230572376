import { TerraformOutput } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { MeetHost, type MeetHostProps } from '../../stacks/hosts.js';
import { openstackStack, resourcesOf, synthJson } from './helpers.js';

const base: MeetHostProps = {
  name: 'jitsi',
  flavorId: 'flavor-id',
  imageId: 'image-id',
  networkId: 'net-id',
  securityGroupIds: ['sg-1'],
  floatingIpPool: 'wan-transport-eqiad',
};

function synthHost(props: Partial<MeetHostProps> = {}) {
  const stack = openstackStack();
  const host = new MeetHost(stack, 'jitsi', { ...base, ...props });
  return { json: synthJson(stack), host };
}

describe('MeetHost', () => {
  it('boots the instance from a port carrying the security groups and associates the floating IP through that port', () => {
    const { json } = synthHost({ userData: '#cloud-config\n{}\n', metadata: { role: 'jitsi' } });
    const [port] = resourcesOf(json, 'openstack_networking_port_v2');
    expect(port).toMatchObject({
      name: 'jitsi',
      network_id: 'net-id',
      security_group_ids: ['sg-1'],
      admin_state_up: true,
    });
    const [instance] = resourcesOf(json, 'openstack_compute_instance_v2');
    expect(instance).toMatchObject({
      name: 'jitsi',
      flavor_id: 'flavor-id',
      image_id: 'image-id',
      user_data: '#cloud-config\n{}\n',
      metadata: { role: 'jitsi' },
      network: [{ port: expect.stringMatching(/^\$\{openstack_networking_port_v2\.jitsi_port_[A-F0-9]+\.id\}$/) }],
    });
    expect(instance).not.toHaveProperty('security_groups');
    expect(resourcesOf(json, 'openstack_networking_floatingip_v2')).toEqual([
      expect.objectContaining({ pool: 'wan-transport-eqiad' }),
    ]);
    expect(resourcesOf(json, 'openstack_networking_floatingip_associate_v2')).toEqual([
      expect.objectContaining({
        floating_ip: expect.stringMatching(
          /^\$\{openstack_networking_floatingip_v2\.jitsi_floating-ip_[A-F0-9]+\.address\}$/,
        ),
        port_id: expect.stringMatching(/^\$\{openstack_networking_port_v2\.jitsi_port_[A-F0-9]+\.id\}$/),
      }),
    ]);
  });

  it('defaults: no user data and no metadata', () => {
    const [instance] = resourcesOf(synthHost().json, 'openstack_compute_instance_v2');
    expect(instance).not.toHaveProperty('user_data');
    expect(instance).not.toHaveProperty('metadata');
  });

  it("picks the port's IPv4 and IPv6 by family (all_fixed_ips has no guaranteed order) and the floating address", () => {
    const stack = openstackStack();
    const host = new MeetHost(stack, 'jitsi', base);
    new TerraformOutput(stack, 'private', { value: host.privateIp });
    new TerraformOutput(stack, 'public', { value: host.publicIp });
    new TerraformOutput(stack, 'ipv6', { value: host.ipv6 });
    const json = synthJson(stack);
    const outputs = json.output!;
    const [portName] = Object.keys(json.resource!.openstack_networking_port_v2!);
    const fixedIps = `openstack_networking_port_v2.${portName}.all_fixed_ips`;
    expect(outputs.private!.value).toBe(`\${[for ip in ${fixedIps} : ip if !strcontains(ip, ":")][0]}`);
    expect(outputs.ipv6!.value).toBe(`\${[for ip in ${fixedIps} : ip if strcontains(ip, ":")][0]}`);
    expect(outputs.public!.value).toMatch(
      /^\$\{openstack_networking_floatingip_v2\.jitsi_floating-ip_[A-F0-9]+\.address\}$/,
    );
    // The floating IPv4 goes to the port's IPv4, named explicitly.
    expect(resourcesOf(json, 'openstack_networking_floatingip_associate_v2')[0]!.fixed_ip).toBe(outputs.private!.value);
    // A port without exactly one address of each family stops the apply with the host's name and its addresses.
    expect(resourcesOf(json, 'openstack_networking_port_v2')[0]!.lifecycle).toEqual({
      postcondition: [
        {
          condition:
            '${length([for ip in self.all_fixed_ips : ip if !strcontains(ip, ":")]) == 1 && length([for ip in self.all_fixed_ips : ip if strcontains(ip, ":")]) == 1}',
          error_message:
            'the port of host jitsi needs exactly one IPv4 and one IPv6 address (network VXLAN/IPv6-dualstack); it has: ${join(", ", self.all_fixed_ips)}',
        },
      ],
    });
  });

  it('validation errors', () => {
    expect(() => synthHost({ name: 'Jitsi_1' })).toThrow(
      'host name "Jitsi_1" must be lower-case letters, digits and dashes (max 63), starting with a letter',
    );
    expect(() => synthHost({ securityGroupIds: [] })).toThrow(
      'host "jitsi" has no security group: it would get the project\'s default group',
    );
    // Nova counts the base64 text: 49,152 raw bytes are 65,536 encoded, one too many; 49,149 (65,532) pass.
    expect(() => synthHost({ userData: 'x'.repeat(49_152) })).toThrow(
      'user data of host "jitsi" is 65536 bytes in base64 (49152 raw); Nova accepts at most 65535',
    );
    expect(() => synthHost({ userData: 'x'.repeat(49_149) })).not.toThrow();
  });
});
