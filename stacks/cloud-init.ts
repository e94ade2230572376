/**
 * cloud-init user data for the hosts. Cloud VPS's vendor-data sets the top-level `write_files`, `runcmd`,
 * `packages` and `package_update` (its puppet apt pin, the login-block file, serial console, pciutils), and
 * cloud-init 22.4 merges user data over vendor-data key by key with the *vendor* part's mergers
 * (cloudinit/helpers.py ConfigMerger._read_cfg → util.mergemanydict): a user-data list under the same key replaces
 * vendor-data's whatever `merge_how` the user data says. So the user data sets none of those keys: one `bootcmd`
 * entry (once per instance) writes our files and starts `meet-setup.service`, which runs after cloud-final (after
 * vendor-data's packages and commands) and installs docker.io, mounts the state volume and lets the deploy group
 * reach Docker.
 *
 * `user_data` is ForceNew on an instance, so it holds only what must exist before the first deploy step can reach
 * the host and never changes in normal life: the state volume's mount (by its stable id) before Docker, docker.io,
 * and the deploy group's access to Docker. The timers, helper scripts and directory list change more often: they
 * are host files (stacks/host-files.ts), installed after the readiness gate without replacing anything.
 * Deterministic: same props, same bytes.
 */
import { STATE_ROOT } from './layout.js';

/** A file written on the host. */
export interface HostFile {
  readonly path: string;
  readonly permissions: '0644' | '0755';
  readonly content: string;
}

export interface CloudInitProps {
  /**
   * Group (from NSS, i.e. LDAP on Cloud VPS) whose members get the Docker daemon: the deploy accounts. On Cloud VPS
   * every project member is in LDAP group `project-<project>` (the entry `cn=project-{project},ou=groups,dc=wikimedia,
   * dc=org` is what operations/puppet's metricsinfra karma.pp checks membership against; that NSS on the instances
   * lists its members is inferred: if it does not, the readiness gate times out naming the host's Docker daemon).
   */
  readonly dockerGroupSource: string;
  /**
   * The Cinder volume that holds the host's state, mounted at STATE_ROOT before Docker starts. Its id (usually a
   * token) names the device by its stable serial. @default none: a stateless host
   */
  readonly stateVolumeId?: string;
}

export type HostRole = 'jitsi' | 'meet-auth' | 'jvb';

export function systemdQuote(arg: string): string {
  // systemd splits ExecStart on whitespace and honours double quotes with C-style escapes.
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** What the user data puts on a host: its files, and what meet-setup runs once they are there. */
export interface HostSetup {
  readonly files: readonly HostFile[];
}

const SETUP_UNIT = 'meet-setup.service';
const SETUP_DONE = '/var/lib/meet/setup-done';
/** Each host syncs its docker group from the deploy group this often (LDAP answers only after the first puppet runs). */
const DOCKER_ACCESS_EVERY = '2min';

/**
 * Finds the state volume by its stable id (virtio serial: the first 20 characters of the Cinder id, udev's
 * /dev/disk/by-id/virtio-<serial>; bookworm's udev 252 60-persistent-storage.rules:58, and 20 bytes is
 * VIRTIO_BLK_ID_BYTES in Linux's include/uapi/linux/virtio_blk.h), waits for Terraform's attachment (it comes after the instance is ACTIVE),
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
    "# Written by cloud-init (Wikimedia Meet). meet-docker-access <group>: the docker group's members become <group>'s.",
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

export function unit(lines: readonly string[]): string {
  return `${lines.join('\n')}\n`;
}

/** The user data's files of one host; checked, deterministic. */
export function hostSetup(props: CloudInitProps): HostSetup {
  if (!/^[a-z_][a-z0-9_.-]{0,63}$/.test(props.dockerGroupSource))
    throw new Error(`docker group source "${props.dockerGroupSource}" is not a valid group name`);
  const group = props.dockerGroupSource;
  const dockerAccess: HostFile[] = [
    {
      path: '/etc/systemd/system/meet-docker-access.service',
      permissions: '0644',
      content: unit([
        '[Unit]',
        `Description=Wikimedia Meet: members of ${group} may use the Docker daemon`,
        '',
        '[Service]',
        'Type=oneshot',
        `ExecStart=${DOCKER_ACCESS_SCRIPT.path} ${group}`,
      ]),
    },
    {
      path: '/etc/systemd/system/meet-docker-access.timer',
      permissions: '0644',
      content: unit([
        '[Unit]',
        `Description=Wikimedia Meet: members of ${group} may use the Docker daemon (schedule)`,
        '',
        '[Timer]',
        `OnCalendar=*:0/${DOCKER_ACCESS_EVERY.replace('min', '')}`,
        'Persistent=true',
        '',
        '[Install]',
        'WantedBy=timers.target',
      ]),
    },
  ];
  const volume = props.stateVolumeId;
  if (volume !== undefined && !/^[A-Za-z0-9${}\[\]._-]+$/.test(volume))
    throw new Error(`state volume id "${volume}" holds characters an id never has`);
  const stateFiles: HostFile[] =
    volume === undefined
      ? []
      : [
          STATE_VOLUME_SCRIPT,
          {
            path: '/etc/systemd/system/meet-state-volume.service',
            permissions: '0644',
            content: unit([
              '[Unit]',
              'Description=Wikimedia Meet state volume: wait for it, make its file system once, mount it',
              'After=local-fs.target systemd-udev-settle.service',
              'Before=docker.service',
              '',
              '[Service]',
              'Type=oneshot',
              'RemainAfterExit=yes',
              'TimeoutStartSec=900',
              // The directories on the volume (host files' tmpfiles lines under STATE_ROOT), once it hides the root disk's.
              // By prefix, not by file: at first boot the host files are not there yet, and nothing is to do.
              `ExecStart=${STATE_VOLUME_SCRIPT.path} ${volume} ${STATE_ROOT}`,
              `ExecStartPost=/usr/bin/systemd-tmpfiles --create --prefix=${STATE_ROOT}`,
              '',
              '[Install]',
              'WantedBy=multi-user.target',
            ]),
          },
          // No container starts before the state is mounted: dockerd itself requires it (restart policies start them).
          {
            path: '/etc/systemd/system/docker.service.d/meet-state-volume.conf',
            permissions: '0644',
            content: unit(['[Unit]', 'Requires=meet-state-volume.service', 'After=meet-state-volume.service']),
          },
        ];
  const enable = [
    ...(volume === undefined ? [] : ['meet-state-volume.service']),
    'docker.service',
    'meet-docker-access.timer',
  ];
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
      `${DOCKER_ACCESS_SCRIPT.path} ${group}`,
      'systemctl daemon-reload',
      `systemctl enable --now ${enable.join(' ')}`,
      `mkdir -p ${SETUP_DONE.slice(0, SETUP_DONE.lastIndexOf('/'))}`,
      `touch ${SETUP_DONE}`,
      '',
    ].join('\n'),
  };
  const setupUnit: HostFile = {
    path: `/etc/systemd/system/${SETUP_UNIT}`,
    permissions: '0644',
    content: unit([
      '[Unit]',
      'Description=Wikimedia Meet host setup (Docker, state volume, Docker access)',
      `ConditionPathExists=!${SETUP_DONE}`,
      'After=cloud-final.service network-online.target',
      'Wants=network-online.target',
      '',
      '[Service]',
      'Type=oneshot',
      'RemainAfterExit=yes',
      'TimeoutStartSec=1800',
      `ExecStart=${setupScript.path}`,
      '',
      '[Install]',
      'WantedBy=multi-user.target',
    ]),
  };
  return { files: [DOCKER_ACCESS_SCRIPT, setupScript, ...stateFiles, ...dockerAccess, setupUnit] };
}

