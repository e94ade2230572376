import { afterAll, describe, expect, it } from 'vitest';
import { checkStack } from '../support/schema/schema-check.js';
import { dockerProviderSchema } from '../support/schema/docker-schema.js';
import { readTree, sharedStacks, synthStacks, synthTo, tempDirs } from './app-helpers.js';
import { container, openstackSchema, productionConfig, resourcesOf, triggerInput, type TfJson } from './helpers.js';

const production = sharedStacks('production');
const cloud = production['production-cloud']!;
const services = production['production-services']!;
const JITSI = ['jitsi-web', 'jitsi-prosody', 'jitsi-jicofo', 'jitsi-jvb'];
const ALL_CONTAINERS = [...JITSI, 'meet-agent', 'meet-edge'];
const temp = tempDirs('meet-app-');
afterAll(temp.removeAll);

describe('the production app', () => {
  it('has the two stacks, the services stack depending on the cloud stack', () => {
    expect(Object.keys(production).sort()).toEqual(['production-cloud', 'production-services']);
    // The services stack reads the cloud stack's outputs from its state, by stable names.
    expect(services.data?.terraform_remote_state).toEqual({
      cloud: {
        backend: 's3',
        config: expect.objectContaining({ key: 'meet/production-cloud.tfstate', bucket: 'meet:tofu-state' }),
      },
    });
    // As the operator's shell name (TF_VAR_ssh_user), never debian, whose keys Cloud VPS's sshd never reads.
    expect(services.provider?.docker?.map((provider) => provider.host)).toEqual([
      'ssh://${var.ssh_user}@${data.terraform_remote_state.cloud.outputs.jitsi_private_ip}',
      'ssh://${var.ssh_user}@${data.terraform_remote_state.cloud.outputs.meet_auth_private_ip}',
    ]);
    for (const stack of [cloud, services]) {
      expect(stack.variable?.ssh_user).toMatchObject({ type: 'string', nullable: false });
      expect(stack.variable?.ssh_user).not.toHaveProperty('default');
    }
    expect(resourcesOf(cloud, 'openstack_compute_keypair_v2')).toEqual([]);
    for (const instance of resourcesOf(cloud, 'openstack_compute_instance_v2'))
      expect(instance).not.toHaveProperty('key_pair');
    expect(Object.keys(cloud.output ?? {})).toEqual(
      expect.arrayContaining(['jitsi_private_ip', 'meet_auth_private_ip']),
    );
  });

  it('the world reaches exactly 80/tcp, 443/tcp and 10000/udp, over IPv4 and IPv6', () => {
    const open = resourcesOf(cloud, 'openstack_networking_secgroup_rule_v2').filter(
      (rule) =>
        rule.remote_ip_prefix === '0.0.0.0/0' ||
        rule.remote_ip_prefix === '::/0' ||
        (!rule.remote_ip_prefix && !rule.remote_group_id),
    );
    expect(new Set(open.map((rule) => `${rule.port_range_min}-${rule.port_range_max}/${rule.protocol}`))).toEqual(
      new Set(['80-80/tcp', '443-443/tcp', '10000-10000/udp']),
    );
    for (const port of [80, 443, 10000]) {
      expect(new Set(open.filter((rule) => rule.port_range_min === port).map((rule) => rule.ethertype))).toEqual(
        new Set(['IPv4', 'IPv6']),
      );
    }
    // Published container ports match: only web (80/443), jvb (10000/udp) and edge face the world, on IPv4 and IPv6.
    const published = (ip: string) =>
      new Set(
        resourcesOf(services, 'docker_container').flatMap((item) =>
          ((item.ports ?? []) as Array<{ external: number; ip?: string; protocol?: string }>)
            .filter((port) => (port.ip ?? '0.0.0.0') === ip)
            .map((port) => `${port.external}/${port.protocol ?? 'tcp'}`),
        ),
      );
    expect(published('0.0.0.0')).toEqual(new Set(['80/tcp', '443/tcp', '10000/udp']));
    expect(published('::')).toEqual(published('0.0.0.0'));
    // Anything else is published on the private address only (Prosody's 5222 for extra bridges).
    const elsewhere = resourcesOf(services, 'docker_container').flatMap((item) =>
      ((item.ports ?? []) as Array<{ ip?: string }>)
        .filter((port) => port.ip !== undefined && port.ip !== '0.0.0.0' && port.ip !== '::')
        .map((port) => port.ip),
    );
    for (const ip of elsewhere) expect(ip).toMatch(/private_ip/);
  });

  it('sets ENABLE_AUTH, AUTH_TYPE and ENABLE_GUESTS with the same values on each of web, prosody and jicofo that reads it', () => {
    // Which image reads which: test/stacks/jitsi-images.test.ts (AUTH_TYPE not by web, ENABLE_GUESTS not by jicofo).
    const authEnv = (name: string) =>
      container(services, name)
        .env.filter((entry) => /^(ENABLE_AUTH|AUTH_TYPE|ENABLE_GUESTS)=/.test(entry))
        .sort();
    expect(authEnv('jitsi-prosody')).toEqual(['AUTH_TYPE=internal', 'ENABLE_AUTH=1', 'ENABLE_GUESTS=1']);
    expect(authEnv('jitsi-web')).toEqual(['ENABLE_AUTH=1', 'ENABLE_GUESTS=1']);
    expect(authEnv('jitsi-jicofo')).toEqual(['AUTH_TYPE=internal', 'ENABLE_AUTH=1']);
  });

  it('uses no floating image tags', () => {
    const names = resourcesOf(services, 'docker_image').map((image) => image.name as string);
    expect(names).toHaveLength(6);
    for (const name of names)
      expect(name).toMatch(
        /^ghcr\.io\/jitsi\/(web|prosody|jicofo|jvb):stable-\d+-\d+$|^wikimedia-meet\/edge:[a-f0-9]{16}$/,
      );
  });

  it('every openstack_* and docker_* block conforms to the provider schemas', () => {
    const schemas = [openstackSchema(), dockerProviderSchema()];
    const all = { ...production, ...sharedStacks('staging') };
    for (const [name, stack] of Object.entries(all)) {
      for (const schema of schemas) expect(checkStack(stack, schema), name).toEqual([]);
    }
    expect(
      Object.keys(cloud.resource ?? {}).filter((type) => type.startsWith('openstack_')).length,
    ).toBeGreaterThanOrEqual(7);
  });

  it('outputs the public IPs and the URLs', () => {
    expect(Object.keys(cloud.output ?? {})).toEqual(expect.arrayContaining(['jitsi_public_ip', 'meet_auth_public_ip']));
    expect(services.output?.['meet-url']?.value).toBe('https://meet.wmcloud.org');
    expect(services.output?.['auth-url']?.value).toBe('https://auth.meet.wmcloud.org');
  });

  it('takes every address from a port by family, never by position (dual-stack all_fixed_ips come in no set order)', () => {
    const staged = sharedStacks('staging');
    for (const [name, stack] of Object.entries({ ...production, ...staged })) {
      const text = JSON.stringify(stack);
      expect(text, name).not.toMatch(/element\([^)]*all_fixed_ips/);
      expect(text, name).not.toMatch(/all_fixed_ips\[\d/);
    }
    const cloudOutputs = (stack: TfJson) => Object.keys(stack.output ?? {}).sort();
    expect(cloudOutputs(cloud)).toEqual([
      'jitsi_ipv6',
      'jitsi_private_ip',
      'jitsi_public_ip',
      'meet_auth_ipv6',
      'meet_auth_private_ip',
      'meet_auth_public_ip',
    ]);
    expect(cloudOutputs(staged['staging-cloud']!)).toEqual(
      expect.arrayContaining(['jvb_ipv6s', 'jvb_private_ips', 'jvb_public_ips']),
    );
    expect(cloud.output!.jitsi_private_ip!.value).toMatch(
      /^\$\{\[for ip in openstack_networking_port_v2\.jitsi_port_[A-F0-9]+\.all_fixed_ips : ip if !strcontains\(ip, ":"\)\]\[0\]\}$/,
    );
    expect(cloud.output!.jitsi_ipv6!.value).toMatch(
      /^\$\{\[for ip in openstack_networking_port_v2\.jitsi_port_[A-F0-9]+\.all_fixed_ips : ip if strcontains\(ip, ":"\)\]\[0\]\}$/,
    );
    // Every floating IP association names the IPv4 it maps to.
    for (const association of resourcesOf(cloud, 'openstack_networking_floatingip_associate_v2'))
      expect(association.fixed_ip).toMatch(/if !strcontains\(ip, ":"\)\]\[0\]\}$/);
  });

  it("points DNS at the floating IPv4s (A) and the hosts' global IPv6s (AAAA)", () => {
    const records = resourcesOf(cloud, 'openstack_dns_recordset_v2');
    expect(
      records
        .map((record) => [record.name, record.type, record.records])
        .sort((a, b) => `${b[0]}${b[1]}`.localeCompare(`${a[0]}${a[1]}`)),
    ).toEqual([
      [
        'meet.wmcloud.org.',
        'AAAA',
        [
          expect.stringMatching(
            /^\$\{\[for ip in openstack_networking_port_v2\.jitsi_port_[A-F0-9]+\.all_fixed_ips : ip if strcontains\(ip, ":"\)\]\[0\]\}$/,
          ),
        ],
      ],
      [
        'meet.wmcloud.org.',
        'A',
        [expect.stringMatching(/^\$\{openstack_networking_floatingip_v2\.jitsi_floating-ip_[A-F0-9]+\.address\}$/)],
      ],
      [
        'auth.meet.wmcloud.org.',
        'AAAA',
        [
          expect.stringMatching(
            /^\$\{\[for ip in openstack_networking_port_v2\.meet-auth_port_[A-F0-9]+\.all_fixed_ips : ip if strcontains\(ip, ":"\)\]\[0\]\}$/,
          ),
        ],
      ],
      [
        'auth.meet.wmcloud.org.',
        'A',
        [expect.stringMatching(/^\$\{openstack_networking_floatingip_v2\.meet-auth_floating-ip_[A-F0-9]+\.address\}$/)],
      ],
    ]);
  });

  it('refuses to plan with a credential of another project (application credentials ignore tenant_name)', () => {
    const scopes = Object.values(cloud.data?.openstack_identity_auth_scope_v3 ?? {});
    expect(scopes).toEqual([
      {
        '//': expect.anything(),
        name: 'deploy',
        lifecycle: {
          postcondition: [
            {
              condition: '${self.project_name == "meet"}',
              error_message:
                'the OpenStack credential belongs to project "${self.project_name}", not to this environment\'s project "meet": source the credential of "meet"',
            },
          ],
        },
      },
    ]);
    const stagingCloud = sharedStacks('staging')['staging-cloud']!;
    expect(JSON.stringify(stagingCloud.data?.openstack_identity_auth_scope_v3)).toContain(
      'self.project_name == \\"meet-staging\\"',
    );
  });

  it("every port also carries the project's default group (Cloud VPS's ICMP, monitoring and ssh rules), nothing of ours wider", () => {
    const [defaultGroup, ...others] = Object.entries(cloud.data?.openstack_networking_secgroup_v2 ?? {});
    expect(others).toEqual([]);
    expect(defaultGroup![1]).toEqual({ '//': expect.anything(), name: 'default' });
    for (const port of resourcesOf(cloud, 'openstack_networking_port_v2')) {
      expect(port.security_group_ids).toEqual([
        expect.stringMatching(/^\$\{openstack_networking_secgroup_v2\.network-security_/),
        `\${data.openstack_networking_secgroup_v2.${defaultGroup![0]}.id}`,
      ]);
    }
    // No rule of ours lands in the default group.
    for (const rule of resourcesOf(cloud, 'openstack_networking_secgroup_rule_v2'))
      expect(rule.security_group_id).not.toContain('data.');
  });

  it('synthesizes byte-identical output twice', () => {
    const outdir = temp.make();
    synthTo(outdir, [productionConfig()]);
    const first = readTree(outdir);
    synthTo(outdir, [productionConfig()]);
    const second = readTree(outdir);
    expect([...second.keys()].sort()).toEqual([...first.keys()].sort());
    for (const [path, bytes] of first) expect(second.get(path)!.equals(bytes), path).toBe(true);
  });
});

