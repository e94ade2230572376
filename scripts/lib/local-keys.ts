/**
 * Keys of the local stack (`npm start`): the agent's signing secrets and sealing private keys, generated on first
 * start under `$MEET_DATA_DIR/keys/` (directory 0700, files 0600, created exclusively so two starts cannot
 * race) and read back on later starts. Production keys come from the deployment's secrets instead.
 *
 * During a rotation (`npm run rotate`) a file holds several keys, one per line: the agent accepts every signing
 * secret and opens seals made for any sealing key; meet-auth signs with every secret and seals to the FIRST
 * sealing key, so a new key is appended first (agent accepts it), then moved to the front, then the old one goes.
 */
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSealingKeyPair, sealingPublicKeyOf } from '../../edge/shared/sealing.js';
import { decodeSigningSecret, generateSigningSecret } from '../../edge/shared/signing.js';

export interface LocalKeys {
  /** Every signing secret, space separated (MEET_AGENT_SIGNING_SECRETS' format). */
  readonly signingSecret: string;
  /** Every sealing private key, space separated, the one meet-auth seals to first (MEET_AGENT_SEALING_KEYS). */
  readonly sealingPrivateKey: string;
  /** Public half of the first sealing key. */
  readonly sealingPublicKey: string;
  /** True when this call generated them. */
  readonly created: boolean;
}

export const SIGNING_FILE = 'agent-signing-secret';
export const SEALING_FILE = 'agent-sealing-private-key';

export const keysDir = (dataDir: string) => join(dataDir, 'keys');

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

const items = (value: string) => value.split(/\s+/).filter(Boolean);

/** Checks the two files' contents and derives the public key; messages name the file, never a value. */
export function parseLocalKeys(dir: string, signing: string, sealing: string, created = false): LocalKeys {
  const signingSecrets = items(signing);
  const sealingKeys = items(sealing);
  try {
    if (signingSecrets.length === 0) throw new Error('empty');
    signingSecrets.forEach(decodeSigningSecret);
  } catch {
    throw new Error(`${join(dir, SIGNING_FILE)} does not hold a valid signing secret; delete it to generate a new one`);
  }
  let sealingPublicKey: string;
  try {
    if (sealingKeys.length === 0) throw new Error('empty');
    sealingKeys.forEach(sealingPublicKeyOf);
    sealingPublicKey = sealingPublicKeyOf(sealingKeys[0]!);
  } catch {
    throw new Error(`${join(dir, SEALING_FILE)} does not hold a valid sealing key; delete it to generate a new one`);
  }
  return {
    signingSecret: signingSecrets.join(' '),
    sealingPrivateKey: sealingKeys.join(' '),
    sealingPublicKey,
    created,
  };
}

/** Reads the keys without creating or changing anything (rotation dry runs, backups). */
export async function readLocalKeys(dataDir: string): Promise<LocalKeys> {
  const dir = keysDir(dataDir);
  return parseLocalKeys(
    dir,
    await readFile(join(dir, SIGNING_FILE), 'utf8'),
    await readFile(join(dir, SEALING_FILE), 'utf8'),
  );
}

export async function ensureLocalKeys(dataDir: string): Promise<LocalKeys> {
  const dir = keysDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (((await stat(dir)).mode & 0o077) !== 0) await chmod(dir, 0o700);
  const signing = await readOrCreate(join(dir, SIGNING_FILE), generateSigningSecret);
  const sealing = await readOrCreate(join(dir, SEALING_FILE), () => generateSealingKeyPair().privateKey);
  return parseLocalKeys(dir, signing.value, sealing.value, signing.created || sealing.created);
}
