import { DendriteError, ShapeError, fmtShape } from '../errors.js';
import { getBackend } from '../backend/index.js';

/**
 * How a tensor was made: its inputs and the rule that turns the gradient of the output into
 * gradients of the inputs (one entry per parent; `null` where a parent needs none).
 */
export interface GradNode {
  /** Name of the op, for error messages and traces. */
  readonly op: string;
  readonly parents: readonly Tensor[];
  backward(gradOut: Float32Array): (Float32Array | null)[];
}

let gradEnabled = true;

/** True unless inside {@link noGrad}. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` without recording operations for autograd (inference, weight updates).
 *
 * @example
 * ```ts
 * const y = noGrad(() => model.forward(x));
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Number of elements of a shape. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Nested number arrays accepted by {@link tensor}. */
export type NestedArray = number | readonly NestedArray[];

/**
 * An n-dimensional float32 array with a shape, optional gradient and autograd history.
 * Storage is a contiguous row-major `Float32Array` allocated by the active backend. There is no
 * `dispose()`: tensors are garbage-collected like any other object.
 *
 * @example
 * ```ts
 * const w = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const loss = sum(matmul(w, w));
 * loss.backward();
 * w.grad!.toArray(); // ∂loss/∂w
 * ```
 */
export class Tensor {
  /** Dimensions, outermost first. */
  readonly shape: readonly number[];
  /** Row-major values. */
  data: Float32Array;
  /** Whether gradients flow to (and accumulate in) this tensor. */
  requiresGrad: boolean;
  /** Accumulated gradient (same shape), after {@link Tensor.backward}. */
  grad: Tensor | null = null;
  /** The op that made this tensor, or null for a leaf. */
  node: GradNode | null = null;
  /** Keep the gradient of this non-leaf tensor after backward (used to trace δ = ∂E/∂z). */
  retainsGrad = false;
  /** Optional name (parameters carry theirs). */
  name: string | undefined;
  /**
   * The padding mask of a sequence [batch, T, …]: [batch, T], 1 at real steps and 0 at padding.
   * Set by `attachMask` (the `masking` and `embedding` layers do it); a network hands it from
   * each layer's input to its output (see `applyLayer`), and the loss of a sequence output
   * leaves masked steps out. Ops do not carry it.
   */
  mask: Tensor | null = null;

