/**
 * Security groups. The world reaches exactly 80/tcp, 443/tcp and 10000/udp (IPv4 and IPv6) on the Jitsi host,
 * 10000/udp on extra JVB hosts and 80/443 tcp on meet-auth; ssh only from the admin CIDRs; the agent port only
 * from meet-auth's group; Prosody's client port only from the JVB hosts' group. Nothing else is opened.
 */
import { Construct } from 'constructs';
import { NetworkingSecgroupRuleV2 } from '../.gen/providers/openstack/networking-secgroup-rule-v2/index.js';
import { NetworkingSecgroupV2 } from '../.gen/providers/openstack/networking-secgroup-v2/index.js';
import { isCidr } from './config.js';
import { ports } from './layout.js';

export interface MeetSecurityGroupsProps {
  /** Prefix of the group names, e.g. "production". */
  readonly namePrefix: string;
  /** CIDRs allowed to reach ssh on every host. */
  readonly adminCidrs: readonly string[];
  /** Create the group of the extra JVB hosts (and open Prosody's client port to it). @default false */
  readonly withJvbHosts?: boolean;
  /** Port of the agent on the Jitsi host. @default 4000 */
  readonly agentPort?: number;
  /** JVB media port. @default 10000 */
  readonly jvbMediaPort?: number;
  /** Prosody's client port, published to the JVB hosts. @default 5222 */
  readonly xmppPort?: number;
}

type Protocol = 'tcp' | 'udp';
const WORLD = { IPv4: '0.0.0.0/0', IPv6: '::/0' } as const;

function checkPort(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65_535)
    throw new Error(`${name} ${value} is not a port number (1-65535)`);
  return value;
}

export class MeetSecurityGroups extends Construct {
  readonly jitsi: NetworkingSecgroupV2;
  readonly meetAuth: NetworkingSecgroupV2;
  /** Present only with `withJvbHosts`. */
  readonly jvb?: NetworkingSecgroupV2;

  constructor(scope: Construct, id: string, props: MeetSecurityGroupsProps) {
    super(scope, id);
    if (!/^[a-z][a-z0-9-]*$/.test(props.namePrefix))
      throw new Error(`namePrefix "${props.namePrefix}" must be lower-case letters, digits and dashes`);
    if (props.adminCidrs.length === 0)
      throw new Error("adminCidrs is empty: ssh would be unreachable; give the bastions' range");
    for (const cidr of props.adminCidrs) {
      if (!isCidr(cidr)) throw new Error(`admin CIDR "${cidr}" is not an IPv4 or IPv6 CIDR`);
      if (cidr.endsWith('/0')) throw new Error(`admin CIDR "${cidr}" would open ssh to the world`);
    }
    const agentPort = checkPort('agentPort', props.agentPort ?? ports.agent);
    const mediaPort = checkPort('jvbMediaPort', props.jvbMediaPort ?? ports.jvbMedia);
    const xmppPort = checkPort('xmppPort', props.xmppPort ?? ports.xmppClient);

    const group = (name: string, description: string) =>
      new NetworkingSecgroupV2(this, name, {
        name: `${props.namePrefix}-${name}`,
        description,
        deleteDefaultRules: false,
      });
    this.jitsi = group('jitsi', 'Jitsi Meet: web, media, agent from meet-auth');
    this.meetAuth = group('meet-auth', 'meet-auth: web');
    if (props.withJvbHosts) this.jvb = group('jvb', 'extra Jitsi video bridges: media');

    const key = (target: NetworkingSecgroupV2) => target.node.id;
    const world = (target: NetworkingSecgroupV2, protocol: Protocol, port: number) => {
      for (const ethertype of ['IPv4', 'IPv6'] as const) {
        new NetworkingSecgroupRuleV2(this, `${key(target)}-world-${protocol}-${port}-${ethertype}`, {
          securityGroupId: target.id,
          direction: 'ingress',
          ethertype,
          protocol,
          portRangeMin: port,
          portRangeMax: port,
          remoteIpPrefix: WORLD[ethertype],
          description: `world → ${port}/${protocol}`,
        });
      }
    };
    const fromGroup = (target: NetworkingSecgroupV2, source: NetworkingSecgroupV2, port: number, label: string) =>
      new NetworkingSecgroupRuleV2(this, `${key(target)}-${label}`, {
        securityGroupId: target.id,
        direction: 'ingress',
        ethertype: 'IPv4',
        protocol: 'tcp',
        portRangeMin: port,
        portRangeMax: port,
        remoteGroupId: source.id,
        description: `${label} → ${port}/tcp`,
      });

    world(this.jitsi, 'tcp', ports.http);
    world(this.jitsi, 'tcp', ports.https);
    world(this.jitsi, 'udp', mediaPort);
    world(this.meetAuth, 'tcp', ports.http);
    world(this.meetAuth, 'tcp', ports.https);
    fromGroup(this.jitsi, this.meetAuth, agentPort, 'agent-from-meet-auth');
    if (this.jvb) {
      world(this.jvb, 'udp', mediaPort);
      fromGroup(this.jitsi, this.jvb, xmppPort, 'xmpp-from-jvb');
    }
    for (const target of [this.jitsi, this.meetAuth, ...(this.jvb ? [this.jvb] : [])]) {
      props.adminCidrs.forEach((cidr, index) => {
        new NetworkingSecgroupRuleV2(this, `${key(target)}-ssh-${index}`, {
          securityGroupId: target.id,
          direction: 'ingress',
          ethertype: cidr.includes(':') ? 'IPv6' : 'IPv4',
          protocol: 'tcp',
          portRangeMin: ports.ssh,
          portRangeMax: ports.ssh,
          remoteIpPrefix: cidr,
          description: `admins → ${ports.ssh}/tcp`,
        });
      });
    }
  }
}
