/**
 * Summary statistics of a set of values, accumulated in float64: the numbers behind the lecture's
 * box plots of weights, z, activations and δs by layer (Figures 24–27).
 *
 * @example
 * ```ts
 * const s: Stats = summarize(layer.record!.z!.data);
 * console.log(s.mean, s.var, s.p50);
 * ```
 */
export interface Stats {
  /** Number of values. */
  count: number;
  mean: number;
  /** Population variance (divided by count), the var() of eq 60–66. */
  var: number;
  /** Percentiles (linear interpolation between order statistics). */
  p5: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
  min: number;
  max: number;
}

/**
 * Mean, variance, percentiles, minimum and maximum of `values` (float64 accumulation; NaN fields
 * for an empty set).
 *
 * @example
 * ```ts
 * summarize([1, 2, 3, 4]).var; // 1.25
 * ```
 */
export function summarize(values: ArrayLike<number>): Stats {
  const n = values.length;
  if (n === 0) return { count: 0, mean: NaN, var: NaN, p5: NaN, p25: NaN, p50: NaN, p75: NaN, p95: NaN, min: NaN, max: NaN };
  const { mean, var: variance } = meanVar(values);
  const sorted = Float64Array.from(values as ArrayLike<number>);
  sorted.sort();
  const q = (p: number): number => {
    const pos = (n - 1) * p;
    const lo = Math.floor(pos);
    const hi = Math.min(n - 1, lo + 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  };
  return {
    count: n, mean, var: variance,
    p5: q(0.05), p25: q(0.25), p50: q(0.5), p75: q(0.75), p95: q(0.95),
    min: sorted[0], max: sorted[n - 1],
  };
}

/**
 * Mean and population variance only (float64), without sorting.
 *
 * @example
 * ```ts
 * meanVar([1, 3]); // { mean: 2, var: 1 }
 * ```
 */
export function meanVar(values: ArrayLike<number>): { mean: number; var: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, var: NaN };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    sq += d * d;
  }
  return { mean, var: sq / n };
}

/**
 * Root mean square and L2 norm of `values` (float64).
 *
 * @example
 * ```ts
 * norms([3, 4]); // { norm: 5, rms: 3.5355… }
 * ```
 */
export function norms(values: ArrayLike<number>): { norm: number; rms: number } {
  let sq = 0;
  for (let i = 0; i < values.length; i++) sq += values[i] * values[i];
  return { norm: Math.sqrt(sq), rms: values.length ? Math.sqrt(sq / values.length) : 0 };
}
