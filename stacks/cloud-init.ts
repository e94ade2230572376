/**
 * cloud-init user data for the hosts. Cloud VPS's vendor-data sets the top-level `write_files`, `runcmd`,
 * `packages` and `package_update` (its puppet apt pin, the login-block file, serial console, pciutils), and
 * cloud-init 22.4 merges user data over vendor-data key by key with the *vendor* part's mergers
 * (cloudinit/helpers.py ConfigMerger._read_cfg → util.mergemanydict): a user-data list under the same key replaces
 * vendor-data's whatever `merge_how` the user data says. So the user data sets none of those keys: one `bootcmd`
 * entry (once per instance) writes our files and starts `meet-setup.service`, which runs after cloud-final (after
 * vendor-data's packages and commands) and installs docker.io, prepares the state volume and enables the timers.
 * Deterministic: same props, same bytes.
 */
import { CONTAINER_UID, containerNames, containerPaths, jitsiDirectories, paths, STATE_ROOT, stateDirectories } from './layout.js';

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

/** A systemd path unit: runs `command` whenever `watch` changes (closed after writing, or renamed into place). */
export interface PathTrigger {
  /** Unit name without suffix. */
  readonly name: string;
  readonly description: string;
  /** File to watch (PathChanged=). */
  readonly watch: string;
  readonly command: readonly string[];
}

/** A root-owned executable file (mode 0755) written at first boot, e.g. a helper a timer runs. */
export interface Script {
  readonly path: string;
  readonly content: string;
}

export interface CloudInitProps {
  /**
   * Group (from NSS, i.e. LDAP on Cloud VPS) whose members get the Docker daemon: the deploy accounts. On Cloud VPS
   * every project member is in LDAP group `project-<project>`.
   */
  readonly dockerGroupSource: string;
  /** Directories to create owned by uid/gid 1000, mode 0750 (at every boot, by systemd-tmpfiles). @default none */
  readonly directories?: readonly string[];
  /**
   * The Cinder volume that holds the host's state, mounted at STATE_ROOT before Docker starts. Its id (usually a
   * token) names the device by its stable serial. @default none: a stateless host
   */
  readonly stateVolumeId?: string;
  /** Timers to install and enable. @default none */
  readonly timers?: readonly Timer[];
  /** Helper scripts to write. @default none */
  readonly scripts?: readonly Script[];
  /** Path units to install and enable. @default none */
  readonly paths?: readonly PathTrigger[];
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
    { path: `/etc/systemd/system/${timer.name}.service`, permissions: '0644' as const, content: service },
    { path: `/etc/systemd/system/${timer.name}.timer`, permissions: '0644' as const, content: schedule },
  ];
}

function pathFiles(trigger: PathTrigger): HostFile[] {
  if (!UNIT_NAME.test(trigger.name)) throw new Error(`path unit name "${trigger.name}" must match ${UNIT_NAME}`);
  if (trigger.command.length === 0) throw new Error(`path unit "${trigger.name}" has an empty command`);
  return [
    { path: `/etc/systemd/system/${trigger.name}.service`, permissions: '0644', content: unit([
      '[Unit]', `Description=${trigger.description}`, 'After=docker.service', 'Requires=docker.service', '',
      '[Service]', 'Type=oneshot', `ExecStart=${trigger.command.map(systemdQuote).join(' ')}`,
    ]) },
    { path: `/etc/systemd/system/${trigger.name}.path`, permissions: '0644', content: unit([
      '[Unit]', `Description=${trigger.description} (trigger)`, '',
      '[Path]', `PathChanged=${trigger.watch}`, '',
      '[Install]', 'WantedBy=paths.target',
    ]) },
  ];
}

/** A file the bootstrap writes. */
export interface HostFile {
  readonly path: string;
  readonly permissions: '0644' | '0755';
  readonly content: string;
}

/** What the user data puts on a host: its files, and what meet-setup runs once they are there. */
export interface HostSetup {
  readonly files: readonly HostFile[];
}

export const SETUP_UNIT = 'meet-setup.service';
const SETUP_DONE = '/var/lib/meet/setup-done';
const TMPFILES = '/etc/tmpfiles.d/meet.conf';
/** Each host syncs its docker group from the deploy group this often (LDAP answers only after the first puppet runs). */
const DOCKER_ACCESS_EVERY = '2min';

