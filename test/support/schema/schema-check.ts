/**
 * Checks synthesized Terraform JSON against provider schemas (the `terraform providers schema -json` format),
 * standing in for `terraform validate`, which needs provider binaries and so cannot run offline: every
 * attribute and block name exists, required ones are present, computed-only ones are not set, values have the
 * declared type (expressions are accepted wherever a value is), block counts respect min/max items,
 * lifecycle/depends_on entries are bare addresses of resources that exist (instance keys included), and the
 * for_each / count / each.key / each.value meta-arguments are used where Terraform allows them.
 */

export type SchemaType =
  string | [string, SchemaType] | ['object', Record<string, SchemaType>] | ['tuple', SchemaType[]];

export interface SchemaAttribute {
  readonly type?: SchemaType;
  readonly required?: boolean;
  readonly optional?: boolean;
  readonly computed?: boolean;
  readonly sensitive?: boolean;
}

export interface SchemaBlock {
  readonly attributes?: Readonly<Record<string, SchemaAttribute>>;
  readonly block_types?: Readonly<Record<string, SchemaBlockType>>;
}

export interface SchemaBlockType {
  readonly nesting_mode: 'single' | 'group' | 'list' | 'set' | 'map';
  readonly block: SchemaBlock;
  readonly min_items?: number;
  readonly max_items?: number;
}

export interface ProviderSchema {
  readonly provider: { readonly block: SchemaBlock };
  readonly resource_schemas?: Readonly<Record<string, { readonly block: SchemaBlock }>>;
  readonly data_source_schemas?: Readonly<Record<string, { readonly block: SchemaBlock }>>;
}

export interface ProviderSchemas {
  readonly provider_schemas: Readonly<Record<string, ProviderSchema>>;
}

export interface SchemaProblem {
  /** e.g. resource.openstack_compute_instance_v2.jitsi_instance.network[0].port */
  readonly path: string;
  readonly message: string;
}

