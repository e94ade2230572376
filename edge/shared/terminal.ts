/**
 * Text for an admin's terminal: every control and format character (Unicode Cc, Cf, the line and paragraph
 * separators Zl/Zp, lone surrogates Cs) is shown as a \uXXXX escape instead of being sent as it is, so nothing a
 * name or a remote message holds can move the cursor, clear the screen, change colours, retitle the window or
 * reorder what is shown (ESC, CR, BEL, NEL, bidi overrides and isolates, zero-width and tag characters...).
 * The escape is the JSON one, one per UTF-16 code unit, so JSON output stays valid JSON with the same meaning.
 */

// With the u flag a lone surrogate is one code point of its own (Cs); a valid pair (an emoji) is not matched.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

/** `\uXXXX` for each UTF-16 code unit of `char` (two for an astral format character). */
const escape = (char: string) =>
  Array.from({ length: char.length }, (_, i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`).join('');

/** One value (a table cell, a name): everything unsafe escaped, newlines and tabs too. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, escape);
}

/** Whole lines of output: the same, except the newlines and tabs the program itself writes. */
export function terminalLines(text: string): string {
  return text
    .split('\n')
    .map((line) => line.split('\t').map(terminalSafe).join('\t'))
    .join('\n');
}

export interface LineIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

/** An io whose every line passes through terminalLines: one place for every printer of a CLI. */
export function terminalIo<T extends LineIo>(io: T): T {
  return {
    ...io,
    out: (line: string) => io.out(terminalLines(line)),
    err: (line: string) => io.err(terminalLines(line)),
  };
}
