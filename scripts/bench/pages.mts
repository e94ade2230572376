/**
 * `npm run bench -- pages`: every page's weight in every language, compressed with the stylesheet (and script) it
 * loads: gzip and brotli bytes, and the heaviest page against the 30 KB budget (scripts/lib/page-weights.ts).
 */
import { PAGE_BUDGET_BYTES, pageWeights } from '../lib/page-weights.ts';
import type { BenchFigures } from './parts.mts';

export async function run(): Promise<BenchFigures> {
  const figures: BenchFigures = {};
  const weights = await pageWeights();
  for (const weight of weights) {
    figures[`${weight.lang}.${weight.page}.html_bytes`] = weight.htmlBytes;
    figures[`${weight.lang}.${weight.page}.gzip_bytes`] = weight.gzipBytes;
    figures[`${weight.lang}.${weight.page}.brotli_bytes`] = weight.brotliBytes;
  }
  const heaviest = weights.reduce((max, weight) => (weight.gzipBytes > max.gzipBytes ? weight : max));
  figures.heaviest_page = `${heaviest.lang}.${heaviest.page}`;
  figures.heaviest_gzip_bytes = heaviest.gzipBytes;
  figures.budget_bytes = PAGE_BUDGET_BYTES;
  figures.all_within_budget = weights.every((weight) => weight.gzipBytes <= PAGE_BUDGET_BYTES);
  return figures;
}