/**
 * Finds the state volume by its stable id (virtio serial: the first 20 characters of the Cinder id, udev's
 * /dev/disk/by-id/virtio-<serial>), waits for Terraform's attachment (it comes after the instance is ACTIVE),
 * makes an ext4 file system only when the device carries no signature at all (blkid -p exit 2), and mounts it.
 */
export const STATE_VOLUME_SCRIPT: HostFile = {
  path: '/usr/local/sbin/meet-state-volume',
  permissions: '0755',
  content: [
    '#!/bin/sh',
    '# Written by cloud-init (Wikimedia Meet). meet-state-volume <cinder-volume-id> <mount point>; run before docker.service.',
    'set -eu',
    'id=$1',
    'target=$2',
    'by_id=${MEET_DISK_BY_ID:-/dev/disk/by-id}',
    'serial=$(printf %.20s "$id")',
    'wait=${MEET_STATE_WAIT_SECONDS:-840}',
    'deadline=$(( $(date +%s) + wait ))',
    'while :; do',
    '  for dev in "$by_id/virtio-$serial" "$by_id/scsi-0QEMU_QEMU_HARDDISK_$serial"; do',
    '    if [ -b "$dev" ]; then break 2; fi',
    '  done',
    '  if [ "$(date +%s)" -ge "$deadline" ]; then',
    '    echo "meet-state-volume: volume $id is not attached after $wait s (no $by_id/virtio-$serial)" >&2',
    '    exit 1',
    '  fi',
    '  udevadm settle --timeout=5 2>/dev/null || true',
    '  sleep 2',
    'done',
    'if mountpoint -q "$target"; then exit 0; fi',
    'found=0',
    'blkid -p "$dev" >/dev/null 2>&1 || found=$?',
    'if [ "$found" -eq 2 ]; then',
    '  echo "meet-state-volume: $dev is blank: making its file system"',
    '  mkfs.ext4 -q -L meet-state "$dev" </dev/null',
    'elif [ "$found" -ne 0 ]; then',
    '  echo "meet-state-volume: blkid could not read $dev (exit $found); not touching it" >&2',
    '  exit 1',
    'fi',
    'mkdir -p "$target"',
    'mount -o nodev,nosuid,noatime "$dev" "$target"',
    'echo "meet-state-volume: $dev mounted at $target"',
    '',
  ].join('\n'),
};

/**
 * Gives the deploy group's members the Docker daemon. An LDAP account is in no local group, and usermod/gpasswd
 * refuse names missing from /etc/passwd; but glibc's initgroups (what sshd calls) reads the member names of
 * /etc/group whatever source knows the account. So the docker line's member list is set to the group's members,
 * every few minutes (a project member added later gets access; one removed loses it). Until NSS knows the group
 * (before the first puppet run) it changes nothing.
 */
export const DOCKER_ACCESS_SCRIPT: HostFile = {
  path: '/usr/local/sbin/meet-docker-access',
  permissions: '0755',
  content: [
    '#!/bin/sh',
    '# Written by cloud-init (Wikimedia Meet). meet-docker-access <group>: the docker group\'s members become <group>\'s.',
    'set -eu',
    'file=${MEET_GROUP_FILE:-/etc/group}',
    'entry=$(getent group "$1") || exit 0',
    'members=$(printf %s "$entry" | cut -d: -f4)',
    'if [ -z "$members" ]; then exit 0; fi',
    'if ! grep -q "^docker:" "$file"; then exit 0; fi',
    'tmp=$(mktemp "$file.meet.XXXXXX")',
    'trap \'rm -f "$tmp"\' EXIT',
    'awk -F: -v OFS=: -v members="$members" \'$1 == "docker" { $4 = members } { print }\' "$file" > "$tmp"',
    'if cmp -s "$tmp" "$file"; then exit 0; fi',
    'chmod 0644 "$tmp"',
    'mv "$tmp" "$file"',
    'echo "docker group members: $members"',
    '',
  ].join('\n'),
};

function unit(lines: readonly string[]): string {
  return `${lines.join('\n')}\n`;
}

/** systemd-tmpfiles lines: our directories, owned by the containers' uid, created at boot and after the mount. */
function tmpfilesConf(directories: readonly string[]): string {
  return unit(['# Written by cloud-init (Wikimedia Meet): directories the containers mount, owned by their uid.',
    ...directories.map((dir) => `d ${dir} 0750 ${CONTAINER_UID} ${CONTAINER_UID} -`)]);
}

