import { describe, expect, it } from 'vitest';
import { containerSettings } from '../../stacks/replaced-container.js';
import { resourcesOf, synthReplacedContainer as synth, triggerInput } from './helpers.js';

describe('ReplacedContainer', () => {
  it('points replace_triggered_by at a terraform_data holding sha256(jsonencode(settings))', () => {
    const json = synth();
    const [container] = resourcesOf(json, 'docker_container');
    expect(container!.lifecycle).toEqual({
      replace_triggered_by: [expect.stringMatching(/^terraform_data\.c_settings_[A-F0-9]+$/)],
    });
    expect(container).toMatchObject({ name: 'app', image: 'sha256:abc', env: ['A=1'] });
    expect(container).not.toHaveProperty('imageName');
    expect(triggerInput(json, 'app')).toMatch(
      /^\$\{sha256\(jsonencode\(\{"image" = "example\.org\/app:1\.2\.3", .*"env" = \["A=1"\]/,
    );
  });

  it('the hash changes with env, mounts, ports, network mode and image, and not with env order', () => {
    const base = triggerInput(synth(), 'app');
    expect(triggerInput(synth({ env: ['A=2'] }), 'app')).not.toBe(base);
    expect(triggerInput(synth({ mounts: [{ type: 'bind', source: '/a', target: '/b' }] }), 'app')).not.toBe(base);
    expect(triggerInput(synth({ ports: [{ internal: 1, external: 1 }] }), 'app')).not.toBe(base);
    expect(triggerInput(synth({ imageName: 'example.org/app:1.2.4' }), 'app')).not.toBe(base);
    expect(triggerInput(synth({ networkMode: 'host' }), 'app')).not.toBe(base);
    expect(triggerInput(synth({ env: ['B=1', 'A=1'] }), 'app')).toBe(
      triggerInput(synth({ env: ['A=1', 'B=1'] }), 'app'),
    );
    expect(triggerInput(synth({ restart: 'always' }), 'app')).toBe(base);
  });

  it('settings default to empty values', () => {
    expect(containerSettings({ name: 'x', image: 'i', imageName: 'n:1' })).toEqual({
      image: 'n:1',
      command: [],
      entrypoint: [],
      user: '',
      env: [],
      mounts: [],
      volumes: [],
      ports: [],
      networks: [],
      networkMode: '',
      tmpfs: {},
      readOnly: false,
      upload: [],
      hostname: '',
    });
  });

  it('validation errors', () => {
    expect(() => synth({ imageName: 'example.org/app:latest' })).toThrow(
      'container "app" uses image "example.org/app:latest" without a pinned tag or digest',
    );
    expect(() => synth({ imageName: 'example.org/app' })).toThrow(
      'container "app" uses image "example.org/app" without a pinned tag or digest',
    );
    expect(() => synth({ name: 'App' })).toThrow(
      'container name "App" must be lower-case letters, digits, ".", "_" or "-"',
    );
  });
});
