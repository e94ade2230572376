/**
 * Randomness a failing run can replay: a small seeded generator (mulberry32) whose seed comes from MEET_TEST_SEED
 * or is drawn fresh, and is printed when the test fails, with the line that reruns it. Call it inside the test.
 * The seed replays the random choices (delays, orders); with real processes the scheduler still varies.
 */
import { randomInt } from 'node:crypto';
import { onTestFailed } from 'vitest';

const SEED_ENV = 'MEET_TEST_SEED';

export interface SeededRandom {
  readonly seed: number;
  /** A float in [0, 1), as Math.random. */
  next(): number;
  /** A float in [min, max). */
  between(min: number, max: number): number;
}

/** Reads MEET_TEST_SEED (an integer 0..4294967295); a bad value is an error naming it. */
export function seedFromEnv(value = process.env[SEED_ENV]): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,10}$/.test(value) || Number(value) > 0xffff_ffff) {
    throw new Error(`${SEED_ENV}=${JSON.stringify(value)}: expected an integer from 0 to 4294967295`);
  }
  return Number(value);
}

export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function seededRandom(): SeededRandom {
  const seed = seedFromEnv() ?? randomInt(0, 0xffff_ffff);
  onTestFailed(() => {
    console.error(`random seed ${seed}: rerun with ${SEED_ENV}=${seed}`);
  });
  const next = mulberry32(seed);
  return { seed, next, between: (min, max) => min + next() * (max - min) };
}
