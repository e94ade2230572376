import { TerraformIterator } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { SettingsTrigger } from '../../stacks/settings-trigger.js';
import { dockerStack, synthJson } from './helpers.js';

describe('SettingsTrigger', () => {
  it('is a provider-less terraform_data holding its input, with the bare address replace_triggered_by needs', () => {
    const { stack } = dockerStack();
    const trigger = new SettingsTrigger(stack, 'settings', { sha256: 'abc' });
    const [name, body] = Object.entries(synthJson(stack).resource?.terraform_data ?? {})[0]!;
    expect(body).toEqual({ input: { sha256: 'abc' } });
    expect(trigger.address()).toBe(`terraform_data.${name}`);
    expect(trigger.address('jvb-1')).toBe(`terraform_data.${name}["jvb-1"]`);
  });

  it('with forEach, one resource holds the inputs of every key', () => {
    const { stack } = dockerStack();
    new SettingsTrigger(stack, 'settings', { sha256: '${each.value}' }, TerraformIterator.fromMap({ a: '1', b: '2' }));
    const body = Object.values(synthJson(stack).resource?.terraform_data ?? {})[0]!;
    expect(body).toMatchObject({ for_each: { a: '1', b: '2' }, input: { sha256: '${each.value}' } });
    expect(body).not.toHaveProperty('provider');
  });
});
