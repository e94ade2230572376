import { describe, expect, it } from 'vitest';
import { checkBlock, checkStack, type SchemaBlock } from './schema-check.js';
import { dockerProviderSchema } from './docker-schema.js';
import { openstackSchema } from '../../stacks/helpers.js';

const os = openstackSchema();
const fip = (body: Record<string, unknown>) => ({ resource: { openstack_networking_floatingip_v2: { ip: body } } });

describe('checkStack against the committed OpenStack schema', () => {
  it('accepts a valid resource, expressions included', () => {
    expect(checkStack(fip({ pool: 'wan', description: '${var.d}', tags: ['a'] }), os)).toEqual([]);
  });

  it('reports an unknown attribute, a missing required one and a computed-only one', () => {
    expect(checkStack(fip({ pool: 'wan', colour: 'red' }), os)).toEqual([
      {
        path: 'resource.openstack_networking_floatingip_v2.ip.colour',
        message: 'is not an attribute or block of this type',
      },
    ]);
    expect(checkStack(fip({}), os)).toEqual([
      { path: 'resource.openstack_networking_floatingip_v2.ip.pool', message: 'required attribute is missing' },
    ]);
    expect(checkStack(fip({ pool: 'wan', all_tags: ['x'] }), os)).toEqual([
      {
        path: 'resource.openstack_networking_floatingip_v2.ip.all_tags',
        message: 'is computed-only and cannot be set',
      },
    ]);
  });

  it('reports type mismatches', () => {
    expect(checkStack(fip({ pool: 42 }), os)[0]!.message).toBe('expected string, got number 42');
    expect(checkStack(fip({ pool: 'wan', tags: 'a' }), os)[0]!.message).toBe(
      'expected ["set","string"], got string "a"',
    );
    expect(checkStack(fip({ pool: 'wan', value_specs: { a: 1 } }), os)[0]).toEqual({
      path: 'resource.openstack_networking_floatingip_v2.ip.value_specs.a',
      message: 'expected string, got number 1',
    });
    const rule = {
      resource: {
        openstack_networking_secgroup_rule_v2: {
          r: { direction: 'ingress', ethertype: 'IPv4', security_group_id: 'x', port_range_min: '80' },
        },
      },
    };
    expect(checkStack(rule, os)[0]!.message).toBe('expected number, got string "80"');
  });

  it('checks nested blocks: names, counts and their attributes', () => {
    const instance = (network: unknown, extra: Record<string, unknown> = {}) => ({
      resource: { openstack_compute_instance_v2: { vm: { name: 'vm', network, ...extra } } },
    });
    expect(checkStack(instance([{ port: 'p' }]), os)).toEqual([]);
    expect(checkStack(instance([{ prot: 'p' }]), os)).toEqual([
      {
        path: 'resource.openstack_compute_instance_v2.vm.network[0].prot',
        message: 'is not an attribute or block of this type',
      },
    ]);
    expect(checkStack(instance('${x}'), os)[0]!.message).toBe('a block cannot be an expression (use a dynamic block)');
    expect(checkStack(instance([], { vendor_options: [{}, {}] }), os)).toEqual([
      {
        path: 'resource.openstack_compute_instance_v2.vm.vendor_options',
        message: 'at most 1 block(s) allowed, got 2',
      },
    ]);
  });

  it('reports unknown types and checks data sources and provider blocks', () => {
    expect(checkStack({ resource: { openstack_compute_instance_v9: { a: {} } } }, os)).toEqual([
      {
        path: 'resource.openstack_compute_instance_v9.a',
        message: 'openstack_compute_instance_v9 is not a resource type of the provider schema',
      },
    ]);
    expect(
      checkStack({ data: { openstack_images_image_v2: { i: { name: 'debian', most_recent: 'yes' } } } }, os)[0]!
        .message,
    ).toBe('expected bool, got string "yes"');
    expect(checkStack({ provider: { openstack: [{ auth_url: 'https://x', alias: 'a', tenant: 'p' }] } }, os)).toEqual([
      { path: 'provider.openstack[0].tenant', message: 'is not an attribute or block of this type' },
    ]);
  });

  it('requires bare, declared addresses in replace_triggered_by and depends_on', () => {
    const stack = (trigger: string) => ({
      resource: {
        terraform_data: { t: {} },
        openstack_networking_floatingip_v2: {
          ip: { pool: 'wan', lifecycle: { replace_triggered_by: [trigger] }, depends_on: ['terraform_data.t'] },
        },
      },
    });
    expect(checkStack(stack('terraform_data.t'), os)).toEqual([]);
    expect(checkStack(stack('${terraform_data.t}'), os)).toEqual([
      {
        path: 'openstack_networking_floatingip_v2.ip.lifecycle.replace_triggered_by[0]',
        message: 'must be a bare resource address, got "${terraform_data.t}"',
      },
    ]);
    expect(checkStack(stack('terraform_data.missing'), os)[0]!.message).toBe(
      'refers to terraform_data.missing, which this stack does not declare',
    );
  });

  it('understands for_each, count, each.key / each.value and instance keys', () => {
    const port = (body: Record<string, unknown>) => ({
      resource: { openstack_networking_port_v2: { p: { network_id: 'n', ...body } } },
    });
    const hosts = { 'jvb-1': { zone: 'a' }, 'jvb-2': { zone: 'b' } };
    expect(checkStack(port({ for_each: hosts, name: '${each.key}', description: '${each.value.zone}' }), os)).toEqual(
      [],
    );
    expect(checkStack(port({ for_each: '${var.hosts}', name: '${each.value.name}' }), os)).toEqual([]);
    expect(checkStack(port({ name: '${each.key}' }), os)).toEqual([
      { path: 'openstack_networking_port_v2.p.name', message: 'uses each.key but the block has no for_each' },
    ]);
    expect(checkStack(port({ for_each: ['a', 'b'], name: '${each.key}' }), os)).toEqual([
      {
        path: 'openstack_networking_port_v2.p.for_each',
        message: 'for_each takes a map or a set of strings, got a list',
      },
    ]);
    expect(checkStack(port({ for_each: hosts, count: 2 }), os)).toEqual([
      { path: 'openstack_networking_port_v2.p.count', message: 'count and for_each cannot both be set' },
    ]);
    expect(checkStack(port({ for_each: { ...hosts, 'jvb-3': {} }, description: '${each.value.zone}' }), os)).toEqual([
      {
        path: 'openstack_networking_port_v2.p.description',
        message: 'uses each.value.zone, which the for_each value(s) of jvb-3 lack',
      },
    ]);
    // A schema mistake inside a for_each block is still caught.
    expect(checkStack(port({ for_each: hosts, nmae: '${each.key}' }), os)).toEqual([
      { path: 'resource.openstack_networking_port_v2.p.nmae', message: 'is not an attribute or block of this type' },
    ]);
  });

  it("checks instance keys in replace_triggered_by against the target's for_each or count", () => {
    const stack = (trigger: string, target: Record<string, unknown>) => ({
      resource: {
        terraform_data: { t: target },
        openstack_networking_floatingip_v2: { ip: { pool: 'wan', lifecycle: { replace_triggered_by: [trigger] } } },
      },
    });
    const keyed = { for_each: { 'jvb-1': {}, 'jvb-2': {} } };
    expect(checkStack(stack('terraform_data.t["jvb-2"]', keyed), os)).toEqual([]);
    expect(checkStack(stack('terraform_data.t[1]', { count: 2 }), os)).toEqual([]);
    expect(checkStack(stack('terraform_data.t["jvb-3"]', keyed), os)[0]!.message).toBe(
      'refers to key "jvb-3", which the for_each of terraform_data.t does not have',
    );
    expect(checkStack(stack('terraform_data.t["jvb-1"]', {}), os)[0]!.message).toBe(
      'indexes terraform_data.t by "jvb-1", but it has no for_each',
    );
    expect(checkStack(stack('terraform_data.t[0]', keyed), os)[0]!.message).toBe(
      'indexes terraform_data.t by 0, but it has no count',
    );
    expect(checkStack(stack('terraform_data.t[each.key]', keyed), os)[0]!.message).toBe(
      'must be a bare resource address, got "terraform_data.t[each.key]"',
    );
  });

  it("leaves other providers' types alone", () => {
    expect(checkStack({ resource: { docker_container: { c: { whatever: 1 } } } }, os)).toEqual([]);
  });
});

