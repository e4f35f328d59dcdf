import { ShapeError, fmtShape } from '../errors.js';
import { getBackend } from '../backend/index.js';
import { Tensor, keepTensor } from '../tensor/tensor.js';
import type { Rng } from '../tensor/rng.js';
import { applyLayer } from './symbolic.js';
import type { SymbolicTensor } from './symbolic.js';
import type { ActivationName } from '../ops/activations.js';
import type { PoolWindow } from '../ops/conv-pool.js';

/** What a layer gets when it is built: the generator its parameters (and masks) draw from. */
export interface BuildContext {
  /** Generator for parameter initialisation. */
  rng: Rng;
  /** The model's runtime generator, for masks drawn during training (dropout). */
  runtimeRng: Rng;
}

/** Values a layer recorded in its last forward pass while tracing (see {@link Layer.tracing}). */
export interface LayerRecord {
  /** Weighted sums (pre-activations), with gradient retained: `z.grad` is δ = ∂E/∂z after backward. */
  z?: Tensor;
  /** Activations (the layer's output). */
  a: Tensor;
  /** Extra per-layer tensors (e.g. recurrent hidden states per step). */
  extra?: Record<string, Tensor>;
}

/**
 * A module: a tree of named parameters and sub-modules with a train/eval mode.
 * Parameter names are dotted paths (`h1.weight`).
 */
export abstract class Module {
  /** Layer/module name, unique within a model (`dense_1`, or the spec's `name`). */
  name: string;
  /** Training mode (dropout active, batch-norm uses batch statistics). */
  training = true;
  protected readonly params = new Map<string, Tensor>();
  protected readonly children: Module[] = [];

  constructor(name: string) {
    this.name = name;
  }

  private frozen = false;

  /**
   * Whether training updates this module's parameters (default true). `false` freezes them,
   * recursively: they get no gradient, so optimisers leave them alone, while gradients still
   * flow through the module to the layers before it. In a spec: `"trainable": false`.
   *
   * @example
   * ```ts
   * encoder.trainable = false; // fine-tune only the layers after it
   * ```
   */
  get trainable(): boolean {
    return !this.frozen;
  }

  set trainable(on: boolean) {
    this.frozen = !on;
    for (const t of this.params.values()) {
      t.requiresGrad = on;
      if (!on) t.grad = null;
    }
    for (const c of this.children) c.trainable = on;
  }

  /**
   * Registers a parameter under `key` (trainable unless the module is frozen). Its storage moves
   * to where the active backend's kernels read it in place (see `Backend.resident`), if it has such.
   */
  protected addParam(key: string, t: Tensor): Tensor {
    const be = getBackend();
    if (be.resident) t.data = be.resident(t.data);
    t.requiresGrad = !this.frozen;
    t.name = `${this.name}.${key}`;
    this.params.set(key, t);
    return t;
  }

  /** This module's own parameters by key (not its children's). */
  ownParameters(): ReadonlyMap<string, Tensor> {
    return this.params;
  }

  /** Every trainable parameter with its dotted name, depth first. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, t] of this.params) out.push([`${prefix}${this.name}.${k}`, t]);
    for (const c of this.children) out.push(...c.namedParameters(prefix));
    return out;
  }

  /** Every trainable parameter. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Sets training (true) or inference (false) mode, recursively. Returns this. */
  train(on = true): this {
    this.training = on;
    for (const c of this.children) c.train(on);
    return this;
  }

  /** Inference mode (dropout off, running statistics). Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Clears every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Runs the module. */
  abstract forward(x: Tensor): Tensor;
}

/**
 * The activation a layer applies to its weighted sums z, as inspection sees it (see
 * {@link Layer.activationOf}).
 *
 * @example
 * ```ts
 * const act = new Dense({ units: 2, activation: 'relu' }).activationOf();
 * act?.name; // 'relu'
 * ```
 */
export interface AppliedActivation {
  /** The activation's name (`'relu'`, `'prelu'`, `'softmax'`…). */
  readonly name: ActivationName;
  /**
   * ∂a/∂z elementwise from z and a = φ(z) (PReLU slopes included), or null where the derivative
   * is not elementwise (softmax) or not defined (the threshold step).
   */
  derivative(z: Tensor, a: Tensor): Float32Array | null;
}

/**
 * A layer of a {@link Sequential} model: built once for an input shape (without the batch
 * dimension), then run on batches. While `tracing` is on it records z and a of its last forward
 * pass in `record` (δ appears as `record.z.grad` after backward).
 */
