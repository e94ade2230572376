/**
 * Usernames, folded the way Prosody's nodeprep folds them (NFKC + full case folding), so that `Alice`,
 * `ALICE` and `ａｌｉｃｅ` are one name here exactly as they are one account in Prosody. The folded form is what
 * meet-auth stores, reserves (UNIQUE) and sends to the agents.
 */

export const USERNAME_MAX_CHARS = 64;
/**
 * Prosody's file storage names an account `<percent-encoded name>.dat`, every byte other than [A-Za-z0-9]
 * taking three characters; with the temporary `~` file that must fit in 255 bytes (measured: 251 `a`s fail).
 */
const MAX_ENCODED_BYTES = 250;

export const USERNAME_RULES =
  'Usernames use letters and digits of any script, plus ".", "_" and "-", start and end with a letter or digit, ' +
  `and are 1 to ${USERNAME_MAX_CHARS} characters long.`;

/** Letters (with their combining marks) and digits of any script, plus . _ - inside. */
const SHAPE = /^[\p{L}\p{N}][\p{L}\p{M}\p{N}._-]*$/u;
/**
 * RFC 3454 B.1 "commonly mapped to nothing": nodeprep deletes these, so `a\u034Fb` would be the account `ab`
 * in Prosody while our registry saw another name. Some are combining marks (U+034F, variation selectors)
 * that SHAPE would let through, so they are refused outright.
 */
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/u;
const ENDS_WELL = /[\p{L}\p{M}\p{N}]$/u;
/** Right-to-left scripts: RFC 3454 §6 (nodeprep's bidi rule) forbids mixing them with left-to-right letters. */
const RTL = /[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}]/u;
const RTL_EDGE = /^[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}].*[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}]$|^[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}]$/u;
const LTR_LETTER = /[\p{L}--[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}]]/v;

export type UsernameResult = { readonly ok: true; readonly username: string } | { readonly ok: false; readonly error: string };

/** NFKC, then full case folding (upper then lower maps ß→ss, ﬁ→fi as nodeprep's B.2 table does), then NFKC again. */
export function foldUsername(raw: string): string {
  return raw.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}

function encodedLength(name: string): number {
  let length = 0;
  for (const byte of Buffer.from(name, 'utf8')) length += /[A-Za-z0-9]/.test(String.fromCharCode(byte)) ? 1 : 3;
  return length;
}

/** Validates and folds a username; the error says what is allowed and never echoes control characters. */
export function normaliseUsername(raw: unknown): UsernameResult {
  if (typeof raw !== 'string' || raw.length === 0) return { ok: false, error: `A username is required. ${USERNAME_RULES}` };
  if (raw.length > 4 * USERNAME_MAX_CHARS) return { ok: false, error: `That username is too long. ${USERNAME_RULES}` };
  const username = foldUsername(raw);
  const chars = [...username].length;
  if (chars > USERNAME_MAX_CHARS || encodedLength(username) > MAX_ENCODED_BYTES) {
    return { ok: false, error: `That username is too long. ${USERNAME_RULES}` };
  }
  if (MAPPED_TO_NOTHING.test(username)) {
    return { ok: false, error: `That username contains invisible characters, which are not allowed. ${USERNAME_RULES}` };
  }
  if (!SHAPE.test(username) || !ENDS_WELL.test(username)) {
    return { ok: false, error: `That username contains characters that are not allowed. ${USERNAME_RULES}` };
  }
  if (RTL.test(username) && (LTR_LETTER.test(username) || !RTL_EDGE.test(username))) {
    return {
      ok: false,
      error: `That username mixes right-to-left and left-to-right letters, which XMPP does not allow. ${USERNAME_RULES}`,
    };
  }
  return { ok: true, username };
}
