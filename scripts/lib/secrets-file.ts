/**
 * The operator's secrets file for one environment: shell-sourceable `TF_VAR_*` lines (plus the OpenStack and S3
 * credentials the operator fills in), created with mode 0600 and never overwritten. Every generated value comes
 * from node:crypto; nothing is printed, so a secret never reaches a terminal log.
 */
import { randomBytes } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { generateSealingKeyPair } from '../../edge/shared/sealing.js';
import { generateSigningSecret } from '../../edge/shared/signing.js';
import { servicePasswordProblem } from '../../stacks/service-passwords.js';
import { ENVIRONMENT_NAME } from '../../common/config.js';
import { newBackupKey } from './backup/key.js';

/** The secret variables the stacks declare (stacks/secrets.ts); the file also carries ssh_user, not a secret. */
export interface GeneratedSecrets {
  readonly jicofo_auth_password: string;
  readonly jvb_auth_password: string;
  readonly agent_signing_secrets: string;
  readonly agent_sealing_private_keys: string;
  readonly agent_sealing_public_key: string;
  readonly metrics_token: string;
  /** The backup archives' key (stacks/secrets.ts declareBackupSecrets; only environments with `backup` read it). */
  readonly backup_key: string;
}

/** 48 hex digits: survives the images' unquoted shell command and HOCON strings (stacks/service-passwords.ts). */
function servicePassword(name: string): string {
  const value = randomBytes(24).toString('hex');
  const problem = servicePasswordProblem(name, value);
  if (problem) throw new Error(`generated ${problem}`);
  return value;
}

export function generateSecrets(): GeneratedSecrets {
  const sealing = generateSealingKeyPair();
  return {
    jicofo_auth_password: servicePassword('jicofo_auth_password'),
    jvb_auth_password: servicePassword('jvb_auth_password'),
    agent_signing_secrets: generateSigningSecret(),
    agent_sealing_private_keys: sealing.privateKey,
    agent_sealing_public_key: sealing.publicKey,
    metrics_token: randomBytes(32).toString('hex'),
    backup_key: newBackupKey().trim(),
  };
}

/** Single-quotes a value for POSIX sh (every generated value is base64/hex, but be exact anyway). */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function renderSecretsFile(environment: string, secrets: GeneratedSecrets, sshUser?: string): string {
  const lines = [
    `# Wikimedia Meet secrets for the "${environment}" environment. Mode 0600; never commit, never paste.`,
    `# Use: set -a; . <this file>; set +a; npx cdktf deploy ${environment}-cloud ${environment}-services`,
    '',
    ...Object.entries(secrets).map(([name, value]) => `TF_VAR_${name}=${shellQuote(value)}`),
    sshUser
      ? `TF_VAR_ssh_user=${shellQuote(sshUser)}`
      : "# TF_VAR_ssh_user=   (your Cloud VPS shell name: the stacks ssh to the hosts as it, with your developer account's key)",
    '',
    '# OpenStack application credential of the Cloud VPS project (Horizon > Identity > Application Credentials):',
    '# OS_APPLICATION_CREDENTIAL_ID=',
    '# OS_APPLICATION_CREDENTIAL_SECRET=',
    '# S3 keys for the Terraform state on Cloud VPS object storage (an EC2 credential of the project):',
    '# AWS_ACCESS_KEY_ID=',
    '# AWS_SECRET_ACCESS_KEY=',
    '# With `backup` in the environment: an EC2 credential for the backup bucket (it reaches only meet-edge):',
    '# TF_VAR_backup_s3_access_key_id=',
    '# TF_VAR_backup_s3_secret_access_key=',
    '# Keep a copy of TF_VAR_backup_key elsewhere too: no archive opens without it.',
    '# Only with Terraform >= 1.11 instead of OpenTofu: Ceph RGW is reported to reject its checksum trailer.',
    '# AWS_REQUEST_CHECKSUM_CALCULATION=when_required',
    '# AWS_RESPONSE_CHECKSUM_VALIDATION=when_required',
    '',
  ];
  return lines.join('\n');
}

/** Creates `path` with mode 0600 (refusing to replace an existing file) and writes a fresh secrets file. */
export async function createSecretsFile(path: string, environment: string, sshUser?: string): Promise<void> {
  if (!ENVIRONMENT_NAME.test(environment)) {
    throw new Error(`environment "${environment}" must be lower-case letters, digits and dashes`);
  }
  if (
    await stat(path).then(
      () => true,
      () => false,
    )
  ) {
    throw new Error(`${path} already exists; secrets are never overwritten (rotate them instead)`);
  }
  // 'wx' fails if the file appeared meanwhile; the mode applies from the first byte.
  const file = await open(path, 'wx', 0o600);
  try {
    await file.writeFile(renderSecretsFile(environment, generateSecrets(), sshUser));
  } finally {
    await file.close();
  }
}