describe('changing one setting replaces exactly the containers it concerns', () => {
  const inputs = (stacks: Record<string, TfJson>) =>
    Object.fromEntries(ALL_CONTAINERS.map((name) => [name, triggerInput(stacks['production-services']!, name)]));
  const base = inputs(production);
  const changed = (override: Parameters<typeof productionConfig>[0]) => {
    const after = inputs(synthStacks([productionConfig(override)]));
    return ALL_CONTAINERS.filter((name) => after[name] !== base[name]);
  };

  it('ENABLE_GUESTS: web and prosody (jicofo never reads it)', () => {
    expect(changed((env) => ({ ...env, jitsi: { ...env.jitsi!, enableGuests: false } }))).toEqual([
      'jitsi-web',
      'jitsi-prosody',
    ]);
  });
  it('the Jitsi release: the four Jitsi containers', () => {
    expect(changed((env) => ({ ...env, jitsi: { ...env.jitsi!, imageTag: 'stable-11200' } }))).toEqual(JITSI);
  });
  it('the meet domain: web, prosody (PUBLIC_URL; jvb never reads it), the agent (the certificate it renews) and the edge (MEET_MEETING_URL)', () => {
    expect(changed((env) => ({ ...env, domains: { ...env.domains, meet: 'video.meet.wmcloud.org' } }))).toEqual([
      'jitsi-web',
      'jitsi-prosody',
      'meet-agent',
      'meet-edge',
    ]);
  });
  it('the auth domain: the edge (public URL and the certificate it renews)', () => {
    expect(changed((env) => ({ ...env, domains: { ...env.domains, auth: 'accounts.meet.wmcloud.org' } }))).toEqual([
      'meet-edge',
    ]);
  });
  it('TLS on the edge: the edge only', () => {
    expect(changed((env) => ({ ...env, edge: { ...env.edge!, tls: false } }))).toEqual(['meet-edge']);
  });
  it('the log level: agent and edge', () => {
    expect(changed((env) => ({ ...env, edge: { ...env.edge!, logLevel: 'debug' } }))).toEqual([
      'meet-agent',
      'meet-edge',
    ]);
  });
  it('an unrelated setting (DNS ttl): none', () => {
    expect(changed((env) => ({ ...env, dns: { ...env.dns, ttl: 600 } }))).toEqual([]);
  });
  it('secrets count too: the trigger input references them, so a rotated value replaces its users', () => {
    const users = (variable: string) => ALL_CONTAINERS.filter((name) => base[name]!.includes(`var.${variable}`));
    expect(users('jvb_auth_password')).toEqual(['jitsi-prosody', 'jitsi-jvb']);
    expect(users('jicofo_auth_password')).toEqual(['jitsi-prosody', 'jitsi-jicofo']);
    expect(users('agent_signing_secrets')).toEqual(['meet-agent', 'meet-edge']);
    expect(users('metrics_token')).toEqual(['meet-edge']);
  });
});
