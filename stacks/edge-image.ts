/**
 * The image built from this repository (edge/Dockerfile) that runs meet-auth and the agent, on the host that runs
 * them, unless a digest-pinned registry image is configured; and the container settings both services share.
 */
import type { TerraformProvider } from 'cdktf';
import type { Construct } from 'constructs';
import { CONTAINER_UID } from './layout.js';
import { PlainImage } from './plain-docker.js';

/** Where the edge/agent image comes from. */
export type EdgeImageSource =
  | {
      readonly kind: 'build';
      /** Build context (the repository root), relative to the stack's directory. */ readonly context: string;
      /** Hash of the files that go into the image. */ readonly sourceHash: string;
    }
  | { readonly kind: 'registry'; /** name[:tag]@sha256:<digest> */ readonly reference: string };

export interface EdgeImageRef {
  readonly name: string;
  readonly id: string;
}

/** The image on one host: built there from the repository (tagged by source hash) or pulled by digest. */
export function edgeImage(
  scope: Construct,
  id: string,
  provider: TerraformProvider,
  source: EdgeImageSource,
): EdgeImageRef {
  if (source.kind === 'registry') {
    if (!/@sha256:[a-f0-9]{64}$/.test(source.reference))
      throw new Error(`edge image "${source.reference}" must be pinned by digest`);
    const image = new PlainImage(scope, id, { provider, name: source.reference, keepLocally: true });
    return { name: source.reference, id: image.imageId };
  }
  if (!/^[a-f0-9]{16,64}$/.test(source.sourceHash))
    throw new Error(`edge image source hash "${source.sourceHash}" is not a hex digest`);
  // The tag changes with the sources, so new code means a new image and, through it, new containers.
  const name = `wikimedia-meet/edge:${source.sourceHash.slice(0, 16)}`;
  const image = new PlainImage(scope, id, {
    provider,
    name,
    buildAttribute: {
      context: source.context,
      dockerfile: 'edge/Dockerfile',
      label: { 'org.wikimedia.meet.source': source.sourceHash },
    },
  });
  return { name, id: image.imageId };
}

/** How every container of the image runs: as the Jitsi images' uid, read-only but for a small /tmp, logs rotated. */
export const EDGE_CONTAINER_RUNTIME = {
  restart: 'unless-stopped',
  readOnly: true,
  user: `${CONTAINER_UID}:${CONTAINER_UID}`,
  tmpfs: { '/tmp': 'size=64M,mode=1777' },
  logDriver: 'json-file',
  logOpts: { 'max-size': '20m', 'max-file': '5' },
} as const;
