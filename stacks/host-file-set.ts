/**
 * The checked, deterministic set of files a host gets at deploy time (systemd timers and path units with their
 * services, helper scripts, the tmpfiles directory list) and its rendering for scripts/host-files-remote.sh.
 * What each kind of host gets is stacks/host-files.ts.
 */
import { delimiterFor, type HostFile, systemdQuote, unit } from './cloud-init.js';
import { CONTAINER_UID } from './layout.js';

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
  /** Run only while this container runs; otherwise the run is skipped, not failed (ExecCondition). @default always */
  readonly whenRunning?: string;
}

/** A systemd path unit: runs `command` whenever `watch` changes (closed after writing, or renamed into place). */
export interface PathTrigger {
  /** Unit name without suffix. */
  readonly name: string;
  readonly description: string;
  /** File to watch (PathChanged=). */
  readonly watch: string;
  readonly command: readonly string[];
  /** As Timer.whenRunning. @default always */
  readonly whenRunning?: string;
}

/** A root-owned executable file (mode 0755), e.g. a helper a timer runs. */
export interface Script {
  readonly path: string;
  readonly content: string;
}

export interface HostFilesProps {
  /** Directories to create owned by uid/gid 1000, mode 0750 (now, and at every boot by systemd-tmpfiles). @default none */
  readonly directories?: readonly string[];
  /** Timers to install and enable. @default none */
  readonly timers?: readonly Timer[];
  /** Helper scripts to write. @default none */
  readonly scripts?: readonly Script[];
  /** Path units to install and enable. @default none */
  readonly paths?: readonly PathTrigger[];
}

/** The files of one host and the units to enable (and start) once they are in place. */
export interface HostFileSet {
  readonly files: readonly HostFile[];
  readonly units: readonly string[];
  /** The tmpfiles.d file to apply after installing. */
  readonly tmpfiles: string;
}

const UNIT_NAME = /^[a-z][a-z0-9-]*$/;
const TMPFILES = '/etc/tmpfiles.d/meet.conf';

/**
 * Exit 0 when the container runs, 1 otherwise. As an ExecCondition, 1 skips the run without failing the unit: a
 * timer may fire before the services stack has created its container (a new host) or while a deploy replaces it.
 */
export const CONTAINER_RUNNING_SCRIPT: Script = {
  path: '/usr/local/sbin/meet-container-running',
  content: [
    '#!/bin/sh',
    '# Installed by scripts/install-host-files.sh (Wikimedia Meet). meet-container-running <name>: 0 if it runs, else 1.',
    'state=$(/usr/bin/docker container inspect --format "{{.State.Running}}" "$1" 2>/dev/null) || exit 1',
    '[ "$state" = true ] || exit 1',
    '',
  ].join('\n'),
};

const condition = (container: string | undefined) =>
  container === undefined ? [] : [`ExecCondition=${CONTAINER_RUNNING_SCRIPT.path} ${container}`];

/** The oneshot service a timer or a path unit starts, after docker; `service` are its [Service] lines. */
function oneshotService(name: string, description: string, service: readonly string[]): HostFile {
  return {
    path: `/etc/systemd/system/${name}.service`,
    permissions: '0644',
    content: unit([
      '[Unit]',
      `Description=${description}`,
      'After=docker.service',
      'Requires=docker.service',
      '',
      '[Service]',
      'Type=oneshot',
      ...service,
    ]),
  };
}

/** The .timer or .path unit that starts `name`.service, enabled under timers.target or paths.target. */
function startingUnit(
  name: string,
  kind: 'timer' | 'path',
  description: string,
  settings: readonly string[],
): HostFile {
  return {
    path: `/etc/systemd/system/${name}.${kind}`,
    permissions: '0644',
    content: unit([
      '[Unit]',
      `Description=${description}`,
      '',
      kind === 'timer' ? '[Timer]' : '[Path]',
      ...settings,
      '',
      '[Install]',
      `WantedBy=${kind}s.target`,
    ]),
  };
}

