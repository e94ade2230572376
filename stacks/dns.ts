/**
 * Designate A records (the floating IPv4) and AAAA records (the host's global IPv6) for the public names, each
 * placed in the configured zone that contains it.
 */
import { Construct } from 'constructs';
import { DataOpenstackDnsZoneV2 } from '../.gen/providers/openstack/data-openstack-dns-zone-v2/index.js';
import { DnsRecordsetV2 } from '../.gen/providers/openstack/dns-recordset-v2/index.js';

export interface DnsRecord {
  /** Fully qualified name without the trailing dot, e.g. "meet.wmcloud.org". */
  readonly name: string;
  /** IPv4 address (usually a floating IP token). */
  readonly address: string;
  /** IPv6 address (usually the port's IPv6 token): an AAAA record too. @default none */
  readonly ipv6?: string;
}

export interface MeetDnsProps {
  /** Zones owned by or delegated to the project, with the trailing dot. */
  readonly zones: readonly string[];
  readonly records: readonly DnsRecord[];
  /** @default 300 */
  readonly ttl?: number;
}

/** The longest zone that contains `name`, or undefined. */
export function zoneFor(name: string, zones: readonly string[]): string | undefined {
  const fqdn = `${name}.`;
  return [...zones].sort((a, b) => b.length - a.length).find((zone) => fqdn === zone || fqdn.endsWith(`.${zone}`));
}

export class MeetDns extends Construct {
  /** The A and AAAA recordsets, in record order. */
  readonly recordsets: readonly DnsRecordsetV2[];

  constructor(scope: Construct, id: string, props: MeetDnsProps) {
    super(scope, id);
    const ttl = props.ttl ?? 300;
    if (!Number.isInteger(ttl) || ttl < 60 || ttl > 86_400)
      throw new Error(`DNS ttl ${ttl} is outside 60-86400 seconds`);
    for (const zone of props.zones) {
      if (!zone.endsWith('.')) throw new Error(`DNS zone "${zone}" must end with "."`);
    }
    const names = new Set<string>();
    const zones = new Map<string, DataOpenstackDnsZoneV2>();
    this.recordsets = props.records.flatMap((record) => {
      if (names.has(record.name)) throw new Error(`DNS name "${record.name}" is given twice`);
      names.add(record.name);
      const zoneName = zoneFor(record.name, props.zones);
      if (!zoneName) throw new Error(`DNS name "${record.name}" is in none of the zones ${props.zones.join(', ')}`);
      let zone = zones.get(zoneName);
      if (!zone) {
        zone = new DataOpenstackDnsZoneV2(this, `zone-${zoneName.slice(0, -1)}`, { name: zoneName });
        zones.set(zoneName, zone);
      }
      const recordset = (id: string, type: 'A' | 'AAAA', address: string) =>
        new DnsRecordsetV2(this, id, { zoneId: zone!.id, name: `${record.name}.`, type, ttl, records: [address] });
      return [
        recordset(`record-${record.name}`, 'A', record.address),
        ...(record.ipv6 !== undefined ? [recordset(`record-${record.name}-aaaa`, 'AAAA', record.ipv6)] : []),
      ];
    });
  }
}
