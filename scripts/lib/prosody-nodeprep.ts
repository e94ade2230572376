/**
 * Runs a real Prosody's `util.encodings.stringprep.nodeprep` (ICU's RFC 3920 nodeprep profile, as Prosody links
 * it) from Lua, for the generator of edge/shared/nodeprep-table.json and for the test that proves our nodeprep
 * agrees with it on every code point. Prosody's own library directory comes from MEET_PROSODY_LIB or Debian's
 * /usr/lib/prosody; the interpreter from MEET_PROSODY_LUA or `lua5.4` (what /usr/bin/prosody runs).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export const PROSODY_LIB = process.env.MEET_PROSODY_LIB ?? '/usr/lib/prosody';
const PROSODY_LUA = process.env.MEET_PROSODY_LUA ?? 'lua5.4';

/** Loads Prosody's encodings module; `np` is nodeprep. Every code point but the surrogates, in order. */
const PRELUDE = `
package.cpath = ${JSON.stringify(`${PROSODY_LIB}/?.so;`)} .. package.cpath
local np = require "util.encodings".stringprep.nodeprep
local char, out = utf8.char, io.stdout
out:setvbuf("full")
local function each(f) for cp = 0, 0x10FFFF do if cp < 0xD800 or cp > 0xDFFF then f(cp, char(cp)) end end end
`;

/**
 * Probes every code point alone: "R cp" Prosody refuses it, also between two Hebrew letters; "M cp hex…" it
 * prepares to other code points (none: deleted; for one refused alone by the bidi rule only, what it prepares to
 * between two Hebrew letters); "U cp" accepted only when unassigned code points are allowed (not strict:
 * unassigned in Unicode 3.2); for a code point that prepares to itself, "L cp" when it counts as left-to-right in
 * the bidi rule (between two Hebrew letters it is refused) and "A cp" as right-to-left (after "a" it is refused).
 */
const PROBE_LUA = `${PRELUDE}
local alef = "\\u{5D0}"
each(function(cp, s)
  local r, strict = np(s), np(s, true)
  if r == nil then
    -- Refused alone by the bidi rule only (it ends in a mark, say)? Between two Hebrew letters it is not.
    local between = np(alef .. s .. alef)
    if between == nil then out:write("R ", cp, "\\n") return end
    r, strict = between:sub(#alef + 1, -#alef - 1), np(alef .. s .. alef, true)
  end
  if strict == nil then out:write("U ", cp, "\\n") end
  if r ~= s then
    out:write("M ", cp)
    for _, c in utf8.codes(r) do out:write(" ", string.format("%X", c)) end
    out:write("\\n")
    return
  end
  if np(alef .. s .. alef) == nil then out:write("L ", cp, "\\n")
  elseif np("a" .. s) == nil then out:write("A ", cp, "\\n") end
end)
`;

/** The contexts every code point is checked in: alone, at the start, in the middle, at the end, before a mark, after a Hebrew letter. */
export const CONTEXTS: readonly ((s: string) => string)[] = [
  (s) => s,
  (s) => `${s}ab`,
  (s) => `a${s}b`,
  (s) => `ab${s}`,
  (s) => `${s}\u0301x`,
  (s) => `\u05D0${s}`,
  (s) => `${s}${s}`,
];

/**
 * For each CONTEXTS string of each code point (in that order) one line: "\1" when Prosody's nodeprep refuses it,
 * else its nodeprep, followed by "\2" when strict nodeprep refuses it and "\3" when preparing that result again
 * (strict) does not give it back unchanged. None of these marks can be in a result (control characters are refused).
 */
export const CONTEXTS_LUA = `${PRELUDE}
local contexts = {
  function(s) return s end,
  function(s) return s .. "ab" end,
  function(s) return "a" .. s .. "b" end,
  function(s) return "ab" .. s end,
  function(s) return s .. "\\u{301}x" end,
  function(s) return "\\u{5D0}" .. s end,
  function(s) return s .. s end,
}
each(function(cp, s)
  for _, context in ipairs(contexts) do
    local text = context(s)
    local r = np(text)
    if r == nil then out:write("\\1\\n")
    else out:write(r, np(text, true) == nil and "\\2" or "", np(r, true) ~= r and "\\3" or "", "\\n") end
  end
end)
`;

