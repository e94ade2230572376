/**
 * The docker provider's schema in `terraform providers schema -json` form, derived offline from the jsii
 * assembly shipped in @cdktf/provider-docker (generated from the real provider schema). It knows attribute and
 * block names, required-ness and value types; it does not know computed-only attributes (they are absent from
 * the config structs, so setting one shows up as an unknown attribute) nor list-vs-set (checked alike).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ProviderSchemas, SchemaBlock, SchemaBlockType, SchemaType } from './schema-check.js';

interface JsiiTypeRef {
  primitive?: string;
  fqn?: string;
  collection?: { kind: 'array' | 'map'; elementtype: JsiiTypeRef };
  union?: { types: JsiiTypeRef[] };
}
interface JsiiProperty {
  name: string;
  optional?: boolean;
  type: JsiiTypeRef;
  docs?: { summary?: string; remarks?: string };
}
interface JsiiType {
  kind: string;
  base?: string;
  properties?: JsiiProperty[];
  docs?: { summary?: string };
  initializer?: { parameters?: Array<{ type: JsiiTypeRef }> };
}
interface JsiiAssembly {
  types: Record<string, JsiiType>;
}

const DOCKER_PROVIDER_FQPN = 'registry.terraform.io/kreuzwerker/docker';

function loadAssembly(): JsiiAssembly {
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve('@cdktf/provider-docker/package.json'));
  return JSON.parse(readFileSync(join(dir, '.jsii'), 'utf8')) as JsiiAssembly;
}

/** Without cdktf's IResolvable alternative, which only says "a token is fine here". */
function concrete(type: JsiiTypeRef): JsiiTypeRef {
  const options = type.union?.types.filter((option) => option.fqn !== 'cdktf.IResolvable');
  return options && options.length === 1 ? options[0]! : type;
}

/** The Terraform name of a property, from the registry link cdktf puts in its docs ("…#env Container#env"). */
function terraformName(property: JsiiProperty): string {
  const docs = `${property.docs?.summary ?? ''} ${property.docs?.remarks ?? ''}`;
  const match = /\{@link \S+#([a-z0-9_]+) [A-Za-z0-9]+#[A-Za-z0-9_]+\}/.exec(docs);
  if (!match) throw new Error(`no Terraform name in the docs of property ${property.name}`);
  return match[1]!;
}

const PRIMITIVES: Record<string, string> = {
  string: 'string',
  number: 'number',
  boolean: 'bool',
  any: 'dynamic',
  json: 'dynamic',
};

function toBlock(assembly: JsiiAssembly, fqn: string): SchemaBlock {
  const struct = assembly.types[fqn];
  if (!struct) throw new Error(`jsii type ${fqn} is missing`);
  const attributes: Record<string, { type: SchemaType; required?: true; optional?: true }> = {};
  const blockTypes: Record<string, SchemaBlockType> = {};
  for (const property of struct.properties ?? []) {
    const name = terraformName(property);
    const type = concrete(property.type);
    const presence = property.optional ? { optional: true as const } : { required: true as const };
    const element = type.collection ? concrete(type.collection.elementtype) : undefined;
    if (type.fqn?.startsWith('@cdktf/provider-docker.')) {
      blockTypes[name] = {
        nesting_mode: 'list',
        block: toBlock(assembly, type.fqn),
        max_items: 1,
        ...(property.optional ? {} : { min_items: 1 }),
      };
    } else if (type.collection?.kind === 'array' && element?.fqn?.startsWith('@cdktf/provider-docker.')) {
      blockTypes[name] = {
        nesting_mode: 'list',
        block: toBlock(assembly, element.fqn),
        ...(property.optional ? {} : { min_items: 1 }),
      };
    } else if (type.primitive && PRIMITIVES[type.primitive]) {
      attributes[name] = { type: PRIMITIVES[type.primitive]!, ...presence };
    } else if (type.collection && element?.primitive && PRIMITIVES[element.primitive]) {
      attributes[name] = {
        type: [type.collection.kind === 'array' ? 'list' : 'map', PRIMITIVES[element.primitive]!],
        ...presence,
      };
    } else {
      attributes[name] = { type: 'dynamic', ...presence };
    }
  }
  return { attributes, block_types: blockTypes };
}

/** Builds the schema of the docker provider and all its resource and data source types. */
export function dockerProviderSchema(assembly: JsiiAssembly = loadAssembly()): ProviderSchemas {
  const resources: Record<string, { block: SchemaBlock }> = {};
  const dataSources: Record<string, { block: SchemaBlock }> = {};
  let provider: { block: SchemaBlock } | undefined;
  for (const type of Object.values(assembly.types)) {
    if (type.kind !== 'class') continue;
    const config = type.initializer?.parameters?.[2]?.type.fqn;
    const link = /\{@link (\S+) (docker(?:_[a-z_]+)?)\}/.exec(type.docs?.summary ?? '');
    if (!config || !link) continue;
    const block = { block: toBlock(assembly, config) };
    if (type.base === 'cdktf.TerraformProvider') provider = block;
    else if (type.base === 'cdktf.TerraformDataSource') dataSources[link[2]!] = block;
    else if (type.base === 'cdktf.TerraformResource') resources[link[2]!] = block;
  }
  if (!provider) throw new Error('the docker provider configuration is missing from the jsii assembly');
  return {
    provider_schemas: {
      [DOCKER_PROVIDER_FQPN]: { provider, resource_schemas: resources, data_source_schemas: dataSources },
    },
  };
}
