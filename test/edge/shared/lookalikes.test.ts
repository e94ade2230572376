import unhomoglyph from 'unhomoglyph';
import { describe, expect, it } from 'vitest';
import { isMixedScript, lookalikeProblem, skeleton } from '../../../edge/shared/lookalikes.js';

// Latin letters and a confusable of each from another script (Cyrillic, Greek, Armenian).
const SWAPS: ReadonlyArray<readonly [string, string]> = [
  ['a', '\u0430'],
  ['e', '\u0435'],
  ['o', '\u043E'],
  ['p', '\u0440'],
  ['c', '\u0441'],
  ['x', '\u0445'],
  ['o', '\u03BF'],
  ['v', '\u03BD'],
  ['h', '\u0570'],
];

describe('mixed scripts (UTS #39 resolved script set)', () => {
  it.each([
    'alice',
    'jean-luc',
    'ωμέγα',
    'шоп',
    '名前',
    'ひらがな漢字',
    'カタカナ',
    '한국어漢字',
    'שלום',
    'user_1.x',
    'zoë',
  ])('%s is one script', (name) => {
    expect(isMixedScript(name)).toBe(false);
    expect(lookalikeProblem(name)).toBeNull();
  });

  it.each(['\u0430lice', 'p\u0430ypal', 'ελληνικάabc', 'ab-中文', 'шoп', 'alice\u05D0'])('%s mixes scripts', (name) => {
    expect(isMixedScript(name)).toBe(true);
    expect(lookalikeProblem(name)).toMatch(/mixes letters of different scripts/);
  });

  it('any Latin name with one letter swapped for a lookalike of another script is mixed, and has the same skeleton', () => {
    const names = ['opera', 'paxos', 'cove', 'hopper', 'echo', 'vox', 'apex'];
    let checked = 0;
    for (const name of names) {
      for (const [latin, other] of SWAPS) {
        for (let index = name.indexOf(latin); index !== -1; index = name.indexOf(latin, index + 1)) {
          const spoof = name.slice(0, index) + other + name.slice(index + 1);
          expect(isMixedScript(spoof), spoof).toBe(true);
          expect(skeleton(spoof), spoof).toBe(skeleton(name));
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});

describe('skeletons (UTS #39)', () => {
  it.each([
    ['modern', 'rnodern'],
    ['raul', 'rau\u0049'],
    ['op', '\u03BF\u03C1'],
    ['a1', 'al'],
    ['\u00E9', 'e\u0301'],
  ])('%s looks like %s', (a, b) => expect(skeleton(a)).toBe(skeleton(b)));

  it.each([
    ['alice', 'alicia'],
    ['bob', 'rob'],
  ])('%s does not look like %s', (a, b) => expect(skeleton(a)).not.toBe(skeleton(b)));

  it("gives the library's own skeleton for every code point, alone and between letters", () => {
    const library = (name: string) => unhomoglyph(name.normalize('NFD')).normalize('NFD');
    let differing = 0;
    let compared = 0;
    for (let start = 0; start <= 0x10ffff; start += 0x100) {
      let chunk = '';
      for (let codePoint = start; codePoint < start + 0x100; codePoint++)
        if (codePoint < 0xd800 || codePoint > 0xdfff) chunk += `${String.fromCodePoint(codePoint)}a`;
      compared += 1;
      if (skeleton(chunk) !== library(chunk)) differing += 1;
    }
    expect(compared).toBe(0x1100);
    expect(differing).toBe(0);
    for (const char of ['\u0430', '\u{1D5BA}', '\u01C4', 'l', 'rn'])
      expect(skeleton(`x${char}y`)).toBe(library(`x${char}y`));
  });
});

it('refuses marks that hide in their letter', () => {
  for (const name of ['i\u0307van', '\u0131\u0307van', 'j\u0307ones', 'ba\u0301\u0301r'])
    expect(lookalikeProblem(name)).toMatch(/cannot be seen/);
  expect(lookalikeProblem('e\u0307sti')).toBeNull();
});
