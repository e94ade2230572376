/**
 * What a host gets at deploy time rather than in its user data: the timers and their services, the path unit, the
 * helper scripts and the directory list (tmpfiles). These change often, and `user_data` is ForceNew on an
 * instance, so they are delivered by each host's host-files step (stacks/host-files-step.ts, running
 * scripts/install-host-files.sh after the readiness gate): a change re-runs that step and replaces nothing.
 * Deterministic: same role, same bytes. No secrets: everything here is readable on the host anyway. The units'
 * shapes, their checks and the rendering are stacks/host-file-set.ts.
 */
import type { HostRole } from './cloud-init.js';
import {
  CONTAINER_RUNNING_SCRIPT,
  hostFileSet,
  renderHostFiles,
  type HostFilesProps,
  type PathTrigger,
  type Script,
  type Timer,
} from './host-file-set.js';
import { containerNames, containerPaths, jitsiDirectories, paths, stateDirectories } from './layout.js';

/**
 * How long a timer's run inside a container may take. systemd stopping a unit kills only the `docker exec` client,
 * which does not pass the signal on, so the process inside would stay (holding its leases or the certs lock). So
 * the run is ended inside the container first: coreutils' timeout (in every Debian image) sends it TERM after
 * `runSec` and KILL `killAfterSec` later; `serviceSec` is the unit's own limit (TimeoutStartSec) beyond that.
 */
export interface RunLimits {
  readonly runSec: number;
  readonly killAfterSec: number;
  readonly serviceSec: number;
}

/**
 * A timer's `command`, `timeoutSec` and condition for running `argv` inside `container` within `limits`, with `env`
 * added to the container's own environment for this run (docker exec --env; never a secret: the unit is world-readable).
 */
function containerRun(
  container: string,
  limits: RunLimits,
  argv: readonly string[],
  env: readonly string[] = [],
): Pick<Timer, 'command' | 'timeoutSec' | 'whenRunning'> {
  return {
    command: [
      '/usr/bin/docker',
      'exec',
      ...env.flatMap((entry) => ['--env', entry]),
      container,
      'timeout',
      `--kill-after=${limits.killAfterSec}`,
      String(limits.runSec),
      ...argv,
    ],
    timeoutSec: limits.serviceSec,
    whenRunning: container,
  };
}

/**
 * The account worker's limits: a drain takes seconds (1000 accounts in ~4 s), but one stuck on Prosody must not keep
 * its unit active for good (the timer would start no further run): TERM after 9 min, KILL 30 s later, the unit's
 * own limit 10 min. Its jobs' leases lapse and the next run takes them over.
 */
export const ACCOUNT_WORKER_LIMITS: RunLimits = { runSec: 540, killAfterSec: 30, serviceSec: 600 };

const accountWorker: Timer = {
  name: 'meet-account-worker',
  description: 'Wikimedia Meet account worker (safety net for jobs the agent could not finish at once)',
  onCalendar: 'minutely',
  ...containerRun(containerNames.agent, ACCOUNT_WORKER_LIMITS, ['node', 'dist/scripts/create-accounts.mjs']),
};

/**
 * jitsi-web copies /config/keys (our certificate directory, read-only) into its /storage/keys only when it starts,
 * and nginx serves the copy. After each renewal run: if the copy differs from ours, copy it over and reload nginx
 * gracefully (meetings in progress keep their connections; a restart would drop them). Also hands web the first
 * real certificate, since web starts with a self-signed one before any was issued.
 */
export const WEB_CERT_RELOAD: Script = {
  path: '/usr/local/sbin/meet-reload-web-certificate',
  content: [
    '#!/bin/sh',
    '# Installed by scripts/install-host-files.sh (Wikimedia Meet); run by meet-cert-renewal.service after `certs renew`.',
    'set -eu',
    `if cmp -s ${paths.certs}/cert.crt ${paths.webStorage}/keys/cert.crt; then exit 0; fi`,
    // Between a deploy's removal of jitsi-web and its new one: nothing to reload, and the new one copies at start.
    `if ! ${CONTAINER_RUNNING_SCRIPT.path} ${containerNames.web}; then echo "${containerNames.web} is not running: it takes the certificate when it starts"; exit 0; fi`,
    `/usr/bin/docker exec ${containerNames.web} cp ${containerPaths.webKeys}/cert.crt ${containerPaths.webKeys}/cert.key /storage/keys/`,
    `/usr/bin/docker exec ${containerNames.web} nginx -c /run/web/config/nginx/nginx.conf -s reload`,
    `echo "${containerNames.web}: nginx reloaded with the renewed certificate"`,
    '',
  ].join('\n'),
};

/**
 * How long one renewal run may take. A normal one takes seconds when nothing is due and a few minutes when it
 * orders (CA polling gives up after ~2.5 min per step), plus up to MEET_CERT_LOCK_WAIT_SECONDS (600) behind an
 * admin's run: TERM after 25 min, KILL a minute later, the unit's own limit 30 min (leaving time for the web
 * reload). (So the timer's run cannot use a MEET_CERT_LOCK_WAIT_SECONDS above ~20 min in full; an admin's run by
 * hand can.)
 */
export const CERT_RENEWAL_LIMITS: RunLimits = { runSec: 1500, killAfterSec: 60, serviceSec: 1800 };

