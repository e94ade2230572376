/**
 * No deploy ever loses an account: the state volumes, what each kind of change does to the synthesized cloud
 * stack, and the readiness gate. Terraform cannot run here, so "replaced" is judged the way the provider does:
 * user_data is ForceNew and image_id is ignored on the instances (terraform-provider-openstack v3.4.0
 * resource_openstack_compute_instance_v2.go:85-88 ForceNew user_data, :1094 image_id → rebuild, :1001 flavor →
 * resize in place), instance_id/volume_id are ForceNew on an attachment. A terraform_data is replaced when its
 * triggers_replace changes (its provisioner then runs again).
 */
import { resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { HostRole } from '../../stacks/cloud-init.js';

// A knob on the host files each role gets, so a test can change one timer, script or setting as an edit would.
const hostFilesEdit = vi.hoisted(() => ({
  edit: undefined as undefined | ((role: HostRole, files: string) => string),
}));
vi.mock('../../stacks/host-files.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../stacks/host-files.js')>();
  return {
    ...original,
    hostFiles: (role: HostRole, options?: Parameters<typeof original.hostFiles>[1]) =>
      (hostFilesEdit.edit ?? ((_role: HostRole, files: string) => files))(role, original.hostFiles(role, options)),
  };
});
import { parseEnvironment } from '../../stacks/config.js';
import { staging } from '../../stacks/environments/staging.js';
import { REPO_ROOT } from '../../stacks/tooling/bindings.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStacks, synthStacks, synthTo } from './app-helpers.js';
import { hostFilesStep, productionConfig, resourcesOf, type TfJson } from './helpers.js';

const cloudOf = (override?: Parameters<typeof productionConfig>[0]) =>
  synthStacks([productionConfig(override)])['production-cloud']!;
const base = cloudOf();

/** Resource addresses whose bodies differ between two synths (ignoring cdktf's metadata comments). */
function changed(before: TfJson, after: TfJson): string[] {
  const flat = (json: TfJson) =>
    new Map(
      Object.entries(json.resource ?? {}).flatMap(([type, items]) =>
        Object.entries(items).map(([name, body]) => {
          const { '//': _metadata, ...rest } = body;
          return [`${type}.${name}`, JSON.stringify(rest)] as const;
        }),
      ),
    );
  const [a, b] = [flat(before), flat(after)];
  return [...new Set([...a.keys(), ...b.keys()])].filter((key) => a.get(key) !== b.get(key)).sort();
}
const kinds = (addresses: string[]) => addresses.map((address) => address.replace(/_[A-F0-9]{8}$/, ''));

