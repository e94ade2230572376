import { describe, expect, it } from 'vitest';
import { mulberry32, seedFromEnv } from './seeded-random.js';

describe('seeded randomness', () => {
  it('replays the same sequence for the same seed, another for another, all in [0, 1)', () => {
    const take = (seed: number) => Array.from({ length: 1000 }, mulberry32(seed));
    expect(take(42)).toEqual(take(42));
    expect(take(43)).not.toEqual(take(42));
    const values = take(7);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(new Set(values).size).toBe(1000);
  });

  it('reads MEET_TEST_SEED, and refuses a value that is not a 32-bit unsigned integer, naming it', () => {
    expect(seedFromEnv(undefined)).toBeUndefined();
    expect(seedFromEnv('')).toBeUndefined();
    expect(seedFromEnv('0')).toBe(0);
    expect(seedFromEnv('4294967295')).toBe(4_294_967_295);
    for (const bad of ['-1', '4294967296', '1.5', 'abc', ' 7'])
      expect(() => seedFromEnv(bad)).toThrow(`MEET_TEST_SEED="${bad}"`);
  });
});
