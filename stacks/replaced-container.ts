/**
 * A docker container that is replaced whenever its settings change. Jitsi's images render their config from
 * env at every start, so a replaced container always runs with the declared settings: the seed's "after
 * changing .env, wipe the config volume" trap cannot happen. The trigger is a built-in `terraform_data`
 * (no provider) whose input is sha256(jsonencode(settings)) evaluated by Terraform, so secret values and
 * cross-stack addresses count too; `replace_triggered_by` points the container at it.
 */
import { Fn, TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { Container, type ContainerConfig } from '@cdktf/provider-docker/lib/container/index.js';
import { deepFunctionSafe } from './hcl.js';

export type ReplacedContainerProps = Omit<ContainerConfig, 'lifecycle'> & {
  /** The image reference (name:tag), hashed instead of `image` (an id only known after the pull). */
  readonly imageName: string;
};

/** The settings that decide a container's replacement: image, command, user, env, mounts, ports, network, files. */
export function containerSettings(props: ReplacedContainerProps): Record<string, unknown> {
  const settings: Record<string, unknown> = {
    image: props.imageName,
    command: props.command ?? [],
    entrypoint: props.entrypoint ?? [],
    user: props.user ?? '',
    env: [...(props.env ?? [])].sort(),
    mounts: props.mounts ?? [],
    volumes: props.volumes ?? [],
    ports: props.ports ?? [],
    networks: props.networksAdvanced ?? [],
    tmpfs: props.tmpfs ?? {},
    readOnly: props.readOnly ?? false,
    upload: props.upload ?? [],
    hostname: props.hostname ?? '',
  };
  return settings;
}

/**
 * A `terraform_data` resource (built into Terraform ≥ 1.4, no provider). Not cdktf's DataResource: that class
 * adds a validation which runs `terraform version` during synth, once per instance.
 */
export class SettingsTrigger extends TerraformResource {
  static readonly tfResourceType = 'terraform_data';

  constructor(scope: Construct, id: string, private readonly inputValue: Readonly<Record<string, string>>) {
    super(scope, id, { terraformResourceType: SettingsTrigger.tfResourceType });
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { input: { ...this.inputValue } };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return { input: { value: { ...this.inputValue }, isBlock: false, type: 'map', storageClassType: 'stringMap' } };
  }
}

export class ReplacedContainer extends Construct {
  readonly container: Container;
  /** The terraform_data whose change replaces the container. */
  readonly trigger: SettingsTrigger;

  constructor(scope: Construct, id: string, props: ReplacedContainerProps) {
    super(scope, id);
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(props.name)) throw new Error(`container name "${props.name}" must be lower-case letters, digits, ".", "_" or "-"`);
    if (/:(latest|stable|unstable)$/.test(props.imageName) || !/:[^/]+$|@sha256:[a-f0-9]{64}$/.test(props.imageName)) {
      throw new Error(`container "${props.name}" uses image "${props.imageName}" without a pinned tag or digest`);
    }
    const { imageName: _imageName, ...config } = props;
    this.trigger = new SettingsTrigger(this, 'settings', { sha256: Fn.sha256(Fn.jsonencode(deepFunctionSafe(containerSettings(props)))) });
    // A bare address string: cdktf renders a resource object here as "${...}", which Terraform rejects
    // (hashicorp/terraform-cdk#3196, #3532).
    const address = `${SettingsTrigger.tfResourceType}.${this.trigger.friendlyUniqueId}`;
    this.container = new Container(this, 'container', { ...config, lifecycle: { replaceTriggeredBy: [address] } });
  }
}
