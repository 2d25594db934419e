/** Returns the `quantile` (0 to 1) of `values` by the nearest-rank method, or null for no values. */
export function percentile(values: ArrayLike<number>, quantile: number): number | null {
  if (values.length === 0) {
    return null;
  }
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil(quantile * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}