/** Keys Terraform handles itself on every resource/data block; `//` is cdktf's metadata comment. */
const META_ARGUMENTS = new Set([
  '//',
  'count',
  'for_each',
  'depends_on',
  'lifecycle',
  'provider',
  'provisioner',
  'connection',
]);
const PROVIDER_META = new Set(['alias', '//']);
/** `type.name`, optionally with one instance key: `type.name["key"]` (for_each) or `type.name[0]` (count). */
const BARE_ADDRESS = /^((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*)(?:\[("(?:[^"\\]|\\.)*"|\d+)\])?$/;
const EACH_REFERENCE = /\beach\.(key|value)((?:\.[A-Za-z_][A-Za-z0-9_-]*)?)/g;

const isExpression = (value: unknown): boolean => typeof value === 'string' && value.includes('${');
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function typeName(type: SchemaType): string {
  return typeof type === 'string' ? type : JSON.stringify(type);
}

function checkValue(value: unknown, type: SchemaType, path: string, problems: SchemaProblem[]): void {
  if (isExpression(value) || type === 'dynamic') return;
  const fail = (): void => {
    problems.push({
      path,
      message: `expected ${typeName(type)}, got ${Array.isArray(value) ? 'array' : typeof value} ${JSON.stringify(value)?.slice(0, 60)}`,
    });
  };
  if (typeof type === 'string') {
    if (
      type === 'string'
        ? typeof value !== 'string'
        : type === 'number'
          ? typeof value !== 'number'
          : type === 'bool'
            ? typeof value !== 'boolean'
            : true
    )
      fail();
    return;
  }
  const [kind, inner] = type;
  if (kind === 'list' || kind === 'set') {
    if (!Array.isArray(value)) return fail();
    value.forEach((item, index) => checkValue(item, inner as SchemaType, `${path}[${index}]`, problems));
  } else if (kind === 'map') {
    if (!isPlainObject(value)) return fail();
    for (const [key, item] of Object.entries(value)) checkValue(item, inner as SchemaType, `${path}.${key}`, problems);
  } else if (kind === 'object') {
    if (!isPlainObject(value)) return fail();
    const fields = inner as Record<string, SchemaType>;
    for (const [key, item] of Object.entries(value)) {
      if (!(key in fields)) problems.push({ path: `${path}.${key}`, message: 'unknown object attribute' });
      else checkValue(item, fields[key]!, `${path}.${key}`, problems);
    }
  } else if (kind === 'tuple') {
    if (!Array.isArray(value)) return fail();
    const items = inner as SchemaType[];
    if (value.length !== items.length) fail();
    else value.forEach((item, index) => checkValue(item, items[index]!, `${path}[${index}]`, problems));
  } else {
    problems.push({ path, message: `unsupported schema type ${typeName(type)}` });
  }
}

/** Checks one block body (resource, data source, provider or nested block) against its schema. */
export function checkBlock(
  body: unknown,
  block: SchemaBlock,
  path: string,
  skip: ReadonlySet<string> = new Set(),
): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  if (!isPlainObject(body)) return [{ path, message: 'expected a block (object)' }];
  const attributes = block.attributes ?? {};
  const blockTypes = block.block_types ?? {};
  for (const [key, value] of Object.entries(body)) {
    if (skip.has(key)) continue;
    const attribute = attributes[key];
    const blockType = blockTypes[key];
    if (attribute) {
      if (attribute.computed && !attribute.optional && !attribute.required) {
        problems.push({ path: `${path}.${key}`, message: 'is computed-only and cannot be set' });
      } else if (attribute.type !== undefined && value !== null) {
        checkValue(value, attribute.type, `${path}.${key}`, problems);
      }
    } else if (blockType) {
      problems.push(...checkNestedBlocks(value, blockType, `${path}.${key}`));
    } else {
      problems.push({ path: `${path}.${key}`, message: 'is not an attribute or block of this type' });
    }
  }
  for (const [key, attribute] of Object.entries(attributes)) {
    if (attribute.required && (body[key] === undefined || body[key] === null)) {
      problems.push({ path: `${path}.${key}`, message: 'required attribute is missing' });
    }
  }
  for (const [key, blockType] of Object.entries(blockTypes)) {
    if ((blockType.min_items ?? 0) > 0 && body[key] === undefined) {
      problems.push({ path: `${path}.${key}`, message: `required block is missing (at least ${blockType.min_items})` });
    }
  }
  return problems;
}

function checkNestedBlocks(value: unknown, blockType: SchemaBlockType, path: string): SchemaProblem[] {
  if (isExpression(value)) return [{ path, message: 'a block cannot be an expression (use a dynamic block)' }];
  if (blockType.nesting_mode === 'map') {
    if (!isPlainObject(value)) return [{ path, message: 'expected a map of blocks' }];
    return Object.entries(value).flatMap(([key, item]) => checkBlock(item, blockType.block, `${path}.${key}`));
  }
  // Terraform's JSON syntax takes one block as an object or any number as an array of objects.
  const items = Array.isArray(value) ? value : [value];
  const problems: SchemaProblem[] = [];
  const single = blockType.nesting_mode === 'single' || blockType.nesting_mode === 'group';
  const max = single ? 1 : blockType.max_items;
  if (max !== undefined && max > 0 && items.length > max)
    problems.push({ path, message: `at most ${max} block(s) allowed, got ${items.length}` });
  if (blockType.min_items !== undefined && items.length < blockType.min_items)
    problems.push({ path, message: `at least ${blockType.min_items} block(s) required, got ${items.length}` });
  items.forEach((item, index) =>
    problems.push(...checkBlock(item, blockType.block, Array.isArray(value) ? `${path}[${index}]` : path)),
  );
  return problems;
}

/** Provider (local) name of a resource type: "openstack_compute_instance_v2" → "openstack". */
function providerOf(type: string): string {
  return type.split('_')[0]!;
}

function schemaByLocalName(schemas: ProviderSchemas): Map<string, ProviderSchema> {
  const byName = new Map<string, ProviderSchema>();
  for (const [fqpn, schema] of Object.entries(schemas.provider_schemas)) byName.set(fqpn.split('/').pop()!, schema);
  return byName;
}

/** One resource or data block of a stack's JSON, with its Terraform address (`data.` for data sources). */
interface DeclaredBlock {
  readonly section: 'resource' | 'data';
  readonly type: string;
  readonly name: string;
  readonly body: unknown;
  readonly address: string;
}

function* declaredBlocks(stack: Record<string, unknown>): Generator<DeclaredBlock> {
  for (const [section, prefix] of [
    ['resource', ''],
    ['data', 'data.'],
  ] as const) {
    const types = stack[section];
    if (!isPlainObject(types)) continue;
    for (const [type, instances] of Object.entries(types)) {
      if (!isPlainObject(instances)) continue;
      for (const [name, body] of Object.entries(instances))
        yield { section, type, name, body, address: `${prefix}${type}.${name}` };
    }
  }
}

/**
 * Checks every resource, data source and provider block of the providers in `schemas` found in one stack's
 * synthesized JSON (cdk.tf.json). Types of other providers are left alone, built-ins (terraform_*) too.
 */
export function checkStack(stack: unknown, schemas: ProviderSchemas): SchemaProblem[] {
  if (!isPlainObject(stack)) return [{ path: '(root)', message: 'not a Terraform JSON document' }];
  const byName = schemaByLocalName(schemas);
  const problems: SchemaProblem[] = [];
  const blocks = [...declaredBlocks(stack)];
  const declared = new Map(blocks.map((block) => [block.address, isPlainObject(block.body) ? block.body : {}]));
  for (const { section, type, name, body } of blocks) {
    const schema = byName.get(providerOf(type));
    if (!schema) continue;
    const table = section === 'resource' ? schema.resource_schemas : schema.data_source_schemas;
    const typeSchema = table?.[type];
    const path = `${section}.${type}.${name}`;
    if (!typeSchema)
      problems.push({
        path,
        message: `${type} is not a ${section === 'resource' ? 'resource' : 'data source'} type of the provider schema`,
      });
    else problems.push(...checkBlock(body, typeSchema.block, path, META_ARGUMENTS));
  }
  const providers = stack.provider;
  if (isPlainObject(providers)) {
    for (const [name, configs] of Object.entries(providers)) {
      const schema = byName.get(name);
      if (!schema) continue;
      (Array.isArray(configs) ? configs : [configs]).forEach((config, index) =>
        problems.push(...checkBlock(config, schema.provider.block, `provider.${name}[${index}]`, PROVIDER_META)),
      );
    }
  }
  problems.push(...checkReferences(blocks, declared));
  for (const [address, body] of declared) problems.push(...checkRepetition(body, address));
  return problems;
}

/** Every `${...}` expression in a value (the strings Terraform evaluates), with where it sits. */
function expressions(
  value: unknown,
  path: string,
  found: Array<{ path: string; text: string }> = [],
): Array<{ path: string; text: string }> {
  if (typeof value === 'string') {
    if (value.includes('${')) found.push({ path, text: value });
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => expressions(item, `${path}[${index}]`, found));
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) expressions(item, `${path}.${key}`, found);
  }
  return found;
}