describe('state volumes', () => {
  it("one per stateful host, prevent_destroy, attached to its instance, its id in the host's user data; none for the bridges", () => {
    const volumes = Object.entries(base.resource!.openstack_blockstorage_volume_v3!);
    expect(volumes.map(([, body]) => [body.name, body.size, body.lifecycle])).toEqual([
      ['production-jitsi-state', 10, { prevent_destroy: true }],
      ['production-meet-auth-state', 5, { prevent_destroy: true }],
    ]);
    const instances = base.resource!.openstack_compute_instance_v2!;
    const attachments = resourcesOf(base, 'openstack_compute_volume_attach_v2');
    for (const [host, [volume]] of [
      ['jitsi', volumes[0]!],
      ['meet-auth', volumes[1]!],
    ] as const) {
      const [instanceName, instance] = Object.entries(instances).find(([, body]) => body.name === host)!;
      expect(attachments).toContainEqual(
        expect.objectContaining({
          instance_id: `\${openstack_compute_instance_v2.${instanceName}.id}`,
          volume_id: `\${openstack_blockstorage_volume_v3.${volume}.id}`,
        }),
      );
      expect(instance.user_data).toContain(
        `meet-state-volume \${openstack_blockstorage_volume_v3.${volume}.id} /srv/state`,
      );
      expect(instance.lifecycle).toEqual({ ignore_changes: ['image_id'] });
    }
    const stagingCloud = synthStacks([parseEnvironment(staging)])['staging-cloud']!;
    expect(resourcesOf(stagingCloud, 'openstack_blockstorage_volume_v3')).toHaveLength(2);
    const jvbInstance = resourcesOf(stagingCloud, 'openstack_compute_instance_v2').find((body) => body.for_each)!;
    expect(jvbInstance.lifecycle).toEqual({ ignore_changes: ['image_id'] });
    expect(jvbInstance.user_data).not.toContain('meet-state-volume');
  });

  describe('each kind of change: which resources change, and never a volume', () => {
    const cases: Array<[string, Parameters<typeof productionConfig>[0], string[]]> = [
      // A refreshed image under the same name is a new id from the data source: the instances ignore it.
      ['a new image (same name, new id)', (env) => env, []],
      ['another image name', (env) => ({ ...env, image: 'debian-13.0-trixie' }), []],
      [
        'a cloud-init change (the deploy group)',
        (env) => ({ ...env, ssh: { ...env.ssh, dockerGroup: 'meet-deployers' } }),
        ['openstack_compute_instance_v2.jitsi_instance', 'openstack_compute_instance_v2.meet-auth_instance'],
      ],
      ['a container setting (guests)', (env) => ({ ...env, jitsi: { ...env.jitsi!, enableGuests: false } }), []],
      // flavor_id is not ForceNew: the provider resizes the server in place (same disk, same volume).
      [
        'a flavor (resized in place)',
        (env) => ({ ...env, hosts: { ...env.hosts, jitsi: { flavor: 'g4.cores4.ram8.disk20' } } }),
        ['openstack_compute_instance_v2.jitsi_instance'],
      ],
    ];
    it.each(cases)('%s', (_name, override, expected) => {
      const after = cloudOf(override);
      const differences = changed(base, after);
      expect(kinds(differences)).toEqual(expected);
      expect(differences.filter((address) => address.startsWith('openstack_blockstorage_volume_v3.'))).toEqual([]);
      for (const volume of resourcesOf(after, 'openstack_blockstorage_volume_v3'))
        expect(volume.lifecycle).toEqual({ prevent_destroy: true });
      // Replaced means a ForceNew attribute changed: on an instance only user_data (image_id is ignored).
      const userData = (json: TfJson) =>
        resourcesOf(json, 'openstack_compute_instance_v2').map((instance) => instance.user_data);
      expect(userData(after).map((text, index) => text === userData(base)[index])).toEqual(
        userData(base).map(() => !_name.startsWith('a cloud-init')),
      );
    });

    it.each([
      [
        "a timer's schedule (jitsi)",
        'jitsi',
        (files: string) => files.replace('OnCalendar=minutely', 'OnCalendar=*:0/5'),
      ],
      [
        'a helper script (jitsi)',
        'jitsi',
        (files: string) => files.replace('nginx reloaded', 'nginx reloaded gracefully'),
      ],
      [
        'a setting: the directory list (meet-auth)',
        'meet-auth',
        (files: string) => files.replace('d /srv/state/edge ', 'd /srv/state/edge-data '),
      ],
    ] as const)(
      "a host-files change, %s: only that host's host-files step is replaced; no instance, volume or container",
      (_name, host, edit) => {
        const before = synthStacks([productionConfig()]);
        hostFilesEdit.edit = (role, files) => (role === host ? edit(files) : files);
        try {
          const after = synthStacks([productionConfig()]);
          expect(hostFilesStep(after['production-cloud']!, host).declarations).not.toBe(
            hostFilesStep(before['production-cloud']!, host).declarations,
          );
          expect(changed(before['production-cloud']!, after['production-cloud']!)).toEqual([
            `terraform_data.${host}-host-files`,
          ]);
          expect(changed(before['production-services']!, after['production-services']!)).toEqual([]);
          // What changed is the trigger's hash (the instance id stays first), so Terraform replaces the step and runs it again.
          const [beforeTriggers, afterTriggers] = [before, after].map(
            (stacks) => hostFilesStep(stacks['production-cloud']!, host).triggers,
          );
          expect(afterTriggers![0]).toBe(beforeTriggers![0]);
          expect(afterTriggers![1]).not.toBe(beforeTriggers![1]);
        } finally {
          hostFilesEdit.edit = undefined;
        }
      },
    );

    it.each([
      ['the backup schedule', { schedule: '*-*-* 03:30:00' }],
      ['the backup bucket and prefix', { bucket: 'meet:other-backups', prefix: 'prod/daily' }],
      ['the backup retention', { keepDaily: 14, keepWeekly: 8 }],
    ] as const)(
      '%s: only the meet-auth host-files step changes (no instance, volume or container)',
      (_name, change) => {
        const before = synthStacks([productionConfig()]);
        const after = synthStacks([productionConfig((env) => ({ ...env, backup: { ...env.backup!, ...change } }))]);
        expect(changed(before['production-cloud']!, after['production-cloud']!)).toEqual([
          'terraform_data.meet-auth-host-files',
        ]);
        expect(changed(before['production-services']!, after['production-services']!)).toEqual([]);
        expect(hostFilesStep(after['production-cloud']!, 'meet-auth').declarations).toContain('meet-backup.timer');
      },
    );

    it('the flavor reaches only the flavor lookup; image lookups never reach an instance', () => {
      const after = cloudOf((env) => ({ ...env, hosts: { ...env.hosts, jitsi: { flavor: 'g4.cores4.ram8.disk20' } } }));
      expect(
        Object.values(after.data!.openstack_compute_flavor_v2!)
          .map((flavor) => flavor.name)
          .sort(),
      ).toEqual(['g4.cores1.ram2.disk20', 'g4.cores4.ram8.disk20']);
      const renamed = cloudOf((env) => ({ ...env, image: 'debian-13.0-trixie' }));
      expect(Object.values(renamed.data!.openstack_images_image_v2!).map((image) => image.name)).toEqual([
        'debian-13.0-trixie',
      ]);
    });
  });
});