/** A delimiter for a quoted here-document that no line of `content` equals. */
export function delimiterFor(content: string): string {
  const lines = new Set(content.split('\n'));
  let delimiter = 'MEET_EOF';
  for (let n = 1; lines.has(delimiter); n += 1) delimiter = `MEET_EOF_${n}`;
  return delimiter;
}

/** The shell program that writes the files (quoted here-documents: nothing in them is expanded) and starts setup. */
function bootstrapScript(setup: HostSetup): string {
  const lines = ['set -eu', 'umask 022'];
  for (const file of setup.files) {
    const dir = file.path.slice(0, file.path.lastIndexOf('/')) || '/';
    const body = file.content.endsWith('\n') ? file.content : `${file.content}\n`;
    const delimiter = delimiterFor(body);
    lines.push(
      `mkdir -p '${dir}'`,
      `cat > '${file.path}' <<'${delimiter}'`,
      `${body}${delimiter}`,
      `chmod ${file.permissions} '${file.path}'`,
    );
  }
  lines.push('systemctl daemon-reload', `systemctl enable ${SETUP_UNIT}`, `systemctl start --no-block ${SETUP_UNIT}`);
  return `${lines.join('\n')}\n`;
}

/** Terraform reads `${` and `%{` in a string as template syntax: keep literal ones literal (cdktf tokens stay). */
export function terraformLiteral(text: string): string {
  return text.replace(/\$\{(?!TfToken\[)/g, () => '$${').replace(/%\{/g, '%%{');
}

/**
 * Renders the user data: `#cloud-config` + JSON (JSON is YAML) with a single `bootcmd` entry, run once per
 * instance by cloud-init-per. No top-level key that Cloud VPS's vendor-data sets.
 */
export function renderCloudInit(props: CloudInitProps): string {
  const script = bootstrapScript(hostSetup(props));
  const config = { bootcmd: [['cloud-init-per', 'instance', 'meet-bootstrap', 'sh', '-c', script]] };
  return terraformLiteral(`#cloud-config\n${JSON.stringify(config, null, 2)}\n`);
}

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

/** What each kind of host gets in its user data. */
export function hostCloudInitProps(role: HostRole, options: HostCloudInitOptions): CloudInitProps {
  const { dockerGroupSource, stateVolumeId } = options;
  if (role !== 'jvb' && stateVolumeId === undefined)
    throw new Error(`a ${role} host keeps state and needs a state volume`);
  return role === 'jvb' ? { dockerGroupSource } : { dockerGroupSource, stateVolumeId };
}
