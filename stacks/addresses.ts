/**
 * Picking a port's addresses by family. On Cloud VPS's VXLAN/IPv6-dualstack network every port has one IPv4
 * (172.16.16.0/21) and one global IPv6 (2a02:ec80:a000:1::/64), and `all_fixed_ips` lists them in the API's order
 * (terraform-provider-openstack v3.4.0 openstack/networking_port_v2.go:208 copies port.FixedIPs as Neutron returns
 * them), which is not guaranteed: never take element 0, filter by family.
 */

export type Family = 4 | 6;

/** Terraform condition (over variable `ip`) true for addresses of `family`: IPv6 is the one with a colon. */
function isFamily(family: Family): string {
  return family === 6 ? 'strcontains(ip, ":")' : '!strcontains(ip, ":")';
}

/** Terraform expression (no `${}`): the list of addresses of `family` in the list expression `list`. */
function ofFamily(list: string, family: Family): string {
  return `[for ip in ${list} : ip if ${isFamily(family)}]`;
}

/** Terraform expression (no `${}`): the address of `family` in `list` (the port's postcondition makes it unique). */
export function oneOfFamily(list: string, family: Family): string {
  return `${ofFamily(list, family)}[0]`;
}

/**
 * A port postcondition: exactly one IPv4 and one IPv6 address, so picking by family is unambiguous. A port on an
 * IPv4-only network (or a network with two subnets of one family) fails here with the host's name and its
 * addresses instead of an index error later.
 */
export function dualStackPostcondition(hostName: string): { condition: string; errorMessage: string } {
  return {
    condition: `\${length(${ofFamily('self.all_fixed_ips', 4)}) == 1 && length(${ofFamily('self.all_fixed_ips', 6)}) == 1}`,
    errorMessage: `the port of host ${hostName} needs exactly one IPv4 and one IPv6 address (network VXLAN/IPv6-dualstack); it has: \${join(", ", self.all_fixed_ips)}`,
  };
}
