import { Container } from '@cdktf/provider-docker/lib/container/index.js';
import { Image } from '@cdktf/provider-docker/lib/image/index.js';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider/index.js';
import { Testing, TerraformStack, Token } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { PlainContainer, PlainDockerProvider, PlainImage } from '../../stacks/plain-docker.js';
import { checkStack } from '../support/schema/schema-check.js';
import { dockerProviderSchema } from '../support/schema/docker-schema.js';
import { dockerStack, synthJson, type TfJson } from './helpers.js';

const strip = (json: TfJson, type: string) =>
  Object.values(json.resource?.[type] ?? {}).map(({ '//': _meta, ...body }) => body);

describe('PlainContainer and PlainImage', () => {
  it('synthesize exactly what the generated classes synthesize for the same config', () => {
    const config = {
      name: 'jitsi-jvb',
      image: 'sha256:abc',
      command: ['a'],
      env: ['A=1'],
      user: '1000:1000',
      restart: 'unless-stopped',
      readOnly: true,
      tmpfs: { '/tmp': 'size=16M' },
      logDriver: 'json-file',
      logOpts: { 'max-size': '20m' },
      hostname: 'h',
      entrypoint: ['e'],
      mounts: [{ type: 'bind', source: '/a', target: '/b', readOnly: true }],
      ports: [{ internal: 1, external: 2, protocol: 'udp', ip: '10.0.0.1' }],
      networksAdvanced: [{ name: 'meet.jitsi', aliases: ['x'] }],
      upload: [{ file: '/f', content: 'c' }],
      volumes: [{ containerPath: '/v', hostPath: '/h' }],
    };
    const plain = dockerStack();
    new PlainContainer(plain.stack, 'c', {
      provider: plain.provider,
      ...config,
      lifecycle: { replaceTriggeredBy: ['terraform_data.t'] },
    });
    new PlainImage(plain.stack, 'i', {
      provider: plain.provider,
      name: 'ghcr.io/jitsi/jvb:stable-11146-2',
      keepLocally: true,
    });
    new PlainImage(plain.stack, 'b', {
      provider: plain.provider,
      name: 'edge:1',
      buildAttribute: { context: '.', dockerfile: 'edge/Dockerfile', label: { a: 'b' } },
    });
    const generated = dockerStack();
    new Container(generated.stack, 'c', {
      provider: generated.provider,
      ...config,
      lifecycle: { replaceTriggeredBy: ['terraform_data.t'] },
    });
    new Image(generated.stack, 'i', {
      provider: generated.provider,
      name: 'ghcr.io/jitsi/jvb:stable-11146-2',
      keepLocally: true,
    });
    new Image(generated.stack, 'b', {
      provider: generated.provider,
      name: 'edge:1',
      buildAttribute: { context: '.', dockerfile: 'edge/Dockerfile', label: { a: 'b' } },
    });
    const [ours, theirs] = [synthJson(plain.stack), synthJson(generated.stack)];
    expect(strip(ours, 'docker_container')).toEqual(strip(theirs, 'docker_container'));
    expect(strip(ours, 'docker_image')).toEqual(strip(theirs, 'docker_image'));
    expect(checkStack({ resource: { ...ours.resource, terraform_data: { t: {} } } }, dockerProviderSchema())).toEqual(
      [],
    );
  });

  it('the image id is a reference to the resource', () => {
    const { stack, provider } = dockerStack();
    const image = new PlainImage(stack, 'i', { provider, name: 'n:1' });
    new PlainContainer(stack, 'c', { provider, name: 'c', image: image.imageId });
    expect(strip(synthJson(stack), 'docker_container')[0]!.image).toBe('${docker_image.i.image_id}');
  });

  it('refuses a config key it does not know instead of dropping it', () => {
    const { stack, provider } = dockerStack();
    expect(() => new PlainContainer(stack, 'c', { provider, name: 'c', image: 'i', privileged: true })).toThrow(
      'container config "privileged" is not supported by the plain container (add it to stacks/plain-docker.ts)',
    );
  });

  it('the image id is a plain reference string, not a token (one fewer token per host)', () => {
    const { stack, provider } = dockerStack();
    const image = new PlainImage(stack, 'i', { provider, name: 'n:1' });
    expect(Token.isUnresolved(image.imageId)).toBe(false);
    expect(image.imageId).toBe('${docker_image.i.image_id}');
  });

  it('hands cdktf no unset keys to resolve: none in blocks, no unset moved/import or metadata stack trace', () => {
    const { stack, provider } = dockerStack();
    const plainContainer = new PlainContainer(stack, 'c', {
      provider,
      name: 'c',
      image: 'i',
      mounts: [{ type: 'bind', source: '/a', target: '/b' }],
    });
    const fragment = plainContainer.toTerraform() as {
      resource: { docker_container: { c: { mounts: object[]; '//': { metadata: object } } } };
    };
    expect(Object.keys(fragment)).toEqual(['resource']);
    const body = fragment.resource.docker_container.c;
    expect(Object.keys(body.mounts[0]!).sort()).toEqual(['source', 'target', 'type']);
    expect(Object.keys(body['//'].metadata).sort()).toEqual(['path', 'uniqueId']);
  });
});

describe('PlainDockerProvider', () => {
  const config = {
    alias: 'jvb-1',
    host: 'ssh://${var.ssh_user}@10.0.0.5',
    sshOpts: ['-o', 'BatchMode=yes'],
    registryAuth: [{ address: 'ghcr.io', username: 'u', password: 'p' }],
  };
  const synthProvider = (make: (stack: TerraformStack) => void) => {
    const stack = new TerraformStack(Testing.app(), 'test');
    make(stack);
    return synthJson(stack);
  };

  it('synthesizes the provider block and version pin the generated DockerProvider synthesizes', () => {
    const ours = synthProvider((stack) => new PlainDockerProvider(stack, 'd', config));
    const theirs = synthProvider((stack) => new DockerProvider(stack, 'd', config));
    expect(ours.provider).toEqual(theirs.provider);
    expect(ours.terraform).toEqual(theirs.terraform);
    expect(checkStack({ provider: ours.provider }, dockerProviderSchema())).toEqual([]);
  });

  it('is referenced by its alias, as the generated class is', () => {
    const json = synthProvider((stack) => {
      const provider = new PlainDockerProvider(stack, 'd', { alias: 'jvb-1', host: 'ssh://a@b' });
      new PlainImage(stack, 'i', { provider, name: 'n:1' });
    });
    expect(strip(json, 'docker_image')[0]!.provider).toBe('docker.jvb-1');
  });

  it('refuses a config key it does not know instead of dropping it', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    expect(() => new PlainDockerProvider(stack, 'd', { host: 'h', sshOpt: ['x'] } as never)).toThrow(
      'provider config "sshOpt" is not supported by the plain provider (add it to stacks/plain-docker.ts)',
    );
  });
});
