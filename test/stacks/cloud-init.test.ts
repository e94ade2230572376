import { describe, expect, it } from 'vitest';
import { hostCloudInit, renderCloudInit } from '../../stacks/cloud-init.js';
import { jitsiDirectories } from '../../stacks/layout.js';

type CloudConfig = { package_update: boolean; packages: string[]; write_files: Array<{ path: string; content: string; permissions: string }>; runcmd: string[][] };
const parse = (userData: string): CloudConfig => {
  expect(userData.startsWith('#cloud-config\n')).toBe(true);
  return JSON.parse(userData.slice('#cloud-config\n'.length)) as CloudConfig;
};

describe('cloud-init', () => {
  it('jitsi host: docker.io, uid-1000 storage dirs, account worker every minute, daily certificate renewal', () => {
    const config = parse(hostCloudInit('jitsi', 'debian'));
    expect(config.packages).toEqual(['docker.io']);
    expect(config.runcmd[0]).toEqual(['usermod', '-aG', 'docker', 'debian']);
    const install = config.runcmd.find((cmd) => cmd[0] === 'install')!;
    expect(install.slice(0, 7)).toEqual(['install', '-d', '-o', '1000', '-g', '1000', '-m']);
    const dirs = install.slice(8);
    for (const dir of [...jitsiDirectories, '/srv/meet/certs', '/srv/meet/acme-challenge', '/srv/meet/agent']) expect(dirs).toContain(dir);
    const files = Object.fromEntries(config.write_files.map((file) => [file.path, file.content]));
    expect(files['/etc/systemd/system/meet-account-worker.timer']).toContain('OnCalendar=minutely');
    expect(files['/etc/systemd/system/meet-account-worker.service']).toContain('ExecStart=/usr/bin/docker exec meet-agent node dist/scripts/create-accounts.mjs');
    expect(files['/etc/systemd/system/meet-cert-renewal.timer']).toContain('OnCalendar=daily');
    expect(files['/etc/systemd/system/meet-cert-renewal.service']).toContain('ExecStart=/usr/bin/docker exec meet-agent node dist/scripts/certs.mjs renew');
    expect(config.runcmd.at(-1)).toEqual(['systemctl', 'enable', '--now', 'meet-account-worker.timer', 'meet-cert-renewal.timer']);
  });

  it('meet-auth host renews through the edge container and has no account worker; jvb hosts only get the jvb dir', () => {
    const auth = parse(hostCloudInit('meet-auth', 'debian'));
    expect(auth.write_files.map((file) => file.path)).toEqual(['/etc/systemd/system/meet-cert-renewal.service', '/etc/systemd/system/meet-cert-renewal.timer']);
    expect(auth.write_files[0]!.content).toContain('docker exec meet-edge');
    const jvb = parse(hostCloudInit('jvb', 'debian'));
    expect(jvb.write_files).toEqual([]);
    expect(jvb.runcmd.find((cmd) => cmd[0] === 'install')!.slice(8)).toEqual(['/srv/jitsi/jvb']);
  });

  it('defaults: no directories and no timers', () => {
    expect(parse(renderCloudInit({ dockerUser: 'ops' })).runcmd).toEqual([['usermod', '-aG', 'docker', 'ops'], ['systemctl', 'enable', '--now', 'docker.service']]);
  });

  it('quotes timer arguments for systemd and is deterministic', () => {
    const timers = [{ name: 'x', description: 'd', onCalendar: 'daily', command: ['/bin/echo', 'a b', 'say "hi"'] }];
    const out = renderCloudInit({ dockerUser: 'ops', timers });
    expect(parse(out).write_files[0]!.content).toContain('ExecStart=/bin/echo "a b" "say \\"hi\\""');
    expect(renderCloudInit({ dockerUser: 'ops', timers })).toBe(out);
  });

  it('validation errors', () => {
    expect(() => renderCloudInit({ dockerUser: 'Bad User' })).toThrow('docker user "Bad User" is not a valid account name');
    expect(() => renderCloudInit({ dockerUser: 'ops', directories: ['srv/x'] })).toThrow('directory "srv/x" must be an absolute path without ".."');
    expect(() => renderCloudInit({ dockerUser: 'ops', timers: [{ name: 'Bad', description: '', onCalendar: 'daily', command: ['x'] }] })).toThrow('timer name "Bad" must match');
    expect(() => renderCloudInit({ dockerUser: 'ops', timers: [{ name: 'x', description: '', onCalendar: 'daily', command: [] }] })).toThrow('timer "x" has an empty command');
  });
});
