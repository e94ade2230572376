import { TerraformOutput, TerraformStack, TerraformVariable, Testing, Token } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { renderedNow } from '../../stacks/hcl.js';
import { synthJson } from './helpers.js';

describe('renderedNow', () => {
  it('renders a string with tokens as synth renders it, to a plain string', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const user = new TerraformVariable(stack, 'ssh_user', { type: 'string' }).stringValue;
    const value = `ssh://${user}@10.0.0.1`;
    const rendered = renderedNow(stack, value);
    new TerraformOutput(stack, 'token', { value });
    expect(rendered).toBe('ssh://${var.ssh_user}@10.0.0.1');
    expect(Token.isUnresolved(rendered)).toBe(false);
    expect(synthJson(stack).output!.token!.value).toBe(rendered);
  });

  it('returns a string without tokens unchanged', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    expect(renderedNow(stack, 'plain ${var.x}')).toBe('plain ${var.x}');
  });
});
