/**
 * Password policy. A password must survive the whole path unchanged: Prosody SASLprep-normalises it when it
 * stores the SCRAM keys, but a browser client (strophe.js in Jitsi) does not normalise what the user types.
 * So we accept only passwords that SASLprep (RFC 4013) leaves exactly as they are: then what Prosody stores and
 * what any client proves are the same bytes. Spaces and letters of every script are welcome.
 */

export const PASSWORD_MIN_CHARS = 10;
export const PASSWORD_MAX_BYTES = 1024;

export type PasswordResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** RFC 3454 B.1 "commonly mapped to nothing" code points that are not format characters (\p{Cf}). */
const MAPPED_TO_NOTHING = /[\u034F\u180B-\u180D\uFE00-\uFE0F]/u;
/** Controls, format characters (zero-width, bidi overrides, tags), private use, surrogates, unassigned. */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Cn}]/u;
/** SASLprep maps every space except U+0020 to U+0020, and forbids line and paragraph separators. */
const OTHER_SPACE = /[\p{Zs}\p{Zl}\p{Zp}]/u;
const RTL = /[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}]/u;
const LTR_LETTER = /[\p{L}--[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}]]/v;

/** Checks a password for a given (already folded) username. Never echoes the password. */
export function checkPassword(password: unknown, username: string): PasswordResult {
  if (typeof password !== 'string' || password.length === 0) return { ok: false, error: 'A password is required.' };
  if (Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES) {
    return { ok: false, error: `The password is too long: at most ${PASSWORD_MAX_BYTES} bytes.` };
  }
  if ([...password].length < PASSWORD_MIN_CHARS) {
    return { ok: false, error: `The password is too short: use at least ${PASSWORD_MIN_CHARS} characters.` };
  }
  if (FORBIDDEN.test(password) || MAPPED_TO_NOTHING.test(password)) {
    return {
      ok: false,
      error: 'The password contains control or invisible characters (such as a newline or tab), which are not allowed.',
    };
  }
  if (OTHER_SPACE.test(password.replaceAll(' ', ''))) {
    return { ok: false, error: 'The password contains a special space or line separator; use ordinary spaces only.' };
  }
  if (password.normalize('NFKC') !== password) {
    return {
      ok: false,
      error:
        'The password contains characters that change under Unicode normalisation (such as ligatures or full-width forms); type them plainly.',
    };
  }
  if (RTL.test(password) && LTR_LETTER.test(password)) {
    return {
      ok: false,
      error: 'The password mixes right-to-left and left-to-right letters, which XMPP logins do not allow.',
    };
  }
  const first = [...password][0] ?? '';
  const last = [...password].at(-1) ?? '';
  if (RTL.test(password) && !(RTL.test(first) && RTL.test(last))) {
    return { ok: false, error: 'A password with right-to-left letters must start and end with one.' };
  }
  if (username && looseFold(password).includes(looseFold(username))) {
    return { ok: false, error: 'The password must not contain the username.' };
  }
  return { ok: true };
}

/** Case and compatibility folding for the "contains the username" check (any text; not a username rule). */
function looseFold(text: string): string {
  return text.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}
