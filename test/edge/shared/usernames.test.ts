import { describe, expect, it } from 'vitest';
import { foldUsername, normaliseUsername, USERNAME_MAX_CHARS } from '../../../edge/shared/usernames.js';

describe('normaliseUsername (folded as Prosody nodeprep folds)', () => {
  it.each([
    ['Alice', 'alice'],
    ['ALICE', 'alice'],
    ['ａｌｉｃｅ', 'alice'],
    ['Straße', 'strasse'],
    ['ǅx', 'džx'],
    ['Ünïcode', 'ünïcode'],
    ['a.b-c_d', 'a.b-c_d'],
    ['Ωμέγα', 'ωμέγα'],
    ['名前', '名前'],
    ['שלום', 'שלום'],
    ['user1', 'user1'],
    ['x'.repeat(USERNAME_MAX_CHARS), 'x'.repeat(USERNAME_MAX_CHARS)],
  ])('%s → %s', (raw, folded) => {
    expect(normaliseUsername(raw)).toEqual({ ok: true, username: folded });
    expect(foldUsername(raw)).toBe(folded);
  });

  it.each([
    ['', 'required'],
    ['a b', 'not allowed'],
    ['a@b', 'not allowed'],
    ['a/b', 'not allowed'],
    ['a:b', 'not allowed'],
    ['a+b', 'not allowed'],
    ['.a', 'not allowed'],
    ['a-', 'not allowed'],
    ['a\u0000b', 'not allowed'],
    ['x'.repeat(USERNAME_MAX_CHARS + 1), 'too long'],
    ['é'.repeat(60), 'too long'],
    ['abcשלום', 'right-to-left'],
    ['a\u034fb', 'invisible'],
    ['a\ufe0fb', 'invisible'],
    ['a\u200db', 'invisible'],
  ])('refuses %j (%s)', (raw, why) => {
    const result = normaliseUsername(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(why);
  });

  it('refuses non-strings and never echoes control characters', () => {
    for (const raw of [undefined, null, 42, {}, []]) expect(normaliseUsername(raw).ok).toBe(false);
    const result = normaliseUsername('evil\u0007name');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).not.toContain('\u0007');
  });
});