/** The files of one host; checked, deterministic. */
export function hostSetup(props: CloudInitProps): HostSetup {
  if (!/^[a-z_][a-z0-9_.-]{0,63}$/.test(props.dockerGroupSource)) throw new Error(`docker group source "${props.dockerGroupSource}" is not a valid group name`);
  const directories = [...new Set(props.directories ?? [])].sort();
  for (const dir of directories) {
    if (!dir.startsWith('/') || dir.includes('..') || /\s/.test(dir)) throw new Error(`directory "${dir}" must be an absolute path without ".." or spaces`);
  }
  const timers = props.timers ?? [];
  const scripts = (props.scripts ?? []).map((script): HostFile => {
    if (!script.path.startsWith('/') || script.path.includes('..')) throw new Error(`script "${script.path}" must be an absolute path without ".."`);
    return { path: script.path, permissions: '0755', content: script.content };
  });
  const dockerAccess: Timer = {
    name: 'meet-docker-access',
    description: `Wikimedia Meet: members of ${props.dockerGroupSource} may use the Docker daemon`,
    onCalendar: `*:0/${DOCKER_ACCESS_EVERY.replace('min', '')}`,
    command: [DOCKER_ACCESS_SCRIPT.path, props.dockerGroupSource],
  };
  const allTimers = [dockerAccess, ...timers];
  const volume = props.stateVolumeId;
  const stateFiles: HostFile[] = volume === undefined ? [] : [
    STATE_VOLUME_SCRIPT,
    { path: '/etc/systemd/system/meet-state-volume.service', permissions: '0644', content: unit([
      '[Unit]', 'Description=Wikimedia Meet state volume: wait for it, make its file system once, mount it', 'After=local-fs.target systemd-udev-settle.service', 'Before=docker.service', '',
      '[Service]', 'Type=oneshot', 'RemainAfterExit=yes', 'TimeoutStartSec=900',
      `ExecStart=${STATE_VOLUME_SCRIPT.path} ${volume} ${STATE_ROOT}`, `ExecStartPost=/usr/bin/systemd-tmpfiles --create ${TMPFILES}`, '',
      '[Install]', 'WantedBy=multi-user.target',
    ]) },
    // No container starts before the state is mounted: dockerd itself requires it (restart policies start them).
    { path: '/etc/systemd/system/docker.service.d/meet-state-volume.conf', permissions: '0644', content: unit([
      '[Unit]', 'Requires=meet-state-volume.service', 'After=meet-state-volume.service',
    ]) },
  ];
  const enable = [...(volume === undefined ? [] : ['meet-state-volume.service']), 'docker.service', ...allTimers.map((timer) => `${timer.name}.timer`), ...(props.paths ?? []).map((path) => `${path.name}.path`)];
  const setupScript: HostFile = {
    path: '/usr/local/sbin/meet-setup',
    permissions: '0755',
    content: [
      '#!/bin/sh',
      '# Written by cloud-init (Wikimedia Meet); run by meet-setup.service after cloud-final, until it once succeeds.',
      'set -eu',
      'export DEBIAN_FRONTEND=noninteractive',
      'apt-get update -q',
      'apt-get install -y -q docker.io',
      `systemd-tmpfiles --create ${TMPFILES}`,
      `${DOCKER_ACCESS_SCRIPT.path} ${props.dockerGroupSource}`,
      'systemctl daemon-reload',
      `systemctl enable --now ${enable.join(' ')}`,
      `mkdir -p ${SETUP_DONE.slice(0, SETUP_DONE.lastIndexOf('/'))}`,
      `touch ${SETUP_DONE}`,
      '',
    ].join('\n'),
  };
  const setupUnit: HostFile = { path: `/etc/systemd/system/${SETUP_UNIT}`, permissions: '0644', content: unit([
    '[Unit]', 'Description=Wikimedia Meet host setup (Docker, state volume, timers)', `ConditionPathExists=!${SETUP_DONE}`,
    'After=cloud-final.service network-online.target', 'Wants=network-online.target', '',
    '[Service]', 'Type=oneshot', 'RemainAfterExit=yes', 'TimeoutStartSec=1800', `ExecStart=${setupScript.path}`, '',
    '[Install]', 'WantedBy=multi-user.target',
  ]) };
  return {
    files: [
      ...scripts, DOCKER_ACCESS_SCRIPT, setupScript, ...stateFiles,
      { path: TMPFILES, permissions: '0644', content: tmpfilesConf(directories) },
      ...allTimers.flatMap(timerFiles), ...(props.paths ?? []).flatMap(pathFiles), setupUnit,
    ],
  };
}

