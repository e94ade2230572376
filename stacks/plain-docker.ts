/**
 * docker_container, docker_image and the docker provider written straight from the typed configs of
 * @cdktf/provider-docker, with that package's own block converters, without instantiating its generated classes:
 * those made most of the synth time (docs/decisions/plain-docker-resources.md). Only the attributes set are
 * synthesized; an unknown key is refused.
 */
import {
  TerraformProvider,
  TerraformResource,
  Tokenization,
  type ITerraformDependable,
  type TerraformResourceLifecycle,
} from 'cdktf';
import type { Construct } from 'constructs';
import {
  containerMountsToTerraform,
  containerNetworksAdvancedToTerraform,
  containerPortsToTerraform,
  containerUploadToTerraform,
  containerVolumesToTerraform,
  type ContainerConfig,
} from '@cdktf/provider-docker/lib/container/index.js';
import { imageBuildToTerraform, type ImageConfig } from '@cdktf/provider-docker/lib/image/index.js';
import {
  dockerProviderRegistryAuthToTerraform,
  type DockerProviderConfig,
} from '@cdktf/provider-docker/lib/provider/index.js';

type Converter = (value: never) => unknown;
const plain: Converter = (value) => value;

/** A shallow copy without the keys whose value is undefined: cdktf drops them, but only after resolving each on
 * every synth pass (the block converters emit one per attribute of the block not set). */
function definedOnly<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Tokenization.isResolvable(value))
    return value;
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}

const blocks =
  (convert: (item: never) => unknown): Converter =>
  (value: unknown) =>
    (value as never[]).map((item) => definedOnly(convert(item)));

/** Terraform attribute name and converter of each config key we support. */
const CONTAINER_ATTRIBUTES: Readonly<Record<string, readonly [string, Converter]>> = {
  name: ['name', plain],
  image: ['image', plain],
  command: ['command', plain],
  entrypoint: ['entrypoint', plain],
  env: ['env', plain],
  user: ['user', plain],
  hostname: ['hostname', plain],
  restart: ['restart', plain],
  readOnly: ['read_only', plain],
  tmpfs: ['tmpfs', plain],
  networkMode: ['network_mode', plain],
  logDriver: ['log_driver', plain],
  logOpts: ['log_opts', plain],
  mounts: ['mounts', blocks(containerMountsToTerraform)],
  ports: ['ports', blocks(containerPortsToTerraform)],
  networksAdvanced: ['networks_advanced', blocks(containerNetworksAdvancedToTerraform)],
  upload: ['upload', blocks(containerUploadToTerraform)],
  volumes: ['volumes', blocks(containerVolumesToTerraform)],
};
const IMAGE_ATTRIBUTES: Readonly<Record<string, readonly [string, Converter]>> = {
  name: ['name', plain],
  keepLocally: ['keep_locally', plain],
  forceRemove: ['force_remove', plain],
  platform: ['platform', plain],
  pullTriggers: ['pull_triggers', plain],
  triggers: ['triggers', plain],
  build: ['build', imageBuildToTerraform as Converter],
};
const PROVIDER_ATTRIBUTES: Readonly<Record<string, readonly [string, Converter]>> = {
  alias: ['alias', plain],
  host: ['host', plain],
  sshOpts: ['ssh_opts', plain],
  context: ['context', plain],
  caMaterial: ['ca_material', plain],
  certMaterial: ['cert_material', plain],
  certPath: ['cert_path', plain],
  keyMaterial: ['key_material', plain],
  disableDockerDaemonCheck: ['disable_docker_daemon_check', plain],
  registryAuth: ['registry_auth', blocks(dockerProviderRegistryAuthToTerraform)],
};
/** Handled by TerraformResource itself. */
const META = new Set(['provider', 'dependsOn', 'lifecycle', 'count', 'forEach', 'provisioners', 'connection']);

function toAttributes(
  kind: string,
  config: object,
  table: Readonly<Record<string, readonly [string, Converter]>>,
): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined || META.has(key)) continue;
    const entry = table[key];
    if (!entry)
      throw new Error(
        `${kind} config "${key}" is not supported by the plain ${kind} (add it to stacks/plain-docker.ts)`,
      );
    attributes[entry[0]] = entry[1](value as never);
  }
  return attributes;
}

