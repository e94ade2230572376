/** What every Jitsi container shares: pinned images from the Jitsi registry and the rootless runtime settings. */
import type { Construct } from 'constructs';
import type { DockerProvider } from '@cdktf/provider-docker/lib/provider/index.js';
import { PlainImage } from './plain-docker.js';
import { jitsiTagProblem } from './config.js';

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

export function jitsiImage(scope: Construct, provider: DockerProvider, repository: string, service: JitsiService, tag: string, id = `image-${service}`): JitsiImageRef {
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