/** A delimiter for a quoted here-document that no line of `content` equals. */
function delimiterFor(content: string): string {
  const lines = new Set(content.split('\n'));
  let delimiter = 'MEET_EOF';
  for (let n = 1; lines.has(delimiter); n += 1) delimiter = `MEET_EOF_${n}`;
  return delimiter;
}

/** The shell program that writes the files (quoted here-documents: nothing in them is expanded) and starts setup. */
export function bootstrapScript(setup: HostSetup): string {
  const lines = ['set -eu', 'umask 022'];
  for (const file of setup.files) {
    const dir = file.path.slice(0, file.path.lastIndexOf('/')) || '/';
    const body = file.content.endsWith('\n') ? file.content : `${file.content}\n`;
    const delimiter = delimiterFor(body);
    lines.push(`mkdir -p '${dir}'`, `cat > '${file.path}' <<'${delimiter}'`, `${body}${delimiter}`, `chmod ${file.permissions} '${file.path}'`);
  }
  lines.push('systemctl daemon-reload', `systemctl enable ${SETUP_UNIT}`, `systemctl start --no-block ${SETUP_UNIT}`);
  return `${lines.join('\n')}\n`;
}

/** Terraform reads `${` and `%{` in a string as template syntax: keep literal ones literal (cdktf tokens stay). */
function terraformLiteral(text: string): string {
  return text.replace(/\$\{(?!TfToken\[)/g, () => '$${').replace(/%\{/g, '%%{');
}

/**
 * Renders the user data: `#cloud-config` + JSON (JSON is YAML) with a single `bootcmd` entry, run once per
 * instance by cloud-init-per. No top-level key that Cloud VPS's vendor-data sets.
 */
export function renderCloudInit(props: CloudInitProps): string {
  for (const dir of [...(props.directories ?? [])]) if (/['\n]/.test(dir)) throw new Error(`directory "${dir}" must not hold quotes or newlines`);
  const script = bootstrapScript(hostSetup(props));
  const config = { bootcmd: [['cloud-init-per', 'instance', 'meet-bootstrap', 'sh', '-c', script]] };
  return terraformLiteral(`#cloud-config\n${JSON.stringify(config, null, 2)}\n`);
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

/**
 * The first `certs issue` (and any later certificate) reaches nginx at once: `certs` renames the new cert.crt into
 * place, which fires this path unit (systemd.path: PathChanged= also triggers on a file moved into place), and the
 * reload script hands it to jitsi-web. Without it web kept its self-signed certificate until the next daily run.
 */
export const WEB_CERT_TRIGGER: PathTrigger = {
  name: 'meet-web-certificate',
  description: 'Wikimedia Meet: hand a new certificate to jitsi-web',
  watch: `${paths.certs}/cert.crt`,
  command: [WEB_CERT_RELOAD.path],
};

export interface HostCloudInitOptions {
  /** NSS group of the deploy accounts (Cloud VPS: `project-<project>`). */
  readonly dockerGroupSource: string;
  /** The state volume's Cinder id; jitsi and meet-auth hosts need one. */
  readonly stateVolumeId?: string;
}

/** The user data of each kind of host. */
export function hostCloudInit(role: HostRole, options: HostCloudInitOptions): string {
  return renderCloudInit(hostCloudInitProps(role, options));
}

/** What each kind of host gets. */
export function hostCloudInitProps(role: HostRole, options: HostCloudInitOptions): CloudInitProps {
  const { dockerGroupSource, stateVolumeId } = options;
  if (role !== 'jvb' && stateVolumeId === undefined) throw new Error(`a ${role} host keeps state and needs a state volume`);
  switch (role) {
    case 'jitsi':
      return ({
        dockerGroupSource,
        stateVolumeId,
        directories: [...jitsiDirectories, ...stateDirectories.jitsi, paths.acmeChallenge],
        timers: [accountWorker, certRenewal(containerNames.agent, [[WEB_CERT_RELOAD.path]])],
        scripts: [WEB_CERT_RELOAD],
        paths: [WEB_CERT_TRIGGER],
      });
    case 'meet-auth':
      return ({
        dockerGroupSource,
        stateVolumeId,
        directories: [...stateDirectories['meet-auth'], paths.acmeChallenge],
        timers: [certRenewal(containerNames.edge)],
      });
    case 'jvb':
      return { dockerGroupSource, directories: [paths.jitsiConfig('jvb')] };
  }
}