/**
 * The repetition meta-arguments: for_each takes a map (or an expression; Terraform refuses a list), never
 * together with count; `each.key` / `each.value` only inside a block with for_each; with a literal for_each
 * map, `each.value.<attribute>` must exist in every value.
 */
function checkRepetition(body: Record<string, unknown>, address: string): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const forEach = body.for_each;
  if (forEach !== undefined && body.count !== undefined)
    problems.push({ path: `${address}.count`, message: 'count and for_each cannot both be set' });
  if (forEach !== undefined && !isPlainObject(forEach) && !isExpression(forEach)) {
    problems.push({
      path: `${address}.for_each`,
      message: `for_each takes a map or a set of strings, got ${Array.isArray(forEach) ? 'a list' : typeof forEach}`,
    });
  }
  const { for_each: _forEach, ...rest } = body;
  for (const { path, text } of expressions(rest, address)) {
    for (const [reference, kind, attribute] of text.matchAll(EACH_REFERENCE)) {
      if (forEach === undefined) {
        problems.push({ path, message: `uses ${reference} but the block has no for_each` });
      } else if (kind === 'value' && attribute && isPlainObject(forEach)) {
        const name = attribute.slice(1);
        const missing = Object.entries(forEach)
          .filter(([, value]) => !isPlainObject(value) || !(name in value))
          .map(([key]) => key);
        if (missing.length > 0)
          problems.push({
            path,
            message: `uses ${reference}, which the for_each value(s) of ${missing.join(', ')} lack`,
          });
      }
    }
  }
  return problems;
}

/**
 * lifecycle.replace_triggered_by and depends_on must be bare addresses of declared resources; an instance key
 * needs a for_each (string key) or count (number) on the target, and a literal for_each map must hold the key.
 */
function checkReferences(
  blocks: readonly DeclaredBlock[],
  declared: ReadonlyMap<string, Record<string, unknown>>,
): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  for (const { address: path, body } of blocks) {
    if (!isPlainObject(body)) continue;
    const lifecycle = isPlainObject(body.lifecycle) ? body.lifecycle : {};
    const lists: Array<[string, unknown]> = [
      ['lifecycle.replace_triggered_by', lifecycle.replace_triggered_by],
      ['depends_on', body.depends_on],
    ];
    for (const [key, list] of lists) {
      if (list === undefined) continue;
      if (!Array.isArray(list)) {
        problems.push({ path: `${path}.${key}`, message: 'must be a list' });
        continue;
      }
      list.forEach((entry, index) => {
        const at = `${path}.${key}[${index}]`;
        const match = typeof entry === 'string' ? BARE_ADDRESS.exec(entry) : null;
        if (!match) {
          problems.push({ path: at, message: `must be a bare resource address, got ${JSON.stringify(entry)}` });
          return;
        }
        const [, target, instanceKey] = match;
        const targetBody = declared.get(target!);
        if (!targetBody) {
          problems.push({ path: at, message: `refers to ${target}, which this stack does not declare` });
        } else if (instanceKey !== undefined) {
          const byKey = instanceKey.startsWith('"');
          const repetition = byKey ? targetBody.for_each : targetBody.count;
          if (repetition === undefined) {
            problems.push({
              path: at,
              message: `indexes ${target} by ${instanceKey}, but it has no ${byKey ? 'for_each' : 'count'}`,
            });
          } else if (byKey && isPlainObject(repetition) && !((JSON.parse(instanceKey) as string) in repetition)) {
            problems.push({
              path: at,
              message: `refers to key ${instanceKey}, which the for_each of ${target} does not have`,
            });
          }
        }
      });
    }
  }
  return problems;
}
