import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { imageSourceHash } from '../../../stacks/tooling/source-hash.js';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  root = mkdtempSync(join(tmpdir(), 'meet-hash-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

describe('imageSourceHash', () => {
  it('changes with the content and the name of image inputs, not with other files', async () => {
    const dir = tree({ 'package.json': '{}', 'edge/a.ts': 'a', 'stacks/x.ts': 'x', 'edge/node_modules/m.js': 'm' });
    const first = await imageSourceHash(dir);
    expect(first).toMatch(/^[a-f0-9]{64}$/);
    expect(await imageSourceHash(dir)).toBe(first);
    writeFileSync(join(dir, 'stacks/x.ts'), 'changed');
    writeFileSync(join(dir, 'edge/node_modules/m.js'), 'changed');
    expect(await imageSourceHash(dir)).toBe(first);
    writeFileSync(join(dir, 'edge/a.ts'), 'b');
    const second = await imageSourceHash(dir);
    expect(second).not.toBe(first);
    rmSync(join(dir, 'edge/a.ts'));
    writeFileSync(join(dir, 'edge/b.ts'), 'b');
    expect(await imageSourceHash(dir)).not.toBe(second);
  });
});