function timerFiles(timer: Timer): HostFile[] {
  if (!UNIT_NAME.test(timer.name)) throw new Error(`timer name "${timer.name}" must match ${UNIT_NAME}`);
  const commands = [timer.command, ...(timer.after ?? [])];
  if (commands.some((command) => command.length === 0)) throw new Error(`timer "${timer.name}" has an empty command`);
  if (timer.timeoutSec !== undefined && !(Number.isInteger(timer.timeoutSec) && timer.timeoutSec > 0)) {
    throw new Error(`timer "${timer.name}": timeoutSec ${timer.timeoutSec} must be a whole number of seconds above 0`);
  }
  const exec = (command: readonly string[]) => command.map(systemdQuote).join(' ');
  return [
    oneshotService(timer.name, timer.description, [
      ...(timer.timeoutSec ? [`TimeoutStartSec=${timer.timeoutSec}`] : []),
      ...condition(timer.whenRunning),
      `ExecStart=${exec(timer.command)}`,
      ...(timer.after ?? []).map((command) => `ExecStartPost=${exec(command)}`),
    ]),
    startingUnit(timer.name, 'timer', `${timer.description} (schedule)`, [
      `OnCalendar=${timer.onCalendar}`,
      'Persistent=true',
      ...(timer.randomizedDelaySec ? [`RandomizedDelaySec=${timer.randomizedDelaySec}`] : []),
    ]),
  ];
}

function pathFiles(trigger: PathTrigger): HostFile[] {
  if (!UNIT_NAME.test(trigger.name)) throw new Error(`path unit name "${trigger.name}" must match ${UNIT_NAME}`);
  if (trigger.command.length === 0) throw new Error(`path unit "${trigger.name}" has an empty command`);
  return [
    oneshotService(trigger.name, trigger.description, [
      ...condition(trigger.whenRunning),
      `ExecStart=${trigger.command.map(systemdQuote).join(' ')}`,
    ]),
    startingUnit(trigger.name, 'path', `${trigger.description} (trigger)`, [`PathChanged=${trigger.watch}`]),
  ];
}

/** The files of one host; checked, deterministic. */
export function hostFileSet(props: HostFilesProps): HostFileSet {
  const directories = [...new Set(props.directories ?? [])].sort();
  for (const dir of directories) {
    if (!dir.startsWith('/') || dir.includes('..') || /[\s'"\\]/.test(dir))
      throw new Error(`directory "${dir}" must be an absolute path without "..", spaces or quotes`);
  }
  const timers = props.timers ?? [];
  const triggers = props.paths ?? [];
  const needsCondition =
    [...timers, ...triggers].some((item) => item.whenRunning !== undefined) ||
    (props.scripts ?? []).some((script) => script.content.includes(CONTAINER_RUNNING_SCRIPT.path));
  const scripts = [...(props.scripts ?? []), ...(needsCondition ? [CONTAINER_RUNNING_SCRIPT] : [])].map(
    (script): HostFile => {
      if (!/^\/[A-Za-z0-9_./-]+$/.test(script.path) || script.path.includes('..'))
        throw new Error(`script "${script.path}" must be an absolute path without ".." or unusual characters`);
      return { path: script.path, permissions: '0755', content: script.content };
    },
  );
  const tmpfiles: HostFile = {
    path: TMPFILES,
    permissions: '0644',
    content: unit([
      '# Installed by scripts/install-host-files.sh (Wikimedia Meet): directories the containers mount, owned by their uid.',
      ...directories.map((dir) => `d ${dir} 0750 ${CONTAINER_UID} ${CONTAINER_UID} -`),
    ]),
  };
  const files = [...scripts, tmpfiles, ...timers.flatMap(timerFiles), ...triggers.flatMap(pathFiles)];
  const duplicate = files.find((file, index) => files.findIndex((other) => other.path === file.path) !== index);
  if (duplicate) throw new Error(`host file "${duplicate.path}" is given twice`);
  return {
    files,
    units: [...timers.map((timer) => `${timer.name}.timer`), ...triggers.map((trigger) => `${trigger.name}.path`)],
    tmpfiles: TMPFILES,
  };
}

/**
 * The declarations scripts/host-files-remote.sh reads (after its own functions): one quoted here-document per file
 * (nothing in it is expanded), the units, then the tmpfiles file. Shell words are single-quoted names we checked.
 */
export function renderHostFiles(set: HostFileSet): string {
  const lines: string[] = [];
  for (const file of set.files) {
    const body = file.content.endsWith('\n') ? file.content : `${file.content}\n`;
    const delimiter = delimiterFor(body);
    lines.push(`meet_file '${file.path}' ${file.permissions} <<'${delimiter}'`, `${body}${delimiter}`);
  }
  lines.push(`meet_units${set.units.map((name) => ` '${name}'`).join('')}`, `meet_tmpfiles '${set.tmpfiles}'`);
  return `${lines.join('\n')}\n`;
}
