/**
 * The secrets of an environment, declared as sensitive Terraform variables on the services stack. Values come
 * only from the operator's secrets file (mode 0600, outside git) through TF_VAR_<name>; nothing secret is
 * synthesized into cdktf.out/. Validation messages never echo the value.
 */
import { TerraformVariable, type TerraformStack } from 'cdktf';
import {
  SERVICE_PASSWORD_CHARACTERS_PATTERN,
  SERVICE_PASSWORD_MIN_LENGTH,
  SERVICE_PASSWORD_PATTERN,
  SERVICE_PASSWORD_RULE,
} from './service-passwords.js';

export interface ServiceSecrets {
  readonly jicofoAuthPassword: string;
  readonly jvbAuthPassword: string;
  /** "whsec_new whsec_old": what the agent accepts and the edge signs with. */
  readonly agentSigningSecrets: string;
  /** Space-separated X25519 private keys (newest first) of the agent. */
  readonly agentSealingPrivateKeys: string;
  /** The public half of the newest sealing key; the edge seals passwords to it. Not secret. */
  readonly agentSealingPublicKey: string;
  /** Bearer token for meet-auth's /metrics; "" (the default, for older secrets files): no /metrics. */
  readonly metricsToken: string;
}

/** Variable names, which are also the TF_VAR_<name> names in the secrets file. */
const SECRET_VARIABLES = {
  jicofoAuthPassword: 'jicofo_auth_password',
  jvbAuthPassword: 'jvb_auth_password',
  agentSigningSecrets: 'agent_signing_secrets',
  agentSealingPrivateKeys: 'agent_sealing_private_keys',
  agentSealingPublicKey: 'agent_sealing_public_key',
  metricsToken: 'metrics_token',
} as const satisfies Record<keyof ServiceSecrets, string>;

