/**
 * The user data against the real pieces on the host side: Debian's cloud-init 22.4 (its schema check and its own
 * merge of user data with Cloud VPS-shaped vendor-data), the bootstrap shell program as /bin/sh runs it, the state
 * volume script on a real loop device, and glibc's initgroups for an account that /etc/passwd does not know.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DOCKER_ACCESS_SCRIPT,
  hostCloudInit,
  hostCloudInitProps,
  hostSetup,
  STATE_VOLUME_SCRIPT,
  type HostRole,
} from '../../stacks/cloud-init.js';
import { REPO_ROOT } from '../../stacks/tooling/bindings.js';
import { cloudInitOptions, TEST_VOLUME_ID } from './helpers.js';

const ROLES: HostRole[] = ['jitsi', 'meet-auth', 'jvb'];
const VENDOR_DATA = join(REPO_ROOT, 'test/stacks/fixtures/cloud-vps-vendor-data.yaml');
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'meet-ci-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const userData = (role: HostRole) => hostCloudInit(role, cloudInitOptions(role));

/** cloud-init's own modules, from Debian's package (python3-cloudinit lives in /usr/lib/python3/dist-packages). */
function cloudInitPython(program: string, args: string[]): string {
  const result = spawnSync('/usr/bin/python3', ['-c', program, ...args], { encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`cloud-init's python failed (Debian package cloud-init, installed by .ci/setup): ${result.stderr}`);
  return result.stdout;
}

/** util.mergemanydict([user, vendor]): what cloudinit/helpers.py ConfigMerger._read_cfg does with the two. */
const MERGE = `
import json, sys
from cloudinit import util
user = util.load_yaml(open(sys.argv[1]).read())
vendor = util.load_yaml(open(sys.argv[2]).read())
print(json.dumps({"merged": util.mergemanydict([user, vendor]), "vendor": vendor}))
`;

function merged(userDataText: string): { merged: Record<string, unknown>; vendor: Record<string, unknown> } {
  const file = join(tempDir(), 'user-data');
  writeFileSync(file, userDataText);
  return JSON.parse(cloudInitPython(MERGE, [file, VENDOR_DATA])) as {
    merged: Record<string, unknown>;
    vendor: Record<string, unknown>;
  };
}

describe("user data under Debian's cloud-init 22.4", () => {
  it.each(ROLES)("%s: cloud-init's schema check accepts the rendered user data", (role) => {
    const file = join(tempDir(), `${role}.yaml`);
    writeFileSync(file, userData(role));
    const result = spawnSync('cloud-init', ['schema', '--config-file', file], { encoding: 'utf8' });
    expect(result.error, 'cloud-init (Debian package, installed by .ci/setup)').toBeUndefined();
    expect(result.stderr + result.stdout).toContain('Valid cloud-config');
    expect(result.status).toBe(0);
  });

  it.each(ROLES)(
    "%s: cloud-init's merge with Cloud VPS-shaped vendor-data keeps every vendor-data entry, and our bootcmd",
    (role) => {
      const { merged: result, vendor } = merged(userData(role));
      for (const [key, value] of Object.entries(vendor)) expect(result[key], key).toEqual(value);
      expect(result.bootcmd).toEqual([
        ['cloud-init-per', 'instance', 'meet-bootstrap', 'sh', '-c', expect.stringContaining('meet-setup.service')],
      ]);
    },
  );

  it("control: user data with top-level write_files/runcmd/packages (even with merge_how append) loses vendor-data's", () => {
    const naive = `#cloud-config\n${JSON.stringify({
      merge_how: [
        { name: 'list', settings: ['append'] },
        { name: 'dict', settings: ['no_replace', 'recurse_list'] },
      ],
      packages: ['docker.io'],
      write_files: [{ path: '/x', content: 'x' }],
      runcmd: [['true']],
    })}\n`;
    const { merged: result, vendor } = merged(naive);
    expect(result.write_files).not.toEqual(vendor.write_files);
    expect(result.packages).toEqual(['docker.io']);
  });
});

describe('the bootstrap, run by /bin/sh', () => {
  it.each(ROLES)(
    '%s: writes every file byte for byte with its mode, then enables and starts meet-setup without waiting',
    (role) => {
      const root = tempDir();
      const bin = join(root, 'bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> ${root}/systemctl.log\n`);
      chmodSync(join(bin, 'systemctl'), 0o755);
      // As Terraform hands it to Nova: its template escapes ($${ and %%{) back to literal text.
      const text = userData(role).replaceAll('$${', '${').replaceAll('%%{', '%{');
      const config = JSON.parse(text.slice('#cloud-config\n'.length)) as { bootcmd: string[][] };
      const script = config.bootcmd[0]!.at(-1)!.replaceAll(" '/", ` '${root}/`);
      execFileSync('sh', ['-c', script], { env: { PATH: `${bin}:${process.env.PATH}` } });
      for (const file of hostSetup(hostCloudInitProps(role, cloudInitOptions(role))).files) {
        expect(readFileSync(join(root, file.path), 'utf8'), file.path).toBe(file.content);
        expect(execFileSync('stat', ['-c', '%a', join(root, file.path)], { encoding: 'utf8' }).trim(), file.path).toBe(
          file.permissions.slice(1),
        );
      }
      expect(readFileSync(join(root, 'systemctl.log'), 'utf8')).toBe(
        'daemon-reload\nenable meet-setup.service\nstart --no-block meet-setup.service\n',
      );
    },
  );

  it('through cc_bootcmd as cloud-init runs it (its shellify, then /bin/sh), once per instance via cloud-init-per', () => {
    const root = tempDir();
    const bin = join(root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> ${root}/systemctl.log\n`);
    // cloud-init-per <frequency> <name> <command...>: records its first two arguments, runs the command.
    writeFileSync(join(bin, 'cloud-init-per'), `#!/bin/sh\necho "$1 $2" > ${root}/per.log\nshift 2\nexec "$@"\n`);
    for (const name of ['systemctl', 'cloud-init-per']) chmodSync(join(bin, name), 0o755);
    const text = userData('jitsi').replaceAll('$${', '${').replaceAll('%%{', '%{');
    const config = JSON.parse(text.slice('#cloud-config\n'.length)) as { bootcmd: string[][] };
    const rooted = [config.bootcmd[0]!.slice(0, -1).concat(config.bootcmd[0]!.at(-1)!.replaceAll(" '/", ` '${root}/`))];
    const input = join(root, 'bootcmd.json');
    writeFileSync(input, JSON.stringify(rooted));
    const shellified = cloudInitPython(
      'import json, sys\nfrom cloudinit import util\nprint(util.shellify(json.load(open(sys.argv[1]))), end="")',
      [input],
    );
    writeFileSync(join(root, 'bootcmd.sh'), shellified);
    execFileSync('/bin/sh', [join(root, 'bootcmd.sh')], { env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(readFileSync(join(root, 'per.log'), 'utf8')).toBe('instance meet-bootstrap\n');
    for (const file of hostSetup(hostCloudInitProps('jitsi', cloudInitOptions('jitsi'))).files)
      expect(readFileSync(join(root, file.path), 'utf8'), file.path).toBe(file.content);
    expect(readFileSync(join(root, 'systemctl.log'), 'utf8')).toBe(
      'daemon-reload\nenable meet-setup.service\nstart --no-block meet-setup.service\n',
    );
  });

  it('every shell program it writes parses', () => {
    for (const role of ROLES) {
      for (const file of hostSetup(hostCloudInitProps(role, cloudInitOptions(role))).files.filter((item) =>
        item.content.startsWith('#!/bin/sh'),
      )) {
        execFileSync('sh', ['-n'], { input: file.content });
      }
    }
  });
});

describe('the state volume script on a real block device', () => {
  it('waits for the device by its stable id, makes the file system once, and mounts it again untouched after a reboot', () => {
    const dir = tempDir();
    const image = join(dir, 'volume.img');
    execFileSync('truncate', ['-s', '32M', image]);
    const loop = execFileSync('losetup', ['--find', '--show', image], { encoding: 'utf8' }).trim();
    const mnt = join(dir, 'state');
    const byId = join(dir, 'by-id');
    mkdirSync(byId);
    const script = join(dir, 'meet-state-volume');
    writeFileSync(script, STATE_VOLUME_SCRIPT.content);
    const run = (env: Record<string, string> = {}) =>
      spawnSync('sh', [script, TEST_VOLUME_ID, mnt], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, MEET_DISK_BY_ID: byId, ...env },
      });
    try {
      // Not attached (yet): gives up after the wait, naming the volume and the device path it looked for.
      const missing = run({ MEET_STATE_WAIT_SECONDS: '1' });
      expect(missing.status).toBe(1);
      expect(missing.stderr).toContain(
        `volume ${TEST_VOLUME_ID} is not attached after 1 s (no ${byId}/virtio-${TEST_VOLUME_ID.slice(0, 20)})`,
      );
      symlinkSync(loop, join(byId, `virtio-${TEST_VOLUME_ID.slice(0, 20)}`));
      const first = run();
      expect(first.stdout).toContain('is blank: making its file system');
      expect(first.status).toBe(0);
      writeFileSync(join(mnt, 'prosody-account'), 'alice');
      execFileSync('umount', [mnt]);
      const again = run();
      expect(again.status).toBe(0);
      expect(again.stdout).not.toContain('making its file system');
      expect(readFileSync(join(mnt, 'prosody-account'), 'utf8')).toBe('alice');
      // Already mounted: nothing to do.
      expect(run().status).toBe(0);
    } finally {
      spawnSync('umount', [mnt]);
      spawnSync('losetup', ['-d', loop]);
    }
  });
});

describe('Docker access for an LDAP account', () => {
  it("the docker line's members become the deploy group's, and glibc gives a user unknown to /etc/passwd the docker group", () => {
    const dir = tempDir();
    const group = join(dir, 'group');
    writeFileSync(
      group,
      `${readFileSync('/etc/group', 'utf8')
        .split('\n')
        .filter((line) => line && !/^(docker|meetdeploy):/.test(line))
        .join('\n')}\ndocker:x:998:\nmeetdeploy:x:4242:alice-ldap,bob-ldap\n`,
    );
    const script = join(dir, 'meet-docker-access');
    writeFileSync(script, DOCKER_ACCESS_SCRIPT.content);
    // getent reads this group file (bind-mounted over /etc/group in a mount namespace of its own), as it would read LDAP.
    const inNamespace = (command: string) =>
      spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind ${group} /etc/group && ${command}`], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, MEET_GROUP_FILE: group },
      });
    const first = inNamespace(`sh ${script} meetdeploy`);
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe('docker group members: alice-ldap,bob-ldap\n');
    expect(readFileSync(group, 'utf8')).toContain('\ndocker:x:998:alice-ldap,bob-ldap\n');
    expect(inNamespace(`sh ${script} meetdeploy`).stdout).toBe('');
    // sshd's initgroups for an account only LDAP knows: the docker group's gid comes from the member name.
    expect(spawnSync('id', ['alice-ldap']).status).not.toBe(0);
    expect(inNamespace('getent initgroups alice-ldap').stdout).toMatch(/^alice-ldap\s+(\d+ )*998( \d+)*\s*$/m);
    // Before NSS knows the group (LDAP not set up yet): nothing changes.
    const before = readFileSync(group, 'utf8');
    expect(inNamespace(`sh ${script} no-such-group`).status).toBe(0);
    expect(readFileSync(group, 'utf8')).toBe(before);
    expect(existsSync(join(dir, 'group.meet'))).toBe(false);
  });
});
