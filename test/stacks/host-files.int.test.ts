import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STALE_AFTER_MS } from '../../scripts/lib/certs/lock.js';
import { hostCloudInit, type HostRole } from '../../stacks/cloud-init.js';
import { CONTAINER_RUNNING_SCRIPT } from '../../stacks/host-file-set.js';
import {
  ACCOUNT_WORKER_LIMITS,
  BACKUP_LIMITS,
  backupTimer,
  CERT_RENEWAL_LIMITS,
  hostFiles,
  WEB_CERT_RELOAD,
  type HostFilesOptions,
} from '../../stacks/host-files.js';
import { jitsiDirectories } from '../../stacks/layout.js';
import { cloudInitOptions, container, hostFilesOf, synthJitsi, userDataFiles } from './helpers.js';

/** The files the host-files step installs, as a cloud-config-like view for the checks below. */
const parse = (declarations: string) => ({ write_files: hostFilesOf(declarations) });
const host = (role: HostRole, options: HostFilesOptions = {}) => hostFiles(role, options);
/** The meet-auth host's backup settings as production has them (stacks/environments/production.ts). */
const BACKUP = { bucket: 'meet:backups', prefix: 'production', schedule: 'daily', keepDaily: 7, keepWeekly: 4 };

/**
 * The host's systemd units as `systemd-analyze verify` (systemd 252, as on the Debian 12 hosts) reads them: its
 * warnings and each service's effective TimeoutStartSec (from the unit dump it prints at debug level). The host
 * paths the units run do not exist here; that one warning is expected and dropped.
 */
function systemdView(
  role: HostRole,
  options: HostFilesOptions = {},
): { warnings: string[]; timeoutStartSec: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'meet-units-'));
  try {
    // The host's whole unit set: its user data's and its host files'.
    const files = [
      ...userDataFiles(hostCloudInit(role, cloudInitOptions(role))),
      ...hostFilesOf(host(role, options)),
    ].filter((file) => /^\/etc\/systemd\/system\/[^/]+$/.test(file.path));
    for (const file of files) writeFileSync(join(dir, basename(file.path)), file.content);
    const units = files.map((file) => basename(file.path));
    // Requires=docker.service: a stand-in, found beside the units.
    writeFileSync(join(dir, 'docker.service'), '[Service]\nExecStart=/bin/true\n');
    writeFileSync(join(dir, 'cloud-final.service'), '[Service]\nExecStart=/bin/true\n');
    const run = (level: string) => {
      const result = spawnSync('systemd-analyze', ['verify', ...units], {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, SYSTEMD_LOG_TARGET: 'console', SYSTEMD_LOG_LEVEL: level },
      });
      if (result.error)
        throw new Error(
          `systemd-analyze (Debian package systemd) is needed to check the units: ${result.error.message}`,
        );
      return result.stdout + result.stderr;
    };
    const hostPaths =
      /^[\w.-]+\.service: Command (\/usr\/bin\/docker|\/usr\/local\/sbin\/meet-[a-z-]+) is not executable: No such file or directory$/;
    const warnings = run('notice')
      .split('\n')
      .filter((line) => line !== '' && !hostPaths.test(line));
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