describe('checkBlock', () => {
  const block: SchemaBlock = {
    attributes: {
      m: { type: ['map', 'number'], optional: true },
      o: { type: ['object', { a: 'string' }], optional: true },
      t: { type: ['tuple', ['string', 'number']], optional: true },
    },
    block_types: { req: { nesting_mode: 'list', min_items: 1, block: {} } },
  };
  it('knows maps, objects, tuples and required blocks', () => {
    expect(checkBlock({ req: [{}], m: { x: 1 }, o: { a: 's' }, t: ['s', 1] }, block, 'b')).toEqual([]);
    expect(checkBlock({ req: [{}], o: { b: 's' } }, block, 'b')).toEqual([
      { path: 'b.o.b', message: 'unknown object attribute' },
    ]);
    expect(checkBlock({ req: [{}], t: ['s'] }, block, 'b')[0]!.message).toMatch(/^expected \["tuple"/);
    expect(checkBlock({}, block, 'b')).toEqual([{ path: 'b.req', message: 'required block is missing (at least 1)' }]);
    expect(checkBlock('x', block, 'b')).toEqual([{ path: 'b', message: 'expected a block (object)' }]);
  });
});

describe('the docker schema derived from @cdktf/provider-docker', () => {
  const docker = dockerProviderSchema();
  const schema = docker.provider_schemas['registry.terraform.io/kreuzwerker/docker']!;

  it('has the resources we use with their Terraform names, required-ness and types', () => {
    const container = schema.resource_schemas!.docker_container!.block;
    expect(container.attributes!.name).toEqual({ type: 'string', required: true });
    expect(container.attributes!.env).toEqual({ type: ['list', 'string'], optional: true });
    expect(container.attributes!.read_only).toEqual({ type: 'bool', optional: true });
    expect(container.attributes!.tmpfs).toEqual({ type: ['map', 'string'], optional: true });
    expect(Object.keys(container.block_types!)).toEqual(
      expect.arrayContaining(['mounts', 'ports', 'networks_advanced', 'upload', 'volumes']),
    );
    expect(container.block_types!.ports!.block.attributes!.internal).toEqual({ type: 'number', required: true });
    expect(schema.resource_schemas!.docker_image!.block.block_types!.build!.max_items).toBe(1);
    expect(schema.provider.block.attributes!.ssh_opts).toEqual({ type: ['list', 'string'], optional: true });
  });

  it('catches docker mistakes', () => {
    const stack = {
      resource: { docker_container: { c: { name: 'x', image: 'i', enviroment: ['A=1'], ports: [{ external: 80 }] } } },
    };
    expect(checkStack(stack, docker)).toEqual([
      { path: 'resource.docker_container.c.enviroment', message: 'is not an attribute or block of this type' },
      { path: 'resource.docker_container.c.ports[0].internal', message: 'required attribute is missing' },
    ]);
  });
});
