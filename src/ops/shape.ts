import { ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { shapeSize } from '../tensor/tensor.js';
import { be, record } from './graph.js';

/**
 * Same data, new shape (one dimension may be −1 and is inferred). Shares storage; the gradient
 * is reshaped back.
 *
 * @example
 * ```ts
 * reshape(tensor([1, 2, 3, 4]), [2, -1]).shape; // [2, 2]
 * ```
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1);
  const free = shape.length - known.length;
  const prod = shapeSize(known);
  let resolved = [...shape];
  if (free > 1) throw new ShapeError(`reshape: at most one dimension may be -1, received ${fmtShape(shape)}`);
  if (free === 1) {
    if (prod === 0 || x.size % prod !== 0) throw new ShapeError(`reshape cannot turn ${fmtShape(x.shape)} into ${fmtShape(shape)}`);
    resolved = shape.map((d) => (d === -1 ? x.size / prod : d));
  }
  if (shapeSize(resolved) !== x.size) throw new ShapeError(`reshape cannot turn ${fmtShape(x.shape)} into ${fmtShape(shape)}`);
  return record('reshape', x.data, resolved, [x], (g) => [g]);
}

/**
 * Flattens every dimension after the first: [N, …] → [N, ∏…].
 * @example `flatten(zeros([2, 3, 4])).shape // [2, 12]`
 */
export function flatten(x: Tensor): Tensor {
  return reshape(x, [x.shape[0], -1]);
}

/**
 * Reorders the dimensions of a tensor (a copy): output dimension i is input dimension `axes[i]`
 * (negative axes count from the end). Backward: the gradient permuted back by the inverse.
 *
 * @example
 * ```ts
 * permute(zeros([2, 3, 4]), [0, 2, 1]).shape; // [2, 4, 3]
 * ```
 */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  const r = x.rank;
  const ax = axes.map((a) => (a < 0 ? a + r : a));
  const seen = new Set(ax);
  if (ax.length !== r || seen.size !== r || ax.some((a) => !Number.isInteger(a) || a < 0 || a >= r)) {
    throw new ShapeError(`permute expects a permutation of the ${r} axes of ${fmtShape(x.shape)}, received ${fmtShape(axes)}`);
  }
  const inverse = new Array<number>(r);
  ax.forEach((a, i) => { inverse[a] = i; });
  const shape = ax.map((a) => x.shape[a]);
  return record('permute', permuteData(x.data, x.shape, ax), shape, [x], (g) => [permuteData(g, shape, inverse)]);
}

/** The data of a tensor of `shape` with its dimensions reordered by `axes`. */
function permuteData(src: Float32Array, shape: readonly number[], axes: readonly number[]): Float32Array {
  const out = be().allocUninit(src.length);
  be().permute(src, shape, axes, out);
  return out;
}

/**
 * Swaps two dimensions (a copy; default the last two, so a 2-D tensor is transposed).
 *
 * @example
 * ```ts
 * transpose(tensor([[1, 2]])).shape;        // [2, 1]
 * transpose(zeros([2, 3, 4]), 0, 2).shape;  // [4, 3, 2]
 * ```
 */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  if (x.rank < 2) throw new ShapeError(`transpose expects a tensor of rank ≥ 2, received ${fmtShape(x.shape)}`);
  const r = x.rank;
  const d0 = dim0 < 0 ? dim0 + r : dim0;
  const d1 = dim1 < 0 ? dim1 + r : dim1;
  if (![d0, d1].every((d) => Number.isInteger(d) && d >= 0 && d < r)) {
    throw new ShapeError(`transpose: dimensions ${dim0} and ${dim1} do not both exist in ${fmtShape(x.shape)}`);
  }
  const axes = x.shape.map((_, i) => (i === d0 ? d1 : i === d1 ? d0 : i));
  return permute(x, axes);
}

