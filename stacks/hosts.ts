/**
 * One Cloud VPS host: a port on the instance network (carrying the security groups), the instance booted from
 * that port with cloud-init user data, and a floating IP associated through the port
 * (networking_floatingip_associate_v2: provider 3.0 removed the compute association).
 */
import { Construct } from 'constructs';
import type { BlockstorageVolumeV3 } from '../.gen/providers/openstack/blockstorage-volume-v3/index.js';
import { ComputeInstanceV2 } from '../.gen/providers/openstack/compute-instance-v2/index.js';
import { ComputeVolumeAttachV2 } from '../.gen/providers/openstack/compute-volume-attach-v2/index.js';
import { NetworkingFloatingipAssociateV2 } from '../.gen/providers/openstack/networking-floatingip-associate-v2/index.js';
import { NetworkingFloatingipV2 } from '../.gen/providers/openstack/networking-floatingip-v2/index.js';
import { NetworkingPortV2 } from '../.gen/providers/openstack/networking-port-v2/index.js';
import { dualStackPostcondition, oneOfFamily } from './addresses.js';

export interface MeetHostProps {
  /** Instance name; on Cloud VPS it resolves as `<name>.<project>.eqiad1.wikimedia.cloud`. */
  readonly name: string;
  readonly flavorId: string;
  readonly imageId: string;
  readonly networkId: string;
  readonly securityGroupIds: readonly string[];
  /** External network the floating IP comes from. */
  readonly floatingIpPool: string;
  /** cloud-init user data. @default none */
  readonly userData?: string;
  /** Instance metadata. @default none */
  readonly metadata?: Readonly<Record<string, string>>;
  /** The volume with the host's state, attached to the instance (the user data mounts it). @default none */
  readonly stateVolume?: BlockstorageVolumeV3;
}

/**
 * What an instance never follows: `image_id`. WMCS publishes refreshed images under the same name, so the
 * most-recent lookup returns a new id, and the provider rebuilds a server whose image_id changes
 * (terraform-provider-openstack v3.4.0 resource_openstack_compute_instance_v2.go:1094-1141), wiping its disk.
 * A host gets a new image only when it is replaced on purpose (docs/operations.md, "Replacing a host on
 * purpose"). `user_data` stays followed: it is ForceNew (:85-88), so it holds only what never changes in normal
 * life (what changes is a host file: stacks/host-files-step.ts), and the state lives on the volume.
 */
export const INSTANCE_IGNORE_CHANGES = ['image_id'] as const;

/** Nova's limit on the base64-encoded user data, in bytes. */
const NOVA_USER_DATA_LIMIT = 65_535;

const INSTANCE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** The checks every host gets, with messages naming the bad value. */
export function checkHostProps(props: MeetHostProps): void {
  if (!INSTANCE_NAME.test(props.name))
    throw new Error(
      `host name "${props.name}" must be lower-case letters, digits and dashes (max 63), starting with a letter`,
    );
  if (props.securityGroupIds.length === 0)
    throw new Error(`host "${props.name}" has no security group: it would get the project's default group`);
  // Nova's limit is on the base64 text it receives (the provider encodes user_data), about 49 KB of raw bytes.
  const encoded = props.userData === undefined ? 0 : Buffer.from(props.userData).toString('base64').length;
  if (encoded > NOVA_USER_DATA_LIMIT) {
    throw new Error(
      `user data of host "${props.name}" is ${encoded} bytes in base64 (${Buffer.byteLength(props.userData!)} raw); Nova accepts at most ${NOVA_USER_DATA_LIMIT}`,
    );
  }
}

export class MeetHost extends Construct {
  readonly instance: ComputeInstanceV2;
  readonly port: NetworkingPortV2;
  readonly floatingIp: NetworkingFloatingipV2;
  /** The state volume's attachment, when the host has one. */
  readonly volumeAttachment?: ComputeVolumeAttachV2;
  /** The port's IPv4 address on the instance network, chosen by family (what the docker providers and the agent use). */
  readonly privateIp: string;
  /** The floating (public) IPv4 address. */
  readonly publicIp: string;
  /** The port's global IPv6 address, chosen by family (served directly: AAAA records, JVB). */
  readonly ipv6: string;

  constructor(scope: Construct, id: string, props: MeetHostProps) {
    super(scope, id);
    checkHostProps(props);

    this.port = new NetworkingPortV2(this, 'port', {
      name: props.name,
      networkId: props.networkId,
      securityGroupIds: [...props.securityGroupIds],
      adminStateUp: true,
      lifecycle: { postcondition: [dualStackPostcondition(props.name)] },
    });
    const fixedIps = `${this.port.terraformResourceType}.${this.port.friendlyUniqueId}.all_fixed_ips`;
    this.privateIp = `\${${oneOfFamily(fixedIps, 4)}}`;
    this.ipv6 = `\${${oneOfFamily(fixedIps, 6)}}`;
    this.instance = new ComputeInstanceV2(this, 'instance', {
      name: props.name,
      flavorId: props.flavorId,
      imageId: props.imageId,
      userData: props.userData,
      metadata: props.metadata ? { ...props.metadata } : undefined,
      // The provider replaces the instance when its user data changes (cloud-init only runs at first boot).
      network: [{ port: this.port.id }],
      lifecycle: { ignoreChanges: [...INSTANCE_IGNORE_CHANGES] },
    });
    if (props.stateVolume) {
      // A replaced instance gets a new attachment of the same volume (instance_id is ForceNew on the attachment).
      this.volumeAttachment = new ComputeVolumeAttachV2(this, 'state-volume-attachment', {
        instanceId: this.instance.id,
        volumeId: props.stateVolume.id,
      });
    }
    this.floatingIp = new NetworkingFloatingipV2(this, 'floating-ip', {
      pool: props.floatingIpPool,
      description: `${props.name} public address`,
    });
    // fixed_ip names the IPv4: a floating IPv4 cannot map to the port's IPv6, and without it Neutron picks one.
    new NetworkingFloatingipAssociateV2(this, 'floating-ip-association', {
      floatingIp: this.floatingIp.address,
      portId: this.port.id,
      fixedIp: this.privateIp,
    });
    this.publicIp = this.floatingIp.address;
  }
}
