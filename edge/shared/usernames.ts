/**
 * Usernames, folded by Prosody's own nodeprep (edge/shared/nodeprep.ts, built from a real Prosody and proven
 * against it on every code point), so `Alice`, `ALICE` and `ａｌｉｃｅ` are one name here exactly as they are one
 * account in Prosody. The folded form is what meet-auth stores, reserves (UNIQUE) and sends to the agents; on top
 * of nodeprep meet-auth only refuses more (letters and digits, no code point Unicode 3.2 did not have), never folds
 * differently.
 */
import { isMappedToNothing, prepareNode } from './nodeprep.js';

export const USERNAME_MAX_CHARS = 64;
/**
 * Prosody's file storage names an account `<percent-encoded name>.dat`, every byte other than [A-Za-z0-9]
 * taking three characters; with the temporary `~` file that must fit in 255 bytes (measured: 251 `a`s fail).
 */
const MAX_ENCODED_BYTES = 250;

const USERNAME_RULES =
  'Usernames use letters and digits of any script, plus ".", "_" and "-", start and end with a letter or digit, ' +
  `and are 1 to ${USERNAME_MAX_CHARS} characters long.`;

/** Letters (with their combining marks) and digits of any script, plus . _ - inside. */
const SHAPE = /^[\p{L}\p{N}][\p{L}\p{M}\p{N}._-]*$/u;
const ENDS_WELL = /[\p{L}\p{M}\p{N}]$/u;

export type UsernameResult =
  { readonly ok: true; readonly username: string } | { readonly ok: false; readonly error: string };

/** Prosody's nodeprep of `raw` (unassigned code points refused, as Prosody's strict mode), or null where it refuses. */
export function foldUsername(raw: string): string | null {
  const prepared = prepareNode(raw, { strict: true });
  return prepared.ok ? prepared.value : null;
}

function encodedLength(name: string): number {
  let length = 0;
  for (const byte of Buffer.from(name, 'utf8')) length += /[A-Za-z0-9]/.test(String.fromCharCode(byte)) ? 1 : 3;
  return length;
}

const NOT_ALLOWED = `That username contains characters that are not allowed. ${USERNAME_RULES}`;
const TOO_LONG = `That username is too long. ${USERNAME_RULES}`;

/** Validates and folds a username; the error says what is allowed and never echoes control characters. */
export function normaliseUsername(raw: unknown): UsernameResult {
  if (typeof raw !== 'string' || raw.length === 0)
    return { ok: false, error: `A username is required. ${USERNAME_RULES}` };
  if (raw.length > 4 * USERNAME_MAX_CHARS) return { ok: false, error: TOO_LONG };
  // nodeprep deletes these (`a\u034Fb` is the account `ab`): refused, so what people see is the name they get.
  if ([...raw].some((char) => isMappedToNothing(char.codePointAt(0)!))) {
    return {
      ok: false,
      error: `That username contains invisible characters, which are not allowed. ${USERNAME_RULES}`,
    };
  }
  const prepared = prepareNode(raw, { strict: true });
  if (!prepared.ok) {
    if (prepared.reason === 'bidi') {
      return {
        ok: false,
        error: `That username mixes right-to-left and left-to-right letters, or does not start and end with a right-to-left letter, which XMPP does not allow. ${USERNAME_RULES}`,
      };
    }
    return { ok: false, error: prepared.reason === 'too-long' ? TOO_LONG : NOT_ALLOWED };
  }
  const username = prepared.value;
  if ([...username].length > USERNAME_MAX_CHARS || encodedLength(username) > MAX_ENCODED_BYTES)
    return { ok: false, error: TOO_LONG };
  if (!SHAPE.test(username) || !ENDS_WELL.test(username)) return { ok: false, error: NOT_ALLOWED };
  // Prosody preps the name again when the agent creates it: it must come back as it is.
  const again = prepareNode(username, { strict: true });
  if (!again.ok || again.value !== username) return { ok: false, error: NOT_ALLOWED };
  return { ok: true, username };
}
