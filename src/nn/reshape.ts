import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { shapeSize } from '../tensor/tensor.js';
import { permute, reshape } from '../ops/shape.js';
import { Layer } from './module.js';
import type { BuildContext } from './module.js';
import { checkKeys } from './conv.js';

/** Options of a {@link Reshape} layer. */
export interface ReshapeOptions {
  /** The shape of each example (without the batch dimension); one entry may be −1 (inferred). */
  targetShape: number[];
  /** Name (default `reshape_N`). */
  name?: string;
}

/**
 * Gives each example a new shape with the same number of elements, in row-major order:
 * [batch, …] → [batch, …targetShape]. No parameters.
 *
 * @example
 * ```ts
 * new Reshape({ targetShape: [4, -1] }); // [batch, 16] → [batch, 4, 4]
 * ```
 */
export class Reshape extends Layer {
  readonly type = 'reshape';
  readonly targetShape: readonly number[];

  constructor(opts: ReshapeOptions) {
    super(opts?.name);
    const where = opts?.name ?? 'reshape';
    if (!opts || typeof opts !== 'object') throw new ConfigError(`${where}: options must be an object with targetShape`);
    checkKeys(opts, ['type', 'name', 'targetShape'], where);
    const t = opts.targetShape;
    if (!Array.isArray(t) || t.length === 0 || t.some((d) => !Number.isInteger(d) || (d < 1 && d !== -1)) || t.filter((d) => d === -1).length > 1) {
      throw new ConfigError(`${where}.targetShape must be a list of positive integers with at most one -1, received ${JSON.stringify(t)}`);
    }
    this.targetShape = [...t];
  }

  protected init(inputShape: readonly number[], _ctx: BuildContext): readonly number[] {
    const n = shapeSize(inputShape);
    const known = shapeSize(this.targetShape.filter((d) => d !== -1));
    const out = this.targetShape.map((d) => (d === -1 ? n / known : d));
    if (!out.every((d) => Number.isInteger(d)) || shapeSize(out) !== n) {
      throw new ShapeError(`${this.name} cannot reshape ${fmtShape(inputShape)} (${n} elements) into ${fmtShape(this.targetShape)}`);
    }
    return out;
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return this.traced(undefined, reshape(x, [x.shape[0], ...this.outputShape]));
  }

  config(): Record<string, unknown> {
    return { type: this.type, name: this.name, targetShape: [...this.targetShape] };
  }
}

/** Options of a {@link Permute} layer. */
export interface PermuteOptions {
  /**
   * The new order of the example's dimensions, numbered from 1 as in Keras (the batch dimension
   * is 0 and stays first): `[2, 1]` swaps the two dimensions of [batch, T, F].
   */
  dims: number[];
  /** Name (default `permute_N`). */
  name?: string;
}

/**
 * Reorders the dimensions of each example: output dimension i is input dimension `dims[i]`
 * (1-based, batch excluded). No parameters.
 *
 * @example
 * ```ts
 * new Permute({ dims: [2, 1] }); // [batch, T, F] → [batch, F, T]
 * ```
 */
export class Permute extends Layer {
  readonly type = 'permute';
  readonly dims: readonly number[];

  constructor(opts: PermuteOptions) {
    super(opts?.name);
    const where = opts?.name ?? 'permute';
    if (!opts || typeof opts !== 'object') throw new ConfigError(`${where}: options must be an object with dims`);
    checkKeys(opts, ['type', 'name', 'dims'], where);
    const d = opts.dims;
    const ok = Array.isArray(d) && d.length > 0 && [...d].sort((a, b) => a - b).every((v, i) => v === i + 1);
    if (!ok) throw new ConfigError(`${where}.dims must be a permutation of 1…n (the dimensions after the batch), received ${JSON.stringify(d)}`);
    this.dims = [...d];
  }

  protected init(inputShape: readonly number[], _ctx: BuildContext): readonly number[] {
    if (inputShape.length !== this.dims.length) {
      throw new ShapeError(`${this.name} permutes ${this.dims.length} dimensions but its input ${fmtShape(inputShape)} has ${inputShape.length}`);
    }
    return this.dims.map((d) => inputShape[d - 1]);
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return this.traced(undefined, permute(x, [0, ...this.dims]));
  }

  config(): Record<string, unknown> {
    return { type: this.type, name: this.name, dims: [...this.dims] };
  }
}
