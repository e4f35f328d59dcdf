import { DendriteError, ShapeError, fmtShape } from '../errors.js';
import { getBackend } from '../backend/index.js';
import { bufferPool } from '../backend/buffer-pool.js';

/**
 * How a tensor was made: its inputs and the rule that turns the gradient of the output into
 * gradients of the inputs (one entry per parent; `null` where a parent needs none).
 */
export interface GradNode {
  /** Name of the op, for error messages and traces. */
  readonly op: string;
  readonly parents: readonly Tensor[];
  backward(gradOut: Float32Array): (Float32Array | null)[];
  /**
   * Buffers the forward pass made for the backward rule alone (nothing else holds them): a
   * training step gives them back to the buffer pool with its intermediates.
   */
  readonly saved?: readonly Float32Array[];
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
  /** Storage (see {@link Tensor.data}); {@link RELEASED} once the library gave it back to the buffer pool. */
  private _data: Float32Array;
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
    this._data = data;
    this.shape = Object.freeze([...shape]);
    this.requiresGrad = requiresGrad;
  }

  /**
   * Row-major values. Reading the values of an intermediate tensor of a training step after the
   * step ended (its storage went back to the buffer pool for the next step's ops) is a
   * `DendriteError` rather than a read of memory another op now uses; see {@link keepTensor}.
   */
  get data(): Float32Array {
    const d = this._data;
    if (d === RELEASED) throw new DendriteError(`a tensor ${fmtShape(this.shape)}${this.name ? ` (${this.name})` : ''} made inside a training step was read after the step: its storage went back to the buffer pool; keep it with keepTensor(t) (or t.clone()) while the step runs`);
    return d;
  }

  set data(d: Float32Array) {
    this._data = d;
  }

  /**
   * Whether the library gave this tensor's storage back to the buffer pool (its values are gone).
   *
   * @example
   * ```ts
   * if (!t.isReleased) console.log(t.toArray());
   * ```
   */
  get isReleased(): boolean {
    return this._data === RELEASED;
  }

  /** The storage without the released check (for {@link releaseTensors}). @internal */
  _dataOrReleased(): Float32Array {
    return this._data;
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

  /** A tensor with the same data and no history (the storage is then never reused by the buffer pool). */
  detach(): Tensor {
    bufferPool.escape(this.data);
    return new Tensor(this.data, this.shape, false);
  }

  /** A deep copy (new storage, no history). */
  clone(): Tensor {
    const d = getBackend().allocUninit(this.size);
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

/** Whether any of `bufs` other than the one at `except` shares storage with `b`. */
function sharedWith(b: Float32Array, bufs: readonly (Float32Array | null)[], except: number): boolean {
  for (let k = 0; k < bufs.length; k++) {
    const o = bufs[k];
    if (k !== except && o !== null && o.buffer === b.buffer) return true;
  }
  return false;
}

/**
 * The engine of {@link Tensor.backward}. Returns the tensors of the graph that an op made (not
 * the leaves). Gradient buffers handed out during this pass go back to the buffer pool as soon as
 * they are consumed, unless they became a `.grad` (leaves, {@link Tensor.retainGrad}) or share
 * storage with another gradient still to be used; with `retainGraph` nothing goes back (a
 * second pass runs the same closures). The gradients left in `.grad` stay releasable by the
 * scope around the call (a training step gives its parameters' gradients back after the update).
 */
function runBackward(root: Tensor, seed: Tensor | Float32Array | undefined, opts: BackwardOptions): Tensor[] {
  if (released.has(root)) throw new DendriteError(SECOND_BACKWARD);
  if (!root.requiresGrad) {
    throw new DendriteError('backward() called on a tensor that does not require gradients (no parameter or input with requiresGrad led to it)');
  }
  let seedData: Float32Array;
  if (seed === undefined) {
    if (root.size !== 1) throw new ShapeError(`backward() without a seed needs a scalar, received shape ${fmtShape(root.shape)}`);
    seedData = ONE;
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
  const made: Tensor[] = [];
  for (const t of order) {
    if (t.node === null) continue;
    made.push(t);
    // what the forward kept for the backward alone dies with the graph
    for (const s of t.node.saved ?? []) made.push(new Tensor(s, [s.length]));
  }
  const be = getBackend();
  const pool = bufferPool;
  const reuse = !opts.retainGraph;
  const scope = pool.open();
  try {
    const grads = new Map<Tensor, Float32Array>();
    const g0 = be.allocUninit(seedData.length);
    g0.set(seedData);
    grads.set(root, g0);
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k];
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      const kept = !t.node || t.retainsGrad;
      if (kept) {
        // accumulate out of place: a gradient tensor the user holds from an earlier backward()
        // keeps its values (g is this pass's own buffer, so the sum costs no allocation)
        if (t.grad) be.axpy(g.length, 1, t.grad.data, g, g);
        t.grad = new Tensor(g, t.shape);
      }
      if (!t.node) continue;
      const pg = t.node.backward(g);
      const parents = t.node.parents;
      // g passed on unchanged (a reshape) goes to the first parent that takes it, when t keeps no gradient
      let handedOn = kept;
      // whether g's storage lives on: kept as t's gradient, or stored (whole or a view) as a parent's
      let gLives = kept;
      for (let j = 0; j < parents.length; j++) {
        const p = parents[j];
        const gj = pg[j];
        if (!p.requiresGrad || !gj) continue;
        const prev = grads.get(p);
        if (prev) {
          be.axpy(prev.length, 1, gj, prev, prev);
          // consumed: back to the pool unless it is g itself (released below once nothing keeps it)
          // or another parent's gradient
          if (reuse && gj.buffer !== g.buffer && !sharedWith(gj, pg, j)) pool.release(gj);
        } else if (gj === g && !handedOn) {
          handedOn = true;
          gLives = true;
          grads.set(p, g);
        } else {
          const stored = gj === g || gj === t.grad?.data ? copyOf(be, gj) : gj;
          if (stored.buffer === g.buffer) gLives = true;
          grads.set(p, stored);
        }
      }
      if (reuse && !gLives) pool.release(g);
      if (!opts.retainGraph) {
        t.node = null; // release the graph as we go
        released.add(t);
      }
    }
  } finally {
    pool.close(scope, true);
  }
  return made;
}

/** A copy of `a` in a buffer of the backend (the pool's). */
function copyOf(be: ReturnType<typeof getBackend>, a: Float32Array): Float32Array {
  const c = be.allocUninit(a.length);
  c.set(a);
  return c;
}

/** The seed of a scalar's backward(). */
const ONE = Float32Array.of(1);

/**
 * Runs `root.backward()` (no seed, graph released) and returns the tensors of its graph that ops
 * made, for the training loop to give their storage back after the step ({@link releaseTensors}).
 * Internal: not exported from the package.
 *
 * @example
 * ```ts
 * const made = backwardCollecting(loss);
 * optimizer.step(params);
 * releaseTensors(made);
 * ```
 */
export function backwardCollecting(root: Tensor): Tensor[] {
  return runBackward(root, undefined, {});
}

/** The storage of a tensor whose buffer went back to the pool (see {@link Tensor.data}). */
const RELEASED = new Float32Array(0);

/**
 * Gives the storage of dead tensors back to the buffer pool: those of `tensors` whose buffer the
 * innermost pool scope (a training step, a prediction) handed out and nobody kept
 * ({@link keepTensor}, `detach()`). Every tensor of the list sharing a released buffer becomes
 * invalid: reading its `data` is a `DendriteError`. The caller must know that nothing outside
 * the list sees these tensors any more. Internal: not exported from the package.
 *
 * @example
 * ```ts
 * releaseTensors(graph); // at the end of a training step
 * ```
 */
export function releaseTensors(tensors: Iterable<Tensor>): void {
  const pool = bufferPool;
  let gone: Set<ArrayBufferLike> | null = null;
  const list = [...tensors];
  for (const t of list) {
    const d = t._dataOrReleased();
    if (d !== RELEASED && pool.release(d)) (gone ??= new Set()).add(d.buffer);
  }
  if (gone === null) return;
  for (const t of list) {
    const d = t._dataOrReleased();
    if (d !== RELEASED && gone.has(d.buffer)) t.data = RELEASED;
  }
}

/**
 * Marks a tensor's storage as kept past the training step (or prediction) that made it, so the
 * buffer pool never hands it to another op. Layers that store a value of their forward pass
 * (a stateful RNN's carried state, attention weights kept for a heatmap, traced z and a) call it;
 * so should a custom layer that does. Returns `t`.
 *
 * @example
 * ```ts
 * this.lastOutput = keepTensor(out); // still valid after fit() moved on
 * ```
 */
export function keepTensor<T extends Tensor | null | undefined>(t: T): T {
  if (t && !t.isReleased) bufferPool.escape(t.data);
  return t;
}

const SECOND_BACKWARD = 'backward() through a graph that an earlier backward() already released: '
  + 'call the first backward({ retainGraph: true }) to keep the graph, or run the forward pass again';
