/** Random identifiers and secrets. base64url of CSPRNG bytes: URL-safe, fixed length, no padding. */
import { randomBytes } from 'node:crypto';

export function randomId(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** Length in base64url characters of `bytes` random bytes. */
export function idLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}
