/**
 * Any number of identical Cloud VPS hosts (the extra JVB hosts) as one `for_each` resource per kind, keyed by
 * host name: ports, instances booted from them, floating IPs and their associations. The synthesized stack
 * stays the same size whatever the count, and every host has a stable, readable address such as
 * `openstack_compute_instance_v2.jvb_instance_<hash>["jvb-1"]`. Adding a host adds a key; removing the last
 * one removes only that host.
 */
import { TerraformIterator, Token } from 'cdktf';
import { Construct } from 'constructs';
import { ComputeInstanceV2 } from '../.gen/providers/openstack/compute-instance-v2/index.js';
import { NetworkingFloatingipAssociateV2 } from '../.gen/providers/openstack/networking-floatingip-associate-v2/index.js';
import { NetworkingFloatingipV2 } from '../.gen/providers/openstack/networking-floatingip-v2/index.js';
import { NetworkingPortV2 } from '../.gen/providers/openstack/networking-port-v2/index.js';
import { dualStackPostcondition, oneOfFamily } from './addresses.js';
import { checkHostProps, INSTANCE_IGNORE_CHANGES, type MeetHostProps } from './hosts.js';

export interface MeetHostGroupProps extends Omit<MeetHostProps, 'name' | 'stateVolume'> {
  /** Instance names, one per host, e.g. ["jvb-1", "jvb-2"]. At least one. */
  readonly names: readonly string[];
}

/**
 * `${type.name[each.key].attribute}`: the same-key instance of another for_each resource. A plain expression
 * string, because cdktf's lookup helpers quote `each.key` into a literal; Terraform infers the dependency.
 */
function sameKey(resource: { terraformResourceType: string; friendlyUniqueId: string }, attribute: string): string {
  return `\${${resource.terraformResourceType}.${resource.friendlyUniqueId}[each.key].${attribute}}`;
}

export class MeetHostGroup extends Construct {
  readonly ports: NetworkingPortV2;
  readonly instances: ComputeInstanceV2;
  readonly floatingIps: NetworkingFloatingipV2;
  readonly names: readonly string[];
  /** Map expression host name → the port's IPv4 address on the instance network (chosen by family). */
  readonly privateIps: string;
  /** Map expression host name → floating (public) IPv4 address. */
  readonly publicIps: string;
  /** Map expression host name → the port's global IPv6 address (chosen by family). */
  readonly ipv6s: string;
  private readonly portsAddress: string;

  constructor(scope: Construct, id: string, props: MeetHostGroupProps) {
    super(scope, id);
    if (props.names.length === 0) throw new Error('a host group needs at least one host name');
    const duplicate = props.names.find((name, index) => props.names.indexOf(name) !== index);
    if (duplicate !== undefined) throw new Error(`host name "${duplicate}" is given twice`);
    for (const name of props.names) checkHostProps({ ...props, name });
    this.names = [...props.names];

    // The keys are the host names; the values are unused (a map, because Terraform's for_each takes no lists).
    const hosts = TerraformIterator.fromMap(Object.fromEntries(this.names.map((name) => [name, name])));
    this.ports = new NetworkingPortV2(this, 'port', {
      forEach: hosts,
      name: hosts.key,
      networkId: props.networkId,
      securityGroupIds: [...props.securityGroupIds],
      adminStateUp: true,
      lifecycle: { postcondition: [dualStackPostcondition('${each.key}')] },
    });
    const ports = TerraformIterator.fromResources(this.ports);
    this.instances = new ComputeInstanceV2(this, 'instance', {
      forEach: ports,
      name: ports.key,
      flavorId: props.flavorId,
      imageId: props.imageId,
      userData: props.userData,
      metadata: props.metadata ? { ...props.metadata } : undefined,
      network: [{ port: ports.getString('id') }],
      lifecycle: { ignoreChanges: [...INSTANCE_IGNORE_CHANGES] },
    });
    this.floatingIps = new NetworkingFloatingipV2(this, 'floating-ip', {
      forEach: hosts,
      pool: props.floatingIpPool,
      description: `${hosts.key} public address`,
    });
    const floatingIps = TerraformIterator.fromResources(this.floatingIps);
    new NetworkingFloatingipAssociateV2(this, 'floating-ip-association', {
      forEach: floatingIps,
      floatingIp: floatingIps.getString('address'),
      portId: sameKey(this.ports, 'id'),
      // The IPv4 of the same-key port (see MeetHost).
      fixedIp: `\${${oneOfFamily(sameKey(this.ports, 'all_fixed_ips').slice(2, -1), 4)}}`,
    });
    this.portsAddress = `${this.ports.terraformResourceType}.${this.ports.friendlyUniqueId}`;
    this.privateIps = Token.asString(ports.forExpressionForMap('key', oneOfFamily('val.all_fixed_ips', 4)));
    this.ipv6s = Token.asString(ports.forExpressionForMap('key', oneOfFamily('val.all_fixed_ips', 6)));
    this.publicIps = Token.asString(floatingIps.forExpressionForMap('key', 'val.address'));
  }

  /** `${...}` expression: the IPv4 of the host whose name is the expression `key` (e.g. each.key). */
  privateIpOf(key: string): string {
    return `\${${oneOfFamily(`${this.portsAddress}[${key}].all_fixed_ips`, 4)}}`;
  }
}