/** What the daily backup needs (declared only for an environment with `backup`); meet-edge's environment only. */
export interface BackupSecrets {
  /** The key archives are encrypted with (MEET_BACKUP_KEY): 32 bytes, base64url. */
  readonly backupKey: string;
  /** An EC2 credential of the project for the backup bucket (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const BACKUP_SECRET_VARIABLES = {
  backupKey: 'backup_key',
  accessKeyId: 'backup_s3_access_key_id',
  secretAccessKey: 'backup_s3_secret_access_key',
} as const satisfies Record<keyof BackupSecrets, string>;

type Rule = { condition: string; errorMessage: string };

function sensitiveString(stack: TerraformStack, name: string, description: string, rules: readonly Rule[]): string {
  return new TerraformVariable(stack, name, {
    type: 'string',
    description,
    sensitive: true,
    nullable: false,
    validation: rules.map((rule) => ({ condition: `\${${rule.condition}}`, errorMessage: rule.errorMessage })),
  }).stringValue;
}

/** The backup's sensitive variables; the messages name the variable, never its value. */
export function declareBackupSecrets(stack: TerraformStack): BackupSecrets {
  const names = BACKUP_SECRET_VARIABLES;
  // Printable ASCII without spaces: a credential pasted with a blank or a newline is refused here, not at 3 am.
  const credential = (name: string) => [
    {
      condition: `can(regex("^[!-~]{16,256}$", var.${name}))`,
      errorMessage: `${name} must be 16 to 256 printable characters without spaces (an EC2 credential of the project: openstack ec2 credentials create).`,
    },
  ];
  return {
    backupKey: sensitiveString(
      stack,
      names.backupKey,
      'Key of the backup archives (32 bytes, base64url); made by npm run secrets -- init',
      [
        {
          condition: `can(regex("^[A-Za-z0-9_-]{43}$", var.${names.backupKey}))`,
          errorMessage: `${names.backupKey} must be 32 bytes in base64url (43 characters), as npm run secrets -- init makes it.`,
        },
      ],
    ),
    accessKeyId: sensitiveString(
      stack,
      names.accessKeyId,
      'S3 access key of the backup bucket',
      credential(names.accessKeyId),
    ),
    secretAccessKey: sensitiveString(
      stack,
      names.secretAccessKey,
      'S3 secret key of the backup bucket',
      credential(names.secretAccessKey),
    ),
  };
}

export function declareSecrets(stack: TerraformStack): ServiceSecrets {
  const variable = (
    name: string,
    description: string,
    sensitive: boolean,
    condition: string | Array<{ condition: string; errorMessage: string }>,
    errorMessage = '',
    fallback?: string,
  ) =>
    new TerraformVariable(stack, name, {
      type: 'string',
      description,
      sensitive,
      nullable: false,
      ...(fallback !== undefined ? { default: fallback } : {}),
      // In JSON a bare string is a template without interpolation, which Terraform refuses as a condition (it must
      // refer to the variable: hashicorp/terraform-cdk#3571); "${...}" makes it the expression.
      validation: (typeof condition === 'string' ? [{ condition, errorMessage }] : condition).map((rule) => ({
        condition: `\${${rule.condition}}`,
        errorMessage: rule.errorMessage,
      })),
    }).stringValue;
  const v = (name: string) => `var.${name}`;
  const names = SECRET_VARIABLES;
  // Characters first: a password with a space is refused for what breaks the images, whatever its length.
  const servicePassword = (name: string) => [
    {
      condition: `can(regex("${SERVICE_PASSWORD_CHARACTERS_PATTERN}", ${v(name)}))`,
      errorMessage: `${name} must use ${SERVICE_PASSWORD_RULE}.`,
    },
    {
      condition: `can(regex("${SERVICE_PASSWORD_PATTERN}", ${v(name)}))`,
      errorMessage: `${name} must be at least ${SERVICE_PASSWORD_MIN_LENGTH} characters (e.g. openssl rand -hex 16).`,
    },
  ];
  return {
    jicofoAuthPassword: variable(
      names.jicofoAuthPassword,
      'Prosody account of jicofo (focus@auth.meet.jitsi)',
      true,
      servicePassword(names.jicofoAuthPassword),
    ),
    jvbAuthPassword: variable(
      names.jvbAuthPassword,
      'Prosody account of every JVB (jvb@auth.meet.jitsi)',
      true,
      servicePassword(names.jvbAuthPassword),
    ),
    agentSigningSecrets: variable(
      names.agentSigningSecrets,
      'Signing secrets between meet-auth and the agent: "whsec_new [whsec_old]"',
      true,
      `can(regex("^whsec_[A-Za-z0-9+/=]+([ ,]+whsec_[A-Za-z0-9+/=]+)*$", ${v(names.agentSigningSecrets)}))`,
      'agent_signing_secrets must be one or more whsec_<base64> secrets separated by spaces.',
    ),
    agentSealingPrivateKeys: variable(
      names.agentSealingPrivateKeys,
      'X25519 private keys of the agent, newest first, space separated',
      true,
      `can(regex("^[A-Za-z0-9_-]{43}( [A-Za-z0-9_-]{43})*$", ${v(names.agentSealingPrivateKeys)}))`,
      'agent_sealing_private_keys must be base64url X25519 private keys (43 characters) separated by spaces.',
    ),
    agentSealingPublicKey: variable(
      names.agentSealingPublicKey,
      'X25519 public key matching the newest agent sealing key',
      false,
      `can(regex("^[A-Za-z0-9_-]{43}$", ${v(names.agentSealingPublicKey)}))`,
      'agent_sealing_public_key must be a base64url X25519 public key (43 characters).',
    ),
    // Optional so that a secrets file made before it existed still deploys (then meet-auth serves no /metrics).
    metricsToken: variable(
      names.metricsToken,
      'Bearer token for meet-auth /metrics ("" = no /metrics)',
      true,
      `${v(names.metricsToken)} == "" || can(regex("^[A-Za-z0-9._~+/-]{32,}=*$", ${v(names.metricsToken)}))`,
      'metrics_token must be empty or at least 32 characters of A-Z a-z 0-9 . _ ~ + / - (e.g. openssl rand -hex 32).',
      '',
    ),
  };
}
