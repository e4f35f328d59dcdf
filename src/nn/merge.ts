import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { add, mul } from '../ops/elementwise.js';
import { concat } from '../ops/shape.js';
import { Layer } from './module.js';
import type { BuildContext } from './module.js';
import type { MultiInputLayer, SymbolicTensor } from './symbolic.js';
import { registerLayer } from './registry.js';
import { checkKeys, checkObject } from '../validate.js';

/** Options of the merge layers. @example `const o: MergeOptions = { name: 'skip' };` */
export interface MergeOptions {
  /** Name (default `add_N`, `multiply_N`, `concatenate_N`). */
  name?: string;
}

const batchShape = (s: readonly number[]): string => fmtShape(['N', ...s]);

/**
 * Common part of the merge layers: several inputs of a graph, one output, no parameters. The
 * inputs' shapes are fixed by the first call; a later call (a shared merge) must match them.
 */
abstract class MergeLayer extends Layer implements MultiInputLayer {
  /** Shapes of the inputs (without batch), known after the first call. */
  inputShapes: (readonly number[])[] = [];
  private merged: readonly number[] = [];

  constructor(opts: MergeOptions | undefined, type: string) {
    super(opts?.name);
    if (opts !== undefined) checkKeys(checkObject(opts, type), this.allowedKeys(), opts.name ?? type);
  }

  /** Option keys this merge accepts. */
  protected allowedKeys(): string[] {
    return ['type', 'name'];
  }

  /** The output shape for these input shapes; throws ShapeError naming the producers when they do not fit. */
  protected abstract merge(inputs: readonly SymbolicTensor[]): readonly number[];

  outputShapeFor(inputs: readonly SymbolicTensor[]): readonly number[] {
    if (inputs.length < 2) throw new ShapeError(`${this.name} merges at least two inputs, received ${inputs.length}`);
    const out = this.merge(inputs);
    if (this.inputShapes.length) {
      const same = this.inputShapes.length === inputs.length && inputs.every((t, i) => fmtShape(t.shape) === fmtShape(this.inputShapes[i]));
      if (!same) {
        throw new ShapeError(`${this.name} is reused with incompatible inputs: it was built for ${this.inputShapes.map(batchShape).join(', ')} and now receives ${inputs.map((t) => `${batchShape(t.shape)} from ${t.source}`).join(', ')}`);
      }
    } else {
      this.inputShapes = inputs.map((t) => t.shape);
      this.merged = out;
    }
    return out;
  }

  protected init(_inputShape: readonly number[], _ctx: BuildContext): readonly number[] {
    return this.merged;
  }

  forward(_x: Tensor): Tensor {
    throw new ConfigError(`${this.name} merges several inputs: use it in a graph model (apply it to a list of symbolic tensors) or call forwardMany`);
  }

  /** Runs the merge on one batch per input. */
  forwardMany(xs: readonly Tensor[]): Tensor {
    if (xs.length !== this.inputShapes.length) throw new ShapeError(`${this.name} expects ${this.inputShapes.length} inputs, received ${xs.length}`);
    xs.forEach((x, i) => {
      const want = this.inputShapes[i];
      if (x.rank !== want.length + 1 || want.some((d, j) => d !== x.shape[j + 1]) || x.shape[0] !== xs[0].shape[0]) {
        throw new ShapeError(`${this.name} expects input ${i + 1} ${fmtShape(['*', ...want])}, received ${fmtShape(x.shape)}`);
      }
    });
    const y = this.combine(xs);
    return this.traced(undefined, y);
  }

  /** The merge itself. */
  protected abstract combine(xs: readonly Tensor[]): Tensor;

  config(): Record<string, unknown> {
    return { type: this.type, name: this.name };
  }
}

