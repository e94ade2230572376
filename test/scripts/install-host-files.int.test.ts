/**
 * scripts/install-host-files.sh and the program it sends (scripts/host-files-remote.sh), run for real: `ssh` is a
 * script on PATH that runs the remote command here, in a mount namespace whose /etc/systemd/system,
 * /usr/local/sbin, /etc/tmpfiles.d, /var/lib and /srv are a temporary root's; `sudo` drops `-n` (or refuses).
 * systemd-tmpfiles and `systemctl enable/disable` are the real ones (offline: they write the .wants symlinks);
 * `systemctl daemon-reload/start/restart` have no systemd to talk to here and are recorded. The units themselves
 * are checked by systemd-analyze verify in test/stacks/host-files.test.ts.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostFileSet, renderHostFiles } from '../../stacks/host-file-set.js';
import { hostFiles, hostFilesProps } from '../../stacks/host-files.js';
import { REPO_ROOT } from '../../stacks/tooling/bindings.js';

const SCRIPT = join(REPO_ROOT, 'scripts/install-host-files.sh');
const BOUND = ['/etc/systemd/system', '/usr/local/sbin', '/etc/tmpfiles.d', '/var/lib', '/srv'];
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function sandbox() {
  const dir = mkdtempSync(join(tmpdir(), 'meet-host-files-'));
  dirs.push(dir);
  const root = join(dir, 'root');
  for (const path of BOUND) mkdirSync(join(root, path), { recursive: true });
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const mounts = BOUND.map((path) => `mount --bind '${root}${path}' '${path}'`).join(' && ');
  // ssh [-o ...]... user@host command...: the remote command runs here, as a remote shell would run it.
  writeFileSync(
    join(bin, 'ssh'),
    `#!/bin/sh
echo "$*" >> '${dir}/ssh.log'
while [ "$1" = -o ]; do shift 2; done
shift
exec unshare -m sh -c "${mounts} && exec sh -c \\"\\$0\\"" "$*"
`,
  );
  writeFileSync(
    join(bin, 'sudo'),
    `#!/bin/sh
[ "$1" = -n ] || { echo "sudo: expected -n" >&2; exit 1; }
shift
if [ -n "\${SUDO_REFUSES:-}" ]; then echo "sudo: a password is required" >&2; exit 1; fi
exec "$@"
`,
  );
  writeFileSync(
    join(bin, 'systemctl'),
    `#!/bin/sh
echo "$*" >> '${dir}/systemctl.log'
case "$1" in
  enable|disable) verb=$1; shift; [ "$1" = --now ] && shift; exec /usr/bin/systemctl --quiet "$verb" "$@";;
esac
`,
  );
  for (const name of ['ssh', 'sudo', 'systemctl']) chmodSync(join(bin, name), 0o755);
  const read = (name: string) =>
    existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8').trim().split('\n') : [];
  const run = (files: string, env: Record<string, string> = {}) => {
    for (const name of ['ssh.log', 'systemctl.log']) rmSync(join(dir, name), { force: true });
    const result = spawnSync('sh', [SCRIPT, 'jitsi'], {
      encoding: 'utf8',
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        MEET_SSH_USER: 'alice',
        MEET_SSH_ADDRESS: '172.16.16.5',
        MEET_SSH_BASTION: 'bastion.wmcloud.org',
        MEET_HOST_FILES: files,
        MEET_RETRY_SECONDS: '1',
        ...env,
      },
    });
    return {
      code: result.status,
      stdout: result.stdout,
      stderr: result.stderr,
      ssh: read('ssh.log'),
      systemctl: read('systemctl.log'),
    };
  };
  return { root, run };
}

const jitsi = hostFileSet(hostFilesProps('jitsi'));
const mode = (path: string) => {
  const stat = statSync(path);
  return `${(stat.mode & 0o7777).toString(8)} ${stat.uid}:${stat.gid}`;
};

describe('install-host-files.sh', () => {
  it('installs every file root-owned with its mode, applies tmpfiles, enables and starts the units, over ssh as the deploy account and sudo -n', () => {
    const { root, run } = sandbox();
    const result = run(hostFiles('jitsi'));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    for (const file of jitsi.files) {
      expect(readFileSync(join(root, file.path), 'utf8'), file.path).toBe(file.content);
      expect(mode(join(root, file.path)), file.path).toBe(`${file.permissions.slice(1)} 0:0`);
    }
    expect(readFileSync(join(root, '/var/lib/meet/host-files.list'), 'utf8')).toBe(
      `${jitsi.files
        .map((file) => file.path)
        .sort()
        .join('\n')}\n`,
    );
    // Nothing staged is left beside the files.
    for (const path of ['/etc/systemd/system', '/usr/local/sbin', '/etc/tmpfiles.d'])
      expect(readdirSync(join(root, path)).filter((name) => name.startsWith('.meet'))).toEqual([]);
    // The real systemctl's enable and the real systemd-tmpfiles did their part.
    expect(readlinkSync(join(root, '/etc/systemd/system/timers.target.wants/meet-account-worker.timer'))).toBe(
      '/etc/systemd/system/meet-account-worker.timer',
    );
    expect(readlinkSync(join(root, '/etc/systemd/system/paths.target.wants/meet-web-certificate.path'))).toBe(
      '/etc/systemd/system/meet-web-certificate.path',
    );
    expect(mode(join(root, '/srv/state/prosody'))).toBe('750 1000:1000');
    expect(mode(join(root, '/srv/meet/acme-challenge'))).toBe('750 1000:1000');
    expect(result.systemctl).toEqual([
      'daemon-reload',
      'enable --now meet-account-worker.timer meet-cert-renewal.timer meet-web-certificate.path',
    ]);
    // The same ssh path as the readiness gate; the files went on stdin, never in argv.
    expect(result.ssh).toEqual([
      '-o BatchMode=yes -o ConnectTimeout=15 -o StrictHostKeyChecking=accept-new -o ProxyJump=bastion.wmcloud.org alice@172.16.16.5 sudo -n true',
      '-o BatchMode=yes -o ConnectTimeout=15 -o StrictHostKeyChecking=accept-new -o ProxyJump=bastion.wmcloud.org alice@172.16.16.5 sudo -n /bin/sh -s',
    ]);
    expect(result.stdout).toContain('host jitsi: installed /etc/systemd/system/meet-account-worker.timer\n');
    expect(result.stdout).toContain(`host jitsi: host files in place: ${jitsi.files.length}, changed: `);
  });

  it('again with the same files: changes nothing (same inodes, no daemon-reload, no restart)', () => {
    const { root, run } = sandbox();
    expect(run(hostFiles('jitsi')).code).toBe(0);
    const inodes = jitsi.files.map((file) => statSync(join(root, file.path)).ino);
    const again = run(hostFiles('jitsi'));
    expect(again.code).toBe(0);
    expect(jitsi.files.map((file) => statSync(join(root, file.path)).ino)).toEqual(inodes);
    expect(again.systemctl).toEqual([
      'enable --now meet-account-worker.timer meet-cert-renewal.timer meet-web-certificate.path',
    ]);
    expect(again.stdout).not.toContain('installed');
    expect(again.stdout).toContain('changed: none');
  });

  it('a changed schedule replaces that file only and restarts its timer; a wrong mode or owner is put right', () => {
    const { root, run } = sandbox();
    expect(run(hostFiles('jitsi')).code).toBe(0);
    const changed = run(hostFiles('jitsi').replace('OnCalendar=minutely', 'OnCalendar=*:0/5'));
    expect(changed.code).toBe(0);
    expect(readFileSync(join(root, '/etc/systemd/system/meet-account-worker.timer'), 'utf8')).toContain(
      'OnCalendar=*:0/5\n',
    );
    expect(changed.stdout.split('\n').filter((line) => line.includes('installed'))).toEqual([
      'host jitsi: installed /etc/systemd/system/meet-account-worker.timer',
    ]);
    expect(changed.systemctl).toEqual([
      'daemon-reload',
      'enable --now meet-account-worker.timer meet-cert-renewal.timer meet-web-certificate.path',
      'restart meet-account-worker.timer',
    ]);
    chmodSync(join(root, '/usr/local/sbin/meet-reload-web-certificate'), 0o777);
    const fixed = run(hostFiles('jitsi'));
    expect(fixed.stdout).toContain('installed /usr/local/sbin/meet-reload-web-certificate\n');
    expect(mode(join(root, '/usr/local/sbin/meet-reload-web-certificate'))).toBe('755 0:0');
  });

  it('a unit dropped from the set is disabled and its files removed', () => {
    const { root, run } = sandbox();
    expect(run(hostFiles('jitsi')).code).toBe(0);
    const without = renderHostFiles(hostFileSet({ ...hostFilesProps('jitsi'), paths: [] }));
    const result = run(without);
    expect(result.code).toBe(0);
    expect(result.systemctl).toEqual([
      'disable --now meet-web-certificate.path',
      'daemon-reload',
      'enable --now meet-account-worker.timer meet-cert-renewal.timer',
    ]);
    for (const name of [
      'meet-web-certificate.path',
      'meet-web-certificate.service',
      'paths.target.wants/meet-web-certificate.path',
    ])
      expect(existsSync(join(root, '/etc/systemd/system', name)), name).toBe(false);
    expect(readFileSync(join(root, '/var/lib/meet/host-files.list'), 'utf8')).not.toContain('meet-web-certificate');
    expect(existsSync(join(root, '/etc/systemd/system/meet-account-worker.timer'))).toBe(true);
  });

  it('a stream cut inside a file changes nothing on the host and fails naming the host', () => {
    const { root, run } = sandbox();
    expect(run(hostFiles('jitsi')).code).toBe(0);
    const before = readFileSync(join(root, '/etc/systemd/system/meet-account-worker.timer'), 'utf8');
    const text = hostFiles('jitsi').replace('OnCalendar=minutely', 'OnCalendar=hourly');
    const cut = run(text.slice(0, text.indexOf('OnCalendar=hourly') + 20) + '\nmeet_units\nmeet_tmpfiles x\n');
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(
      /^host jitsi \(172\.16\.16\.5\): (the host did not confirm|installing the host files failed)/,
    );
    expect(readFileSync(join(root, '/etc/systemd/system/meet-account-worker.timer'), 'utf8')).toBe(before);
    expect(cut.systemctl).toEqual([]);
    for (const path of ['/etc/systemd/system', '/usr/local/sbin', '/etc/tmpfiles.d'])
      expect(readdirSync(join(root, path)).filter((name) => name.startsWith('.meet'))).toEqual([]);
  });

  it('sudo refusing until the wait ends: exit 1 naming the host and the account; nothing sent', () => {
    const { root, run } = sandbox();
    const result = run(hostFiles('jitsi'), { SUDO_REFUSES: '1', MEET_SUDO_WAIT_SECONDS: '1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'host jitsi (172.16.16.5): gave up after 1 s waiting for sudo -n as alice; last answer: sudo: a password is required\n',
    );
    expect(result.ssh.every((line) => line.endsWith(' sudo -n true'))).toBe(true);
    expect(readdirSync(join(root, '/etc/systemd/system'))).toEqual([]);
  });

  it('usage errors exit 2 and contact nothing', () => {
    const { run } = sandbox();
    for (const [env, message] of [
      [{ MEET_SSH_USER: '' }, 'usage: MEET_SSH_USER='],
      [{ MEET_SUDO_WAIT_SECONDS: '5m' }, 'MEET_SUDO_WAIT_SECONDS and MEET_RETRY_SECONDS must be whole numbers'],
    ] as const) {
      const result = run(hostFiles('jitsi'), env);
      expect([result.code, result.ssh]).toEqual([2, []]);
      expect(result.stderr).toContain(message);
    }
    const empty = run('echo hello\n');
    expect([empty.code, empty.ssh]).toEqual([2, []]);
    expect(empty.stderr).toContain('MEET_HOST_FILES holds no host files declarations');
  });
});