describe('the readiness gate', () => {
  it('one per host, replaced with its instance, waits for sshd and dockerd as the deploy account via the bastion', () => {
    const gates = base.resource!.terraform_data!;
    expect(Object.keys(gates).sort()).toEqual([
      'jitsi-host-files',
      'jitsi-ready',
      'meet-auth-host-files',
      'meet-auth-ready',
    ]);
    const jitsi = gates['jitsi-ready']! as {
      triggers_replace: string[];
      depends_on: string[];
      provisioner: Array<{
        'local-exec': { command: string; interpreter: string[]; environment: Record<string, string> };
      }>;
    };
    expect(jitsi.triggers_replace).toEqual([
      expect.stringMatching(/^\$\{openstack_compute_instance_v2\.jitsi_instance_[A-F0-9]+\.id\}$/),
    ]);
    expect(jitsi.depends_on).toEqual([
      expect.stringMatching(/^openstack_compute_volume_attach_v2\.jitsi_state-volume-attachment_/),
    ]);
    const exec = jitsi.provisioner[0]!['local-exec'];
    expect(exec.command).toBe('jitsi');
    expect(exec.environment).toEqual({
      MEET_SSH_USER: '${var.ssh_user}',
      MEET_SSH_ADDRESS: base.output!.jitsi_private_ip!.value,
      MEET_SSH_BASTION: 'bastion.wmcloud.org',
      MEET_WAIT_SECONDS: '1800',
      MEET_FORGET_HOST_KEY: '1',
    });
    // The script path is relative to where Terraform runs (the synthesized stack's directory).
    expect(exec.interpreter[0]).toBe('/bin/sh');
    const outdir = mkdtempSync(join(tmpdir(), 'meet-gate-'));
    try {
      synthTo(outdir, [productionConfig()]);
      const script = (readStacks(outdir)['production-cloud']!.resource!.terraform_data!['jitsi-ready'] as typeof jitsi)
        .provisioner[0]!['local-exec'].interpreter[1]!;
      expect(resolve(outdir, 'stacks/production-cloud', script)).toBe(resolve(REPO_ROOT, 'scripts/wait-for-host.sh'));
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it("then the host files: after the gate, replaced with the instance or their content, over the gate's ssh path", () => {
    for (const host of ['jitsi', 'meet-auth']) {
      const step = base.resource!.terraform_data![`${host}-host-files`] as {
        triggers_replace: string[];
        depends_on: string[];
        provisioner: Array<{
          'local-exec': { command: string; interpreter: string[]; environment: Record<string, string> };
        }>;
      };
      const gate = base.resource!.terraform_data![`${host}-ready`] as { triggers_replace: string[] };
      expect(step.depends_on).toEqual([`terraform_data.${host}-ready`]);
      expect(step.triggers_replace).toEqual([gate.triggers_replace[0], expect.stringMatching(/^[0-9a-f]{64}$/)]);
      const exec = step.provisioner[0]!['local-exec'];
      expect(exec.command).toBe(host);
      expect(Object.keys(exec.environment).sort()).toEqual([
        'MEET_HOST_FILES',
        'MEET_SSH_ADDRESS',
        'MEET_SSH_BASTION',
        'MEET_SSH_USER',
      ]);
      expect(exec.environment.MEET_SSH_ADDRESS).toBe(base.output![`${host.replace('-', '_')}_private_ip`]!.value);
      expect(exec.interpreter).toEqual(['/bin/sh', expect.stringMatching(/\/scripts\/install-host-files\.sh$/)]);
      expect(hostFilesStep(base, host).declarations).toMatch(/\nmeet_tmpfiles '\/etc\/tmpfiles\.d\/meet\.conf'\n$/);
    }
    // The user data carries none of it.
    for (const instance of resourcesOf(base, 'openstack_compute_instance_v2'))
      expect(instance.user_data).not.toMatch(
        /meet-account-worker|meet-cert-renewal|meet-reload-web-certificate|tmpfiles\.d/,
      );
  });

  it('the extra bridges: one for_each gate keyed like their instances', () => {
    const stagingCloud = synthStacks([parseEnvironment(staging)])['staging-cloud']!;
    const gate = stagingCloud.resource!.terraform_data!['jvb-ready']! as Record<string, unknown>;
    expect(gate.for_each).toMatch(/^\$\{openstack_compute_instance_v2\.jvb_instance_[A-F0-9]+\}$/);
    expect(gate.triggers_replace).toEqual(['${each.value.id}']);
    expect(JSON.stringify(gate.provisioner)).toContain(
      '[each.key].all_fixed_ips : ip if !strcontains(ip, \\":\\")][0]',
    );
    const files = stagingCloud.resource!.terraform_data!['jvb-host-files']! as Record<string, unknown>;
    expect(files.for_each).toBe(gate.for_each);
    expect(files.depends_on).toEqual(['terraform_data.jvb-ready']);
    expect((files.triggers_replace as string[])[0]).toBe('${each.value.id}');
  });
});
