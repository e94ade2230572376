/**
 * meet-auth's nodeprep is Prosody's: every code point (but the surrogates, which UTF-8 cannot carry), alone, at
 * the start, in the middle, at the end, before a combining mark, after a Hebrew letter and doubled, through our
 * nodeprep and a real Prosody's util.encodings.stringprep.nodeprep (Lua, Prosody's own library): the same result
 * or both refuse, strict and not. And every name normaliseUsername accepts is exactly what Prosody makes of it,
 * and stays so when Prosody preps it again (the agent's create does).
 */
import { expect, it } from 'vitest';
import { nodeprep } from '../../../edge/shared/nodeprep.js';
import { normaliseUsername } from '../../../edge/shared/usernames.js';
import { CONTEXTS, CONTEXTS_LUA, parseContextLine, runLua } from '../../../scripts/lib/prosody-nodeprep.js';

const hex = (text: string) => [...text].map((char) => char.codePointAt(0)!.toString(16)).join(' ');

it('agrees with a real Prosody on every code point in every position, and accepts only names Prosody keeps as they are', async () => {
  let codePoint = 0;
  let context = 0;
  let compared = 0;
  let accepted = 0;
  const disagreements: string[] = [];
  const note = (what: string) => disagreements.length < 20 && disagreements.push(what);
  await runLua(CONTEXTS_LUA, (line) => {
    const text = CONTEXTS[context]!(String.fromCodePoint(codePoint));
    const prosody = parseContextLine(line);
    const ours = nodeprep(text);
    const oursStrict = nodeprep(text, { strict: true });
    if (ours !== prosody.prepared)
      note(
        `[${hex(text)}] nodeprep: ours ${ours === null ? 'refused' : hex(ours)}, Prosody ${prosody.prepared === null ? 'refused' : hex(prosody.prepared)}`,
      );
    if (oursStrict !== prosody.strict)
      note(
        `[${hex(text)}] strict: ours ${oursStrict === null ? 'refused' : hex(oursStrict)}, Prosody ${prosody.strict === null ? 'refused' : hex(prosody.strict)}`,
      );
    const name = normaliseUsername(text);
    if (name.ok) {
      accepted += 1;
      if (name.username !== prosody.strict || !prosody.stable)
        note(
          `[${hex(text)}] username ${hex(name.username)}, Prosody ${prosody.strict === null ? 'refused' : hex(prosody.strict)}${prosody.stable ? '' : ' (not stable)'}`,
        );
    }
    compared += 1;
    if (++context === CONTEXTS.length) {
      context = 0;
      codePoint = codePoint === 0xd7ff ? 0xe000 : codePoint + 1;
    }
  });
  expect(disagreements).toEqual([]);
  // Every line was read: 0x110000 code points less 0x800 surrogates, in each context.
  expect(compared).toBe((0x110000 - 0x800) * CONTEXTS.length);
  expect(codePoint).toBe(0x110000);
  // The check above is not vacuous: most letters of most scripts make names.
  expect(accepted).toBeGreaterThan(400_000);
}, 300_000);