/** Merges of inputs of equal shapes, combined elementwise by `op`. */
abstract class ElementwiseMerge extends MergeLayer {
  constructor(opts: MergeOptions | undefined, type: string, private readonly op: (a: Tensor, b: Tensor) => Tensor) {
    super(opts, type);
  }
  protected merge(inputs: readonly SymbolicTensor[]): readonly number[] {
    const first = inputs[0];
    for (const t of inputs.slice(1)) {
      if (fmtShape(t.shape) !== fmtShape(first.shape)) {
        throw new ShapeError(`${this.name} needs inputs of the same shape: ${first.source} gives ${batchShape(first.shape)}, ${t.source} gives ${batchShape(t.shape)}`);
      }
    }
    return first.shape;
  }
  protected combine(xs: readonly Tensor[]): Tensor {
    return xs.slice(1).reduce((s, x) => this.op(s, x), xs[0]);
  }
}

/**
 * Sums its inputs elementwise (a residual connection: `new Add().apply([x, f(x)])`). All inputs
 * must have the same shape; each receives the output's gradient unchanged. No parameters.
 *
 * @example
 * ```ts
 * const x = Input({ shape: [8] });
 * const y = new Add().apply([x, new Dense({ units: 8 }).apply(x)]);
 * ```
 */
export class Add extends ElementwiseMerge {
  readonly type = 'add';
  constructor(opts?: MergeOptions) {
    super(opts, 'add', add);
  }
}

/**
 * Multiplies its inputs elementwise (gating). All inputs must have the same shape; input i
 * receives the output's gradient times the product of the other inputs. No parameters.
 *
 * @example
 * ```ts
 * const gate = new Dense({ units: 8, activation: 'logistic' }).apply(x);
 * const y = new Multiply().apply([gate, new Dense({ units: 8 }).apply(x)]);
 * ```
 */
export class Multiply extends ElementwiseMerge {
  readonly type = 'multiply';
  constructor(opts?: MergeOptions) {
    super(opts, 'multiply', mul);
  }
}

/** Options of {@link Concatenate}. @example `const o: ConcatenateOptions = { axis: 0 };` */
export interface ConcatenateOptions extends MergeOptions {
  /** Axis of one example to join along (default −1, the last; 0 = channels of feature maps). */
  axis?: number;
}

/**
 * Joins its inputs along an axis of the example (default the last): shapes must agree on every
 * other axis. Each input receives its slice of the output's gradient. No parameters.
 *
 * @example
 * ```ts
 * const a = Input({ shape: [3] }), b = Input({ shape: [5] });
 * const ab = new Concatenate().apply([a, b]); // shape [8]
 * ```
 */
export class Concatenate extends MergeLayer {
  readonly type = 'concatenate';
  readonly axis: number;
  constructor(opts: ConcatenateOptions = {}) {
    super(opts, 'concatenate');
    const a = opts.axis ?? -1;
    if (!Number.isInteger(a)) throw new ConfigError(`${opts.name ?? 'concatenate'}.axis must be an integer, received ${JSON.stringify(opts.axis)}`);
    this.axis = a;
  }
  protected override allowedKeys(): string[] {
    return ['type', 'name', 'axis'];
  }
  protected merge(inputs: readonly SymbolicTensor[]): readonly number[] {
    const rank = inputs[0].shape.length;
    const a = this.axis < 0 ? this.axis + rank : this.axis;
    if (a < 0 || a >= rank) throw new ShapeError(`${this.name}: axis ${this.axis} is out of range for inputs of shape ${batchShape(inputs[0].shape)}`);
    const first = inputs[0];
    let total = 0;
    for (const t of inputs) {
      if (t.shape.length !== rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
        throw new ShapeError(`${this.name} joins along axis ${this.axis}, so the other axes must agree: ${first.source} gives ${batchShape(first.shape)}, ${t.source} gives ${batchShape(t.shape)}`);
      }
      total += t.shape[a];
    }
    return first.shape.map((d, i) => (i === a ? total : d));
  }
  protected combine(xs: readonly Tensor[]): Tensor {
    const rank = xs[0].rank - 1;
    return concat(xs, (this.axis < 0 ? this.axis + rank : this.axis) + 1);
  }
  override config(): Record<string, unknown> {
    return { type: this.type, name: this.name, axis: this.axis };
  }
}

registerLayer('add', (s: MergeOptions) => new Add(s));
registerLayer('multiply', (s: MergeOptions) => new Multiply(s));
registerLayer('concatenate', (s: ConcatenateOptions) => new Concatenate(s));
