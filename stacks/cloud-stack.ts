/**
 * `<env>-cloud`: everything OpenStack. Security groups, the state volumes, the hosts (jitsi, meet-auth, jvb-N) with
 * their floating IPs, each host's readiness gate and host files, and the DNS records. Its host addresses feed `<env>-services` through its state
 * outputs (a docker provider cannot be configured from values unknown at plan time within one stack).
 */
import { relative, resolve } from 'node:path';
import { App, TerraformIterator, TerraformOutput, TerraformStack, type ITerraformDependable } from 'cdktf';
import type { Construct } from 'constructs';
import { DataOpenstackComputeFlavorV2 } from '../.gen/providers/openstack/data-openstack-compute-flavor-v2/index.js';
import { DataOpenstackIdentityAuthScopeV3 } from '../.gen/providers/openstack/data-openstack-identity-auth-scope-v3/index.js';
import { DataOpenstackImagesImageV2 } from '../.gen/providers/openstack/data-openstack-images-image-v2/index.js';
import { DataOpenstackNetworkingNetworkV2 } from '../.gen/providers/openstack/data-openstack-networking-network-v2/index.js';
import { DataOpenstackNetworkingSecgroupV2 } from '../.gen/providers/openstack/data-openstack-networking-secgroup-v2/index.js';
import { OpenstackProvider } from '../.gen/providers/openstack/provider/index.js';
import { configureBackend } from './backend.js';
import { hostCloudInit, type HostRole } from './cloud-init.js';
import type { EnvironmentConfig } from './config.js';
import { MeetDns } from './dns.js';
import { MeetHostGroup, type MeetHostGroupProps } from './host-group.js';
import { HostFilesStep } from './host-files-step.js';
import { hostFiles } from './host-files.js';
import { MeetHost } from './hosts.js';
import { ReadinessGate, type ReadinessGateProps } from './readiness.js';
import { MeetSecurityGroups } from './security-groups.js';
import { sshUserVariable } from './ssh.js';
import { StateVolume } from './state-volume.js';
import { REPO_ROOT } from './tooling/bindings.js';

/** The addresses of one host. */
export interface HostAddresses {
  readonly name: string;
  /** The port's IPv4 on the instance network, chosen by family (docker over ssh, agent, XMPP from the bridges). */
  readonly privateIp: string;
  /** The floating IPv4. */
  readonly publicIp: string;
  /** The port's global IPv6, chosen by family (served directly: AAAA records, JVB advertising). */
  readonly ipv6: string;
}

type AddressKind = Exclude<keyof HostAddresses, 'name'>;

/** Names of the state outputs that carry a host's addresses to the services stack. */
export function hostOutputNames(host: string): Record<AddressKind, string> {
  const base = host.replace(/-/g, '_');
  return { privateIp: `${base}_private_ip`, publicIp: `${base}_public_ip`, ipv6: `${base}_ipv6` };
}

/** Which host a gate and its host-files step reach (one host, or each extra bridge with forEach). */
type HostTarget = Pick<ReadinessGateProps, 'hostName' | 'instanceId' | 'address' | 'forEach'>;

/** The state outputs that carry the extra JVB hosts' addresses: maps keyed by host name ("jvb-1" …). */
export const JVB_OUTPUTS = { privateIps: 'jvb_private_ips', publicIps: 'jvb_public_ips', ipv6s: 'jvb_ipv6s' } as const;

/** The extra JVB hosts' names for a count: jvb-1 … jvb-N. */
function jvbHostNames(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `jvb-${index + 1}`);
}

/** The auth-scope postcondition: the credential's project must be the environment's. */
function projectGuard(project: string): { condition: string; errorMessage: string } {
  return {
    condition: `\${self.project_name == ${JSON.stringify(project)}}`,
    errorMessage: `the OpenStack credential belongs to project "\${self.project_name}", not to this environment's project ${JSON.stringify(project)}: source the credential of ${JSON.stringify(project)}`,
  };
}

