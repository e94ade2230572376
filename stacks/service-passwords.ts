/**
 * What the Jitsi images accept as the service accounts' passwords (JICOFO_AUTH_PASSWORD, JVB_AUTH_PASSWORD). At
 * stable-11146-2 they go unquoted into a shell command line, `prosodyctl --config $PROSODY_CFG shell user create
 * focus@$XMPP_AUTH_DOMAIN $JICOFO_AUTH_PASSWORD` (prosody/rootfs/etc/s6-overlay/scripts/register-setup:67, :76),
 * and into HOCON strings, `password = "{{ .Env.JICOFO_AUTH_PASSWORD }}"` (jicofo/rootfs/defaults/jicofo.conf:315,
 * :329, :341; jvb/rootfs/defaults/jvb.conf:54, :68). Word splitting, globbing, quotes, `$`, `\` and `#` change
 * the value in one or the other; letters, digits, "_", "." and "-" mean nothing to either. The first character is a
 * letter or digit, so prosodyctl never takes the password for an option. No cdktf here: scripts use it too.
 */
export const SERVICE_PASSWORD_MIN_LENGTH = 24;
/** The allowed characters, as a class usable in JavaScript and in Terraform's RE2. */
const CHARACTERS = 'A-Za-z0-9_.-';
/** The whole rule (characters and length) as an RE2/JavaScript pattern, for Terraform's regex() too. */
export const SERVICE_PASSWORD_PATTERN = `^[A-Za-z0-9][${CHARACTERS}]{${SERVICE_PASSWORD_MIN_LENGTH - 1},}$`;
/** The characters alone (any length), as a pattern for JavaScript and Terraform. */
export const SERVICE_PASSWORD_CHARACTERS_PATTERN = `^[A-Za-z0-9][${CHARACTERS}]*$`;
const ALLOWED = new RegExp(SERVICE_PASSWORD_CHARACTERS_PATTERN);

export const SERVICE_PASSWORD_RULE = `letters, digits, "_", "." and "-" only, starting with a letter or digit (the Jitsi images put it unquoted into a shell command and into HOCON strings)`;

/**
 * Why `value` cannot be the password `name` (never repeating the value, which is a secret), or undefined.
 * `minLength` is the generation and variable policy; the images themselves only need the characters.
 */
export function servicePasswordProblem(
  name: string,
  value: string,
  minLength = SERVICE_PASSWORD_MIN_LENGTH,
): string | undefined {
  if (!ALLOWED.test(value)) return `${name} must use ${SERVICE_PASSWORD_RULE}`;
  if (value.length < minLength) return `${name} must be at least ${minLength} characters (e.g. openssl rand -hex 16)`;
  return undefined;
}
