import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_COMMAND, HEAP_FLAGS, MEET_AUTH_COMMAND, RUNTIME_ENV } from '../../stacks/heap-flags.js';
import { REPO_ROOT } from '../../stacks/tooling/bindings.js';

const dockerfile = readFileSync(join(REPO_ROOT, 'edge/Dockerfile'), 'utf8');

describe('the production heap flags', () => {
  it("are the flags of the image's default command (edge/Dockerfile cannot import them, so it is held to them here)", () => {
    const cmds = dockerfile.split('\n').filter((line) => /^CMD\b/.test(line));
    expect(cmds).toHaveLength(1);
    expect(JSON.parse(cmds[0]!.slice('CMD'.length))).toEqual([...MEET_AUTH_COMMAND]);
  });

  it('are the flags of the command lines edge/Dockerfile documents for both services', () => {
    const documented = dockerfile.split('\n').filter((line) => line.startsWith('#') && line.includes('--max-'));
    expect(documented.map((line) => line.replace(/^#\s*\w+:\s*/, '').trim())).toEqual([
      MEET_AUTH_COMMAND.join(' '),
      AGENT_COMMAND.join(' '),
    ]);
  });

  it("run the compiled services: each command's script is the build output of an entry point", () => {
    for (const command of [MEET_AUTH_COMMAND, AGENT_COMMAND]) {
      const script = command.at(-1)!;
      expect(command.slice(0, -1)).toEqual([
        'node',
        ...(command === AGENT_COMMAND ? HEAP_FLAGS.agent : HEAP_FLAGS.meetAuth),
      ]);
      expect(existsSync(join(REPO_ROOT, script.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
    }
  });

  it("set the runtime environment in the image's final stage (both services inherit it)", () => {
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const env = new Map<string, string>();
    // ENV lines with backslash continuations, as Docker reads them.
    for (const match of finalStage.replace(/\\\n\s*/g, ' ').matchAll(/^ENV (.+)$/gm))
      for (const pair of match[1]!.trim().split(/\s+/)) env.set(pair.split('=')[0]!, pair.slice(pair.indexOf('=') + 1));
    for (const [name, value] of Object.entries(RUNTIME_ENV)) expect(env.get(name), name).toBe(value);
  });
});
