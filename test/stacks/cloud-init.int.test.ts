/**
 * The hosts' user data: only what must be there before the first deploy step reaches a host and never changes in
 * normal life (the state volume's mount, docker.io, the deploy group's Docker access). Timers, helper scripts and
 * directories are host files (test/stacks/host-files.test.ts). Platform checks: cloud-init-platform.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostCloudInit, renderCloudInit, type HostRole } from '../../stacks/cloud-init.js';
import { cloudInitOptions, TEST_VOLUME_ID, userDataFiles } from './helpers.js';

const host = (role: HostRole) => hostCloudInit(role, cloudInitOptions(role));
const filesOf = (userData: string) =>
  Object.fromEntries(userDataFiles(userData).map((file) => [file.path, file.content]));

describe('user data', () => {
  it("jitsi host: docker.io by meet-setup, the state volume by its stable id before Docker, the deploy group's Docker access; nothing else", () => {
    const files = filesOf(host('jitsi'));
    expect(Object.keys(files).sort()).toEqual([
      '/etc/systemd/system/docker.service.d/meet-state-volume.conf',
      '/etc/systemd/system/meet-docker-access.service',
      '/etc/systemd/system/meet-docker-access.timer',
      '/etc/systemd/system/meet-setup.service',
      '/etc/systemd/system/meet-state-volume.service',
      '/usr/local/sbin/meet-docker-access',
      '/usr/local/sbin/meet-setup',
      '/usr/local/sbin/meet-state-volume',
    ]);
    expect(files['/usr/local/sbin/meet-setup']).toContain('apt-get install -y -q docker.io\n');
    expect(files['/usr/local/sbin/meet-setup']).toContain(
      '/usr/local/sbin/meet-docker-access project-meet\nsystemctl daemon-reload\nsystemctl enable --now meet-state-volume.service docker.service meet-docker-access.timer\n',
    );
    expect(files['/etc/systemd/system/meet-state-volume.service']).toContain(
      `ExecStart=/usr/local/sbin/meet-state-volume ${TEST_VOLUME_ID} /srv/state\nExecStartPost=/usr/bin/systemd-tmpfiles --create --prefix=/srv/state\n`,
    );
    expect(files['/etc/systemd/system/docker.service.d/meet-state-volume.conf']).toBe(
      '[Unit]\nRequires=meet-state-volume.service\nAfter=meet-state-volume.service\n',
    );
    expect(files['/etc/systemd/system/meet-docker-access.service']).toContain(
      'ExecStart=/usr/local/sbin/meet-docker-access project-meet\n',
    );
    expect(files['/etc/systemd/system/meet-docker-access.timer']).toContain('OnCalendar=*:0/2\n');
  });

  it('the user data of a role depends on the deploy group and the volume id only: the three roles differ only by the volume', () => {
    expect(host('meet-auth')).toBe(host('jitsi'));
    const jvb = filesOf(host('jvb'));
    expect(Object.keys(jvb).some((path) => path.includes('state-volume'))).toBe(false);
    expect(jvb['/usr/local/sbin/meet-setup']).toContain(
      'systemctl enable --now docker.service meet-docker-access.timer\n',
    );
    expect(() => hostCloudInit('jitsi', { dockerGroupSource: 'project-meet' })).toThrow(
      'a jitsi host keeps state and needs a state volume',
    );
    expect(host('jvb')).not.toContain('/etc/tmpfiles.d/');
  });

  it('after the mount, the directories under /srv/state come from whatever tmpfiles lists there are (none yet at first boot: no error)', () => {
    // systemd-tmpfiles itself, on a root directory shaped like a host's, as meet-state-volume.service's ExecStartPost runs it.
    const root = mkdtempSync(join(tmpdir(), 'meet-tmpfiles-'));
    try {
      const run = () =>
        spawnSync('systemd-tmpfiles', ['--create', '--prefix=/srv/state', `--root=${root}`], { encoding: 'utf8' });
      const first = run();
      expect(first.error, 'systemd-tmpfiles (Debian package systemd)').toBeUndefined();
      expect([first.status, first.stderr]).toEqual([0, '']);
      mkdirSync(join(root, 'etc/tmpfiles.d'), { recursive: true });
      writeFileSync(
        join(root, 'etc/tmpfiles.d/meet.conf'),
        'd /srv/state/prosody 0750 1000 1000 -\nd /srv/jitsi/web 0750 1000 1000 -\n',
      );
      expect(run().status).toBe(0);
      expect(spawnSync('stat', ['-c', '%a %u %g', join(root, 'srv/state/prosody')], { encoding: 'utf8' }).stdout).toBe(
        '750 1000 1000\n',
      );
      expect(spawnSync('stat', [join(root, 'srv/jitsi/web')]).status).not.toBe(0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('keeps literal ${ and %{ literal for Terraform; deterministic', () => {
    const out = host('jitsi');
    expect(out).toContain('by_id=$${MEET_DISK_BY_ID:-/dev/disk/by-id}');
    expect(out).not.toMatch(/[^$]\$\{(?!TfToken)/);
    expect(host('jitsi')).toBe(out);
  });

  it('validation errors', () => {
    expect(() => renderCloudInit({ dockerGroupSource: 'Bad Group' })).toThrow(
      'docker group source "Bad Group" is not a valid group name',
    );
    expect(() => renderCloudInit({ dockerGroupSource: 'project-x', stateVolumeId: "x'; rm -rf /" })).toThrow(
      'state volume id "x\'; rm -rf /" holds characters an id never has',
    );
  });
});
