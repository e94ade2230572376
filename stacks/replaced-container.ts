/**
 * A docker container that is replaced whenever its settings change. Jitsi's images render their config from
 * env at every start, so a replaced container always runs with the declared settings: a changed setting can never
 * be left unapplied in a config volume rendered from the old one. The trigger is a built-in `terraform_data`
 * (no provider) whose input is sha256(jsonencode(settings)) evaluated by Terraform, so secret values and
 * cross-stack addresses count too; `replace_triggered_by` points the container at it.
 */
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import type { ContainerConfig } from '@cdktf/provider-docker/lib/container/index.js';
import { deepFunctionSafe } from './hcl.js';
import { mountTargetProblem } from './jitsi-images.js';
import { PlainContainer } from './plain-docker.js';
import { SettingsTrigger } from './settings-trigger.js';

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
export function containerSettings(
  props: Omit<ReplacedContainerProps, 'provider' | 'replacedBy'>,
): Record<string, unknown> {
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

export class ReplacedContainer extends Construct {
  readonly container: PlainContainer;
  /** The terraform_data whose change replaces the container (absent when given `replacedBy`). */
  readonly trigger?: SettingsTrigger;

  constructor(scope: Construct, id: string, props: ReplacedContainerProps) {
    super(scope, id);
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(props.name))
      throw new Error(`container name "${props.name}" must be lower-case letters, digits, ".", "_" or "-"`);
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
