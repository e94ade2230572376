/** What every Jitsi container shares: pinned images from the Jitsi registry and the rootless runtime settings. */
import { type TerraformProvider, Token } from 'cdktf';
import type { Construct } from 'constructs';
import { PlainImage } from './plain-docker.js';
import { jitsiTagProblem } from './config.js';
import { servicePasswordProblem } from './service-passwords.js';

export type JitsiService = 'web' | 'prosody' | 'jicofo' | 'jvb';

export interface JitsiImageRef {
  /** e.g. ghcr.io/jitsi/web:stable-11146-2 */
  readonly name: string;
  /** The pulled image's id, for the container's `image`. */
  readonly id: string;
}

/** Refuses floating and pre-rootless tags with a message naming the tag. */
export function checkJitsiTag(tag: string): string {
  const problem = jitsiTagProblem(tag);
  if (problem) throw new Error(problem);
  return tag;
}

export function jitsiImage(
  scope: Construct,
  provider: TerraformProvider,
  repository: string,
  service: JitsiService,
  tag: string,
  id = `image-${service}`,
): JitsiImageRef {
  const name = `${repository}/${service}:${checkJitsiTag(tag)}`;
  // keep_locally: a replaced container may still use the old image while the new one is created.
  const image = new PlainImage(scope, id, { provider, name, keepLocally: true });
  return { name, id: image.imageId };
}

/** As in docker-jitsi-meet's compose file: read-only root, small tmpfs for /run and /tmp, bounded logs. */
export const rootlessRuntime = {
  restart: 'unless-stopped',
  readOnly: true,
  tmpfs: { '/run': 'size=16M,mode=1750,exec', '/tmp': 'size=16M,mode=1777,noexec' },
  logDriver: 'json-file',
  logOpts: { 'max-size': '20m', 'max-file': '5' },
} as const;

export function bind(source: string, target: string, readOnly = false) {
  return { type: 'bind', source, target, readOnly };
}

/**
 * Paths the Jitsi images at stable-11146-2 make symlinks (every `ln -s` in their Dockerfiles; the test checks this
 * list against the symlinks recorded, with their Dockerfile lines, in test/fixtures/jitsi-images-facts.ts).
 * A bind mount through one is resolved by runc inside the rootfs: with web's `.well-known -> /run/web/.well-known`
 * (web/Dockerfile:27@stable-11146-2) it creates /run/web as root on the /run tmpfs before the uid-1000 config step
 * runs, which then cannot create its directories, and nginx never starts (reproduced with Docker; a control without
 * the mount starts).
 */
export const IMAGE_SYMLINKS: Readonly<Record<JitsiService, readonly string[]>> = {
  web: [
    '/usr/share/jitsi-meet/.well-known', // web/Dockerfile:27@stable-11146-2 -> /run/web/.well-known
    '/var/lib/nginx', // web/Dockerfile:30@stable-11146-2 -> /run/web/tmp
  ],
  prosody: [],
  jicofo: [],
  jvb: [],
};

/** Symlinks of Debian itself in every image (base-files: /var/run -> /run, /var/lock -> /run/lock; merged /usr). */
export const DEBIAN_SYMLINKS: readonly string[] = ['/var/run', '/var/lock', '/bin', '/sbin', '/lib', '/lib64'];

/** Under /run (the tmpfs the images render their config into), or through a symlink of an image or of Debian. */
const FORBIDDEN_MOUNT_ROOTS: readonly string[] = ['/run', ...DEBIAN_SYMLINKS, ...Object.values(IMAGE_SYMLINKS).flat()];

/** Why a bind mount at `target` would break the container, or undefined when it is safe. */
export function mountTargetProblem(target: string): string | undefined {
  const normalized = target.replace(/\/+$/, '') || '/';
  if (!normalized.startsWith('/') || normalized.split('/').some((part) => part === '..' || part === '.'))
    return `mount target "${target}" must be an absolute path without "." or ".."`;
  const root = FORBIDDEN_MOUNT_ROOTS.find((path) => normalized === path || normalized.startsWith(`${path}/`));
  if (root === undefined) return undefined;
  return root === '/run'
    ? `mount target "${target}" is under /run, the tmpfs the images render their configuration into`
    : `mount target "${target}" goes through "${root}", a symlink in the image (its target would be created as root)`;
}

/**
 * A published port on every address of the host, IPv4 and IPv6 alike. An explicit "0.0.0.0" binds IPv4 only and
 * "::" IPv6 only; with an IPv4-only container network, Docker's userland proxy carries the IPv6 side (moby
 * libnetwork/drivers/bridge/port_mapping.go, validatePortBindingIPv4/IPv6).
 */
export function publishedEverywhere(
  internal: number,
  external: number,
  protocol?: 'udp',
): Array<{ internal: number; external: number; ip: string; protocol?: string }> {
  return ['0.0.0.0', '::'].map((ip) => ({ internal, external, ip, ...(protocol ? { protocol } : {}) }));
}

/**
 * JVB_ADVERTISE_IPS is a comma list, one ice4j static mapping per entry (jvb/rootfs/defaults/jvb.conf:13-14,
 * 134-153@stable-11146-2): the floating IPv4 and, when there is one, the host's global IPv6. Each maps the
 * container's IPv4 host candidate (ice4j's MappingCandidateHarvester matches the face address, not its family),
 * and Docker's userland proxy carries [IPv6]:10000/udp to it (publishedEverywhere).
 */
export function advertiseIps(ipv4: string, ipv6?: string): string {
  return ipv6 === undefined ? ipv4 : `${ipv4},${ipv6}`;
}

/**
 * A literal password (tests, or a value written into an environment) must survive the images' shell command and
 * HOCON strings; a Terraform variable is checked by its own validation (stacks/secrets.ts).
 */
export function checkServicePassword(name: string, value: string): void {
  if (Token.isUnresolved(value)) return;
  const problem = servicePasswordProblem(name, value, 1);
  if (problem) throw new Error(problem);
}
