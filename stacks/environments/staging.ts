/**
 * An example second environment: a staging project with its own domain and two extra JVB hosts, state kept in
 * local files. Copy it for further environments (another domain, another project).
 */
import type { EnvironmentInput } from '../config.js';

export const staging: EnvironmentInput = {
  name: 'staging',
  openstack: {
    authUrl: 'https://openstack.eqiad1.wikimediacloud.org:25000/v3',
    region: 'eqiad1-r',
    project: 'meet-staging',
  },
  network: { name: 'VXLAN/IPv6-dualstack', floatingIpPool: 'wan-transport-eqiad' },
  adminCidrs: ['172.16.0.0/17', '2a02:ec80:a000::/56'],
  ssh: { bastion: 'bastion.wmcloud.org' },
  domains: { meet: 'meet-staging.wmcloud.org', auth: 'auth.meet-staging.wmcloud.org' },
  dns: { zones: ['meet-staging.wmcloud.org.'] },
  hosts: {
    jitsi: { flavor: 'g4.cores4.ram8.disk20' },
    meetAuth: { flavor: 'g4.cores1.ram2.disk20' },
    jvb: { count: 2, flavor: 'g4.cores4.ram8.disk20' },
  },
  jitsi: { imageTag: 'stable-11146-2', enableGuests: false },
  // Let's Encrypt's staging CA: its rate limits allow rebuilding staging often, at the price of certificates that
  // browsers do not trust. Set 'production' for a staging that browsers accept.
  acme: { directory: 'staging' },
  // No `backup`: staging is rebuilt, not restored (no meet-backup timer, no backup secrets to give).
};
