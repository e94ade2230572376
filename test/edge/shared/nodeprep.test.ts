/** Where meet-auth's nodeprep differs from a general-purpose case folding (the whole table against Prosody: nodeprep.int.test.ts). */
import { expect, it } from 'vitest';
import { nodeprep } from '../../../edge/shared/nodeprep.js';
import { normaliseUsername } from '../../../edge/shared/usernames.js';

it('folds as Prosody does where a general-purpose case folding does not', () => {
  // Final sigma: String#toLowerCase picks ς at the end of a word, nodeprep always σ.
  expect(nodeprep('ΟΔΟΣ')).toBe('οδοσ');
  expect(normaliseUsername('ΟΔΟΣ')).toEqual({ ok: true, username: 'οδοσ' });
  // ẞ (new in Unicode 5.1) is unassigned for nodeprep: kept as it is, so refused as a username.
  expect(nodeprep('ẞ')).toBe('ẞ');
  expect(normaliseUsername('aẞ').ok).toBe(false);
  // A mark after a right-to-left letter: refused alone by the bidi rule, fine between two.
  expect(nodeprep('\uFB1D')).toBeNull();
  expect(nodeprep('\u05D0\uFB1D\u05D0')).toBe('\u05D0\u05D9\u05B4\u05D0');
});