/**
 * Daily, at a random time in the first hour. `renew` contacts the CA only when the certificate is due (Let's
 * Encrypt rate limits). meet-auth picks a new certificate up by itself (it watches the files). Nothing here
 * depends on the environment's settings: those are the container's environment (MEET_ACME_*). Skipped while its
 * container does not run (`Persistent=true` then catches up only at the next day's run: renewal starts 30 days early).
 */
function certRenewal(container: string, after: readonly (readonly string[])[] = []): Timer {
  return {
    name: 'meet-cert-renewal',
    description: 'Wikimedia Meet certificate renewal (renews only certificates close to expiry)',
    onCalendar: 'daily',
    randomizedDelaySec: 3600,
    ...containerRun(container, CERT_RENEWAL_LIMITS, ['node', 'dist/scripts/certs.mjs', 'renew']),
    after,
  };
}

/**
 * The first `certs issue` (and any later certificate) reaches nginx at once: `certs` renames the new cert.crt into
 * place, which fires this path unit (systemd.path: PathChanged= also triggers on a file moved into place), and the
 * reload script hands it to jitsi-web. Skipped while jitsi-web does not run: it copies the certificate when it starts.
 */
const WEB_CERT_TRIGGER: PathTrigger = {
  name: 'meet-web-certificate',
  description: 'Wikimedia Meet: hand a new certificate to jitsi-web',
  watch: `${paths.certs}/cert.crt`,
  command: [WEB_CERT_RELOAD.path],
  whenRunning: containerNames.web,
};

/** The daily backup's settings that are the timer's (stacks/config.ts `backup`); the rest is meet-edge's environment. */
export interface BackupTimerSettings {
  readonly bucket: string;
  readonly prefix: string;
  /** OnCalendar expression. */
  readonly schedule: string;
  readonly keepDaily: number;
  readonly keepWeekly: number;
}

/**
 * How long one backup run may take. 10,000 accounts take seconds (npm run bench -- backup); the rest is the upload
 * and the agents. TERM after 25 min, KILL a minute later, the unit's own limit 30 min: a stuck run ends and the
 * next day's starts (a partial upload is no archive: `put` is one object, retention runs only after it).
 */
export const BACKUP_LIMITS: RunLimits = { runSec: 1500, killAfterSec: 60, serviceSec: 1800 };

/** `npm run backup -- --to s3://<bucket>/<prefix>` in meet-edge on the schedule; retention as the CLI does it. */
export function backupTimer(settings: BackupTimerSettings): Timer {
  if (!/^[a-z0-9][a-z0-9.:_-]{1,254}$/.test(settings.bucket))
    throw new Error(`backup bucket "${settings.bucket}" is not an S3 bucket name such as "meet:backups"`);
  if (
    !/^[a-z0-9][a-z0-9/_.-]{0,200}$/.test(settings.prefix) ||
    settings.prefix.includes('..') ||
    settings.prefix.includes('//') ||
    settings.prefix.endsWith('/')
  ) {
    throw new Error(
      `backup prefix "${settings.prefix}" must be a key prefix such as "production" (no "..", "//" or trailing "/")`,
    );
  }
  if (!/^[A-Za-z0-9*:,./~ +-]{1,100}$/.test(settings.schedule))
    throw new Error(`backup schedule "${settings.schedule}" is not an OnCalendar expression such as "daily"`);
  for (const [name, value] of [
    ['keepDaily', settings.keepDaily],
    ['keepWeekly', settings.keepWeekly],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 1000)
      throw new Error(`backup ${name} ${value} must be a whole number from 1 to 1000`);
  }
  return {
    name: 'meet-backup',
    description: 'Wikimedia Meet backup of meet-auth and every Jitsi server to object storage',
    onCalendar: settings.schedule,
    randomizedDelaySec: 3600,
    ...containerRun(
      containerNames.edge,
      BACKUP_LIMITS,
      ['node', 'dist/scripts/backup.mjs', '--to', `s3://${settings.bucket}/${settings.prefix}`],
      [`MEET_BACKUP_KEEP_DAILY=${settings.keepDaily}`, `MEET_BACKUP_KEEP_WEEKLY=${settings.keepWeekly}`],
    ),
  };
}

/** What a host's files depend on besides its role. */
export interface HostFilesOptions {
  /** The meet-auth host's daily backup. @default none */
  readonly backup?: BackupTimerSettings;
}

/** What each kind of host gets at deploy time. */
export function hostFilesProps(role: HostRole, options: HostFilesOptions = {}): HostFilesProps {
  switch (role) {
    case 'jitsi':
      return {
        directories: [...jitsiDirectories, ...stateDirectories.jitsi, paths.acmeChallenge],
        timers: [accountWorker, certRenewal(containerNames.agent, [[WEB_CERT_RELOAD.path]])],
        scripts: [WEB_CERT_RELOAD],
        paths: [WEB_CERT_TRIGGER],
      };
    case 'meet-auth':
      return {
        directories: [...stateDirectories['meet-auth'], paths.acmeChallenge],
        timers: [certRenewal(containerNames.edge), ...(options.backup ? [backupTimer(options.backup)] : [])],
      };
    case 'jvb':
      return { directories: [paths.jitsiConfig('jvb')] };
  }
}

/** The rendered declarations of each kind of host. */
export function hostFiles(role: HostRole, options: HostFilesOptions = {}): string {
  return renderHostFiles(hostFileSet(hostFilesProps(role, options)));
}
