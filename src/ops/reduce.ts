import { ShapeError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { shapeSize } from '../tensor/tensor.js';
import { be, record } from './graph.js';

function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new ShapeError(`${op}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/**
 * Sum of all elements (a scalar), or along one axis (that axis removed, or kept as 1 with
 * `keepDims`). Accumulates in float64 for the full sum.
 *
 * @example
 * ```ts
 * sum(tensor([[1, 2], [3, 4]])).item();        // 10
 * sum(tensor([[1, 2], [3, 4]]), 0).toArray();  // [4, 6]
 * ```
 */
export function sum(x: Tensor, axis?: number, keepDims = false): Tensor {
  const B = be();
  if (axis === undefined) {
    const out = B.allocUninit(1);
    out[0] = B.sum(x.data);
    return record('sum', out, keepDims ? x.shape.map(() => 1) : [], [x], (g) => {
      const dx = B.allocUninit(x.size);
      B.fill(dx, g[0]);
      return [dx];
    });
  }
  const a = normAxis(axis, x.rank, 'sum');
  const outer = shapeSize(x.shape.slice(0, a));
  const len = x.shape[a];
  const inner = shapeSize(x.shape.slice(a + 1));
  const out = B.allocUninit(outer * inner);
  B.sumAxis(x.data, outer, len, inner, out, false);
  const shape = keepDims ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
  return record('sum', out, shape, [x], (g) => {
    const dx = B.alloc(x.size);
    B.addBroadcast(dx, g, outer, len, inner, dx);
    return [dx];
  });
}

/**
 * Mean of all elements, or along one axis.
 *
 * @example
 * ```ts
 * mean(tensor([1, 2, 3, 4])).item(); // 2.5
 * ```
 */
export function mean(x: Tensor, axis?: number, keepDims = false): Tensor {
  const s = sum(x, axis, keepDims);
  const n = axis === undefined ? x.size : x.shape[normAxis(axis, x.rank, 'mean')];
  const B = be();
  const out = B.allocUninit(s.size);
  B.scale(s.data, 1 / n, out);
  return record('mean', out, s.shape, [s], (g) => {
    const d = B.allocUninit(g.length);
    B.scale(g, 1 / n, d);
    return [d];
  });
}
