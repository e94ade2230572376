/**
 * The deploy account: the operator's Cloud VPS shell name, which sshd on the hosts accepts with that account's
 * LDAP key (never `debian`). One variable per stack, `ssh_user` (TF_VAR_ssh_user at deploy time), defaulting to the
 * environment's `ssh.user` when it names one.
 */
import { TerraformVariable } from 'cdktf';
import type { Construct } from 'constructs';
import { SHELL_NAME, type EnvironmentConfig } from './config.js';

export function sshUserVariable(scope: Construct, env: EnvironmentConfig): string {
  const variable = new TerraformVariable(scope, 'ssh_user', {
    type: 'string',
    description:
      'your Cloud VPS shell name (developer account): the docker providers and the readiness gate log in as it, through the bastion',
    nullable: false,
    ...(env.ssh.user ? { default: env.ssh.user } : {}),
    validation: [
      {
        condition: `\${can(regex(${JSON.stringify(SHELL_NAME.source)}, var.ssh_user))}`,
        errorMessage:
          'ssh_user must be a shell name such as "alice" (lower-case letters, digits, "_" and "-"), the name you log in to Cloud VPS with',
      },
    ],
  });
  return variable.stringValue;
}
