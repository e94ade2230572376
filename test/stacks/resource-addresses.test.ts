/**
 * The Terraform addresses of every synthesized environment, pinned. A construct's id is part of the address of
 * every resource under it, so renaming an id (or moving a construct to another parent) would make Terraform
 * destroy and recreate what it already manages: hosts, volumes, containers. Renaming a class or file moves
 * nothing; this test says which. When an address changes on purpose (the resource is meant to be replaced, or a
 * new one added), update fixtures/resource-addresses.json in the same commit and say why in its message.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { parseEnvironment } from '../../stacks/config.js';
import { environments } from '../../stacks/environments/index.js';
import { addressesOf, synthStacks, type StackAddresses } from './app-helpers.js';

const pinned = JSON.parse(
  readFileSync(join(import.meta.dirname, 'fixtures/resource-addresses.json'), 'utf8'),
) as Record<string, StackAddresses>;

it('every environment synthesizes exactly the pinned resource, data, output and variable addresses', () => {
  const stacks = synthStacks(environments.map(parseEnvironment));
  const synthesized = Object.fromEntries(Object.entries(stacks).map(([name, stack]) => [name, addressesOf(stack)]));
  expect(Object.keys(synthesized).sort()).toEqual(Object.keys(pinned).sort());
  for (const [name, addresses] of Object.entries(pinned))
    expect({ stack: name, ...synthesized[name] }).toEqual({ stack: name, ...addresses });
});

it('the pin covers the resources that hold state, so it would notice them moving', () => {
  const production = pinned['production-cloud']!.resources;
  for (const type of [
    'openstack_compute_instance_v2',
    'openstack_blockstorage_volume_v3',
    'openstack_networking_secgroup_v2',
  ]) {
    expect(production.some((address) => address.startsWith(`${type}.`))).toBe(true);
  }
  expect(pinned['production-services']!.resources).toEqual(
    expect.arrayContaining(['docker_container.agent_container_3BA73DA2', 'docker_container.edge_container_6F3C4434']),
  );
});
