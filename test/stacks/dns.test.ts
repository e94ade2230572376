import { describe, expect, it } from 'vitest';
import { MeetDns, zoneFor, type MeetDnsProps } from '../../stacks/dns.js';
import { openstackStack, synthJson } from './helpers.js';

function synthDns(props: Partial<MeetDnsProps> = {}) {
  const stack = openstackStack();
  new MeetDns(stack, 'dns', {
    zones: ['meet.wmcloud.org.'],
    records: [
      { name: 'meet.wmcloud.org', address: '185.15.56.10' },
      { name: 'auth.meet.wmcloud.org', address: '185.15.56.11' },
    ],
    ...props,
  });
  return synthJson(stack);
}

describe('MeetDns', () => {
  it('looks each zone up once and puts an A record per name in it', () => {
    const json = synthDns();
    expect(Object.values(json.data?.openstack_dns_zone_v2 ?? {})).toEqual([
      expect.objectContaining({ name: 'meet.wmcloud.org.' }),
    ]);
    const records = Object.values(json.resource?.openstack_dns_recordset_v2 ?? {});
    expect(
      records
        .map(({ name, type, ttl, records: values }) => ({ name, type, ttl, values }))
        .sort((a, b) => String(a.name).localeCompare(String(b.name))),
    ).toEqual([
      { name: 'auth.meet.wmcloud.org.', type: 'A', ttl: 300, values: ['185.15.56.11'] },
      { name: 'meet.wmcloud.org.', type: 'A', ttl: 300, values: ['185.15.56.10'] },
    ]);
    for (const record of records)
      expect(record.zone_id).toMatch(/^\$\{data\.openstack_dns_zone_v2\.dns_zone-meetwmcloudorg_[A-F0-9]+\.id\}$/);
  });

  it('adds an AAAA record beside the A record for a name with an IPv6 address, in the same zone', () => {
    const json = synthDns({
      records: [
        { name: 'meet.wmcloud.org', address: '185.15.56.10', ipv6: '2a02:ec80:a000:1::10' },
        { name: 'auth.meet.wmcloud.org', address: '185.15.56.11' },
      ],
    });
    const records = Object.values(json.resource?.openstack_dns_recordset_v2 ?? {});
    expect(records.map(({ name, type, records: values }) => `${name} ${type} ${values}`).sort()).toEqual([
      'auth.meet.wmcloud.org. A 185.15.56.11',
      'meet.wmcloud.org. A 185.15.56.10',
      'meet.wmcloud.org. AAAA 2a02:ec80:a000:1::10',
    ]);
    expect(new Set(records.map((record) => record.zone_id)).size).toBe(1);
  });

  it('default ttl is 300 and can be changed', () => {
    const records = Object.values(synthDns({ ttl: 3600 }).resource?.openstack_dns_recordset_v2 ?? {});
    expect(records.map((record) => record.ttl)).toEqual([3600, 3600]);
  });

  it('picks the longest matching zone', () => {
    expect(zoneFor('auth.meet.wmcloud.org', ['wmcloud.org.', 'meet.wmcloud.org.'])).toBe('meet.wmcloud.org.');
    expect(zoneFor('meet.wmcloud.org', ['meet.wmcloud.org.'])).toBe('meet.wmcloud.org.');
    expect(zoneFor('notmeet.wmcloud.org', ['meet.wmcloud.org.'])).toBeUndefined();
  });

  it('validation errors', () => {
    expect(() => synthDns({ zones: ['meet.wmcloud.org'] })).toThrow('DNS zone "meet.wmcloud.org" must end with "."');
    expect(() => synthDns({ records: [{ name: 'meet.example.org', address: '1.2.3.4' }] })).toThrow(
      'DNS name "meet.example.org" is in none of the zones meet.wmcloud.org.',
    );
    expect(() =>
      synthDns({
        records: [
          { name: 'meet.wmcloud.org', address: '1.2.3.4' },
          { name: 'meet.wmcloud.org', address: '1.2.3.5' },
        ],
      }),
    ).toThrow('DNS name "meet.wmcloud.org" is given twice');
    expect(() => synthDns({ ttl: 10 })).toThrow('DNS ttl 10 is outside 60-86400 seconds');
  });
});
