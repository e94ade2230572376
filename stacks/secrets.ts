/**
 * The secrets of an environment, declared as sensitive Terraform variables on the services stack. Values come
 * only from the operator's secrets file (mode 0600, outside git) through TF_VAR_<name>; nothing secret is
 * synthesized into cdktf.out/. Validation messages never echo the value.
 */
import { TerraformVariable, type TerraformStack } from 'cdktf';

export interface ServiceSecrets {
  readonly jicofoAuthPassword: string;
  readonly jvbAuthPassword: string;
  /** "whsec_new whsec_old": what the agent accepts and the edge signs with. */
  readonly agentSigningSecrets: string;
  /** Space-separated X25519 private keys (newest first) of the agent. */
  readonly agentSealingPrivateKeys: string;
  /** The public half of the newest sealing key; the edge seals passwords to it. Not secret. */
  readonly agentSealingPublicKey: string;
}

/** Variable names, which are also the TF_VAR_<name> names in the secrets file. */
export const SECRET_VARIABLES = {
  jicofoAuthPassword: 'jicofo_auth_password',
  jvbAuthPassword: 'jvb_auth_password',
  agentSigningSecrets: 'agent_signing_secrets',
  agentSealingPrivateKeys: 'agent_sealing_private_keys',
  agentSealingPublicKey: 'agent_sealing_public_key',
} as const satisfies Record<keyof ServiceSecrets, string>;

export function declareSecrets(stack: TerraformStack): ServiceSecrets {
  const variable = (name: string, description: string, sensitive: boolean, condition: string, errorMessage: string) =>
    new TerraformVariable(stack, name, {
      type: 'string', description, sensitive, nullable: false,
      validation: [{ condition, errorMessage }],
    }).stringValue;
  const v = (name: string) => `var.${name}`;
  const names = SECRET_VARIABLES;
  return {
    jicofoAuthPassword: variable(names.jicofoAuthPassword, 'Prosody account of jicofo (focus@auth.meet.jitsi)', true,
      `length(${v(names.jicofoAuthPassword)}) >= 24`, 'jicofo_auth_password must be at least 24 characters (e.g. openssl rand -hex 16).'),
    jvbAuthPassword: variable(names.jvbAuthPassword, 'Prosody account of every JVB (jvb@auth.meet.jitsi)', true,
      `length(${v(names.jvbAuthPassword)}) >= 24`, 'jvb_auth_password must be at least 24 characters (e.g. openssl rand -hex 16).'),
    agentSigningSecrets: variable(names.agentSigningSecrets, 'Signing secrets between meet-auth and the agent: "whsec_new [whsec_old]"', true,
      `can(regex("^whsec_[A-Za-z0-9+/=]+([ ,]+whsec_[A-Za-z0-9+/=]+)*$", ${v(names.agentSigningSecrets)}))`,
      'agent_signing_secrets must be one or more whsec_<base64> secrets separated by spaces.'),
    agentSealingPrivateKeys: variable(names.agentSealingPrivateKeys, 'X25519 private keys of the agent, newest first, space separated', true,
      `can(regex("^[A-Za-z0-9_-]{43}( [A-Za-z0-9_-]{43})*$", ${v(names.agentSealingPrivateKeys)}))`,
      'agent_sealing_private_keys must be base64url X25519 private keys (43 characters) separated by spaces.'),
    agentSealingPublicKey: variable(names.agentSealingPublicKey, 'X25519 public key matching the newest agent sealing key', false,
      `can(regex("^[A-Za-z0-9_-]{43}$", ${v(names.agentSealingPublicKey)}))`,
      'agent_sealing_public_key must be a base64url X25519 public key (43 characters).'),
  };
}
