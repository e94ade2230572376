/**
 * meet.wmcloud.org: Cloud VPS project "meet" in eqiad1, one large Jitsi instance (web, prosody, jicofo, jvb and
 * the account agent) and a small meet-auth host, as the original deployment had. Ids change; names are looked up.
 */
import type { EnvironmentInput } from '../config.js';

export const production: EnvironmentInput = {
  name: 'production',
  openstack: {
    authUrl: 'https://openstack.eqiad1.wikimediacloud.org:25000/v3',
    region: 'eqiad1-r',
    project: 'meet',
  },
  state: {
    kind: 's3',
    bucket: 'meet:tofu-state',
    endpoint: 'https://object.eqiad1.wikimediacloud.org',
    region: 'eqiad1',
    keyPrefix: 'meet',
  },
  network: { name: 'VXLAN/IPv6-dualstack', floatingIpPool: 'wan-transport-eqiad' },
  image: 'debian-12.0-bookworm',
  // Cloud VPS's internal ranges, where the bastions are and will be (legacy, VXLAN and dual-stack); nothing wider.
  adminCidrs: ['172.16.0.0/17', '2a02:ec80:a000::/56'],
  // The operator's shell name comes at deploy time (TF_VAR_ssh_user); keys and the bastion's settings from ~/.ssh/config.
  ssh: { bastion: 'bastion.wmcloud.org' },
  domains: { meet: 'meet.wmcloud.org', auth: 'auth.meet.wmcloud.org' },
  // Cloud VPS makes <project>.wmcloud.org. for every project: for project "meet" this zone is its own.
  dns: { zones: ['meet.wmcloud.org.'], ttl: 300 },
  hosts: {
    jitsi: { flavor: 'g4.cores8.ram16.disk20' },
    meetAuth: { flavor: 'g4.cores1.ram2.disk20' },
    jvb: { count: 0 },
  },
  jitsi: { imageTag: 'stable-11146-2', enableGuests: true, timezone: 'UTC' },
  edge: { tls: true, logLevel: 'info' },
  // Daily at a random time in the first hour, to s3://meet:backups/production on Cloud VPS object storage (the
  // default endpoint); 7 daily and 4 weekly archives kept. Credentials and key: the secrets file.
  backup: { bucket: 'meet:backups', prefix: 'production', schedule: 'daily', keepDaily: 7, keepWeekly: 4 },
};
