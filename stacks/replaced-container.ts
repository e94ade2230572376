/**
 * A docker container that is replaced whenever its settings change. Jitsi's images render their config from
 * env at every start, so a replaced container always runs with the declared settings: the seed's "after
 * changing .env, wipe the config volume" trap cannot happen. The trigger is a built-in `terraform_data`
 * (no provider) whose input is sha256(jsonencode(settings)) evaluated by Terraform, so secret values and
 * cross-stack addresses count too; `replace_triggered_by` points the container at it.
 */
import { Fn, TerraformResource, type ITerraformIterator } from 'cdktf';
import { Construct } from 'constructs';
import type { ContainerConfig } from '@cdktf/provider-docker/lib/container/index.js';
import { deepFunctionSafe } from './hcl.js';
import { mountTargetProblem } from './jitsi-images.js';
import { PlainContainer } from './plain-docker.js';

export type ReplacedContainerProps = Omit<ContainerConfig, 'lifecycle'> & {
  /** The image reference (name:tag), hashed instead of `image` (an id only known after the pull). */
  readonly imageName: string;
  /**
   * An existing trigger instance to be replaced by, e.g. `terraform_data.x["jvb-1"]` of a for_each trigger
   * whose input hashes these same settings. @default a trigger of its own, hashing `containerSettings(props)`
   */
  readonly replacedBy?: string;
};

/** The settings that decide a container's replacement: image, command, user, env, mounts, ports, network, files. */
export function containerSettings(props: Omit<ReplacedContainerProps, 'provider' | 'replacedBy'>): Record<string, unknown> {
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
    networkMode: props.networkMode ?? '',
    tmpfs: props.tmpfs ?? {},
    readOnly: props.readOnly ?? false,
    upload: props.upload ?? [],
    hostname: props.hostname ?? '',
  };
  return settings;
}

/** sha256(jsonencode(settings)), evaluated by Terraform (settings may hold secrets and cross-stack values). */
export function settingsHash(settings: Record<string, unknown>): string {
  return Fn.sha256(Fn.jsonencode(deepFunctionSafe(settings)));
}

/**
 * A `terraform_data` resource (built into Terraform ≥ 1.4, no provider). Not cdktf's DataResource: that class
 * adds a validation which runs `terraform version` during synth, once per instance. With `forEach`, one
 * resource holds the triggers of many containers (address `terraform_data.<id>["<key>"]`).
 */
export class SettingsTrigger extends TerraformResource {
  static readonly tfResourceType = 'terraform_data';

  constructor(scope: Construct, id: string, private readonly inputValue: Readonly<Record<string, string>>, forEach?: ITerraformIterator) {
    super(scope, id, { terraformResourceType: SettingsTrigger.tfResourceType, forEach });
  }

  /** The bare address replace_triggered_by needs (cdktf renders a resource object as "${...}", which Terraform
   * rejects: hashicorp/terraform-cdk#3196, #3532), optionally of one for_each instance. */
  address(key?: string): string {
    const base = `${SettingsTrigger.tfResourceType}.${this.friendlyUniqueId}`;
    return key === undefined ? base : `${base}[${JSON.stringify(key)}]`;
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { input: { ...this.inputValue } };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return { input: { value: { ...this.inputValue }, isBlock: false, type: 'map', storageClassType: 'stringMap' } };
  }
}

export class ReplacedContainer extends Construct {
  readonly container: PlainContainer;
  /** The terraform_data whose change replaces the container (absent when given `replacedBy`). */
  readonly trigger?: SettingsTrigger;

  constructor(scope: Construct, id: string, props: ReplacedContainerProps) {
    super(scope, id);
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(props.name)) throw new Error(`container name "${props.name}" must be lower-case letters, digits, ".", "_" or "-"`);
    if (/:(latest|stable|unstable)$/.test(props.imageName) || !/:[^/]+$|@sha256:[a-f0-9]{64}$/.test(props.imageName)) {
      throw new Error(`container "${props.name}" uses image "${props.imageName}" without a pinned tag or digest`);
    }
    const targets = [
      ...(Array.isArray(props.mounts) ? props.mounts.map((mount) => mount.target) : []),
      ...(Array.isArray(props.volumes) ? props.volumes.flatMap((volume) => volume.containerPath ?? []) : []),
    ];
    for (const target of targets) {
      const problem = mountTargetProblem(target);
      if (problem) throw new Error(`container "${props.name}": ${problem}`);
    }
    const { imageName: _imageName, replacedBy, ...config } = props;
    let address = replacedBy;
    if (address === undefined) {
      this.trigger = new SettingsTrigger(this, 'settings', { sha256: settingsHash(containerSettings(props)) });
      address = this.trigger.address();
    }
    this.container = new PlainContainer(this, 'container', { ...config, lifecycle: { replaceTriggeredBy: [address] } });
  }
}
