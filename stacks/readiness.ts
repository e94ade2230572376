/**
 * The readiness gate: OpenStack reports a server ACTIVE long before cloud-init has installed docker.io and Cloud
 * VPS's first puppet runs have stopped refusing non-root logins. One `terraform_data` per host, replaced with its
 * instance, runs scripts/wait-for-host.sh (local-exec) until sshd takes the deploy account and dockerd answers it,
 * or fails after the timeout naming the host and what it waited for. The cloud stack's apply ends only then, so the
 * services stack that `cdktf deploy <env>-cloud <env>-services` applies next finds every host ready.
 */
import { TerraformResource, type ITerraformDependable, type ITerraformIterator } from 'cdktf';
import type { Construct } from 'constructs';

export interface ReadinessGateProps {
  /** Host name for messages (an expression such as `${each.key}` with forEach). */
  readonly hostName: string;
  /** Instance id: a new instance means a new gate run. */
  readonly instanceId: string;
  /** The IPv4 the docker providers use. */
  readonly address: string;
  /** Deploy account (an expression: var.ssh_user). */
  readonly user: string;
  /** ProxyJump target. */
  readonly bastion: string;
  /** Seconds to wait. */
  readonly waitSeconds: number;
  /** scripts/wait-for-host.sh, relative to the synthesized stack's directory (where Terraform runs). */
  readonly script: string;
  /** What must exist before the gate runs (the state volume's attachment: dockerd waits for it). @default none */
  readonly dependsOn?: ITerraformDependable[];
  readonly forEach?: ITerraformIterator;
}

export class ReadinessGate extends TerraformResource {
  static readonly tfResourceType = 'terraform_data';

  constructor(
    scope: Construct,
    id: string,
    private readonly props: ReadinessGateProps,
  ) {
    super(scope, id, {
      terraformResourceType: ReadinessGate.tfResourceType,
      forEach: props.forEach,
      dependsOn: props.dependsOn,
      provisioners: [
        {
          type: 'local-exec',
          // The values travel as environment, never through a shell command line.
          interpreter: ['/bin/sh', props.script],
          command: props.hostName,
          environment: {
            MEET_SSH_USER: props.user,
            MEET_SSH_ADDRESS: props.address,
            MEET_SSH_BASTION: props.bastion,
            MEET_WAIT_SECONDS: String(props.waitSeconds),
            MEET_FORGET_HOST_KEY: '1',
          },
        },
      ],
    });
    if (!Number.isInteger(props.waitSeconds) || props.waitSeconds < 1)
      throw new Error(
        `readiness gate of ${props.hostName}: waitSeconds ${props.waitSeconds} must be a whole number above 0`,
      );
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { triggers_replace: [this.props.instanceId] };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return {
      triggers_replace: {
        value: [this.props.instanceId],
        isBlock: false,
        type: 'list',
        storageClassType: 'stringList',
      },
    };
  }
}
