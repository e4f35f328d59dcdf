import { Tensor, shapeSize } from '../tensor/tensor.js';
import { getBackend } from '../backend/index.js';
import { DataError, fmtShape } from '../errors.js';

/** Most rows an index held as float32 names exactly (2^24). */
const EXACT_FLOAT_INDEX = 1 << 24;

/**
 * Copies the rows `order[start..end)` of x (rows = first dimension) into a new batch tensor
 * (without `order`, rows start..end−1 as a view of x's storage, no copy): one call of the
 * backend's `gatherRows`, which reads x where it is. A position of `order` that is not a row of x
 * is a `DataError`.
 *
 * @example
 * ```ts
 * const xb = gatherRows(x, rng.permutation(x.shape[0]), 0, 64);
 * ```
 */
export function gatherRows(x: Tensor, order: ArrayLike<number> | null, start: number, end: number): Tensor {
  const row = shapeSize(x.shape.slice(1));
  const n = end - start;
  const shape = [n, ...x.shape.slice(1)];
  if (!order) return new Tensor(x.data.subarray(start * row, end * row), shape);
  const be = getBackend();
  const out = be.allocUninit(n * row);
  const rows = x.shape[0];
  let bad = -1;
  if (rows <= EXACT_FLOAT_INDEX && row > 0) {
    const index = new Float32Array(n);
    for (let i = 0; i < n; i++) index[i] = order[start + i];
    bad = be.gatherRows(x.data, row, index, out);
  } else {
    // (rows a float32 index cannot name, or rows of no values)
    for (let i = 0; i < n && bad < 0; i++) {
      const r = order[start + i];
      if (!(Number.isInteger(r) && r >= 0 && r < rows)) bad = i;
      else out.set(x.data.subarray(r * row, (r + 1) * row), i * row);
    }
  }
  if (bad >= 0) throw new DataError(`gatherRows: position ${start + bad} of the order is ${order[start + bad]}, not a row of ${fmtShape(x.shape)}`);
  return new Tensor(out, shape);
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
