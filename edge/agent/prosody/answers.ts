/** What Prosody's answers to the lines of lua.ts mean, read the same way by both backends. */
import type { DeleteStatus } from '../../shared/accounts-protocol.js';
import { ProsodyUnavailableError, type ResetOutcome } from './accounts.js';
import type { ReplResult } from './admin-socket.js';
import type { HashingScheme } from './scram.js';

/** Parses the answer to hashingSchemeLine; null when it is not internal_hashed (then Prosody must hash). */
export function parseHashingScheme(text: string): HashingScheme | null {
  const match = /^Result: (SHA-1|SHA-256) (\d+)$/.exec(text.trim());
  if (!match) return null;
  const iterations = Number(match[2]);
  // Prosody's own minimum; anything odd is left to Prosody.
  if (!Number.isSafeInteger(iterations) || iterations < 4096) return null;
  return { hash: match[1] as HashingScheme['hash'], iterations };
}

const WRONG_PASSWORD = /^Error: (Auth failed|Account disabled|Password fails SASLprep)/;

/** The answer to testPasswordLine: right or wrong password, or trouble worth another try (thrown). */
export function verdictOf(result: ReplResult): boolean {
  if (result.ok && result.text.trim() === 'Result: true') return true;
  if (!result.ok && WRONG_PASSWORD.test(result.text.trim())) return false;
  throw new ProsodyUnavailableError(`unexpected answer to a password check: ${result.text.slice(0, 200)}`);
}

/** Prosody's short error text, safe to record (the password is blanked should Prosody ever echo it). */
export function detailOf(text: string, password?: string): string {
  const blanked = password ? text.split(password).join('[password]') : text;
  return blanked.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/** A reset's answer: changed, absent, refused by Prosody for good, or trouble worth another try (thrown). */
export function resetOutcomeOf(result: ReplResult, password: string): ResetOutcome {
  const text = result.text.trim();
  if (text === 'OK: changed') return { kind: 'changed' };
  if (text === 'OK: absent') return { kind: 'absent' };
  if (/SASLprep|Invalid username|No such host/i.test(text))
    return { kind: 'rejected', detail: detailOf(text, password) };
  throw new ProsodyUnavailableError(detailOf(text, password) || 'Prosody did not change the password');
}

/** Parses the answer to listUsersLine ("Result: [...]"). */
export function parseUserList(result: ReplResult): string[] {
  const text = result.text.trim();
  if (result.ok && text.startsWith('Result: ')) {
    try {
      const names: unknown = JSON.parse(text.slice('Result: '.length));
      if (Array.isArray(names) && names.every((name) => typeof name === 'string')) return names.sort();
    } catch {
      // fall through
    }
  }
  throw new ProsodyUnavailableError(`unexpected answer to the account list: ${text.slice(0, 200)}`);
}

/** Parses the answer to deleteUserLine. */
export function parseDelete(result: ReplResult): DeleteStatus {
  const text = result.text.trim();
  if (text === 'OK: deleted') return 'deleted';
  if (text === 'OK: absent') return 'absent';
  throw new ProsodyUnavailableError(`unexpected answer to a delete: ${text.slice(0, 200)}`);
}
