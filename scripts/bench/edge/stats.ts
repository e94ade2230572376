/** Figures of the edge bench: percentiles, rounding, and the edge's own V8 heap from /metrics. */

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const round = (value: number) => Math.round(value * 10) / 10;
export const mb = (kb: number) => round(kb / 1024);

/** Samples the edge's own V8 heap figures from /metrics (prom-client default metrics) once a second. */
export function heapSampler(url: string, token: string) {
  let usedPeak = 0;
  let totalPeak = 0;
  const read = (text: string, name: string) =>
    Number(new RegExp(`^meet_auth_${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const timer = setInterval(() => {
    fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
      .then((res) => res.text())
      .then((text) => {
        usedPeak = Math.max(usedPeak, read(text, 'nodejs_heap_size_used_bytes') || 0);
        totalPeak = Math.max(totalPeak, read(text, 'nodejs_heap_size_total_bytes') || 0);
      })
      .catch(() => undefined);
  }, 1000);
  return {
    stop: () => clearInterval(timer),
    usedPeakMb: () => round(usedPeak / 2 ** 20),
    totalPeakMb: () => round(totalPeak / 2 ** 20),
  };
}
