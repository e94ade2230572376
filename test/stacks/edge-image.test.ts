import { describe, expect, it } from 'vitest';
import { edgeImage } from '../../stacks/edge-image.js';
import { built, HASH, synthAgent } from './edge-containers.js';
import { dockerStack, resourcesOf } from './helpers.js';

describe('edge image', () => {
  it('is built from the repository with edge/Dockerfile and tagged by the source hash', () => {
    const [image] = resourcesOf(synthAgent(), 'docker_image');
    expect(image).toMatchObject({
      name: `wikimedia-meet/edge:${HASH.slice(0, 16)}`,
      build: { context: '../../..', dockerfile: 'edge/Dockerfile', label: { 'org.wikimedia.meet.source': HASH } },
    });
  });

  it('or pulled from a registry by digest', () => {
    const { stack, provider } = dockerStack();
    const reference = `ghcr.io/wikimedia/meet-edge@sha256:${'c'.repeat(64)}`;
    expect(edgeImage(stack, 'image', provider, { kind: 'registry', reference }).name).toBe(reference);
    expect(() => edgeImage(stack, 'image2', provider, { kind: 'registry', reference: 'ghcr.io/x:1' })).toThrow(
      'edge image "ghcr.io/x:1" must be pinned by digest',
    );
    expect(() => edgeImage(stack, 'image3', provider, { ...built, sourceHash: 'xyz' })).toThrow(
      'edge image source hash "xyz" is not a hex digest',
    );
  });
});
