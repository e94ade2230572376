/**
 * Sealing a password to one agent: X25519 (ephemeral-static) + HKDF-SHA256 + AES-256-GCM, node:crypto only.
 * Only the holder of the agent's private key can open a seal, so the outbox row that carries it is useless
 * to anyone who reads meet-auth's database. The associated data binds a seal to its job and username:
 * a seal copied onto another job or name does not open.
 *
 * Seal layout (base64url): version(1) | keyId(8) | ephemeral public key(32) | iv(12) | tag(16) | ciphertext
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

const VERSION = 1;
const KEY_ID_BYTES = 8;
const INFO = Buffer.from('meet-auth seal v1');
/**
 * X25519 key objects from their raw bytes (base64url), imported as JWK, the cheapest import
 * (docs/decisions/sealing-keys.md). A private key needs no `x`: its public half comes from publicHalf.
 */
const x25519Public = (x: string) => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
const x25519Private = (d: string) => createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x: '' }, format: 'jwk' });

/** The X25519 base point (u = 9): X25519(k, base point) is the public key of k. */
const BASE_POINT = x25519Public(Buffer.from([9, ...new Array<number>(31).fill(0)]).toString('base64url'));

/**
 * The raw public half of a private key, as one Diffie-Hellman with the base point: no key generation job and no
 * key export, the pair that deadlocked meet-auth on Node 20 (docs/decisions/sealing-keys.md).
 */
const publicHalf = (privateKey: KeyObject) => diffieHellman({ privateKey, publicKey: BASE_POINT });

export interface SealingKeyPair {
  /** X25519 public key, base64url of the raw 32 bytes. */
  readonly publicKey: string;
  /** X25519 private key, base64url of the raw 32 bytes. Secret. */
  readonly privateKey: string;
}

export function generateSealingKeyPair(): SealingKeyPair {
  // Any 32 random bytes are an X25519 private key (clamped when used); no key generation job (see seal).
  const privateKey = randomBytes(32).toString('base64url');
  return { publicKey: sealingPublicKeyOf(privateKey), privateKey };
}

function rawBytes(value: string, what: string): Buffer {
  const bytes = Buffer.from(value, 'base64url');
  if (bytes.length !== 32 || bytes.toString('base64url') !== value.replace(/=+$/, '')) {
    throw new Error(`${what} must be 32 bytes in base64url`);
  }
  return bytes;
}

interface Recipient {
  readonly key: KeyObject;
  readonly raw: Buffer;
  readonly keyId: Buffer;
}

interface OwnKey {
  readonly key: KeyObject;
  /** Raw bytes of the matching public key. */
  readonly publicRaw: Buffer;
  readonly keyId: Buffer;
}

/**
 * Key objects, raw bytes and key ids per key string, built once (they cost more than the Diffie-Hellman). Keyed by
 * the exact key string, so two keys never share an entry; bounded, as only a handful of keys are ever live.
 */
const MAX_CACHED_KEYS = 64;
const recipients = new Map<string, Recipient>();
const ownKeys = new Map<string, OwnKey>();

function remember<T>(cache: Map<string, T>, key: string, value: T): T {
  if (cache.size >= MAX_CACHED_KEYS) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
  return value;
}

function recipientOf(publicKey: string): Recipient {
  const cached = recipients.get(publicKey);
  if (cached) return cached;
  const raw = rawBytes(publicKey, 'sealing public key');
  return remember(recipients, publicKey, { key: x25519Public(publicKey), raw, keyId: keyIdOf(raw) });
}

function ownKeyOf(privateKey: string): OwnKey {
  const cached = ownKeys.get(privateKey);
  if (cached) return cached;
  const key = x25519Private(rawBytes(privateKey, 'sealing private key').toString('base64url'));
  const publicRaw = publicHalf(key);
  return remember(ownKeys, privateKey, { key, publicRaw, keyId: keyIdOf(publicRaw) });
}

const keyIdOf = (publicRaw: Buffer) => createHash('sha256').update(publicRaw).digest().subarray(0, KEY_ID_BYTES);

/** Short id of a public key (first 8 bytes of its SHA-256), so an agent can hold several keys during rotation. */
export function sealingKeyId(publicKey: string): Buffer {
  return Buffer.from(recipientOf(publicKey).keyId);
}

/** Derives the public key of a private key (both base64url raw). */
export function sealingPublicKeyOf(privateKey: string): string {
  return publicHalf(x25519Private(rawBytes(privateKey, 'sealing private key').toString('base64url'))).toString(
    'base64url',
  );
}

function deriveKey(shared: Buffer, ephemeralPublic: Buffer, recipientPublic: Buffer): Buffer {
  const salt = Buffer.concat([ephemeralPublic, recipientPublic]);
  return Buffer.from(hkdfSync('sha256', shared, salt, INFO, 32));
}

/** Seals `plaintext` to `publicKey`; `context` (e.g. job id and username) must be given again to open it. */
export function seal(publicKey: string, plaintext: string, context: string): string {
  const recipient = recipientOf(publicKey);
  // The ephemeral key from 32 random bytes (X25519 clamps any 32 bytes), its public half as X25519(k, 9); not
  // generateKeyPairSync + export, which deadlocked meet-auth on Node 20 (docs/decisions/sealing-keys.md).
  const ephemeral = x25519Private(randomBytes(32).toString('base64url'));
  const ephemeralRaw = publicHalf(ephemeral);
  const shared = diffieHellman({ privateKey: ephemeral, publicKey: recipient.key });
  const key = deriveKey(shared, ephemeralRaw, recipient.raw);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const header = Buffer.concat([Buffer.from([VERSION]), recipient.keyId, ephemeralRaw, iv, cipher.getAuthTag()]);
  return Buffer.concat([header, ciphertext]).toString('base64url');
}

/** Thrown when a seal cannot be opened; carries no key or plaintext material. */
export class SealError extends Error {}

/**
 * Opens a seal with whichever of `privateKeys` it was made for (several during a key rotation).
 * Throws SealError when no key fits, the context differs or the seal was tampered with.
 */
export function openSeal(privateKeys: readonly string[], sealed: string, context: string): string {
  const bytes = Buffer.from(sealed, 'base64url');
  const headerLength = 1 + KEY_ID_BYTES + 32 + 12 + 16;
  if (bytes.length < headerLength || bytes[0] !== VERSION) throw new SealError('malformed seal');
  const keyId = bytes.subarray(1, 1 + KEY_ID_BYTES);
  const ephemeralRaw = bytes.subarray(1 + KEY_ID_BYTES, 1 + KEY_ID_BYTES + 32);
  const iv = bytes.subarray(1 + KEY_ID_BYTES + 32, 1 + KEY_ID_BYTES + 44);
  const tag = bytes.subarray(1 + KEY_ID_BYTES + 44, headerLength);
  const ciphertext = bytes.subarray(headerLength);
  for (const privateKey of privateKeys) {
    const own = ownKeyOf(privateKey);
    if (!own.keyId.equals(keyId)) continue;
    const ephemeral = x25519Public(ephemeralRaw.toString('base64url'));
    const shared = diffieHellman({ privateKey: own.key, publicKey: ephemeral });
    const key = deriveKey(shared, ephemeralRaw, own.publicRaw);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SealError('seal does not open (tampered, or made for another job)');
    }
  }
  throw new SealError('seal was made for a key this agent does not hold');
}

/**
 * The context a job's password is sealed under (the job protocol): its job id and folded username, so a seal moved
 * to another job or name does not open. meet-auth seals with it, the agent opens with it.
 */
export function sealContext(jobId: string, username: string): string {
  return `${jobId}\n${username}`;
}
