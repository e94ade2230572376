/** Every page, in every language, with its stylesheet (and script), compressed: within 30 KB. */
import { describe, expect, it } from 'vitest';
import { LANGUAGES } from '../../edge/i18n/index.js';
import { PAGE_BUDGET_BYTES, pageWeights } from '../../scripts/lib/page-weights.js';

describe('page weights', () => {
  it('covers every page in every language and keeps each within the budget', async () => {
    const weights = await pageWeights();
    expect(new Set(weights.map((weight) => weight.lang))).toEqual(new Set(Object.keys(LANGUAGES)));
    expect(new Set(weights.map((weight) => weight.page)).size).toBeGreaterThanOrEqual(11);
    for (const weight of weights) {
      expect(weight.gzipBytes, `${weight.lang} ${weight.page}`).toBeLessThanOrEqual(PAGE_BUDGET_BYTES);
      expect(weight.brotliBytes).toBeLessThan(weight.gzipBytes);
      // The stylesheet is counted: no page weighs less than it alone.
      expect(weight.gzipBytes).toBeGreaterThan(2000);
    }
  });
});
