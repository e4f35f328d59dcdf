import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { shapeSize } from '../tensor/tensor.js';
import { permute, reshape } from '../ops/shape.js';
import { Layer } from './module.js';
import type { BuildContext } from './module.js';
import { checkKeys } from '../validate.js';
import { registerLayer } from './registry.js';

/**
 * A layer without parameters that rearranges the elements of each example as its one list
 * option (`targetShape`, `dims`) says; the batch dimension stays first. The option is checked
 * once here: a non-empty list of numbers that passes `valid`, the options' keys checked; a
 * ConfigError names the layer, the key and what was `expected`.
 */
abstract class Rearrangement extends Layer {
  /** The option's value, as given. */
  protected readonly list: readonly number[];

  constructor(opts: { name?: string } | undefined, type: string, private readonly key: string, expected: string,
    valid: (list: number[]) => boolean) {
    super(opts?.name);
    const where = opts?.name ?? type;
    if (!opts || typeof opts !== 'object') throw new ConfigError(`${where}: options must be an object with ${key}`);
    checkKeys(opts, ['type', 'name', key], where);
    const list: unknown = (opts as Record<string, unknown>)[key];
    if (!Array.isArray(list) || list.length === 0 || !valid(list)) throw new ConfigError(`${where}.${key} must be ${expected}, received ${JSON.stringify(list)}`);
    this.list = [...list] as number[];
  }

  /** The rearranged batch `[batch, …outputShape]`. */
  protected abstract rearrange(x: Tensor): Tensor;

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return this.traced(undefined, this.rearrange(x));
  }

  config(): Record<string, unknown> {
    return { type: this.type, name: this.name, [this.key]: [...this.list] };
  }
}

/**
 * Options of a {@link Reshape} layer: `targetShape`, the shape of each example (without the batch
 * dimension), where one entry may be −1 (inferred); `name` (default `reshape_N`).
 */
export type ReshapeOptions = { targetShape: number[]; name?: string };

/**
 * Gives each example a new shape with the same number of elements, in row-major order:
 * [batch, …] → [batch, …targetShape]. No parameters.
 *
 * @example
 * ```ts
 * new Reshape({ targetShape: [4, -1] }); // [batch, 16] → [batch, 4, 4]
 * ```
 */
export class Reshape extends Rearrangement {
  readonly type = 'reshape';

  constructor(opts: ReshapeOptions) {
    super(opts, 'reshape', 'targetShape', 'a list of positive integers with at most one -1',
      (t) => t.every((d) => Number.isInteger(d) && (d >= 1 || d === -1)) && t.filter((d) => d === -1).length <= 1);
  }

  /** The shape of each example as given (one entry may be −1). */
  get targetShape(): readonly number[] {
    return this.list;
  }

  protected init(inputShape: readonly number[], _ctx: BuildContext): readonly number[] {
    const n = shapeSize(inputShape);
    const known = shapeSize(this.list.filter((d) => d !== -1));
    const out = this.list.map((d) => (d === -1 ? n / known : d));
    if (!out.every((d) => Number.isInteger(d)) || shapeSize(out) !== n) {
      throw new ShapeError(`${this.name} cannot reshape ${fmtShape(inputShape)} (${n} elements) into ${fmtShape(this.list)}`);
    }
    return out;
  }

  protected rearrange(x: Tensor): Tensor {
    return reshape(x, [x.shape[0], ...this.outputShape]);
  }
}

/**
 * Options of a {@link Permute} layer: `dims`, the new order of the example's dimensions, numbered
 * from 1 as in Keras (the batch dimension is 0 and stays first: `[2, 1]` swaps the two dimensions
 * of [batch, T, F]); `name` (default `permute_N`).
 */
export type PermuteOptions = { dims: number[]; name?: string };

/**
 * Reorders the dimensions of each example: output dimension i is input dimension `dims[i]`
 * (1-based, batch excluded). No parameters.
 *
 * @example
 * ```ts
 * new Permute({ dims: [2, 1] }); // [batch, T, F] → [batch, F, T]
 * ```
 */
export class Permute extends Rearrangement {
  readonly type = 'permute';

  constructor(opts: PermuteOptions) {
    super(opts, 'permute', 'dims', 'a permutation of 1…n (the dimensions after the batch)',
      (d) => [...d].sort((a, b) => a - b).every((v, i) => v === i + 1));
  }

  /** The new order of the dimensions (1-based). */
  get dims(): readonly number[] {
    return this.list;
  }

  protected init(inputShape: readonly number[], _ctx: BuildContext): readonly number[] {
    if (inputShape.length !== this.list.length) {
      throw new ShapeError(`${this.name} permutes ${this.list.length} dimensions but its input ${fmtShape(inputShape)} has ${inputShape.length}`);
    }
    return this.list.map((d) => inputShape[d - 1]);
  }

  protected rearrange(x: Tensor): Tensor {
    return permute(x, [0, ...this.list]);
  }
}

registerLayer('reshape', (s: ReshapeOptions) => new Reshape(s));
registerLayer('permute', (s: PermuteOptions) => new Permute(s));
