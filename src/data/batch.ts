import { Tensor, shapeSize } from '../tensor/tensor.js';
import { getBackend } from '../backend/index.js';

/**
 * Copies the rows `order[start..end)` of x (rows = first dimension) into a new batch tensor.
 *
 * @example
 * ```ts
 * const xb = gatherRows(x, rng.permutation(x.shape[0]), 0, 64);
 * ```
 */
export function gatherRows(x: Tensor, order: ArrayLike<number> | null, start: number, end: number): Tensor {
  const row = shapeSize(x.shape.slice(1));
  const n = end - start;
  if (!order) return new Tensor(x.data.subarray(start * row, end * row), [n, ...x.shape.slice(1)]);
  const out = getBackend().allocUninit(n * row);
  for (let i = 0; i < n; i++) {
    const r = order[start + i];
    out.set(x.data.subarray(r * row, (r + 1) * row), i * row);
  }
  return new Tensor(out, [n, ...x.shape.slice(1)]);
}

/**
 * Splits [0, n) into consecutive batches of `size` (the last may be smaller).
 * @example `batchRanges(5, 2) // [[0, 2], [2, 4], [4, 5]]`
 */
export function batchRanges(n: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += size) out.push([s, Math.min(n, s + size)]);
  return out;
}
