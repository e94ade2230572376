/**
 * Changing one `TF_VAR_<name>='value'` line of the operator's secrets file (scripts/lib/secrets-file.ts): the new
 * file is written beside it with mode 0600, fsynced and renamed over it, so a crash leaves the old or the new file,
 * never half of one; the previous version is kept as `<file>.prev` (0600).
 */
import { copyFile, chmod, readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { replaceFiles } from '../certs/files.js';

const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

export function readSecretVariable(text: string, name: string): string | null {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`TF_VAR_${name}=`));
  if (line === undefined) return null;
  const raw = line.slice(`TF_VAR_${name}=`.length);
  return raw.startsWith("'") && raw.endsWith("'") ? raw.slice(1, -1).replaceAll(`'\\''`, "'") : raw;
}

export async function readSecretsFile(path: string, name: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`cannot read the secrets file ${path} (${error.code ?? error.message})`);
  });
  const value = readSecretVariable(text, name);
  if (value === null) throw new Error(`the secrets file ${path} has no TF_VAR_${name} line`);
  return value;
}

export async function replaceSecretVariable(path: string, name: string, value: string): Promise<void> {
  const text = await readFile(path, 'utf8');
  const lines = text.split('\n');
  const index = lines.findIndex((line) => line.startsWith(`TF_VAR_${name}=`));
  if (index < 0) throw new Error(`the secrets file ${path} has no TF_VAR_${name} line`);
  lines[index] = `TF_VAR_${name}=${shellQuote(value)}`;
  await copyFile(path, `${path}.prev`);
  await chmod(`${path}.prev`, 0o600);
  await replaceFiles(dirname(path), [{ name: basename(path), data: lines.join('\n'), mode: 0o600 }]);
}
