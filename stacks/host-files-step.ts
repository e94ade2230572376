/**
 * The host-files step: one `terraform_data` per host, after its readiness gate, that runs
 * scripts/install-host-files.sh (local-exec) over the gate's ssh path to install the host's timers, helper scripts
 * and directory list (stacks/host-files.ts) as root with sudo. `triggers_replace` is the instance id and a hash of
 * what it installs (and of the installer): a new instance or a changed file re-runs it; nothing else is replaced.
 * The files travel in the environment (MEET_HOST_FILES) and on ssh's stdin, never in argv; they hold no secret.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TerraformResource, type ITerraformDependable, type ITerraformIterator } from 'cdktf';
import type { Construct } from 'constructs';
import { terraformLiteral } from './cloud-init.js';
import { REPO_ROOT } from './tooling/bindings.js';

/** The installer's two halves: what runs here, and what it sends to the host's shell. */
export const INSTALLER_SCRIPTS = ['scripts/install-host-files.sh', 'scripts/host-files-remote.sh'] as const;

/** Linux caps one environment string at 128 KiB (MAX_ARG_STRLEN); stay well below it. */
export const HOST_FILES_LIMIT = 65_536;

export interface HostFilesStepProps {
  /** Host name for messages (an expression such as `${each.key}` with forEach). */
  readonly hostName: string;
  /** Instance id: a new instance gets its files again. */
  readonly instanceId: string;
  /** The IPv4 the readiness gate and the docker providers use. */
  readonly address: string;
  /** Deploy account (an expression: var.ssh_user). */
  readonly user: string;
  /** ProxyJump target. */
  readonly bastion: string;
  /** The rendered declarations (stacks/host-files.ts hostFiles). */
  readonly files: string;
  /** scripts/install-host-files.sh, relative to the synthesized stack's directory (where Terraform runs). */
  readonly script: string;
  /** The host's readiness gate: the step runs once sshd and dockerd answer. */
  readonly dependsOn: ITerraformDependable[];
  readonly forEach?: ITerraformIterator;
}

/** sha256 of the files and of the installer's two scripts, as read now. */
export function hostFilesHash(files: string): string {
  const hash = createHash('sha256').update(files);
  for (const script of INSTALLER_SCRIPTS) hash.update('\0').update(readFileSync(join(REPO_ROOT, script)));
  return hash.digest('hex');
}

export class HostFilesStep extends TerraformResource {
  static readonly tfResourceType = 'terraform_data';
  private readonly triggers: string[];

  constructor(scope: Construct, id: string, props: HostFilesStepProps) {
    const size = Buffer.byteLength(props.files);
    if (size > HOST_FILES_LIMIT)
      throw new Error(
        `host files of ${props.hostName} are ${size} bytes; at most ${HOST_FILES_LIMIT} fit in the installer's environment`,
      );
    super(scope, id, {
      terraformResourceType: HostFilesStep.tfResourceType,
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
            // Terraform reads ${ and %{ in it as template syntax: kept literal.
            MEET_HOST_FILES: terraformLiteral(props.files),
          },
        },
      ],
    });
    this.triggers = [props.instanceId, hostFilesHash(props.files)];
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return { triggers_replace: this.triggers };
  }

  protected override synthesizeHclAttributes(): Record<string, unknown> {
    return { triggers_replace: { value: this.triggers, isBlock: false, type: 'list', storageClassType: 'stringList' } };
  }
}
