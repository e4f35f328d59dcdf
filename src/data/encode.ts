import { DataError, ShapeError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/create.js';

/**
 * One-hot rows for integer class indices: `[labels.length, classes]` (or `[...shape, classes]`
 * with `shape`), 1 at each label's index. An index outside [0, classes) or not an integer is a
 * {@link DataError}; `what(i)` words where it came from (default `label i`).
 *
 * @example
 * ```ts
 * oneHot([2, 0], 3).toArray(); // [[0, 0, 1], [1, 0, 0]]
 * ```
 */
export function oneHot(
  labels: ArrayLike<number>,
  classes: number,
  opts: { shape?: readonly number[]; what?: (i: number) => string } = {},
): Tensor {
  const n = labels.length;
  const shape = opts.shape ?? [n];
  let size = 1;
  for (const d of shape) size *= d;
  if (size !== n) throw new ShapeError(`oneHot: shape ${fmtShape(shape)} does not hold ${n} labels`);
  const out = zeros([...shape, classes]);
  const d = out.data;
  for (let i = 0; i < n; i++) {
    const k = labels[i];
    if (!Number.isInteger(k) || k < 0 || k >= classes) {
      const at = opts.what ? opts.what(i) : `label ${i}`;
      throw new DataError(`${at}: index ${k} is outside the ${classes} classes [0, ${classes - 1}]`);
    }
    d[i * classes + k] = 1;
  }
  return out;
}

/**
 * Index of the largest value in each row of a `[..., classes]` tensor (first on ties): the
 * predicted class of each example.
 *
 * @example
 * ```ts
 * argmaxRows(tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]])); // Int32Array [1, 0]
 * ```
 */
export function argmaxRows(t: Tensor): Int32Array {
  if (t.rank < 1) throw new ShapeError(`argmaxRows expects a tensor with a class dimension, received ${fmtShape(t.shape)}`);
  const c = t.shape[t.rank - 1];
  const n = c === 0 ? 0 : t.size / c;
  const out = new Int32Array(n);
  const d = t.data;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bv = d[i * c];
    for (let j = 1; j < c; j++) {
      const v = d[i * c + j];
      if (v > bv) {
        bv = v;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}
