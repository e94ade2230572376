import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STALE_AFTER_MS } from '../../scripts/lib/certs/lock.js';
import { ACCOUNT_WORKER_LIMITS, CERT_RENEWAL_LIMITS, hostCloudInit, renderCloudInit, WEB_CERT_RELOAD, type HostRole } from '../../stacks/cloud-init.js';
import { Jitsi } from '../../stacks/jitsi.js';
import { jitsiDirectories } from '../../stacks/layout.js';
import { container, dockerStack, synthJson } from './helpers.js';

type CloudConfig = { package_update: boolean; packages: string[]; write_files: Array<{ path: string; content: string; permissions: string }>; runcmd: string[][] };
const parse = (userData: string): CloudConfig => {
  expect(userData.startsWith('#cloud-config\n')).toBe(true);
  return JSON.parse(userData.slice('#cloud-config\n'.length)) as CloudConfig;
};

/**
 * The host's systemd units as `systemd-analyze verify` (systemd 252, as on the Debian 12 hosts) reads them: its
 * warnings and each service's effective TimeoutStartSec (from the unit dump it prints at debug level). The host
 * paths the units run do not exist here; that one warning is expected and dropped.
 */
function systemdView(role: HostRole): { warnings: string[]; timeoutStartSec: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'meet-units-'));
  try {
    const files = parse(hostCloudInit(role, 'debian')).write_files.filter((file) => file.path.startsWith('/etc/systemd/system/'));
    for (const file of files) writeFileSync(join(dir, basename(file.path)), file.content);
    const units = files.map((file) => basename(file.path));
    // Requires=docker.service: a stand-in, found beside the units.
    writeFileSync(join(dir, 'docker.service'), '[Service]\nExecStart=/bin/true\n');
    const run = (level: string) => {
      const result = spawnSync('systemd-analyze', ['verify', ...units], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, SYSTEMD_LOG_TARGET: 'console', SYSTEMD_LOG_LEVEL: level } });
      if (result.error) throw new Error(`systemd-analyze (Debian package systemd) is needed to check the units: ${result.error.message}`);
      return result.stdout + result.stderr;
    };
    const hostPaths = /^[\w.-]+\.service: Command (\/usr\/bin\/docker|\/usr\/local\/sbin\/meet-reload-web-certificate) is not executable: No such file or directory$/;
    const warnings = run('notice').split('\n').filter((line) => line !== '' && !hostPaths.test(line));
    const timeoutStartSec: Record<string, string> = {};
    let unit = '';
    for (const line of run('debug').split('\n')) {
      const start = /^\s+-> Unit (\S+):$/.exec(line);
      if (start) unit = start[1]!;
      const timeout = /^\s+TimeoutStartSec: (.+)$/.exec(line);
      if (timeout && units.includes(unit)) timeoutStartSec[unit] = timeout[1]!;
    }
    return { warnings, timeoutStartSec };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

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
    expect(files['/etc/systemd/system/meet-account-worker.service']).toContain(
      'TimeoutStartSec=600\nExecStart=/usr/bin/docker exec meet-agent timeout --kill-after=30 540 node dist/scripts/create-accounts.mjs\n',
    );
    expect(files['/etc/systemd/system/meet-cert-renewal.timer']).toContain('OnCalendar=daily');
    expect(files['/etc/systemd/system/meet-cert-renewal.service']).toContain('ExecStart=/usr/bin/docker exec meet-agent timeout --kill-after=60 1500 node dist/scripts/certs.mjs renew\n');
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

  it('jitsi host: after each renewal run, a changed certificate is handed to jitsi-web and nginx reloads (no restart)', () => {
    const config = parse(hostCloudInit('jitsi', 'debian'));
    const files = Object.fromEntries(config.write_files.map((file) => [file.path, file]));
    const service = files['/etc/systemd/system/meet-cert-renewal.service']!.content.split('\n');
    const start = service.indexOf('ExecStart=/usr/bin/docker exec meet-agent timeout --kill-after=60 1500 node dist/scripts/certs.mjs renew');
    expect(start).toBeGreaterThan(0);
    // ExecStartPost runs only when `renew` succeeded (Type=oneshot), after it.
    expect(service[start + 1]).toBe('ExecStartPost=/usr/local/sbin/meet-reload-web-certificate');
    expect(files['/usr/local/sbin/meet-reload-web-certificate']).toEqual({ path: '/usr/local/sbin/meet-reload-web-certificate', permissions: '0755', content: WEB_CERT_RELOAD.content });
    // The meet-auth host has no web container: meet-auth reloads the certificate itself.
    const auth = parse(hostCloudInit('meet-auth', 'debian'));
    expect(auth.write_files[0]!.content).not.toContain('ExecStartPost');
  });

  it('the reload script names the paths jitsi-web really mounts', () => {
    const { stack, provider } = dockerStack();
    new Jitsi(stack, 'jitsi', { provider, imageTag: 'stable-11146-2', publicUrl: 'https://meet.example.org', advertiseIp: '185.15.56.10', privateIp: '172.16.1.2', jicofoAuthPassword: 'a', jvbAuthPassword: 'b' });
    const mounts = Object.fromEntries((container(synthJson(stack), 'jitsi-web').mounts as { source: string; target: string }[]).map((m) => [m.target, m.source]));
    const script = WEB_CERT_RELOAD.content;
    // Ours on the host (what `certs` writes) against web's copy on the host (what nginx serves), then the copy in the container.
    expect(script).toContain(`cmp -s ${mounts['/config/keys']}/cert.crt ${mounts['/storage']}/keys/cert.crt`);
    expect(script).toContain('/usr/bin/docker exec jitsi-web cp /config/keys/cert.crt /config/keys/cert.key /storage/keys/');
    expect(script).toContain('/usr/bin/docker exec jitsi-web nginx -c /run/web/config/nginx/nginx.conf -s reload');
    execFileSync('sh', ['-n'], { input: script });
  });

  it('the reload script copies and reloads only when the certificate changed, and stops at the first failure', () => {
    // Run with the host paths moved into a temp dir and docker replaced by a recorder (Docker cannot run here).
    const dir = mkdtempSync(join(tmpdir(), 'meet-web-reload-'));
    try {
      mkdirSync(join(dir, 'certs'));
      mkdirSync(join(dir, 'web', 'keys'), { recursive: true });
      const docker = join(dir, 'docker');
      writeFileSync(docker, `#!/bin/sh\necho "$*" >> ${dir}/calls\n[ "$3" != "\${FAIL_ON:-}" ]\n`);
      chmodSync(docker, 0o755);
      const script = join(dir, 'reload');
      writeFileSync(script, WEB_CERT_RELOAD.content.replaceAll('/srv/meet/certs', join(dir, 'certs')).replaceAll('/srv/jitsi/storage/web', join(dir, 'web')).replaceAll('/usr/bin/docker', docker));
      const run = (env: Record<string, string> = {}) => {
        rmSync(join(dir, 'calls'), { force: true });
        const result = spawnSync('sh', [script], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
        let calls: string[] = [];
        try {
          calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
        } catch {
          // no call
        }
        return { code: result.status, calls, stdout: result.stdout };
      };
      writeFileSync(join(dir, 'certs', 'cert.crt'), 'RENEWED');
      writeFileSync(join(dir, 'web', 'keys', 'cert.crt'), 'RENEWED');
      expect(run()).toEqual({ code: 0, calls: [], stdout: '' });
      writeFileSync(join(dir, 'web', 'keys', 'cert.crt'), 'SELF-SIGNED');
      const changed = run();
      expect(changed.code).toBe(0);
      expect(changed.calls).toEqual(['exec jitsi-web cp /config/keys/cert.crt /config/keys/cert.key /storage/keys/', 'exec jitsi-web nginx -c /run/web/config/nginx/nginx.conf -s reload']);
      expect(changed.stdout).toContain('nginx reloaded');
      const failed = run({ FAIL_ON: 'cp' });
      expect(failed.code).not.toBe(0);
      expect(failed.calls).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the renewal service may run 30 min (systemd\'s own parser reads the unit); renew inside the container is ended first', () => {
    // A oneshot service has no start timeout unless given one: a run stuck on the network would keep the unit
    // active and the timer would start no further run.
    const { runSec: renewSec, killAfterSec, serviceSec } = CERT_RENEWAL_LIMITS;
    expect(serviceSec).toBe(1800);
    for (const role of ['jitsi', 'meet-auth'] as const) {
      const parsed = systemdView(role);
      expect(parsed.warnings).toEqual([]);
      expect(parsed.timeoutStartSec['meet-cert-renewal.service']).toBe('30min');
      const exec = parse(hostCloudInit(role, 'debian')).write_files.find((file) => file.path.endsWith('meet-cert-renewal.service'))!.content;
      expect(exec).toContain(`TimeoutStartSec=1800\nExecStart=/usr/bin/docker exec ${role === 'jitsi' ? 'meet-agent' : 'meet-edge'} timeout --kill-after=60 1500 node dist/scripts/certs.mjs renew\n`);
    }
    // The account worker too: 10 min for the unit, the run inside the container ended well before.
    expect(systemdView('jitsi').timeoutStartSec['meet-account-worker.service']).toBe('10min');
    expect(ACCOUNT_WORKER_LIMITS.runSec + ACCOUNT_WORKER_LIMITS.killAfterSec).toBeLessThan(ACCOUNT_WORKER_LIMITS.serviceSec);
    // TERM, then KILL, to renew inside the container well before systemd gives up (and the web reload still fits).
    expect(renewSec + killAfterSec).toBeLessThanOrEqual(serviceSec - 120);
    // A hung run ends long before its certs lock would count as stale (an hour).
    expect(renewSec + killAfterSec).toBeLessThan(STALE_AFTER_MS / 1000);
  });

  it('defaults: no directories and no timers', () => {
    expect(parse(renderCloudInit({ dockerUser: 'ops' })).runcmd).toEqual([['usermod', '-aG', 'docker', 'ops'], ['systemctl', 'enable', '--now', 'docker.service']]);
  });

  it('quotes timer arguments for systemd and is deterministic', () => {
    const timers = [{ name: 'x', description: 'd', onCalendar: 'daily', command: ['/bin/echo', 'a b', 'say "hi"'], after: [['/bin/true', 'c d']] }];
    const out = renderCloudInit({ dockerUser: 'ops', timers });
    expect(parse(out).write_files[0]!.content).toContain('ExecStart=/bin/echo "a b" "say \\"hi\\""\nExecStartPost=/bin/true "c d"\n');
    expect(renderCloudInit({ dockerUser: 'ops', timers })).toBe(out);
  });

  it('validation errors', () => {
    expect(() => renderCloudInit({ dockerUser: 'Bad User' })).toThrow('docker user "Bad User" is not a valid account name');
    expect(() => renderCloudInit({ dockerUser: 'ops', directories: ['srv/x'] })).toThrow('directory "srv/x" must be an absolute path without ".."');
    expect(() => renderCloudInit({ dockerUser: 'ops', timers: [{ name: 'Bad', description: '', onCalendar: 'daily', command: ['x'] }] })).toThrow('timer name "Bad" must match');
    expect(() => renderCloudInit({ dockerUser: 'ops', timers: [{ name: 'x', description: '', onCalendar: 'daily', command: [] }] })).toThrow('timer "x" has an empty command');
    expect(() => renderCloudInit({ dockerUser: 'ops', timers: [{ name: 'x', description: '', onCalendar: 'daily', command: ['a'], after: [[]] }] })).toThrow('timer "x" has an empty command');
    for (const timeoutSec of [0, 1.5, -60]) {
      expect(() => renderCloudInit({ dockerUser: 'ops', timers: [{ name: 'x', description: '', onCalendar: 'daily', command: ['a'], timeoutSec }] })).toThrow(`timer "x": timeoutSec ${timeoutSec} must be a whole number of seconds above 0`);
    }
    expect(() => renderCloudInit({ dockerUser: 'ops', scripts: [{ path: 'bin/x', content: '' }] })).toThrow('script "bin/x" must be an absolute path without ".."');
  });
});
