import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../edge/auth/delivery.js';
import { seededRandom } from '../../support/seeded-random.js';

describe('backoffDelay', () => {
  it('grows exponentially, is capped, and jitters within [step/2, step]', () => {
    const config = { baseDelayMs: 1000, maxDelayMs: 60_000 };
    expect(backoffDelay(1, config, () => 0)).toBe(500);
    expect(backoffDelay(1, config, () => 0.999999)).toBe(1000);
    expect(backoffDelay(3, config, () => 0)).toBe(2000);
    expect(backoffDelay(4, config, () => 0.5)).toBe(6000);
    expect(backoffDelay(20, config, () => 0.999999)).toBe(60_000);
    const random = seededRandom();
    const samples = new Set(Array.from({ length: 50 }, () => backoffDelay(5, config, random.next)));
    expect(samples.size).toBeGreaterThan(10);
    for (const sample of samples) {
      expect(sample).toBeGreaterThanOrEqual(8000);
      expect(sample).toBeLessThanOrEqual(16_000);
    }
  });
});
