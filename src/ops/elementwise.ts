import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { unaryRow } from '../backend/unary.js';
import { Tensor, shapeSize } from '../tensor/tensor.js';
import type { BinaryOp, UnaryOp } from '../backend/backend.js';
import { be, record, wants } from './graph.js';

/** Broadcast result shape (NumPy rules) or a ShapeError naming the op. */
export function broadcastShape(op: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op} cannot broadcast ${fmtShape(a)} with ${fmtShape(b)}`);
    }
    out.push(Math.max(da, db));
  }
  return out;
}

/** Strides of `shape` as seen from a broadcast output of rank n (0 on broadcast dimensions). */
function bStrides(shape: readonly number[], out: readonly number[]): number[] {
  const n = out.length;
  const strides = new Array<number>(n).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const o = n - shape.length + i;
    strides[o] = shape[i] === 1 && out[o] !== 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/** Sums a gradient of the broadcast shape back down to `shape`. */
export function reduceTo(g: Float32Array, from: readonly number[], shape: readonly number[]): Float32Array {
  if (shapeSize(shape) === g.length) return g;
  const B = be();
  const n = from.length;
  const full = new Array<number>(n - shape.length).fill(1).concat(shape);
  let cur = g;
  let curShape = [...from];
  for (let d = 0; d < n; d++) {
    if (full[d] === 1 && curShape[d] !== 1) {
      const outer = shapeSize(curShape.slice(0, d));
      const inner = shapeSize(curShape.slice(d + 1));
      const next = B.allocUninit(outer * inner);
      B.sumAxis(cur, outer, curShape[d], inner, next, false);
      cur = next;
      curShape[d] = 1;
    }
  }
  return cur;
}

function binary(op: BinaryOp, a: Tensor, b: Tensor,
  grad: (g: Float32Array, outShape: number[]) => [Float32Array | null, Float32Array | null]): Tensor {
  const shape = broadcastShape(op, a.shape, b.shape);
  const B = be();
  const out = B.allocUninit(shapeSize(shape));
  B.binary(op, a.data, bStrides(a.shape, shape), b.data, bStrides(b.shape, shape), out, shape);
  return record(op, out, shape, [a, b], (g) => {
    const [ga, gb] = grad(g, shape);
    return [ga && reduceTo(ga, shape, a.shape), gb && reduceTo(gb, shape, b.shape)];
  });
}

/** g ⊙ y, with y broadcast to the output shape (the backward rule of a product). */
function timesBroadcast(g: Float32Array, y: Tensor, shape: number[], op: BinaryOp = 'mul'): Float32Array {
  const o = be().allocUninit(g.length);
  be().binary(op, g, bStrides(shape, shape), y.data, bStrides(y.shape, shape), o, shape);
  return o;
}

function asTensor(x: Tensor | number): Tensor {
  if (x instanceof Tensor) return x;
  const d = be().allocUninit(1);
  d[0] = x;
  return new Tensor(d, []);
}

/** a + b with broadcasting. @example `add(tensor([1, 2]), 1).toArray() // [2, 3]` */
export function add(a: Tensor | number, b: Tensor | number): Tensor {
  const A = asTensor(a);
  const Bt = asTensor(b);
  return binary('add', A, Bt, (g) => [wants(A) ? g : null, wants(Bt) ? g : null]);
}

/** a − b with broadcasting. @example `sub(tensor([3]), tensor([1])).item() // 2` */
export function sub(a: Tensor | number, b: Tensor | number): Tensor {
  const A = asTensor(a);
  const Bt = asTensor(b);
  return binary('sub', A, Bt, (g) => {
    let gb: Float32Array | null = null;
    if (wants(Bt)) {
      gb = be().allocUninit(g.length);
      be().scale(g, -1, gb);
    }
    return [wants(A) ? g : null, gb];
  });
}

/** a ⊙ b with broadcasting. @example `mul(tensor([2, 3]), tensor([4, 5])).toArray() // [8, 15]` */
export function mul(a: Tensor | number, b: Tensor | number): Tensor {
  const A = asTensor(a);
  const Bt = asTensor(b);
  return binary('mul', A, Bt, (g, shape) => {
    const ga = wants(A) ? timesBroadcast(g, Bt, shape) : null;
    const gb = wants(Bt) ? timesBroadcast(g, A, shape) : null;
    return [ga, gb];
  });
}

/** a ÷ b with broadcasting. @example `div(tensor([1]), 4).item() // 0.25` */
export function div(a: Tensor | number, b: Tensor | number): Tensor {
  const A = asTensor(a);
  const Bt = asTensor(b);
  return binary('div', A, Bt, (g, shape) => {
    const B = be();
    const ga = wants(A) ? timesBroadcast(g, Bt, shape, 'div') : null;
    let gb: Float32Array | null = null;
    if (wants(Bt)) {
      // ∂(a/b)/∂b = −a/b²
      const ab = B.allocUninit(g.length);
      B.binary('div', A.data, bStrides(A.shape, shape), Bt.data, bStrides(Bt.shape, shape), ab, shape);
      const q = timesBroadcast(ab, Bt, shape, 'div');
      gb = B.allocUninit(g.length);
      B.binary('mul', g, bStrides(shape, shape), q, bStrides(shape, shape), gb, shape);
      B.scale(gb, -1, gb);
    }
    return [ga, gb];
  });
}

/**
 * Elementwise function of a row of `backend/unary.ts` (forward and derivative from the backend's
 * kernels); `param` is the row's parameter (leaky slope, threshold θ). Backpropagating through a
 * row marked not differentiable (the threshold step) is a `ConfigError`.
 *
 * @example
 * ```ts
 * unaryOp('leakyRelu', tensor([-1, 2]), 0.1).toArray(); // [-0.1, 2]
 * ```
 */
export function unaryOp(op: UnaryOp, x: Tensor, param = 0): Tensor {
  const B = be();
  const out = B.allocUninit(x.size);
  B.unary(op, x.data, out, param);
  return record(op, out, x.shape, [x], (g) => {
    if (unaryRow(op).differentiable === false) {
      throw new ConfigError(`the ${op} activation has no gradient (its derivative is 0 everywhere it exists), so a network with ${op} units cannot be trained by backpropagation; use "logistic", "tanh" or "relu" for trainable layers`);
    }
    const dx = B.allocUninit(x.size);
    B.unaryGrad(op, x.data, out, g, dx, param, false);
    return [dx];
  });
}

/**
 * The elementwise function of one row of `backend/unary.ts` as an op of one tensor (the row's
 * parameter, if any, at 0): how `exp`, `relu`, `tanh`… are defined.
 *
 * @example
 * ```ts
 * const softsign = rowOp('tanh'); // any row
 * softsign(tensor([0])).item(); // 0
 * ```
 */
export function rowOp(op: UnaryOp): (x: Tensor) => Tensor {
  return (x) => unaryOp(op, x);
}

/** eˣ elementwise. @example `exp(tensor([0])).item() // 1` */
export const exp = rowOp('exp');

/** Natural logarithm elementwise. @example `log(tensor([1])).item() // 0` */
export const log = rowOp('log');

/** −x elementwise. @example `neg(tensor([2])).item() // -2` */
export const neg = rowOp('neg');

/** x² elementwise. @example `square(tensor([3])).item() // 9` */
export const square = rowOp('square');

/** √x elementwise. @example `sqrt(tensor([9])).item() // 3` */
export const sqrt = rowOp('sqrt');
