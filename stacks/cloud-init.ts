/**
 * cloud-init user data for the hosts: Debian's docker.io, the docker group for the deploying account, the
 * directories the containers mount (owned by uid 1000, which the rootless Jitsi images and our images run as)
 * and the systemd timers. Emitted as `#cloud-config` + JSON (JSON is YAML), so nothing needs YAML quoting.
 */
import { CONTAINER_UID, containerNames, containerPaths, jitsiDirectories, paths } from './layout.js';

/** A systemd timer that runs one command (an argv, never a shell string) on a schedule. */
export interface Timer {
  /** Unit name without suffix, e.g. "meet-account-worker". */
  readonly name: string;
  readonly description: string;
  /** systemd OnCalendar expression. */
  readonly onCalendar: string;
  /** Random delay so many hosts do not fire at once. @default none */
  readonly randomizedDelaySec?: number;
  readonly command: readonly string[];
  /** Commands run after `command` succeeded (ExecStartPost), each an argv. @default none */
  readonly after?: readonly (readonly string[])[];
  /**
   * Seconds the whole run (`command` and `after`) may take before systemd stops it and the run fails
   * (TimeoutStartSec). A run that never ends keeps the unit active, and the timer starts no further run.
   * @default none: systemd waits forever for a oneshot service
   */
  readonly timeoutSec?: number;
}

/** A root-owned executable file (mode 0755) written at first boot, e.g. a helper a timer runs. */
export interface Script {
  readonly path: string;
  readonly content: string;
}

export interface CloudInitProps {
  /** Account that the docker providers ssh in as; added to the docker group. */
  readonly dockerUser: string;
  /** Directories to create owned by uid/gid 1000, mode 0750. @default none */
  readonly directories?: readonly string[];
  /** Timers to install and enable. @default none */
  readonly timers?: readonly Timer[];
  /** Helper scripts to write. @default none */
  readonly scripts?: readonly Script[];
}

export type HostRole = 'jitsi' | 'meet-auth' | 'jvb';

const UNIT_NAME = /^[a-z][a-z0-9-]*$/;

function systemdQuote(arg: string): string {
  // systemd splits ExecStart on whitespace and honours double quotes with C-style escapes.
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function timerFiles(timer: Timer) {
  if (!UNIT_NAME.test(timer.name)) throw new Error(`timer name "${timer.name}" must match ${UNIT_NAME}`);
  const commands = [timer.command, ...(timer.after ?? [])];
  if (commands.some((command) => command.length === 0)) throw new Error(`timer "${timer.name}" has an empty command`);
  if (timer.timeoutSec !== undefined && !(Number.isInteger(timer.timeoutSec) && timer.timeoutSec > 0)) {
    throw new Error(`timer "${timer.name}": timeoutSec ${timer.timeoutSec} must be a whole number of seconds above 0`);
  }
  const exec = (command: readonly string[]) => command.map(systemdQuote).join(' ');
  const service = [
    '[Unit]', `Description=${timer.description}`, 'After=docker.service', 'Requires=docker.service', '',
    '[Service]', 'Type=oneshot', ...(timer.timeoutSec ? [`TimeoutStartSec=${timer.timeoutSec}`] : []), `ExecStart=${exec(timer.command)}`, ...(timer.after ?? []).map((command) => `ExecStartPost=${exec(command)}`), '',
  ].join('\n');
  const schedule = [
    '[Unit]', `Description=${timer.description} (schedule)`, '',
    '[Timer]', `OnCalendar=${timer.onCalendar}`, 'Persistent=true',
    ...(timer.randomizedDelaySec ? [`RandomizedDelaySec=${timer.randomizedDelaySec}`] : []), '',
    '[Install]', 'WantedBy=timers.target', '',
  ].join('\n');
  return [
    { path: `/etc/systemd/system/${timer.name}.service`, permissions: '0644', content: service },
    { path: `/etc/systemd/system/${timer.name}.timer`, permissions: '0644', content: schedule },
  ];
}

/** Renders the user data; deterministic (same props, same bytes). */
export function renderCloudInit(props: CloudInitProps): string {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(props.dockerUser)) throw new Error(`docker user "${props.dockerUser}" is not a valid account name`);
  const directories = [...new Set(props.directories ?? [])].sort();
  for (const dir of directories) {
    if (!dir.startsWith('/') || dir.includes('..')) throw new Error(`directory "${dir}" must be an absolute path without ".."`);
  }
  const timers = props.timers ?? [];
  const runcmd: string[][] = [['usermod', '-aG', 'docker', props.dockerUser]];
  if (directories.length > 0) {
    runcmd.push(['install', '-d', '-o', String(CONTAINER_UID), '-g', String(CONTAINER_UID), '-m', '0750', ...directories]);
  }
  runcmd.push(['systemctl', 'enable', '--now', 'docker.service']);
  if (timers.length > 0) {
    runcmd.push(['systemctl', 'daemon-reload']);
    runcmd.push(['systemctl', 'enable', '--now', ...timers.map((timer) => `${timer.name}.timer`)]);
  }
  const scripts = (props.scripts ?? []).map((script) => {
    if (!script.path.startsWith('/') || script.path.includes('..')) throw new Error(`script "${script.path}" must be an absolute path without ".."`);
    return { path: script.path, permissions: '0755', content: script.content };
  });
  const config = {
    package_update: true,
    packages: ['docker.io'],
    write_files: [...scripts, ...timers.flatMap(timerFiles)],
    runcmd,
  };
  return `#cloud-config\n${JSON.stringify(config, null, 2)}\n`;
}

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

/** A timer's `command` and `timeoutSec` for running `argv` inside `container` within `limits`. */
function containerRun(container: string, limits: RunLimits, argv: readonly string[]): Pick<Timer, 'command' | 'timeoutSec'> {
  return {
    command: ['/usr/bin/docker', 'exec', container, 'timeout', `--kill-after=${limits.killAfterSec}`, String(limits.runSec), ...argv],
    timeoutSec: limits.serviceSec,
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
    '# Written by cloud-init (Wikimedia Meet); run by meet-cert-renewal.service after `certs renew`.',
    'set -eu',
    `if cmp -s ${paths.certs}/cert.crt ${paths.webStorage}/keys/cert.crt; then exit 0; fi`,
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
 * depends on the environment's settings: those are the container's environment (MEET_ACME_*), so changing them
 * replaces a container, never the host.
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

/** The user data of each kind of host. */
export function hostCloudInit(role: HostRole, dockerUser: string): string {
  switch (role) {
    case 'jitsi':
      return renderCloudInit({
        dockerUser,
        directories: [...jitsiDirectories, paths.certs, paths.acmeChallenge, paths.agentData],
        timers: [accountWorker, certRenewal(containerNames.agent, [[WEB_CERT_RELOAD.path]])],
        scripts: [WEB_CERT_RELOAD],
      });
    case 'meet-auth':
      return renderCloudInit({
        dockerUser,
        directories: [paths.certs, paths.acmeChallenge, paths.edgeData],
        timers: [certRenewal(containerNames.edge)],
      });
    case 'jvb':
      return renderCloudInit({ dockerUser, directories: [paths.jitsiConfig('jvb')] });
  }
}
