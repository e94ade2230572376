/**
 * A step run from the deploying machine against one host over ssh: a `terraform_data` whose local-exec runs one of
 * our scripts with the host's ssh path as environment (never through a shell command line), replaced, and so run
 * again, whenever one of its triggers changes. The readiness gate and the host-files step are such steps.
 */
import { TerraformResource, type ITerraformDependable, type ITerraformIterator } from 'cdktf';
import type { Construct } from 'constructs';

export interface SshStepProps {
  /** Host name for messages (an expression such as `${each.key}` with forEach); the script's one argument. */
  readonly hostName: string;
  /** The IPv4 the docker providers use. */
  readonly address: string;
  /** Deploy account (an expression: var.ssh_user). */
  readonly user: string;
  /** ProxyJump target. */
  readonly bastion: string;
  /** The script under scripts/, relative to the synthesized stack's directory (where Terraform runs). */
  readonly script: string;
  /** What must exist before the step runs. @default none */
  readonly dependsOn?: ITerraformDependable[];
  readonly forEach?: ITerraformIterator;
}

/** What a kind of step adds: its own environment (after the ssh path's) and what re-runs it. */
export interface SshStepRun {
  readonly environment: Record<string, string>;
  /** `triggers_replace`: a change in any of them replaces the step, which runs it again. */
  readonly triggers: readonly string[];
}

export abstract class SshStep extends TerraformResource {
  static readonly tfResourceType = 'terraform_data';
  private readonly triggers: readonly string[];

  protected constructor(scope: Construct, id: string, props: SshStepProps, run: SshStepRun) {
    super(scope, id, {
      terraformResourceType: SshStep.tfResourceType,
      forEach: props.forEach,
      dependsOn: props.dependsOn,
      provisioners: [
        {
          type: 'local-exec',
          interpreter: ['/bin/sh', props.script],
          command: props.hostName,
          environment: {
            MEET_SSH_USER: props.user,
            MEET_SSH_ADDRESS: props.address,
            MEET_SSH_BASTION: props.bastion,
            ...run.environment,
          },
        },
      ],
    });
    this.triggers = run.triggers;
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { triggers_replace: this.triggers };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return { triggers_replace: { value: this.triggers, isBlock: false, type: 'list', storageClassType: 'stringList' } };
  }
}
