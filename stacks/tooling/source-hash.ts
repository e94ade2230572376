/**
 * Hash of the files that go into the edge/agent image, so the image tag (and through it the containers) change
 * exactly when the code does. Mirrors what edge/Dockerfile copies.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export const IMAGE_INPUTS: readonly string[] = [
  '.dockerignore',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'common',
  'edge',
  'scripts',
];

async function listFiles(root: string, entry: string): Promise<string[]> {
  const full = join(root, entry);
  let children;
  try {
    children = await readdir(full, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return [entry];
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const nested = await Promise.all(
    children
      .filter(
        (child) => (child.name !== 'node_modules' && !child.name.startsWith('.')) || child.name === '.dockerignore',
      )
      .map((child) =>
        child.isDirectory() ? listFiles(root, join(entry, child.name)) : Promise.resolve([join(entry, child.name)]),
      ),
  );
  return nested.flat();
}

export async function imageSourceHash(root: string, inputs: readonly string[] = IMAGE_INPUTS): Promise<string> {
  const files = (await Promise.all(inputs.map((entry) => listFiles(root, entry)))).flat().sort();
  const hash = createHash('sha256');
  for (const file of files) {
    const name = relative(root, join(root, file)).split(sep).join('/');
    hash
      .update(`${name}\0`)
      .update(await readFile(join(root, file)))
      .update('\0');
  }
  return hash.digest('hex');
}
