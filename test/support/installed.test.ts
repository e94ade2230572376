/** The unit project's guard: helpers that start installed components refuse to load there, saying what to do. */
import { expect, it } from 'vitest';
import { UNIT_PROJECT_ENV } from './installed.js';

it('runs in the unit project, which sets the guard variable', () => {
  expect(process.env[UNIT_PROJECT_ENV]).toBe('unit');
});

it.each([
  ['./prosody.js', 'Prosody'],
  ['./xmpp.js', 'Prosody'],
  ['./pebble.js', 'Pebble'],
  ['./browser.js', 'Chromium'],
  ['./prosody012.js', 'apt'],
  ['./stack.js', 'Prosody'],
  ['./agent-rig.js', 'Prosody'],
])('%s refuses to load in the unit project (needs %s), naming *.int.test.ts', async (module, component) => {
  await expect(import(module)).rejects.toThrow(
    new RegExp(`needs ${component}.*npm run test:unit.*\\*\\.int\\.test\\.ts`),
  );
});
