/**
 * Signed job requests between meet-auth and the agents, Standard-Webhooks style:
 * HMAC-SHA256 over `${id}.${timestamp}.${body}`, sent as `v1,<base64>` in `webhook-signature`.
 * Several signatures may be sent at once (space separated) so a key can be rotated without downtime:
 * the sender signs with every key it holds, the receiver accepts any signature made with any of its keys.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'webhook-signature';
export const ID_HEADER = 'webhook-id';
export const TIMESTAMP_HEADER = 'webhook-timestamp';
/** How far a request's timestamp may be from the receiver's clock. */
const DEFAULT_TOLERANCE_SECONDS = 300;

const SECRET_PREFIX = 'whsec_';
const MIN_SECRET_BYTES = 32;

/** A new signing secret: `whsec_` + 32 random bytes, base64. */
export function generateSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(MIN_SECRET_BYTES).toString('base64');
}

/** Decodes `whsec_<base64>`; throws (without echoing the secret) when malformed or too short. */
export function decodeSigningSecret(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('signing secret must start with "whsec_"');
  const bytes = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  if (bytes.length < MIN_SECRET_BYTES) throw new Error(`signing secret must hold at least ${MIN_SECRET_BYTES} bytes`);
  return bytes;
}

/** Parses a list of secrets separated by spaces or commas (rotation: new first, old after). */
export function parseSigningSecrets(list: string): Buffer[] {
  const items = list.split(/[\s,]+/).filter(Boolean);
  if (items.length === 0) throw new Error('at least one signing secret is required');
  return items.map(decodeSigningSecret);
}

function sign(key: Buffer, id: string, timestamp: number, body: string): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
}

/** Headers for one signed request. */
export function signRequest(
  keys: readonly Buffer[],
  id: string,
  body: string,
  now: Date = new Date(),
): Record<string, string> {
  if (keys.length === 0) throw new Error('at least one signing key is required');
  const timestamp = Math.floor(now.getTime() / 1000);
  const signatures = keys.map((key) => `v1,${sign(key, id, timestamp, body).toString('base64')}`);
  return {
    [ID_HEADER]: id,
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: signatures.join(' '),
  };
}

export type VerifyFailure = 'missing-headers' | 'stale' | 'bad-signature';

export interface VerifyInput {
  readonly id: string | undefined;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  readonly body: string;
}

/**
 * Checks a signed request. Returns null when it is genuine, else why not.
 * Comparisons are constant-time over fixed-length digests.
 */
export function verifyRequest(
  keys: readonly Buffer[],
  input: VerifyInput,
  now: Date = new Date(),
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): VerifyFailure | null {
  const { id, timestamp, signature, body } = input;
  if (!id || !timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return 'missing-headers';
  const ts = Number(timestamp);
  if (Math.abs(now.getTime() / 1000 - ts) > toleranceSeconds) return 'stale';
  const offered = signature
    .split(' ')
    .filter((part) => part.startsWith('v1,'))
    .map((part) => Buffer.from(part.slice(3), 'base64'))
    .filter((bytes) => bytes.length === 32);
  for (const key of keys) {
    const expected = sign(key, id, ts, body);
    if (offered.some((candidate) => timingSafeEqual(candidate, expected))) return null;
  }
  return 'bad-signature';
}
