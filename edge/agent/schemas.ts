/** Body fields the agent's signed routes share (jobs and account administration). */
import { z } from 'zod';
import { normaliseUsername } from '../shared/usernames.js';

/** A username exactly as meet-auth sends it: already folded, and valid. */
export const foldedUsername = z.string().refine((name) => {
  const result = normaliseUsername(name);
  return result.ok && result.username === name;
}, 'must be a valid, folded username');

/** A sealed password (edge/shared/sealing.ts): base64url, at most 4 KiB. */
export const sealedPassword = z.string().regex(/^[A-Za-z0-9_-]{1,4096}$/);
