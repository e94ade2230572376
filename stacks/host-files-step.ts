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
import type { Construct } from 'constructs';
import { terraformLiteral } from './cloud-init.js';
import { SshStep, type SshStepProps } from './ssh-step.js';
import { REPO_ROOT } from './tooling/bindings.js';

/** The installer's two halves: what runs here, and what it sends to the host's shell. */
export const INSTALLER_SCRIPTS = ['scripts/install-host-files.sh', 'scripts/host-files-remote.sh'] as const;

/** Linux caps one environment string at 128 KiB (MAX_ARG_STRLEN); stay well below it. */
export const HOST_FILES_LIMIT = 65_536;

export interface HostFilesStepProps extends SshStepProps {
  /** Instance id: a new instance gets its files again. */
  readonly instanceId: string;
  /** The rendered declarations (stacks/host-files.ts hostFiles). */
  readonly files: string;
  /** The host's readiness gate: the step runs once sshd and dockerd answer. */
  readonly dependsOn: NonNullable<SshStepProps['dependsOn']>;
}

/** sha256 of the files and of the installer's two scripts, as read now. */
export function hostFilesHash(files: string): string {
  const hash = createHash('sha256').update(files);
  for (const script of INSTALLER_SCRIPTS) hash.update('\0').update(readFileSync(join(REPO_ROOT, script)));
  return hash.digest('hex');
}

/** Runs scripts/install-host-files.sh (`script`) with the host's files, again whenever they or the instance change. */
export class HostFilesStep extends SshStep {
  constructor(scope: Construct, id: string, props: HostFilesStepProps) {
    const size = Buffer.byteLength(props.files);
    if (size > HOST_FILES_LIMIT)
      throw new Error(
        `host files of ${props.hostName} are ${size} bytes; at most ${HOST_FILES_LIMIT} fit in the installer's environment`,
      );
    super(scope, id, props, {
      // Terraform reads ${ and %{ in it as template syntax: kept literal.
      environment: { MEET_HOST_FILES: terraformLiteral(props.files) },
      triggers: [props.instanceId, hostFilesHash(props.files)],
    });
  }
}
