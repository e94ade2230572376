/**
 * Agent keys the running local stack picks up without a restart: the agent's and meet-auth's views of the key
 * files under `$MEET_DATA_DIR/keys/` (scripts/lib/local-keys.ts). The services read these arrays and the getter on every
 * use, so replacing their contents in place is a reload. Each reload updates the agent's side before meet-auth's
 * (one synchronous step, so no request sees meet-auth ahead of the agent) and then writes `keys/loaded.json`:
 * fingerprints of what is in force, never a key, which `npm run rotate` waits for before its next step.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentConfig as AuthAgentConfig } from '../../edge/auth/config.js';
import { keysDir, parseLocalKeys, SEALING_FILE, SIGNING_FILE, type LocalKeys } from './local-keys.js';
import { sealingKeyId, sealingPublicKeyOf } from '../../edge/shared/sealing.js';
import { decodeSigningSecret } from '../../edge/shared/signing.js';
import { replaceFiles } from './certs/files.js';

const LOADED_FILE = 'loaded.json';

/** Not secret: the first 8 bytes of SHA-256 of a signing secret's bytes, hex. */
export function signingFingerprint(secret: string): string {
  return createHash('sha256').update(decodeSigningSecret(secret)).digest('hex').slice(0, 16);
}

/** Not secret: the sealing key id (edge/shared/sealing.ts) of a private key's public half, hex. */
export function sealingFingerprint(privateKey: string): string {
  return sealingKeyId(sealingPublicKeyOf(privateKey)).toString('hex');
}

export interface KeyFingerprints {
  readonly signing: readonly string[];
  readonly sealing: readonly string[];
}

export function fingerprintsOf(keys: LocalKeys): KeyFingerprints {
  return {
    signing: keys.signingSecret.split(' ').map(signingFingerprint),
    sealing: keys.sealingPrivateKey.split(' ').map(sealingFingerprint),
  };
}

export interface LiveKeys {
  readonly signingKeys: Buffer[];
  readonly sealingKeys: string[];
  sealingPublicKey: string;
  /** meet-auth's view of one agent: the same live arrays, the current seal target. */
  authAgent(name: string, url: string): AuthAgentConfig;
  /** Re-reads the key files; applies them when they changed and are valid. Returns true when applied. */
  reload(): Promise<boolean>;
  /** Polls the files every `intervalMs` until stop(). */
  watch(intervalMs?: number): { stop(): Promise<void> };
}

export function liveKeys(
  dataDir: string,
  initial: LocalKeys,
  onError: (message: string) => void = () => undefined,
): LiveKeys {
  const dir = keysDir(dataDir);
  let current = `${initial.signingSecret}\n${initial.sealingPrivateKey}`;
  const live: LiveKeys = {
    signingKeys: initial.signingSecret.split(' ').map(decodeSigningSecret),
    sealingKeys: initial.sealingPrivateKey.split(' '),
    sealingPublicKey: initial.sealingPublicKey,
    authAgent(name, url) {
      return {
        name,
        url,
        signingKeys: live.signingKeys,
        get sealingPublicKey() {
          return live.sealingPublicKey;
        },
      };
    },
    async reload() {
      let keys: LocalKeys;
      try {
        const [signing, sealing] = await Promise.all([
          readFile(join(dir, SIGNING_FILE), 'utf8'),
          readFile(join(dir, SEALING_FILE), 'utf8'),
        ]);
        keys = parseLocalKeys(dir, signing, sealing);
      } catch (error) {
        onError(`keeping the keys in force: ${(error as Error).message}`);
        return false;
      }
      const next = `${keys.signingSecret}\n${keys.sealingPrivateKey}`;
      if (next === current) return false;
      // The agent's side first: it accepts and opens with every listed key; then what meet-auth signs and seals with.
      live.sealingKeys.splice(0, live.sealingKeys.length, ...keys.sealingPrivateKey.split(' '));
      live.signingKeys.splice(0, live.signingKeys.length, ...keys.signingSecret.split(' ').map(decodeSigningSecret));
      live.sealingPublicKey = keys.sealingPublicKey;
      current = next;
      await writeLoaded(dataDir, fingerprintsOf(keys));
      return true;
    },
    watch(intervalMs = 200) {
      let running: Promise<unknown> = Promise.resolve();
      const timer = setInterval(() => {
        // A failed reload must not end the chain: the next tick tries again.
        running = running
          .then(() => live.reload())
          .catch((error: unknown) => onError(`reloading the keys failed: ${(error as Error).message}`));
      }, intervalMs);
      timer.unref();
      return {
        async stop() {
          clearInterval(timer);
          await running;
        },
      };
    },
  };
  return live;
}

export async function writeLoaded(dataDir: string, fingerprints: KeyFingerprints): Promise<void> {
  await replaceFiles(keysDir(dataDir), [
    { name: LOADED_FILE, data: `${JSON.stringify({ pid: process.pid, ...fingerprints })}\n`, mode: 0o600 },
  ]);
}

export function readLoaded(dataDir: string): (KeyFingerprints & { pid: number }) | null {
  try {
    return JSON.parse(readFileSync(join(keysDir(dataDir), LOADED_FILE), 'utf8')) as KeyFingerprints & { pid: number };
  } catch {
    return null;
  }
}

export const removeLoaded = (dataDir: string) => rm(join(keysDir(dataDir), LOADED_FILE), { force: true });