/**
 * Reverses the order along one axis (a copy): y[…, i, …] = x[…, n−1−i, …]; the gradient is reversed back.
 * @example `reverse(tensor([[1, 2, 3]]), 1).toArray() // [[3, 2, 1]]`
 */
export function reverse(x: Tensor, axis: number): Tensor {
  const a = axis < 0 ? axis + x.rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= x.rank) throw new ShapeError(`reverse: axis ${axis} does not exist in ${fmtShape(x.shape)}`);
  const outer = shapeSize(x.shape.slice(0, a));
  const len = x.shape[a];
  const inner = shapeSize(x.shape.slice(a + 1));
  // runs of `inner` in [outer, len] order, written from the last position of each block backwards
  const flip = (src: Float32Array): Float32Array => {
    const o = be().allocUninit(src.length);
    be().copyRuns(src, 0, [len * inner, inner], o, (len - 1) * inner, [len * inner, -inner], [outer, len], inner);
    return o;
  };
  return record('reverse', flip(x.data), x.shape, [x], (g) => [flip(g)]);
}

/**
 * Concatenates tensors along an axis.
 * @example `concat([tensor([[1]]), tensor([[2, 3]])], 1).toArray() // [[1, 2, 3]]`
 */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new ShapeError('concat needs at least one tensor');
  const rank = xs[0].rank;
  const a = axis < 0 ? axis + rank : axis;
  for (const x of xs) {
    if (x.rank !== rank || x.shape.some((d, i) => i !== a && d !== xs[0].shape[i])) {
      throw new ShapeError(`concat along axis ${axis}: shapes ${xs.map((t) => fmtShape(t.shape)).join(', ')} do not match`);
    }
  }
  const outer = shapeSize(xs[0].shape.slice(0, a));
  const inner = shapeSize(xs[0].shape.slice(a + 1));
  const lens = xs.map((x) => x.shape[a]);
  const total = lens.reduce((s, v) => s + v, 0);
  const B = be();
  const out = B.allocUninit(outer * total * inner);
  // tensor k fills, in each of the outer blocks, its run of lens[k]·inner after those before it
  let off = 0;
  for (let k = 0; k < xs.length; k++) {
    const chunk = lens[k] * inner;
    B.copyRuns(xs[k].data, 0, [chunk], out, off, [total * inner], [outer], chunk);
    off += chunk;
  }
  const shape = xs[0].shape.map((d, i) => (i === a ? total : d));
  return record('concat', out, shape, xs, (g) => {
    const grads: Float32Array[] = [];
    let o2 = 0;
    for (let k = 0; k < xs.length; k++) {
      const chunk = lens[k] * inner;
      const gk = B.allocUninit(xs[k].size);
      B.copyRuns(g, o2, [total * inner], gk, 0, [chunk], [outer], chunk);
      grads.push(gk);
      o2 += chunk;
    }
    return grads;
  });
}

/**
 * Slice [start, end) along an axis (a copy).
 * @example `slice(tensor([[1, 2, 3]]), 1, 1, 3).toArray() // [[2, 3]]`
 */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const a = axis < 0 ? axis + x.rank : axis;
  if (a < 0 || a >= x.rank || start < 0 || end > x.shape[a] || start >= end) {
    throw new ShapeError(`slice [${start}, ${end}) along axis ${axis} is out of range for ${fmtShape(x.shape)}`);
  }
  const outer = shapeSize(x.shape.slice(0, a));
  const inner = shapeSize(x.shape.slice(a + 1));
  const len = x.shape[a];
  const n = end - start;
  const B = be();
  const out = B.allocUninit(outer * n * inner);
  B.copyRuns(x.data, start * inner, [len * inner], out, 0, [n * inner], [outer], n * inner);
  const shape = x.shape.map((d, i) => (i === a ? n : d));
  return record('slice', out, shape, [x], (g) => {
    const dx = B.alloc(x.size);
    B.copyRuns(g, 0, [n * inner], dx, start * inner, [len * inner], [outer], n * inner);
    return [dx];
  });
}
