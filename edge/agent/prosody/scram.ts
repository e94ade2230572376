/**
 * SCRAM credentials the agent computes itself for Prosody 13 with internal_hashed: PBKDF2 on libuv's thread pool,
 * i.e. off Prosody's single thread, where it was most of the time an account took. Prosody then only stores them,
 * exactly as its own create_user would have (see storeHashedUserLine): the password never enters Prosody.
 */
import { createHash, createHmac, pbkdf2, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { checkPassword } from '../../shared/passwords.js';

/** How Prosody hashes passwords for a host (mod_auth_internal_hashed's options). */
export interface HashingScheme {
  readonly hash: 'SHA-1' | 'SHA-256';
  readonly iterations: number;
}

/** SCRAM credentials as mod_auth_internal_hashed stores them: hex keys, a UUID salt, the iteration count. */
export interface ScramCredentials extends HashingScheme {
  readonly storedKey: string;
  readonly serverKey: string;
  readonly salt: string;
}

const pbkdf2Async = promisify(pbkdf2);

/**
 * RFC 5802's StoredKey and ServerKey for `password`, as Prosody's SCRAM hasher makes them (util.sasl.scram).
 * Prosody SASLpreps the password first; only call this for passwords SASLprep leaves unchanged (see
 * hashableOutsideProsody), so hashing the raw UTF-8 bytes gives the same keys a client proves.
 */
export async function scramCredentials(
  password: string,
  scheme: HashingScheme,
  salt: string = randomUUID(),
): Promise<ScramCredentials> {
  const digest = scheme.hash === 'SHA-1' ? 'sha1' : 'sha256';
  const length = scheme.hash === 'SHA-1' ? 20 : 32;
  const salted = await pbkdf2Async(Buffer.from(password, 'utf8'), salt, scheme.iterations, length, digest);
  const clientKey = createHmac(digest, salted).update('Client Key').digest();
  return {
    ...scheme,
    salt,
    storedKey: createHash(digest).update(clientKey).digest('hex'),
    serverKey: createHmac(digest, salted).update('Server Key').digest('hex'),
  };
}

/**
 * Whether the agent may hash `password` itself: our password policy admits only passwords that SASLprep leaves
 * exactly as they are, so for those the raw bytes are what Prosody would hash. Anything else (which meet-auth
 * never sends) is left to Prosody's own hashing, SASLprep included.
 */
export const hashableOutsideProsody = (password: string) => checkPassword(password, '').ok;