/** One line of CONTEXTS_LUA's output, read back. */
export function parseContextLine(line: string): {
  readonly prepared: string | null;
  readonly strict: string | null;
  readonly stable: boolean;
} {
  if (line === '\u0001') return { prepared: null, strict: null, stable: false };
  const prepared = line.replace(/[\u0002\u0003]+$/, '');
  return { prepared, strict: line.includes('\u0002') ? null : prepared, stable: !line.includes('\u0003') };
}

/** Runs `lua` and hands each line of its output to `onLine`; rejects when it fails. */
export function runLua(lua: string, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(PROSODY_LUA, ['-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.once('error', reject);
    const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
    lines.on('line', onLine);
    const closed = new Promise<void>((done) => lines.once('close', done));
    child.once('close', (code) => {
      void closed.then(() =>
        code === 0 ? resolve() : reject(new Error(`${PROSODY_LUA} exited ${code}: ${stderr.slice(0, 500)}`)),
      );
    });
    child.stdin.end(lua);
  });
}

/** What PROBE_LUA found, as sorted code point ranges and the mappings. */
export interface NodeprepTable {
  readonly refused: number[];
  readonly unassigned: number[];
  readonly leftToRight: number[];
  readonly rightToLeft: number[];
  /** Code point → what it prepares to (possibly nothing), for those that do not prepare to themselves. */
  readonly mappings: Map<number, number[]>;
}

/** Probes the real Prosody (PROBE_LUA) and collects its answers. */
export async function probeNodeprep(): Promise<NodeprepTable> {
  const sets: Record<'R' | 'U' | 'L' | 'A', number[]> = { R: [], U: [], L: [], A: [] };
  const mappings = new Map<number, number[]>();
  await runLua(PROBE_LUA, (line) => {
    const [kind, cp, ...to] = line.split(' ');
    if (kind === 'M')
      mappings.set(
        Number(cp),
        to.map((hex) => Number.parseInt(hex, 16)),
      );
    else if (kind === 'R' || kind === 'U' || kind === 'L' || kind === 'A') sets[kind].push(Number(cp));
    else throw new Error(`unexpected probe line: ${line}`);
  });
  return { refused: sets.R, unassigned: sets.U, leftToRight: sets.L, rightToLeft: sets.A, mappings };
}

/** Sorted code points as "start-end" ranges in hex, joined by commas (what edge/shared/nodeprep-table.json holds). */
function rangesOf(codePoints: readonly number[]): string {
  const parts: string[] = [];
  // Surrogates are never probed: a run may span them (nothing can ever look them up from valid text).
  const adjacent = (a: number, b: number) => b === a + 1 || (a === 0xd7ff && b === 0xe000);
  for (let index = 0; index < codePoints.length;) {
    const start = codePoints[index]!;
    let end = start;
    while (index + 1 < codePoints.length && adjacent(end, codePoints[index + 1]!)) end = codePoints[++index]!;
    index += 1;
    parts.push(start === end ? start.toString(16) : `${start.toString(16)}-${end.toString(16)}`);
  }
  return parts.join(',');
}

/**
 * The contents of edge/shared/nodeprep-table.json: each code point alone through Prosody's
 * util.encodings.stringprep.nodeprep, as hex ranges "a-b,c,…" and mappings "from:to to …,…" (see above for what each
 * set means). Data, not code: JSON, one line per set, read by edge/shared/nodeprep.ts.
 */
export function tableJson(table: NodeprepTable, origin: string): string {
  const mappings = [...table.mappings]
    .map(([from, to]) => `${from.toString(16)}:${to.map((cp) => cp.toString(16)).join(' ')}`)
    .join(',');
  const contents = {
    generated: `by \`npx tsx scripts/gen-nodeprep-table.mts\` from a real Prosody (${origin}); do not edit`,
    refused: rangesOf(table.refused),
    unassigned: rangesOf(table.unassigned),
    leftToRight: rangesOf(table.leftToRight),
    rightToLeft: rangesOf(table.rightToLeft),
    mappings,
  };
  return `${JSON.stringify(contents, null, 2)}\n`;
}
