/**
 * The readiness gate: OpenStack reports a server ACTIVE long before cloud-init has installed docker.io and Cloud
 * VPS's first puppet runs have stopped refusing non-root logins. One `terraform_data` per host, replaced with its
 * instance, runs scripts/wait-for-host.sh (local-exec) until sshd takes the deploy account and dockerd answers it,
 * or fails after the timeout naming the host and what it waited for. The cloud stack's apply ends only then, so the
 * services stack that `cdktf deploy <env>-cloud <env>-services` applies next finds every host ready.
 */
import type { Construct } from 'constructs';
import { SshStep, type SshStepProps } from './ssh-step.js';

export interface ReadinessGateProps extends SshStepProps {
  /** Instance id: a new instance means a new gate run. */
  readonly instanceId: string;
  /** Seconds to wait. */
  readonly waitSeconds: number;
  /** What must exist before the gate runs (the state volume's attachment: dockerd waits for it). @default none */
  readonly dependsOn?: SshStepProps['dependsOn'];
}

/** Runs scripts/wait-for-host.sh (`script`) until the host is ready, once per instance. */
export class ReadinessGate extends SshStep {
  constructor(scope: Construct, id: string, props: ReadinessGateProps) {
    super(scope, id, props, {
      environment: { MEET_WAIT_SECONDS: String(props.waitSeconds), MEET_FORGET_HOST_KEY: '1' },
      triggers: [props.instanceId],
    });
    if (!Number.isInteger(props.waitSeconds) || props.waitSeconds < 1)
      throw new Error(
        `readiness gate of ${props.hostName}: waitSeconds ${props.waitSeconds} must be a whole number above 0`,
      );
  }
}
