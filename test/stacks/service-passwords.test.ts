/**
 * The service accounts' passwords must survive the Jitsi images: unquoted in register-setup's shell command
 * (prosody/rootfs/etc/s6-overlay/scripts/register-setup:67, :76@stable-11146-2) and inside HOCON "..." strings
 * (jicofo.conf:315, jvb.conf:54). Checked where they are declared (the Terraform variables), where a literal is
 * given to a construct, and where `npm run secrets` generates them.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TerraformStack, Testing } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { generateSecrets } from '../../scripts/lib/secrets-file.js';
import { Jitsi } from '../../stacks/jitsi.js';
import { ExtraJvbs } from '../../stacks/jvb.js';
import { declareSecrets } from '../../stacks/secrets.js';
import {
  SERVICE_PASSWORD_CHARACTERS_PATTERN,
  SERVICE_PASSWORD_PATTERN,
  servicePasswordProblem,
} from '../../stacks/service-passwords.js';
import { REPO_ROOT } from '../../stacks/tooling/bindings.js';
import { dockerStack, synthJitsi, synthJson } from './helpers.js';

const GOOD = ['0123456789abcdef0123456789abcdef', 'Abc_def.ghi-jkl_0123456789', 'a'.repeat(24)];
const BAD_CHARACTERS = [
  ' ',
  '$',
  '"',
  "'",
  '\\',
  '`',
  '*',
  '?',
  '[',
  '#',
  ';',
  '&',
  '|',
  '<',
  '>',
  '(',
  ')',
  '{',
  '}',
  '~',
  '!',
  '=',
  '%',
  ',',
  '\n',
  'é',
];

describe('servicePasswordProblem', () => {
  it('accepts letters, digits, "_", "." and "-" from 24 characters on, starting with a letter or digit', () => {
    for (const value of GOOD) expect(servicePasswordProblem('jvb_auth_password', value)).toBeUndefined();
  });

  it('refuses every other character, a leading "-" or "." and short values, saying why without the value', () => {
    for (const char of BAD_CHARACTERS) {
      const value = `abcdefghijkl${char}mnopqrstuvwxyz`;
      const problem = servicePasswordProblem('jicofo_auth_password', value);
      expect(problem, JSON.stringify(char)).toBe(
        'jicofo_auth_password must use letters, digits, "_", "." and "-" only, starting with a letter or digit (the Jitsi images put it unquoted into a shell command and into HOCON strings)',
      );
      expect(problem).not.toContain(value);
    }
    expect(servicePasswordProblem('p', `-${'a'.repeat(30)}`)).toMatch(/starting with a letter or digit/);
    expect(servicePasswordProblem('p', `.${'a'.repeat(30)}`)).toMatch(/starting with a letter or digit/);
    expect(servicePasswordProblem('p', 'a'.repeat(23))).toBe(
      'p must be at least 24 characters (e.g. openssl rand -hex 16)',
    );
  });

  it('what it accepts stays one unchanged word in bash, as register-setup expands it; what it refuses does not', async () => {
    const run = promisify(execFile);
    // Expanded unquoted, the way register-setup:67 expands $JICOFO_AUTH_PASSWORD, in a directory with files to glob.
    const words = async (value: string) =>
      (
        await run('bash', ['-c', 'cd "$1" && set -- $P; printf "%s\\0" "$@"', 'bash', join(REPO_ROOT, 'stacks')], {
          env: { P: value, PATH: process.env.PATH },
        })
      ).stdout
        .split('\0')
        .slice(0, -1);
    for (const value of [...GOOD, 'azAZ09_.-'.repeat(3), generateSecrets().jicofo_auth_password])
      expect(await words(value)).toEqual([value]);
    for (const value of ['with space inside it 0123', 'jitsi*', 'tab\tinside0123456789abcd'])
      expect(await words(value)).not.toEqual([value]);
    // Inside HOCON's "..." only `"` and `\` (and control characters) are special: both are refused.
    expect(new RegExp(SERVICE_PASSWORD_CHARACTERS_PATTERN).test('a"b')).toBe(false);
    expect(new RegExp(SERVICE_PASSWORD_CHARACTERS_PATTERN).test('a\\b')).toBe(false);
  });
});

describe('where the passwords are declared and used', () => {
  it('the Terraform variables validate the characters and the length, with messages that say why', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    declareSecrets(stack);
    const variables = synthJson(stack).variable!;
    for (const name of ['jicofo_auth_password', 'jvb_auth_password']) {
      const validation = variables[name]!.validation as Array<{ condition: string; error_message: string }>;
      expect(validation).toEqual([
        {
          condition: `\${can(regex("${SERVICE_PASSWORD_CHARACTERS_PATTERN}", var.${name}))}`,
          error_message: expect.stringContaining(`${name} must use letters, digits, "_", "." and "-" only`),
        },
        {
          condition: `\${can(regex("${SERVICE_PASSWORD_PATTERN}", var.${name}))}`,
          error_message: `${name} must be at least 24 characters (e.g. openssl rand -hex 16).`,
        },
      ]);
      expect(validation[0]!.error_message).toContain('unquoted into a shell command and into HOCON strings');
      expect(variables[name]!.sensitive).toBe(true);
    }
    // The same patterns, evaluated here (RE2 and JavaScript agree on these simple classes).
    for (const value of GOOD) expect(new RegExp(SERVICE_PASSWORD_PATTERN).test(value)).toBe(true);
    for (const value of ['has space 0123456789abcdef', 'short', '-leading-dash-0123456789abc'])
      expect(new RegExp(SERVICE_PASSWORD_PATTERN).test(value)).toBe(false);
  });

  it('a literal password given to the Jitsi constructs is refused when the images would break it; a variable passes', () => {
    const jitsi = (jicofoAuthPassword: string) => () => synthJitsi({ jicofoAuthPassword });
    expect(jitsi('two words')).toThrow('jicofoAuthPassword must use letters, digits, "_", "." and "-" only');
    expect(jitsi('fine-value')).not.toThrow();
    expect(() => {
      const { stack, provider } = dockerStack();
      new ExtraJvbs(stack, 'jvb', {
        hosts: [{ nickname: 'jvb-1', provider, advertiseIp: '1.2.3.4' }],
        imageTag: 'stable-11146-2',
        xmppServer: 'x',
        jvbAuthPassword: 'a$b',
      });
    }).toThrow('jvbAuthPassword must use letters');
    expect(() => {
      const { stack, provider } = dockerStack();
      const secrets = declareSecrets(stack);
      new Jitsi(stack, 'jitsi', {
        provider,
        imageTag: 'stable-11146-2',
        publicUrl: 'https://meet.example.org',
        advertiseIp: '1.2.3.4',
        privateIp: '10.0.0.2',
        ...secrets,
      });
    }).not.toThrow();
  });

  it('`npm run secrets` generates passwords the rule accepts, and checks them', () => {
    for (let i = 0; i < 20; i += 1) {
      const secrets = generateSecrets();
      expect(servicePasswordProblem('jicofo_auth_password', secrets.jicofo_auth_password)).toBeUndefined();
      expect(servicePasswordProblem('jvb_auth_password', secrets.jvb_auth_password)).toBeUndefined();
    }
  });
});