export abstract class Layer extends Module {
  /** Type name as in the spec (`dense`, `conv2d`, …). */
  abstract readonly type: string;
  /** Input shape without the batch dimension, known after build. */
  inputShape: readonly number[] = [];
  /** Output shape without the batch dimension, known after build. */
  outputShape: readonly number[] = [];
  /** Record z/a/δ of the next forward passes. */
  tracing = false;
  /** What the last traced forward pass recorded. */
  record: LayerRecord | null = null;
  /** Mutable state such as batch-norm running statistics (saved with the model, not trained). */
  readonly state = new Map<string, Tensor>();
  /** True when no name was given: the model names it `<type>_<n>`. */
  readonly autoNamed: boolean;
  /**
   * Whether the layer reads the padding mask of a sequence input and uses it up (a recurrent
   * layer returning its last state). A network gives any other layer whose output no longer has
   * the input's steps a `ConfigError` rather than let the mask silently drop (see `applyLayer`).
   */
  readonly consumesMask: boolean = false;

  constructor(name?: string) {
    super(name ?? '');
    this.autoNamed = name === undefined;
  }

  /**
   * Applies the layer to symbolic tensors of a graph model (Keras's functional call): returns the
   * symbolic output. The first call builds the layer for the input's shape; applying it again
   * shares its weights (the input shape must then be the same: `ShapeError` otherwise). Merge
   * layers take a list.
   *
   * @example
   * ```ts
   * const x = Input({ shape: [4] });
   * const dense = new Dense({ units: 4, activation: 'relu' });
   * const y = dense.apply(dense.apply(x)); // the same weights twice
   * ```
   */
  apply(x: SymbolicTensor | readonly SymbolicTensor[]): SymbolicTensor {
    return applyLayer(this, Array.isArray(x) ? x : [x as SymbolicTensor]);
  }

  /** Creates parameters for `inputShape` and returns the output shape (without batch). */
  build(inputShape: readonly number[], ctx: BuildContext): readonly number[] {
    this.inputShape = [...inputShape];
    this.outputShape = this.init(inputShape, ctx);
    return this.outputShape;
  }

  /** Layer-specific build: create parameters, return the output shape. */
  protected abstract init(inputShape: readonly number[], ctx: BuildContext): readonly number[];

  /**
   * Logits before a final softmax, for the fused softmax + cross-entropy loss; null when this
   * layer does not end in a softmax.
   */
  forwardLogits(_x: Tensor): Tensor | null {
    return null;
  }

  /**
   * The window of a pooling layer that a convolution before it can take into its own op (see
   * {@link Layer.forwardFused}), or null (every other layer, and pooling that cannot fuse).
   *
   * @example
   * ```ts
   * new MaxPool2D({ poolSize: 2 }).poolWindow(); // { kind: 'max', poolSize: [2, 2], strides: [2, 2] }
   * ```
   */
  poolWindow(): PoolWindow | null {
    return null;
  }

  /**
   * This layer and the `next` one in one op, or null when the pair does not fuse (a network then
   * runs them one after the other). A `Conv2D` followed by a pooling layer fuses (see
   * `conv2dPool`) unless either of them is tracing.
   *
   * @example
   * ```ts
   * const y = conv.forwardFused(x, pool) ?? pool.forward(conv.forward(x));
   * ```
   */
  forwardFused(_x: Tensor, _next: Layer): Tensor | null {
    return null;
  }

  /** Whether this layer's output is a softmax (so training can fuse it with cross-entropy). */
  endsInSoftmax(): boolean {
    return false;
  }

  /**
   * The activation this layer applies to its weighted sums, or null for layers without one
   * (pooling, flatten, recurrent layers…). Inspection reads ∂a/∂z through it.
   *
   * @example
   * ```ts
   * new Dense({ units: 2, activation: 'tanh' }).activationOf()?.name; // 'tanh'
   * ```
   */
  activationOf(): AppliedActivation | null {
    return null;
  }

  /** Stores z and a when tracing. */
  protected traced(z: Tensor | undefined, a: Tensor, extra?: Record<string, Tensor>): Tensor {
    if (this.tracing) {
      if (z && z.requiresGrad) z.retainGrad();
      // the record outlives the step: its tensors never go back to the buffer pool
      keepTensor(z);
      keepTensor(a);
      for (const t of Object.values(extra ?? {})) keepTensor(t);
      this.record = { z, a, extra };
    }
    return a;
  }

  /** Checks a batch's shape against the built input shape, naming this layer. */
  protected checkInput(x: Tensor): void {
    const want = this.inputShape;
    const ok = x.rank === want.length + 1 && want.every((d, i) => d === x.shape[i + 1]);
    if (!ok) {
      throw new ShapeError(`${this.name} expects input ${fmtShape(['*', ...want])}, received ${fmtShape(x.shape)}`);
    }
  }

  /** Number of parameter scalars (its sub-modules' included). */
  paramCount(): number {
    let n = 0;
    for (const t of this.parameters()) n += t.size;
    return n;
  }

  /** Layer configuration as in the spec (for summaries and saving). */
  abstract config(): Record<string, unknown>;
}

// layers validate their options with the shared checks (kept importable from here)
export { checkInt } from '../validate.js';
