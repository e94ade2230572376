import { describe, expect, it } from 'vitest';
import { checkPassword, PASSWORD_MAX_BYTES, PASSWORD_MIN_CHARS } from '../../../edge/shared/passwords.js';

describe('checkPassword (what SASLprep leaves unchanged)', () => {
  it.each([
    'correct horse battery staple',
    'with  two  spaces',
    'пароль-достаточно-длинный',
    '密码密码密码密码密码',
    'שלום עולם ומלואו',
    '😀😀😀😀😀😀😀😀😀😀',
    'x'.repeat(PASSWORD_MIN_CHARS),
  ])('accepts %j', (password) => {
    expect(checkPassword(password, 'alice')).toEqual({ ok: true });
  });

  it.each([
    ['', 'required'],
    ['x'.repeat(PASSWORD_MIN_CHARS - 1), 'too short'],
    ['é'.repeat(PASSWORD_MAX_BYTES / 2 + 1), 'too long'],
    ['line\nbreak password', 'control'],
    ['tab\there password', 'control'],
    ['zero\u200bwidth password', 'control'],
    ['nbsp\u00a0password here', 'special space'],
    ['ﬁnancial password', 'normalisation'],
    ['ＦＵＬＬ password here', 'normalisation'],
    ['abc שלום עולם abc', 'mixes'],
    ['1שלום עולם ומלואו', 'start and end'],
    ['my alice password', 'username'],
    ['MY ALICE PASSWORD', 'username'],
  ])('refuses %j (%s) without echoing it', (password, why) => {
    const result = checkPassword(password, 'alice');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toContain(why);
      if (password.length > 3) expect(result.error).not.toContain(password);
    }
  });

  it('refuses non-strings', () => {
    for (const value of [undefined, null, 12345678901, {}]) expect(checkPassword(value, 'alice').ok).toBe(false);
  });
});
