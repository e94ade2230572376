/**
 * Error messages in the reader's language. The JSON contract keeps stable English messages (AppError.message, and
 * those of the shared username and password rules); a page shows the same message translated. Each English message
 * is found by its exact text among the messages below, rendered in English with the values meet-auth uses; a
 * username error is that sentence followed by the username rules. An unknown message stays as it is (English).
 */
import { PASSWORD_MAX_BYTES, PASSWORD_MIN_CHARS } from '../shared/passwords.js';
import { USERNAME_MAX_CHARS } from '../shared/usernames.js';
import { english, type I18n, type MessageKey } from './index.js';

type Entry = readonly [MessageKey, ...(string | number)[]];

const FIXED: readonly Entry[] = [
  ['meet-error-bad-request'],
  ['meet-error-unauthorized'],
  ['meet-error-form-unreadable'],
  ['meet-error-bad-credentials'],
  ['meet-error-bad-account'],
  ['meet-error-cross-origin'],
  ['meet-error-not-found'],
  ['meet-error-no-request'],
  ['meet-error-username-taken'],
  ['meet-error-username-lookalike-taken'],
  ['meet-error-username-mixed-script'],
  ['meet-error-username-hidden-mark'],
  ['meet-error-payload-too-large'],
  ['meet-error-rate-limited'],
  ['meet-error-shutting-down'],
  ['meet-error-storage-full'],
  ['meet-error-internal'],
  ['meet-error-unavailable'],
  ['meet-error-partial-change'],
  ['meet-error-still-creating'],
  ['meet-error-enter-ticket'],
  ['meet-error-enter-tm-token'],
  ['meet-error-confirm'],
  ['meet-error-selector'],
  ['meet-error-password-required'],
  ['meet-error-password-too-long', PASSWORD_MAX_BYTES],
  ['meet-error-password-too-short', PASSWORD_MIN_CHARS],
  ['meet-error-password-control'],
  ['meet-error-password-space'],
  ['meet-error-password-normalisation'],
  ['meet-error-password-bidi'],
  ['meet-error-password-rtl-edges'],
  ['meet-error-password-username'],
  ...['user', 'password', 'token', 'new_password', 'confirm', 'uses', 'expires_in_hours', 'selector'].map(
    (name) => ['meet-error-field-text', name] as const,
  ),
];

/** The first sentence of each username error; the rules follow it. */
const USERNAME_HEADS: readonly MessageKey[] = [
  'meet-error-username-required',
  'meet-error-username-too-long',
  'meet-error-username-invisible',
  'meet-error-username-characters',
  'meet-error-username-bidi',
];

/** Whole-number errors: `<what> must be a whole number from <min> to <max>.` with a translated <what>. */
const WHOLE_NUMBER = /^(Expiry in hours|Uses) must be a whole number from (\d+) to (\d+)\.$/;
const WHAT: Record<string, MessageKey> = { 'Expiry in hours': 'meet-error-expiry-name', Uses: 'meet-error-uses-name' };

const byEnglish = new Map<string, Entry>(FIXED.map((entry) => [english.text(...entry), entry]));
const headsByEnglish = new Map<string, MessageKey>(USERNAME_HEADS.map((key) => [english.text(key), key]));
const rulesEnglish = english.text('meet-username-rules', USERNAME_MAX_CHARS);

/** The message in `i18n`'s language, or null when it is not one of meet-auth's. */
export function translateMessage(i18n: I18n, message: string): string | null {
  const entry = byEnglish.get(message);
  if (entry) return i18n.text(...entry);
  if (message.endsWith(` ${rulesEnglish}`)) {
    const head = headsByEnglish.get(message.slice(0, -rulesEnglish.length - 1));
    if (head) return `${i18n.text(head)} ${i18n.text('meet-username-rules', USERNAME_MAX_CHARS)}`;
  }
  const whole = WHOLE_NUMBER.exec(message);
  if (whole)
    return i18n.text('meet-error-whole-number', i18n.text(WHAT[whole[1]!]!), Number(whole[2]), Number(whole[3]));
  return null;
}

export const localiseMessage = (i18n: I18n, message: string): string => translateMessage(i18n, message) ?? message;

/** The English text of a message, for an AppError whose page shows it translated. */
export const englishMessage = (key: MessageKey, ...params: (string | number)[]): string => english.text(key, ...params);
