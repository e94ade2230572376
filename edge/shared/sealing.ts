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
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

const VERSION = 1;
const KEY_ID_BYTES = 8;
const INFO = Buffer.from('meet-auth seal v1');
/** DER header of an X25519 SubjectPublicKeyInfo (RFC 8410); the 32 raw key bytes follow it. */

export interface SealingKeyPair {
  /** X25519 public key, base64url of the raw 32 bytes. */
  readonly publicKey: string;
  /** X25519 private key, base64url of the raw 32 bytes. Secret. */
  readonly privateKey: string;
}

export function generateSealingKeyPair(): SealingKeyPair {
  const { privateKey } = generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  if (!jwk.d || !jwk.x) throw new Error('x25519 key export failed');
  return { publicKey: jwk.x, privateKey: jwk.d };
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
 * Key objects, raw bytes and key ids per key string, built once: parsing a JWK, deriving a public key and hashing
 * it cost more than the Diffie-Hellman itself, and every seal/open used to redo them. Keyed by the exact key
 * string, so two keys never share an entry; bounded, as only a handful of keys (rotation) are ever live.
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
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: publicKey }, format: 'jwk' });
  return remember(recipients, publicKey, { key, raw, keyId: keyIdOf(raw) });
}

function ownKeyOf(privateKey: string): OwnKey {
  const cached = ownKeys.get(privateKey);
  if (cached) return cached;
  const publicKey = sealingPublicKeyOf(privateKey);
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: privateKey, x: publicKey }, format: 'jwk' });
  const publicRaw = Buffer.from(publicKey, 'base64url');
  return remember(ownKeys, privateKey, { key, publicRaw, keyId: keyIdOf(publicRaw) });
}

const keyIdOf = (publicRaw: Buffer) => createHash('sha256').update(publicRaw).digest().subarray(0, KEY_ID_BYTES);

/** Short id of a public key (first 8 bytes of its SHA-256), so an agent can hold several keys during rotation. */
export function sealingKeyId(publicKey: string): Buffer {
  return Buffer.from(recipientOf(publicKey).keyId);
}

/** Derives the public key of a private key (both base64url raw). */
export function sealingPublicKeyOf(privateKey: string): string {
  const d = rawBytes(privateKey, 'sealing private key');
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: d.toString('base64url'), x: '' }, format: 'jwk' });
  const x = createPublicKey(key).export({ format: 'jwk' }).x;
  if (!x) throw new Error('x25519 key export failed');
  return x;
}

function deriveKey(shared: Buffer, ephemeralPublic: Buffer, recipientPublic: Buffer): Buffer {
  const salt = Buffer.concat([ephemeralPublic, recipientPublic]);
  return Buffer.from(hkdfSync('sha256', shared, salt, INFO, 32));
}

/** Seals `plaintext` to `publicKey`; `context` (e.g. job id and username) must be given again to open it. */
export function seal(publicKey: string, plaintext: string, context: string): string {
  const recipient = recipientOf(publicKey);
  const ephemeral = generateKeyPairSync('x25519');
  // The raw key via JWK: on Node 20 (OpenSSL 3) a JWK export costs a third of a DER one (its encoder is slow).
  const ephemeralRaw = Buffer.from(ephemeral.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient.key });
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
    // Imported as a JWK, not as DER: an eighth of the cost on Node 20 (OpenSSL 3's DER decoder is slow).
    const ephemeral = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: ephemeralRaw.toString('base64url') }, format: 'jwk' });
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
