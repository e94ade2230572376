import { describe, expect, it } from 'vitest';
import { withPlainStackTraces } from '../../stacks/stack-traces.js';

describe('withPlainStackTraces', () => {
  it('turns source-mapped stack traces off while building and restores them, also after a throw', () => {
    const before = process.sourceMapsEnabled;
    process.setSourceMapsEnabled(true);
    try {
      expect(withPlainStackTraces(() => process.sourceMapsEnabled)).toBe(false);
      expect(process.sourceMapsEnabled).toBe(true);
      const thrown = (() => {
        try {
          withPlainStackTraces(() => {
            throw new Error('bad value "x"');
          });
        } catch (error) {
          return error as Error;
        }
        return undefined;
      })();
      expect(process.sourceMapsEnabled).toBe(true);
      // The message is intact and the stack names this file.
      expect(thrown?.message).toBe('bad value "x"');
      expect(thrown?.stack).toContain('stack-traces.test.ts');
    } finally {
      process.setSourceMapsEnabled(before);
    }
  });

  it('leaves them off when they were off', () => {
    const before = process.sourceMapsEnabled;
    process.setSourceMapsEnabled(false);
    try {
      expect(withPlainStackTraces(() => 42)).toBe(42);
      expect(process.sourceMapsEnabled).toBe(false);
    } finally {
      process.setSourceMapsEnabled(before);
    }
  });
});
