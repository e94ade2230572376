/** terminalSafe / terminalLines over every code point: nothing that moves the cursor or changes the display gets through. */
import { describe, expect, it } from 'vitest';
import { terminalIo, terminalLines, terminalSafe } from '../../../edge/shared/terminal.js';

const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;

describe('terminalSafe', () => {
  it('escapes every Cc, Cf, Zl, Zp and lone surrogate code point, and leaves every other one as it is', () => {
    let escaped = 0;
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      const char = String.fromCodePoint(cp);
      const out = terminalSafe(`a${char}b`);
      if (UNSAFE.test(char)) {
        escaped++;
        expect(UNSAFE.test(out), `U+${cp.toString(16)}`).toBe(false);
        expect(out).toMatch(/^a(\\u[0-9a-f]{4}){1,2}b$/);
        // The JSON escape: parsing it gives the character back.
        expect(JSON.parse(`"${out}"`)).toBe(`a${char}b`);
      } else if (out !== `a${char}b`) {
        throw new Error(`U+${cp.toString(16)} changed to ${JSON.stringify(out)}`);
      }
    }
    expect(escaped).toBeGreaterThan(2000); // 65 Cc, ~170 Cf, 2 Z[lp], 2048 surrogates
  });

  it('shows the escapes an attack uses, and keeps letters, marks and emoji', () => {
    expect(terminalSafe('\u001b]0;pwned\u0007\u001b[2J\rok')).toBe('\\u001b]0;pwned\\u0007\\u001b[2J\\u000dok');
    expect(terminalSafe('user\u202etxt.exe \u2066x\u2069 \u200b \ufeff \u{e0041}')).toBe(
      'user\\u202etxt.exe \\u2066x\\u2069 \\u200b \\ufeff \\udb40\\udc41',
    );
    expect(terminalSafe('Zoë 日本語 e\u0301 😀 ٱلعربية')).toBe('Zoë 日本語 e\u0301 😀 ٱلعربية');
    expect(terminalSafe('a\nb\tc')).toBe('a\\u000ab\\u0009c');
  });
});

describe('terminalLines and terminalIo', () => {
  it("keep the program's own newlines and tabs, escape the rest, and keep JSON valid", () => {
    const hostile = 'x\u001b[31m\u0085\u2028y';
    expect(terminalLines(`a\t${hostile}\nb`)).toBe('a\tx\\u001b[31m\\u0085\\u2028y\nb');
    const json = JSON.stringify({ name: hostile, bidi: '\u202e' }, null, 2);
    expect(JSON.parse(terminalLines(json))).toEqual({ name: hostile, bidi: '\u202e' });
    const lines: string[] = [];
    const io = terminalIo({
      out: (line: string) => lines.push(`out:${line}`),
      err: (line: string) => lines.push(`err:${line}`),
      env: {},
    });
    io.out(hostile);
    io.err(`\r${hostile}`);
    expect(lines).toEqual(['out:x\\u001b[31m\\u0085\\u2028y', 'err:\\u000dx\\u001b[31m\\u0085\\u2028y']);
    expect(io.env).toEqual({});
  });
});
