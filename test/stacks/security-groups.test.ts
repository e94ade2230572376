import { describe, expect, it } from 'vitest';
import { MeetSecurityGroups, type MeetSecurityGroupsProps } from '../../stacks/security-groups.js';
import { openstackStack, resourcesOf, synthJson, type TfJson } from './helpers.js';

function synthNetwork(props: Partial<MeetSecurityGroupsProps> = {}): TfJson {
  const stack = openstackStack();
  new MeetSecurityGroups(stack, 'net', { namePrefix: 'prod', adminCidrs: ['172.16.0.0/21'], ...props });
  return synthJson(stack);
}

type Rule = {
  security_group_id: string;
  protocol: string;
  port_range_min: number;
  port_range_max: number;
  ethertype: string;
  remote_ip_prefix?: string;
  remote_group_id?: string;
};
const rules = (json: TfJson) => resourcesOf(json, 'openstack_networking_secgroup_rule_v2') as unknown as Rule[];
const groupOf = (rule: Rule) => /openstack_networking_secgroup_v2\.(net_[a-z-]+)_/.exec(rule.security_group_id)?.[1];
const describeRule = (rule: Rule) =>
  `${groupOf(rule)} ${rule.port_range_min}/${rule.protocol} ${rule.ethertype} from ${rule.remote_ip_prefix ?? `group ${/secgroup_v2\.(net_[a-z-]+)_/.exec(rule.remote_group_id ?? '')?.[1]}`}`;

describe('MeetSecurityGroups', () => {
  it('opens exactly web and media to the world, ssh to admins, the agent to meet-auth', () => {
    const json = synthNetwork();
    expect(resourcesOf(json, 'openstack_networking_secgroup_v2').map((group) => group.name)).toEqual([
      'prod-jitsi',
      'prod-meet-auth',
    ]);
    expect(rules(json).map(describeRule).sort()).toEqual([
      'net_jitsi 10000/udp IPv4 from 0.0.0.0/0',
      'net_jitsi 10000/udp IPv6 from ::/0',
      'net_jitsi 22/tcp IPv4 from 172.16.0.0/21',
      'net_jitsi 4000/tcp IPv4 from group net_meet-auth',
      'net_jitsi 443/tcp IPv4 from 0.0.0.0/0',
      'net_jitsi 443/tcp IPv6 from ::/0',
      'net_jitsi 80/tcp IPv4 from 0.0.0.0/0',
      'net_jitsi 80/tcp IPv6 from ::/0',
      'net_meet-auth 22/tcp IPv4 from 172.16.0.0/21',
      'net_meet-auth 443/tcp IPv4 from 0.0.0.0/0',
      'net_meet-auth 443/tcp IPv6 from ::/0',
      'net_meet-auth 80/tcp IPv4 from 0.0.0.0/0',
      'net_meet-auth 80/tcp IPv6 from ::/0',
    ]);
    for (const rule of rules(json)) expect(rule.port_range_min).toBe(rule.port_range_max);
  });

  it('with JVB hosts: their group gets media from the world and Prosody 5222 opens to that group only', () => {
    const added = rules(synthNetwork({ withJvbHosts: true }))
      .map(describeRule)
      .filter((rule) => rule.includes('jvb'));
    expect(added.sort()).toEqual([
      'net_jitsi 5222/tcp IPv4 from group net_jvb',
      'net_jvb 10000/udp IPv4 from 0.0.0.0/0',
      'net_jvb 10000/udp IPv6 from ::/0',
      'net_jvb 22/tcp IPv4 from 172.16.0.0/21',
    ]);
  });

  it('defaults: no JVB group, agent 4000, media 10000 (each overridable)', () => {
    const json = synthNetwork({ agentPort: 4100, jvbMediaPort: 10100, withJvbHosts: true, xmppPort: 5322 });
    const ports = rules(json).map((rule) => rule.port_range_min);
    expect(ports).toContain(4100);
    expect(ports).toContain(10100);
    expect(ports).toContain(5322);
    expect(ports).not.toContain(4000);
    expect(resourcesOf(synthNetwork(), 'openstack_networking_secgroup_v2')).toHaveLength(2);
  });

  it('an IPv6 admin CIDR gets an IPv6 rule', () => {
    const ssh = rules(synthNetwork({ adminCidrs: ['2a02:ec80::/32'] })).filter((rule) => rule.port_range_min === 22);
    expect(ssh.map((rule) => rule.ethertype)).toEqual(['IPv6', 'IPv6']);
  });

  it('validation errors', () => {
    const attempt = (props: Partial<MeetSecurityGroupsProps>) => () => synthNetwork(props);
    expect(attempt({ adminCidrs: [] })).toThrow(
      "adminCidrs is empty: ssh would be unreachable; give the bastions' range",
    );
    expect(attempt({ adminCidrs: ['10.0.0.0'] })).toThrow('admin CIDR "10.0.0.0" is not an IPv4 or IPv6 CIDR');
    expect(attempt({ adminCidrs: ['0.0.0.0/0'] })).toThrow('admin CIDR "0.0.0.0/0" would open ssh to the world');
    expect(attempt({ namePrefix: 'Prod' })).toThrow('namePrefix "Prod" must be lower-case letters, digits and dashes');
    expect(attempt({ agentPort: 70000 })).toThrow('agentPort 70000 is not a port number (1-65535)');
  });
});
