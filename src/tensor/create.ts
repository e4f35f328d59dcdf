import { ShapeError, fmtShape } from '../errors.js';
import { getBackend } from '../backend/index.js';
import { NestedArray, Tensor, shapeSize } from './tensor.js';
import type { Rng } from './rng.js';

/** Options for creating tensors. */
export interface TensorOptions {
  /** Track gradients for this tensor (makes it a trainable leaf). */
  requiresGrad?: boolean;
  /** Shape for flat data; inferred from nested arrays otherwise. */
  shape?: readonly number[];
}

function inferShape(x: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = x;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as NestedArray;
  }
  return shape;
}

function flattenInto(x: NestedArray, shape: number[], dim: number, out: Float32Array, off: { i: number }): void {
  if (dim === shape.length) {
    if (typeof x !== 'number') throw new ShapeError(`ragged nested array: expected a number at depth ${dim}`);
    out[off.i++] = x;
    return;
  }
  if (!Array.isArray(x) || x.length !== shape[dim]) {
    throw new ShapeError(`ragged nested array: expected length ${shape[dim]} at depth ${dim}, received ${Array.isArray(x) ? x.length : typeof x}`);
  }
  for (const v of x) flattenInto(v, shape, dim + 1, out, off);
}

/**
 * Creates a tensor from nested arrays, a flat array/`Float32Array` with `shape`, or a number.
 *
 * @example
 * ```ts
 * tensor([[1, 2], [3, 4]]);                 // shape [2, 2]
 * tensor([1, 2, 3, 4], { shape: [2, 2] });  // same
 * tensor(3);                                // scalar
 * ```
 */
export function tensor(values: NestedArray | Float32Array | readonly number[], opts: TensorOptions = {}): Tensor {
  let data: Float32Array;
  let shape: readonly number[];
  if (values instanceof Float32Array || (opts.shape && Array.isArray(values) && !Array.isArray(values[0]))) {
    const flat = values as Float32Array | readonly number[];
    shape = opts.shape ?? [flat.length];
    if (shapeSize(shape) !== flat.length) {
      throw new ShapeError(`tensor(): ${flat.length} values do not fill shape ${fmtShape(shape)}`);
    }
    data = getBackend().allocUninit(flat.length);
    data.set(flat);
  } else {
    const s = inferShape(values as NestedArray);
    data = getBackend().alloc(shapeSize(s));
    flattenInto(values as NestedArray, s, 0, data, { i: 0 });
    shape = opts.shape ?? s;
    if (shapeSize(shape) !== data.length) throw new ShapeError(`tensor(): ${data.length} values do not fill shape ${fmtShape(shape)}`);
  }
  return new Tensor(data, shape, opts.requiresGrad ?? false);
}

/** A tensor of zeros. @example `zeros([2, 3])` */
export function zeros(shape: readonly number[], opts: { requiresGrad?: boolean } = {}): Tensor {
  return new Tensor(getBackend().alloc(shapeSize(shape)), shape, opts.requiresGrad ?? false);
}

/** A tensor filled with `value`. @example `full([2], 0.1)` */
export function full(shape: readonly number[], value: number, opts: { requiresGrad?: boolean } = {}): Tensor {
  const t = zeros(shape, opts);
  t.data.fill(value);
  return t;
}

/** A tensor of ones. @example `ones([3])` */
export function ones(shape: readonly number[], opts: { requiresGrad?: boolean } = {}): Tensor {
  return full(shape, 1, opts);
}

/** Uniform random values in [a, b) from a seeded generator. @example `randUniform([2, 2], rng, -0.5, 0.5)` */
export function randUniform(shape: readonly number[], rng: Rng, a = 0, b = 1): Tensor {
  const t = zeros(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.uniform(a, b);
  return t;
}

/** Normal random values N(mean, std²) from a seeded generator. @example `randNormal([2, 2], rng, 0, 0.1)` */
export function randNormal(shape: readonly number[], rng: Rng, mean = 0, std = 1): Tensor {
  const t = zeros(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.normal(mean, std);
  return t;
}
