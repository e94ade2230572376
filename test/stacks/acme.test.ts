/**
 * The environments' ACME settings (stacks/config.ts `acme`): defaults, validation, and where they land in the
 * synthesized stacks: the certs environment of meet-agent and meet-edge only, never the hosts' cloud-init or host files.
 */
import { describe, expect, it } from 'vitest';
import { runCertsCli } from '../../scripts/lib/certs/cli.js';
import { ACME_DIRECTORIES, loadCertsConfig } from '../../scripts/lib/certs/config.js';
import { parseEnvironment } from '../../stacks/config.js';
import { production } from '../../stacks/environments/production.js';
import { staging } from '../../stacks/environments/staging.js';
import { certificateEnv } from '../../stacks/certificate-env.js';
import { sharedStacks, synthStacks } from './app-helpers.js';
import {
  container,
  hostFilesStep,
  minimal,
  problemsOf,
  productionConfig,
  resourcesOf,
  triggerInput,
  type TfJson,
} from './helpers.js';

const envOf = (entries: readonly string[]) =>
  Object.fromEntries(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
const acmeVars = (stack: TfJson, name: string) =>
  Object.fromEntries(
    Object.entries(envOf(container(stack, name).env)).filter(
      ([key]) => key.startsWith('MEET_ACME_') && key !== 'MEET_ACME_CHALLENGE_DIR',
    ),
  );
/** The unit files the host-files step installs on `host`, by path. */
function unitFiles(cloud: TfJson, host: string): Record<string, string> {
  return hostFilesStep(cloud, host).files;
}
const renewalExec = (files: Record<string, string>) =>
  files['/etc/systemd/system/meet-cert-renewal.service']!.split('\n').find((line) => line.startsWith('ExecStart='));

describe('acme settings in the environment config', () => {
  it("default: Let's Encrypt production, no contact, self-check on", () => {
    expect(parseEnvironment(minimal).acme).toEqual({ directory: 'production', selfCheck: true });
    expect(parseEnvironment({ ...minimal, acme: {} }).acme).toEqual({ directory: 'production', selfCheck: true });
  });

  it("production uses Let's Encrypt production; the staging environment uses Let's Encrypt staging", () => {
    expect(parseEnvironment(production).acme).toEqual({ directory: 'production', selfCheck: true });
    expect(parseEnvironment(staging).acme).toEqual({ directory: 'staging', selfCheck: true });
  });

  it('takes a contact address, the staging CA and no self-check', () => {
    expect(
      parseEnvironment({ ...minimal, acme: { directory: 'staging', email: 'ops@example.org', selfCheck: false } }).acme,
    ).toEqual({ directory: 'staging', email: 'ops@example.org', selfCheck: false });
  });

  it('validation errors name the bad value', () => {
    expect(
      problemsOf({
        ...minimal,
        acme: { directory: 'https://acme.example.org/dir', email: 'ops at example.org', selfCheck: 'no' },
      }),
    ).toEqual([
      'acme.directory: "https://acme.example.org/dir" is neither "production" nor "staging" (Let\'s Encrypt\'s CAs)',
      'acme.email: "ops at example.org" is not an email address',
      'acme.selfCheck: "no" is not true or false',
    ]);
    expect(problemsOf({ ...minimal, acme: { contact: 'ops@example.org' } })).toEqual([
      'acme: Unrecognized key: "contact"',
    ]);
  });
});

describe('acme settings in the synthesized stacks', () => {
  const base = sharedStacks('production');
  const changed = synthStacks([
    productionConfig((env) => ({ ...env, acme: { directory: 'staging', email: 'ops@example.org' } })),
  ]);
  const noSelfCheck = synthStacks([productionConfig((env) => ({ ...env, acme: { selfCheck: false } }))]);
  const stagingStacks = sharedStacks('staging');
  const all = ['jitsi-web', 'jitsi-prosody', 'jitsi-jicofo', 'jitsi-jvb', 'meet-agent', 'meet-edge'];
  const replacedBy = (other: typeof base) =>
    all.filter(
      (name) => triggerInput(base['production-services']!, name) !== triggerInput(other['production-services']!, name),
    );
  const userData = (stacks: typeof base) =>
    Object.fromEntries(
      resourcesOf(stacks['production-cloud']!, 'openstack_compute_instance_v2').map((item) => [
        item.name as string,
        item.user_data as string,
      ]),
    );

  it('meet-agent and meet-edge get the directory and the self-check always, the contact when set; the certs CLI reads them as meant', () => {
    for (const name of ['meet-agent', 'meet-edge']) {
      expect(acmeVars(base['production-services']!, name)).toEqual({
        MEET_ACME_DIRECTORY: 'production',
        MEET_ACME_SELF_CHECK: '1',
      });
      expect(acmeVars(stagingStacks['staging-services']!, name)).toEqual({
        MEET_ACME_DIRECTORY: 'staging',
        MEET_ACME_SELF_CHECK: '1',
      });
      expect(acmeVars(changed['production-services']!, name)).toEqual({
        MEET_ACME_DIRECTORY: 'staging',
        MEET_ACME_EMAIL: 'ops@example.org',
        MEET_ACME_SELF_CHECK: '1',
      });
      expect(acmeVars(noSelfCheck['production-services']!, name)).toEqual({
        MEET_ACME_DIRECTORY: 'production',
        MEET_ACME_SELF_CHECK: '0',
      });
      const certs = loadCertsConfig(envOf(container(changed['production-services']!, name).env));
      expect(certs).toMatchObject({
        directoryUrl: ACME_DIRECTORIES.staging,
        email: 'ops@example.org',
        selfCheck: true,
      });
      expect(loadCertsConfig(envOf(container(base['production-services']!, name).env))).toMatchObject({
        directoryUrl: ACME_DIRECTORIES.production,
        email: null,
        selfCheck: true,
      });
      expect(loadCertsConfig(envOf(container(noSelfCheck['production-services']!, name).env))).toMatchObject({
        directoryUrl: ACME_DIRECTORIES.production,
        selfCheck: false,
      });
    }
  });

  it("changing the CA, the contact or the self-check replaces exactly meet-agent and meet-edge; the hosts' user data stays byte-identical", () => {
    expect(replacedBy(changed)).toEqual(['meet-agent', 'meet-edge']);
    expect(replacedBy(noSelfCheck)).toEqual(['meet-agent', 'meet-edge']);
    const before = userData(base);
    expect(Object.keys(before).sort()).toEqual(['jitsi', 'meet-auth']);
    for (const other of [changed, noSelfCheck]) {
      expect(userData(other)).toStrictEqual(before);
      expect(other['production-cloud']).toEqual(base['production-cloud']);
    }
  });

  it("the renewal timer runs the same plain `renew` whatever the settings (the container's environment decides)", () => {
    for (const [host, containerName] of [
      ['jitsi', 'meet-agent'],
      ['meet-auth', 'meet-edge'],
    ] as const) {
      for (const stacks of [base, changed, noSelfCheck]) {
        expect(renewalExec(unitFiles(stacks['production-cloud']!, host))).toBe(
          `ExecStart=/usr/bin/docker exec ${containerName} timeout --kill-after=60 1500 node dist/scripts/certs.mjs renew`,
        );
      }
    }
    // The web reload still follows the renewal on the Jitsi host.
    expect(
      unitFiles(noSelfCheck['production-cloud']!, 'jitsi')['/etc/systemd/system/meet-cert-renewal.service'],
    ).toContain('ExecStartPost=/usr/local/sbin/meet-reload-web-certificate');
  });

  it("the timer's arguments are ones the certs CLI accepts (it gets as far as reading its configuration)", async () => {
    const exec = renewalExec(unitFiles(base['production-cloud']!, 'meet-auth'))!;
    const args = exec.split(' ').slice(exec.split(' ').indexOf('dist/scripts/certs.mjs') + 1);
    const err: string[] = [];
    expect(await runCertsCli(args, { out: () => undefined, err: (line) => err.push(line), env: {} })).toBe(2);
    expect(err.join('\n')).toMatch(/^certs: invalid certificate configuration:\n {2}- MEET_CERT_DOMAINS: is required/);
  });
});

describe('certificateEnv validation (MeetAgent and MeetAuth)', () => {
  it('accepts the two CAs by name and an https directory URL; names a bad directory or contact', () => {
    expect(
      certificateEnv({ domains: ['meet.example.org'], acmeDirectory: 'https://acme.example.org:14000/dir' }),
    ).toContain('MEET_ACME_DIRECTORY=https://acme.example.org:14000/dir');
    expect(() => certificateEnv({ domains: ['meet.example.org'], acmeDirectory: 'prod' })).toThrow(
      'acmeDirectory "prod" is neither "production", "staging" nor an https URL of an ACME directory',
    );
    expect(() =>
      certificateEnv({ domains: ['meet.example.org'], acmeDirectory: 'https://x.example/${var.a}' }),
    ).toThrow('acmeDirectory "https://x.example/${var.a}" is neither');
    expect(() =>
      certificateEnv({ domains: ['meet.example.org'], acmeDirectory: 'http://acme.example.org/dir' }),
    ).toThrow('acmeDirectory "http://acme.example.org/dir"');
    expect(() => certificateEnv({ domains: ['meet.example.org'], acmeEmail: 'ops' })).toThrow(
      'acmeEmail "ops" is not an email address',
    );
  });

  it('the self-check as 1 or 0, and none when unset (certs then checks: its default)', () => {
    const selfCheckVars = (acmeSelfCheck?: boolean) =>
      certificateEnv({
        domains: ['meet.example.org'],
        ...(acmeSelfCheck === undefined ? {} : { acmeSelfCheck }),
      }).filter((entry) => entry.startsWith('MEET_ACME_SELF_CHECK='));
    expect([selfCheckVars(true), selfCheckVars(false), selfCheckVars()]).toEqual([
      ['MEET_ACME_SELF_CHECK=1'],
      ['MEET_ACME_SELF_CHECK=0'],
      [],
    ]);
    expect(loadCertsConfig(envOf(certificateEnv({ domains: ['meet.example.org'] }))).selfCheck).toBe(true);
  });
});
