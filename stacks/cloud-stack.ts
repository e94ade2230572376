/**
 * `<env>-cloud`: everything OpenStack. Security groups, the keypair, the hosts (jitsi, meet-auth, jvb-N) with
 * their floating IPs, and the DNS records. Its host addresses feed `<env>-services` through its state
 * outputs (a docker provider cannot be configured from values unknown at plan time within one stack).
 */
import { TerraformOutput, TerraformStack, TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { ComputeKeypairV2 } from '../.gen/providers/openstack/compute-keypair-v2/index.js';
import { DataOpenstackComputeFlavorV2 } from '../.gen/providers/openstack/data-openstack-compute-flavor-v2/index.js';
import { DataOpenstackImagesImageV2 } from '../.gen/providers/openstack/data-openstack-images-image-v2/index.js';
import { DataOpenstackNetworkingNetworkV2 } from '../.gen/providers/openstack/data-openstack-networking-network-v2/index.js';
import { OpenstackProvider } from '../.gen/providers/openstack/provider/index.js';
import { configureBackend } from './backend.js';
import { hostCloudInit, type HostRole } from './cloud-init.js';
import type { EnvironmentConfig } from './config.js';
import { MeetDns } from './dns.js';
import { MeetHost } from './hosts.js';
import { MeetNetwork } from './network.js';

/** The addresses of one host. */
export interface HostAddresses {
  readonly name: string;
  readonly privateIp: string;
  readonly publicIp: string;
}

/** Names of the state outputs that carry a host's addresses to the services stack. */
export function hostOutputNames(host: string): { privateIp: string; publicIp: string } {
  const base = host.replace(/-/g, '_');
  return { privateIp: `${base}_private_ip`, publicIp: `${base}_public_ip` };
}

export class CloudStack extends TerraformStack {
  readonly jitsi: HostAddresses;
  readonly meetAuth: HostAddresses;
  readonly jvbHosts: readonly HostAddresses[];
  /** Every host, in order: jitsi, meet-auth, jvb-1 … */
  readonly hostNames: readonly string[];

  constructor(scope: Construct, id: string, env: EnvironmentConfig) {
    super(scope, id);
    configureBackend(this, id, env.state);
    // Credentials come from OS_APPLICATION_CREDENTIAL_ID / OS_APPLICATION_CREDENTIAL_SECRET at deploy time.
    new OpenstackProvider(this, 'openstack', {
      authUrl: env.openstack.authUrl,
      region: env.openstack.region,
      tenantName: env.openstack.project,
    });

    const sshPublicKey = new TerraformVariable(this, 'ssh_public_key', {
      type: 'string',
      description: 'OpenSSH public key for the hosts\' keypair (its private half stays with the operator)',
      nullable: false,
    });
    const keypair = new ComputeKeypairV2(this, 'keypair', { name: `${env.name}-meet`, publicKey: sshPublicKey.stringValue });
    const image = new DataOpenstackImagesImageV2(this, 'image', { name: env.image, mostRecent: true });
    const network = new DataOpenstackNetworkingNetworkV2(this, 'network', { name: env.network.name });
    const flavors = new Map<string, DataOpenstackComputeFlavorV2>();
    const flavorId = (name: string) => {
      let flavor = flavors.get(name);
      if (!flavor) {
        flavor = new DataOpenstackComputeFlavorV2(this, `flavor-${name}`, { name });
        flavors.set(name, flavor);
      }
      return flavor.id;
    };

    const jvbCount = env.hosts.jvb.count;
    const groups = new MeetNetwork(this, 'network-security', { namePrefix: env.name, adminCidrs: env.adminCidrs, withJvbHosts: jvbCount > 0 });
    const host = (id: string, role: HostRole, flavor: string, groupId: string) => {
      const created = new MeetHost(this, id, {
        name: id,
        flavorId: flavorId(flavor),
        imageId: image.id,
        networkId: network.id,
        securityGroupIds: [groupId],
        keyPairName: keypair.name,
        floatingIpPool: env.network.floatingIpPool,
        userData: hostCloudInit(role, env.ssh.user),
        metadata: { environment: env.name, role },
      });
      const outputs = hostOutputNames(id);
      new TerraformOutput(this, outputs.publicIp, { value: created.publicIp, description: `public address of ${id}` });
      new TerraformOutput(this, outputs.privateIp, { value: created.privateIp, description: `private address of ${id}` });
      return { name: id, privateIp: created.privateIp, publicIp: created.publicIp };
    };

    this.jitsi = host('jitsi', 'jitsi', env.hosts.jitsi.flavor, groups.jitsi.id);
    this.meetAuth = host('meet-auth', 'meet-auth', env.hosts.meetAuth.flavor, groups.meetAuth.id);
    const jvbFlavor = env.hosts.jvb.flavor ?? env.hosts.jitsi.flavor;
    this.jvbHosts = Array.from({ length: jvbCount }, (_, index) => host(`jvb-${index + 1}`, 'jvb', jvbFlavor, groups.jvb!.id));
    this.hostNames = [this.jitsi, this.meetAuth, ...this.jvbHosts].map((item) => item.name);

    new MeetDns(this, 'dns', {
      zones: env.dns.zones,
      ttl: env.dns.ttl,
      records: [
        { name: env.domains.meet, address: this.jitsi.publicIp },
        { name: env.domains.auth, address: this.meetAuth.publicIp },
      ],
    });
  }
}