export class CloudStack extends TerraformStack {
  readonly jitsi: HostAddresses;
  readonly meetAuth: HostAddresses;
  /** The extra JVB hosts' names (one for_each group), in order jvb-1 … */
  readonly jvbHostNames: readonly string[];
  /** The extra JVB hosts' group, when there are any. */
  readonly jvbGroup?: MeetHostGroup;
  /** Every host, in order: jitsi, meet-auth, jvb-1 … */
  readonly hostNames: readonly string[];
  /** The state volumes, one per stateful host. */
  readonly stateVolumes: Array<{ readonly host: string; readonly sizeGb: number }> = [];

  constructor(scope: Construct, id: string, env: EnvironmentConfig) {
    super(scope, id);
    configureBackend(this, id, env.state);
    // Credentials come from OS_APPLICATION_CREDENTIAL_ID / OS_APPLICATION_CREDENTIAL_SECRET at deploy time.
    new OpenstackProvider(this, 'openstack', {
      authUrl: env.openstack.authUrl,
      region: env.openstack.region,
      tenantName: env.openstack.project,
    });

    // An application credential carries its own project and ignores tenant_name (gophercloud/utils: "Application
    // credentials don't support scope"): staging's plan with production's credential would build inside "meet".
    // The token's scope is read before anything is planned, and a credential of another project stops the run.
    new DataOpenstackIdentityAuthScopeV3(this, 'auth-scope', {
      name: 'deploy',
      lifecycle: { postcondition: [projectGuard(env.openstack.project)] },
    });
    // Cloud VPS's own rules (ICMP, ssh from the instance ranges, node exporter and NRPE from the monitoring hosts)
    // live in the project's "default" group; a port that carries only our groups loses them.
    const cloudVpsDefault = new DataOpenstackNetworkingSecgroupV2(this, 'default-group', { name: 'default' });

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
    const groups = new MeetSecurityGroups(this, 'network-security', {
      namePrefix: env.name,
      adminCidrs: env.adminCidrs,
      withJvbHosts: jvbCount > 0,
    });
    // No Nova keypair: its key would reach ~debian/.ssh/authorized_keys, which Cloud VPS's sshd never reads (keys
    // come from LDAP and /etc/ssh/userkeys only). The operator logs in with their developer account's key.
    const sshUser = sshUserVariable(this, env);
    const dockerGroupSource = env.ssh.dockerGroup ?? `project-${env.openstack.project}`;
    const scriptsDir = `${relative(resolve(App.of(this).outdir, 'stacks', id), REPO_ROOT) || '.'}/scripts`;
    const gateScript = `${scriptsDir}/wait-for-host.sh`;
    const filesScript = `${scriptsDir}/install-host-files.sh`;
    // Per host: the gate (sshd and dockerd answer), then its host files (timers, scripts, directories); the services
    // stack's containers come after both, since `cdktf deploy` applies this stack first.
    const hostOptions = env.backup ? { backup: { ...env.backup, prefix: env.backup.prefix ?? env.name } } : {};
    // `target` is one host, or each extra bridge with forEach; both steps take the same ssh path.
    const prepare = (id: string, role: HostRole, target: HostTarget, readyAfter?: ITerraformDependable[]) => {
      const ssh = { ...target, user: sshUser, bastion: env.ssh.bastion };
      const ready = new ReadinessGate(this, `${id}-ready`, {
        ...ssh,
        waitSeconds: env.ssh.readySeconds,
        script: gateScript,
        dependsOn: readyAfter,
      });
      new HostFilesStep(this, `${id}-host-files`, {
        ...ssh,
        files: hostFiles(role, hostOptions),
        script: filesScript,
        dependsOn: [ready],
      });
    };
    const host = (
      id: 'jitsi' | 'meet-auth',
      role: HostRole,
      flavor: string,
      groupId: string,
      volume: { sizeGb: number; holds: string },
    ) => {
      const state = new StateVolume(this, `${id}-state`, {
        name: `${env.name}-${id}-state`,
        sizeGb: volume.sizeGb,
        holds: volume.holds,
      });
      this.stateVolumes.push({ host: id, sizeGb: state.sizeGb });
      const created = new MeetHost(this, id, {
        name: id,
        flavorId: flavorId(flavor),
        imageId: image.id,
        networkId: network.id,
        securityGroupIds: [groupId, cloudVpsDefault.id],
        floatingIpPool: env.network.floatingIpPool,
        userData: hostCloudInit(role, { dockerGroupSource, stateVolumeId: state.volume.id }),
        metadata: { environment: env.name, role },
        stateVolume: state.volume,
      });
      prepare(
        id,
        role,
        { hostName: id, instanceId: created.instance.id, address: created.privateIp },
        created.volumeAttachment ? [created.volumeAttachment] : [],
      );
      const outputs = hostOutputNames(id);
      new TerraformOutput(this, outputs.publicIp, { value: created.publicIp, description: `public address of ${id}` });
      new TerraformOutput(this, outputs.privateIp, { value: created.privateIp, description: `private IPv4 of ${id}` });
      new TerraformOutput(this, outputs.ipv6, { value: created.ipv6, description: `global IPv6 of ${id}` });
      return { name: id, privateIp: created.privateIp, publicIp: created.publicIp, ipv6: created.ipv6 };
    };

    this.jitsi = host('jitsi', 'jitsi', env.hosts.jitsi.flavor, groups.jitsi.id, {
      sizeGb: env.hosts.jitsi.stateVolumeGb,
      holds: 'Prosody accounts, agent inbox, certificates, ACME account',
    });
    this.meetAuth = host('meet-auth', 'meet-auth', env.hosts.meetAuth.flavor, groups.meetAuth.id, {
      sizeGb: env.hosts.meetAuth.stateVolumeGb,
      holds: 'meet-auth registry, tickets, audit trail, certificates, ACME account',
    });
    this.jvbHostNames = jvbHostNames(jvbCount);
    this.jvbGroup =
      jvbCount > 0
        ? this.addJvbGroup(this.jvbHostNames, {
            flavorId: flavorId(env.hosts.jvb.flavor ?? env.hosts.jitsi.flavor),
            imageId: image.id,
            networkId: network.id,
            securityGroupIds: [groups.jvb!.id, cloudVpsDefault.id],
            floatingIpPool: env.network.floatingIpPool,
            userData: hostCloudInit('jvb', { dockerGroupSource }),
            metadata: { environment: env.name, role: 'jvb' },
          })
        : undefined;
    if (this.jvbGroup) {
      // One gate and one host-files step per extra bridge, keyed like the instances.
      prepare('jvb', 'jvb', {
        forEach: TerraformIterator.fromResources(this.jvbGroup.instances),
        hostName: '${each.key}',
        instanceId: '${each.value.id}',
        address: this.jvbGroup.privateIpOf('each.key'),
      });
    }
    this.hostNames = [this.jitsi.name, this.meetAuth.name, ...this.jvbHostNames];

    new MeetDns(this, 'dns', {
      zones: env.dns.zones,
      ttl: env.dns.ttl,
      records: [
        { name: env.domains.meet, address: this.jitsi.publicIp, ipv6: this.jitsi.ipv6 },
        { name: env.domains.auth, address: this.meetAuth.publicIp, ipv6: this.meetAuth.ipv6 },
      ],
    });
  }

  /** The extra JVB hosts as one for_each group, with two map outputs instead of two outputs per host. */
  private addJvbGroup(names: readonly string[], props: Omit<MeetHostGroupProps, 'names'>): MeetHostGroup {
    const group = new MeetHostGroup(this, 'jvb', { ...props, names });
    new TerraformOutput(this, JVB_OUTPUTS.publicIps, {
      value: group.publicIps,
      description: 'public addresses of the extra JVB hosts, by name',
    });
    new TerraformOutput(this, JVB_OUTPUTS.privateIps, {
      value: group.privateIps,
      description: 'private IPv4 addresses of the extra JVB hosts, by name',
    });
    new TerraformOutput(this, JVB_OUTPUTS.ipv6s, {
      value: group.ipv6s,
      description: 'global IPv6 addresses of the extra JVB hosts, by name',
    });
    return group;
  }
}