  constructor(data: Float32Array, shape: readonly number[], requiresGrad = false) {
    const n = shapeSize(shape);
    if (data.length !== n) {
      throw new ShapeError(`tensor data has ${data.length} elements but shape ${fmtShape(shape)} needs ${n}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.requiresGrad = requiresGrad;
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Number of dimensions. */
  get rank(): number {
    return this.shape.length;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new ShapeError(`item() needs a tensor with one element, received shape ${fmtShape(this.shape)}`);
    return this.data[0];
  }

  /** Values as nested arrays (a number for a scalar). */
  toArray(): NestedArray {
    const rec = (dim: number, off: number): NestedArray => {
      if (dim === this.shape.length) return this.data[off];
      const stride = shapeSize(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[dim]; i++) out.push(rec(dim + 1, off + i * stride));
      return out;
    };
    return rec(0, 0);
  }

  /** The values of a rank-`n` tensor as nested arrays, or a ShapeError naming the rank. */
  private nested<T>(rank: number, what: string): T {
    if (this.rank !== rank) throw new ShapeError(`${what} needs a tensor of rank ${rank}, received shape ${fmtShape(this.shape)}`);
    return this.toArray() as T;
  }

  /**
   * Values of a vector `[n]` as `number[]` (no cast needed). ShapeError for another rank.
   *
   * @example
   * ```ts
   * tensor([1, 2, 3]).toArray1D(); // [1, 2, 3]
   * ```
   */
  toArray1D(): number[] {
    return this.nested<number[]>(1, 'toArray1D()');
  }

  /**
   * Values of a matrix `[rows, cols]` (a batch of outputs) as `number[][]`. ShapeError for another rank.
   *
   * @example
   * ```ts
   * const rows: number[][] = model.predict(x).toArray2D();
   * ```
   */
  toArray2D(): number[][] {
    return this.nested<number[][]>(2, 'toArray2D()');
  }

  /**
   * Values of a rank-3 tensor (e.g. sequences `[batch, T, features]`) as `number[][][]`.
   *
   * @example
   * ```ts
   * lstmOutput.toArray3D()[0][5]; // example 0, step 5
   * ```
   */
  toArray3D(): number[][][] {
    return this.nested<number[][][]>(3, 'toArray3D()');
  }

  /** Values as a plain array. */
  toFlatArray(): number[] {
    return Array.from(this.data);
  }

  /** A tensor with the same data and no history. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, false);
  }

  /** A deep copy (new storage, no history). */
  clone(): Tensor {
    const d = getBackend().alloc(this.size);
    d.set(this.data);
    return new Tensor(d, this.shape, false);
  }

  /** Asks backward() to keep this non-leaf tensor's gradient. Returns this. */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  /** Sets the gradient to null. */
  zeroGrad(): void {
    this.grad = null;
  }

  /**
   * Reverse-mode differentiation from this tensor. A scalar is seeded with 1; otherwise pass the
   * seed gradient (same shape). Gradients accumulate into `.grad` of leaves that require them
   * (and of tensors marked with {@link Tensor.retainGrad}). The graph is released afterwards,
   * so a second `backward()` through it is an error — unless the first one was called with
   * `{ retainGraph: true }` (as PyTorch's `retain_graph`).
   *
   * @example
   * ```ts
   * loss.backward({ retainGraph: true }); // keep the graph…
   * loss.backward();                      // …to backpropagate again (gradients add up)
   * ```
   */
  backward(seed?: Tensor | Float32Array | BackwardOptions, opts: BackwardOptions = {}): void {
    if (seed !== undefined && !(seed instanceof Tensor) && !(seed instanceof Float32Array)) runBackward(this, undefined, seed);
    else runBackward(this, seed, opts);
  }

  /** Shape-checked multi-index read, e.g. `t.get(0, 2)`. */
  get(...idx: number[]): number {
    if (idx.length !== this.shape.length) {
      throw new ShapeError(`get() needs ${this.shape.length} indices for shape ${fmtShape(this.shape)}, received ${idx.length}`);
    }
    let off = 0;
    for (let d = 0; d < idx.length; d++) {
      if (idx[d] < 0 || idx[d] >= this.shape[d] || !Number.isInteger(idx[d])) {
        throw new ShapeError(`index ${idx[d]} out of range for dimension ${d} of shape ${fmtShape(this.shape)}`);
      }
      off = off * this.shape[d] + idx[d];
    }
    return this.data[off];
  }

  toString(): string {
    return `Tensor${fmtShape(this.shape)} ${JSON.stringify(this.toArray())}`;
  }
}

/** Options of {@link Tensor.backward}. */
export interface BackwardOptions {
  /** Keep the graph so that backward() can run through it again (default false: it is released). */
  retainGraph?: boolean;
}

/** Tensors whose graph node a backward() released (a second pass through them is an error). */
const released = new WeakSet<Tensor>();

function runBackward(root: Tensor, seed: Tensor | Float32Array | undefined, opts: BackwardOptions): void {
  if (released.has(root)) throw new DendriteError(SECOND_BACKWARD);
  if (!root.requiresGrad) {
    throw new DendriteError('backward() called on a tensor that does not require gradients (no parameter or input with requiresGrad led to it)');
  }
  let seedData: Float32Array;
  if (seed === undefined) {
    if (root.size !== 1) throw new ShapeError(`backward() without a seed needs a scalar, received shape ${fmtShape(root.shape)}`);
    seedData = new Float32Array([1]);
  } else {
    seedData = seed instanceof Tensor ? seed.data : seed;
    if (seedData.length !== root.size) {
      throw new ShapeError(`backward() seed has ${seedData.length} elements, tensor has shape ${fmtShape(root.shape)}`);
    }
  }
  // topological order (iterative DFS: deep unrolled RNN graphs would overflow recursion)
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const parents = t.node ? t.node.parents : [];
    if (i < parents.length) {
      top[1]++;
      const p = parents[i];
      if (released.has(p)) throw new DendriteError(SECOND_BACKWARD);
      if (p.requiresGrad && !seen.has(p)) {
        seen.add(p);
        stack.push([p, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  const grads = new Map<Tensor, Float32Array>();
  grads.set(root, Float32Array.from(seedData));
  const be = getBackend();
  for (let k = order.length - 1; k >= 0; k--) {
    const t = order[k];
    const g = grads.get(t);
    if (!g) continue;
    grads.delete(t);
    if (!t.node || t.retainsGrad) {
      // accumulate out of place: a gradient tensor the user holds from an earlier backward()
      // keeps its values (g is this pass's own buffer, so the sum costs no allocation)
      if (t.grad) be.axpy(g.length, 1, t.grad.data, g, g);
      t.grad = new Tensor(g, t.shape);
    }
    if (!t.node) continue;
    const pg = t.node.backward(g);
    const parents = t.node.parents;
    for (let j = 0; j < parents.length; j++) {
      const p = parents[j];
      const gj = pg[j];
      if (!p.requiresGrad || !gj) continue;
      const prev = grads.get(p);
      if (prev) be.axpy(prev.length, 1, gj, prev, prev);
      else grads.set(p, gj === g || gj === t.grad?.data ? gj.slice() : gj);
    }
    if (!opts.retainGraph) {
      t.node = null; // release the graph as we go
      released.add(t);
    }
  }
}

const SECOND_BACKWARD = 'backward() through a graph that an earlier backward() already released: '
  + 'call the first backward({ retainGraph: true }) to keep the graph, or run the forward pass again';
