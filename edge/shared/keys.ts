/**
 * Keys of the local stack (`npm start`): the agent's signing secret and sealing key pair, generated on first
 * start under `$MEET_DATA_DIR/keys/` (directory 0700, files 0600, created exclusively so two starts cannot
 * race) and read back on later starts. Production keys come from the deployment's secrets instead.
 */
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSealingKeyPair, sealingPublicKeyOf } from './sealing.js';
import { decodeSigningSecret, generateSigningSecret } from './signing.js';

export interface LocalKeys {
  readonly signingSecret: string;
  readonly sealingPrivateKey: string;
  readonly sealingPublicKey: string;
  /** True when this call generated them. */
  readonly created: boolean;
}

const SIGNING_FILE = 'agent-signing-secret';
const SEALING_FILE = 'agent-sealing-private-key';

async function readOrCreate(path: string, generate: () => string): Promise<{ value: string; created: boolean }> {
  try {
    await writeFile(path, `${generate()}\n`, { mode: 0o600, flag: 'wx' });
    return { value: (await readFile(path, 'utf8')).trim(), created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // Tighten a file someone loosened, rather than run with a readable secret.
  if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
  return { value: (await readFile(path, 'utf8')).trim(), created: false };
}

export async function ensureLocalKeys(dataDir: string): Promise<LocalKeys> {
  const dir = join(dataDir, 'keys');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (((await stat(dir)).mode & 0o077) !== 0) await chmod(dir, 0o700);
  const signing = await readOrCreate(join(dir, SIGNING_FILE), generateSigningSecret);
  const sealing = await readOrCreate(join(dir, SEALING_FILE), () => generateSealingKeyPair().privateKey);
  try {
    decodeSigningSecret(signing.value);
  } catch {
    throw new Error(`${join(dir, SIGNING_FILE)} does not hold a valid signing secret; delete it to generate a new one`);
  }
  let sealingPublicKey: string;
  try {
    sealingPublicKey = sealingPublicKeyOf(sealing.value);
  } catch {
    throw new Error(`${join(dir, SEALING_FILE)} does not hold a valid sealing key; delete it to generate a new one`);
  }
  return {
    signingSecret: signing.value,
    sealingPrivateKey: sealing.value,
    sealingPublicKey,
    created: signing.created || sealing.created,
  };
}