const BLOCKS = new Set(['mounts', 'ports', 'networks_advanced', 'upload', 'volumes', 'build', 'registry_auth']);

/** Renders attributes for `cdktf synth --hcl` (the generated classes carry this per attribute). */
function hclAttributes(attributes: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(attributes).map(([key, value]) => {
      const isBlock = BLOCKS.has(key);
      const storageClassType = isBlock
        ? `${key}List`
        : Array.isArray(value)
          ? 'stringList'
          : typeof value === 'object' && value !== null
            ? 'stringMap'
            : typeof value === 'boolean'
              ? 'boolean'
              : typeof value === 'number'
                ? 'number'
                : 'string';
      const type =
        isBlock || Array.isArray(value) ? 'list' : typeof value === 'object' && value !== null ? 'map' : 'simple';
      return [key, { value, isBlock, type, storageClassType }];
    }),
  );
}

abstract class PlainResource extends TerraformResource {
  protected constructor(
    scope: Construct,
    id: string,
    type: string,
    provider: TerraformProvider | undefined,
    meta: { dependsOn?: ITerraformDependable[]; lifecycle?: TerraformResourceLifecycle },
    private readonly attributes: Record<string, unknown>,
  ) {
    super(scope, id, { terraformResourceType: type, provider, dependsOn: meta.dependsOn, lifecycle: meta.lifecycle });
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { ...this.attributes };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return hclAttributes(this.attributes);
  }

  /** cdktf's fragment, without its unset `moved`/`import` keys and unset metadata stack trace (see definedOnly). */
  override toTerraform(): Record<string, unknown> {
    const fragment = definedOnly(super.toTerraform() as Record<string, unknown>);
    const bodies = fragment.resource as Record<string, Record<string, Record<string, unknown>>> | undefined;
    for (const body of Object.values(bodies ?? {}).flatMap((byId) => Object.values(byId))) {
      const meta = body['//'] as { metadata?: object } | undefined;
      if (meta?.metadata) body['//'] = { ...meta, metadata: definedOnly(meta.metadata) };
    }
    return fragment;
  }
}

export class PlainContainer extends PlainResource {
  static readonly tfResourceType = 'docker_container';

  constructor(scope: Construct, id: string, config: ContainerConfig) {
    super(
      scope,
      id,
      PlainContainer.tfResourceType,
      config.provider,
      config,
      toAttributes('container', config, CONTAINER_ATTRIBUTES),
    );
  }
}

export class PlainImage extends PlainResource {
  static readonly tfResourceType = 'docker_image';

  constructor(scope: Construct, id: string, config: ImageConfig) {
    const { buildAttribute, ...rest } = config;
    super(
      scope,
      id,
      PlainImage.tfResourceType,
      config.provider,
      config,
      toAttributes('image', buildAttribute ? { ...rest, build: buildAttribute } : rest, IMAGE_ATTRIBUTES),
    );
  }

  /**
   * The pulled or built image's id, for a container's `image` in the same stack: the plain reference that
   * `getStringAttribute('image_id')` renders, without creating a token (one per host; see the file's header).
   */
  get imageId(): string {
    return `\${${PlainImage.tfResourceType}.${this.friendlyUniqueId}.image_id}`;
  }
}

/** The kreuzwerker/docker provider block, as the generated `DockerProvider` writes it (same version pin). */
export class PlainDockerProvider extends TerraformProvider {
  static readonly tfResourceType = 'docker';
  private readonly attributes: Record<string, unknown>;

  constructor(
    scope: Construct,
    id: string,
    private readonly config: DockerProviderConfig,
  ) {
    super(scope, id, {
      terraformResourceType: PlainDockerProvider.tfResourceType,
      terraformGeneratorMetadata: {
        providerName: 'docker',
        providerVersion: '3.6.2',
        providerVersionConstraint: '~> 3.0',
      },
      terraformProviderSource: 'kreuzwerker/docker',
    });
    this.attributes = toAttributes('provider', config, PROVIDER_ATTRIBUTES);
  }

  override get alias(): string | undefined {
    return this.config.alias;
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { ...this.attributes };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return hclAttributes(this.attributes);
  }
}