describe('host files', () => {
  it('jitsi host: uid-1000 dirs (state ones on the volume), account worker every minute, daily renewal, each only while its container runs', () => {
    const files = Object.fromEntries(parse(host('jitsi')).write_files.map((file) => [file.path, file.content]));
    const tmpfiles = files['/etc/tmpfiles.d/meet.conf']!.split('\n').filter((line) => line.startsWith('d '));
    for (const dir of [
      ...jitsiDirectories,
      '/srv/state/certs',
      '/srv/meet/acme-challenge',
      '/srv/state/agent',
      '/srv/state/prosody',
    ])
      expect(tmpfiles).toContain(`d ${dir} 0750 1000 1000 -`);
    expect(host('jitsi')).toContain(
      "\nmeet_units 'meet-account-worker.timer' 'meet-cert-renewal.timer' 'meet-web-certificate.path'\nmeet_tmpfiles '/etc/tmpfiles.d/meet.conf'\n",
    );
    expect(files['/etc/systemd/system/meet-account-worker.timer']).toContain('OnCalendar=minutely');
    expect(files['/etc/systemd/system/meet-account-worker.service']).toContain(
      'TimeoutStartSec=600\nExecCondition=/usr/local/sbin/meet-container-running meet-agent\nExecStart=/usr/bin/docker exec meet-agent timeout --kill-after=30 540 node dist/scripts/create-accounts.mjs\n',
    );
    expect(files['/etc/systemd/system/meet-cert-renewal.timer']).toContain('OnCalendar=daily');
    expect(files['/etc/systemd/system/meet-cert-renewal.service']).toContain(
      'ExecCondition=/usr/local/sbin/meet-container-running meet-agent\nExecStart=/usr/bin/docker exec meet-agent timeout --kill-after=60 1500 node dist/scripts/certs.mjs renew\n',
    );
    expect(files['/etc/systemd/system/meet-web-certificate.service']).toContain(
      'ExecCondition=/usr/local/sbin/meet-container-running jitsi-web\n',
    );
    expect(files[CONTAINER_RUNNING_SCRIPT.path]).toBe(CONTAINER_RUNNING_SCRIPT.content);
  });

  it('a timer whose container is missing or stopped is skipped, one whose container runs goes on (the condition script, with docker answering as it does)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meet-running-'));
    try {
      // docker container inspect: exit 1 and "No such container" for a missing one, else its State.Running.
      writeFileSync(
        join(dir, 'docker'),
        '#!/bin/sh\ncase "$5" in running) echo true;; stopped) echo false;; *) echo "Error: No such container: $5" >&2; exit 1;; esac\n',
      );
      chmodSync(join(dir, 'docker'), 0o755);
      const script = join(dir, 'running');
      writeFileSync(script, CONTAINER_RUNNING_SCRIPT.content.replaceAll('/usr/bin/docker', join(dir, 'docker')));
      const status = (name: string) => spawnSync('sh', [script, name], { encoding: 'utf8' });
      expect([status('running').status, status('stopped').status, status('missing').status]).toEqual([0, 1, 1]);
      expect(status('missing').stderr).toBe('');
      // systemd skips (not fails) a unit whose ExecCondition exits 1 to 254 (systemd.service(5)); 255 would fail it.
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('meet-auth host renews through the edge container and has no account worker; jvb hosts get the jvb dir and no volume', () => {
    const auth = parse(host('meet-auth')).write_files;
    expect(auth.filter((file) => file.path.includes('meet-cert-renewal')).map((file) => file.path)).toEqual([
      '/etc/systemd/system/meet-cert-renewal.service',
      '/etc/systemd/system/meet-cert-renewal.timer',
    ]);
    expect(auth.find((file) => file.path.endsWith('meet-cert-renewal.service'))!.content).toContain(
      'docker exec meet-edge',
    );
    expect(auth.some((file) => file.path.includes('account-worker'))).toBe(false);
    const jvb = parse(host('jvb')).write_files;
    expect(jvb.find((file) => file.path === '/etc/tmpfiles.d/meet.conf')!.content).toContain(
      'd /srv/jitsi/jvb 0750 1000 1000 -\n',
    );
    expect(jvb.filter((file) => file.path.includes('/systemd/'))).toEqual([]);
  });

  it('jitsi host: after each renewal run, a changed certificate is handed to jitsi-web and nginx reloads (no restart)', () => {
    const config = parse(host('jitsi'));
    const files = Object.fromEntries(config.write_files.map((file) => [file.path, file]));
    // And at once when `certs issue` (or anything) puts a new certificate in place: a path unit on cert.crt.
    expect(files['/etc/systemd/system/meet-web-certificate.path']!.content).toContain(
      '[Path]\nPathChanged=/srv/state/certs/cert.crt\n',
    );
    expect(files['/etc/systemd/system/meet-web-certificate.service']!.content).toContain(
      'ExecStart=/usr/local/sbin/meet-reload-web-certificate\n',
    );
    const service = files['/etc/systemd/system/meet-cert-renewal.service']!.content.split('\n');
    const start = service.indexOf(
      'ExecStart=/usr/bin/docker exec meet-agent timeout --kill-after=60 1500 node dist/scripts/certs.mjs renew',
    );
    expect(start).toBeGreaterThan(0);
    // ExecStartPost runs only when `renew` succeeded (Type=oneshot), after it.
    expect(service[start + 1]).toBe('ExecStartPost=/usr/local/sbin/meet-reload-web-certificate');
    expect(files['/usr/local/sbin/meet-reload-web-certificate']).toEqual({
      path: '/usr/local/sbin/meet-reload-web-certificate',
      permissions: '0755',
      content: WEB_CERT_RELOAD.content,
    });
    // The meet-auth host has no web container: meet-auth reloads the certificate itself.
    const auth = parse(host('meet-auth'));
    expect(auth.write_files.find((file) => file.path.endsWith('meet-cert-renewal.service'))!.content).not.toContain(
      'ExecStartPost',
    );
    expect(auth.write_files.some((file) => file.path.includes('web-certificate'))).toBe(false);
  });

  it('the reload script names the paths jitsi-web really mounts', () => {
    const mounts = Object.fromEntries(
      (container(synthJitsi(), 'jitsi-web').mounts as { source: string; target: string }[]).map((m) => [
        m.target,
        m.source,
      ]),
    );
    const script = WEB_CERT_RELOAD.content;
    // Ours on the host (what `certs` writes) against web's copy on the host (what nginx serves), then the copy in the container.
    expect(script).toContain(`cmp -s ${mounts['/config/keys']}/cert.crt ${mounts['/storage']}/keys/cert.crt`);
    expect(script).toContain(
      '/usr/bin/docker exec jitsi-web cp /config/keys/cert.crt /config/keys/cert.key /storage/keys/',
    );
    expect(script).toContain('/usr/bin/docker exec jitsi-web nginx -c /run/web/config/nginx/nginx.conf -s reload');
    execFileSync('sh', ['-n'], { input: script });
  });

  it('the reload script copies and reloads only when the certificate changed and web runs, and stops at the first failure', () => {
    // Run with the host paths moved into a temp dir and docker replaced by a recorder (Docker cannot run here).
    const dir = mkdtempSync(join(tmpdir(), 'meet-web-reload-'));
    try {
      mkdirSync(join(dir, 'certs'));
      mkdirSync(join(dir, 'web', 'keys'), { recursive: true });
      const docker = join(dir, 'docker');
      writeFileSync(docker, `#!/bin/sh\necho "$*" >> ${dir}/calls\n[ "$3" != "\${FAIL_ON:-}" ]\n`);
      chmodSync(docker, 0o755);
      const running = join(dir, 'running');
      writeFileSync(running, '#!/bin/sh\n[ "$1" = jitsi-web ] && [ -z "${WEB_DOWN:-}" ]\n');
      chmodSync(running, 0o755);
      const script = join(dir, 'reload');
      writeFileSync(
        script,
        WEB_CERT_RELOAD.content
          .replaceAll('/srv/state/certs', join(dir, 'certs'))
          .replaceAll('/srv/jitsi/storage/web', join(dir, 'web'))
          .replaceAll('/usr/bin/docker', docker)
          .replaceAll(CONTAINER_RUNNING_SCRIPT.path, running),
      );
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
      expect(changed.calls).toEqual([
        'exec jitsi-web cp /config/keys/cert.crt /config/keys/cert.key /storage/keys/',
        'exec jitsi-web nginx -c /run/web/config/nginx/nginx.conf -s reload',
      ]);
      expect(changed.stdout).toContain('nginx reloaded');
      // jitsi-web not running (a deploy replacing it): nothing to do, and not a failure of the renewal run.
      const down = run({ WEB_DOWN: '1' });
      expect(down).toEqual({
        code: 0,
        calls: [],
        stdout: 'jitsi-web is not running: it takes the certificate when it starts\n',
      });
      const failed = run({ FAIL_ON: 'cp' });
      expect(failed.code).not.toBe(0);
      expect(failed.calls).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the renewal service may run 30 min (systemd's own parser reads the unit); renew inside the container is ended first", () => {
    // A oneshot service has no start timeout unless given one: a run stuck on the network would keep the unit
    // active and the timer would start no further run.
    const { runSec: renewSec, killAfterSec, serviceSec } = CERT_RENEWAL_LIMITS;
    expect(serviceSec).toBe(1800);
    for (const role of ['jitsi', 'meet-auth'] as const) {
      const parsed = systemdView(role);
      expect(parsed.warnings).toEqual([]);
      expect(parsed.timeoutStartSec['meet-cert-renewal.service']).toBe('30min');
      const exec = parse(host(role)).write_files.find((file) =>
        file.path.endsWith('meet-cert-renewal.service'),
      )!.content;
      const container = role === 'jitsi' ? 'meet-agent' : 'meet-edge';
      expect(exec).toContain(
        `TimeoutStartSec=1800\nExecCondition=/usr/local/sbin/meet-container-running ${container}\nExecStart=/usr/bin/docker exec ${container} timeout --kill-after=60 1500 node dist/scripts/certs.mjs renew\n`,
      );
    }
    // A bridge's units (user data only) pass too.
    expect(systemdView('jvb').warnings).toEqual([]);
    // The account worker too: 10 min for the unit, the run inside the container ended well before.
    expect(systemdView('jitsi').timeoutStartSec['meet-account-worker.service']).toBe('10min');
    expect(ACCOUNT_WORKER_LIMITS.runSec + ACCOUNT_WORKER_LIMITS.killAfterSec).toBeLessThan(
      ACCOUNT_WORKER_LIMITS.serviceSec,
    );
    // TERM, then KILL, to renew inside the container well before systemd gives up (and the web reload still fits).
    expect(renewSec + killAfterSec).toBeLessThanOrEqual(serviceSec - 120);
    // A hung run ends long before its certs lock would count as stale (an hour).
    expect(renewSec + killAfterSec).toBeLessThan(STALE_AFTER_MS / 1000);
  });

  it('meet-auth host with backups: a daily timer runs the backup CLI in meet-edge to s3://bucket/prefix, bounded, only while meet-edge runs', () => {
    const files = Object.fromEntries(
      parse(host('meet-auth', { backup: BACKUP })).write_files.map((file) => [file.path, file.content]),
    );
    expect(files['/etc/systemd/system/meet-backup.timer']).toContain(
      '[Timer]\nOnCalendar=daily\nPersistent=true\nRandomizedDelaySec=3600\n',
    );
    expect(files['/etc/systemd/system/meet-backup.service']).toContain(
      'TimeoutStartSec=1800\nExecCondition=/usr/local/sbin/meet-container-running meet-edge\n' +
        'ExecStart=/usr/bin/docker exec --env MEET_BACKUP_KEEP_DAILY=7 --env MEET_BACKUP_KEEP_WEEKLY=4 meet-edge timeout --kill-after=60 1500 node dist/scripts/backup.mjs --to s3://meet:backups/production\n',
    );
    expect(host('meet-auth', { backup: BACKUP })).toContain(
      "\nmeet_units 'meet-cert-renewal.timer' 'meet-backup.timer'\n",
    );
    // systemd's own parser: no warning, the 30 min limit; the run inside the container ends before it.
    const parsed = systemdView('meet-auth', { backup: BACKUP });
    expect(parsed.warnings).toEqual([]);
    expect(parsed.timeoutStartSec['meet-backup.service']).toBe('30min');
    expect(BACKUP_LIMITS.runSec + BACKUP_LIMITS.killAfterSec).toBeLessThan(BACKUP_LIMITS.serviceSec);
    // Another schedule and retention reach only the unit files.
    const weekly = Object.fromEntries(
      parse(
        host('meet-auth', { backup: { ...BACKUP, schedule: 'Sun *-*-* 03:00:00', keepDaily: 3, keepWeekly: 8 } }),
      ).write_files.map((file) => [file.path, file.content]),
    );
    expect(weekly['/etc/systemd/system/meet-backup.timer']).toContain('OnCalendar=Sun *-*-* 03:00:00\n');
    expect(weekly['/etc/systemd/system/meet-backup.service']).toContain(
      '--env MEET_BACKUP_KEEP_DAILY=3 --env MEET_BACKUP_KEEP_WEEKLY=8 meet-edge',
    );
    expect(systemdView('meet-auth', { backup: { ...BACKUP, schedule: 'Sun *-*-* 03:00:00' } }).warnings).toEqual([]);
    // Without backups (and on the other hosts, whatever is given): no backup timer.
    expect(host('meet-auth')).not.toContain('meet-backup');
    expect(host('jitsi', { backup: BACKUP })).not.toContain('meet-backup');
  });

  it('the backup timer refuses bad settings, naming them', () => {
    expect(() => backupTimer({ ...BACKUP, bucket: 'Bad Bucket' })).toThrow(
      'backup bucket "Bad Bucket" is not an S3 bucket name',
    );
    for (const prefix of ['/abs', 'a/../b', 'a//b', 'end/', 'a b'])
      expect(() => backupTimer({ ...BACKUP, prefix }), prefix).toThrow(
        `backup prefix "${prefix}" must be a key prefix`,
      );
    for (const schedule of ['daily\nExecStart=/bin/sh', 'daily; rm', ''])
      expect(() => backupTimer({ ...BACKUP, schedule }), schedule).toThrow('is not an OnCalendar expression');
    expect(() => backupTimer({ ...BACKUP, keepDaily: 0 })).toThrow(
      'backup keepDaily 0 must be a whole number from 1 to 1000',
    );
    expect(() => backupTimer({ ...BACKUP, keepWeekly: 2.5 })).toThrow(
      'backup keepWeekly 2.5 must be a whole number from 1 to 1000',
    );
  });
});
