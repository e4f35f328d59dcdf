import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { shapeSize } from '../tensor/tensor.js';
import { permute, reshape } from '../ops/shape.js';
import { Layer } from './module.js';
import type { BuildContext } from './module.js';
import { checkKeys } from '../validate.js';
import { registerLayer } from './registry.js';

/**
 * The one option of a layer that rearranges each example (`targetShape`, `dims`): a non-empty
 * list of numbers that passes `valid`, the options' keys checked; a ConfigError names the layer,
 * the key and what was `expected`.
 */
function listOption(opts: { name?: string } | undefined, type: string, key: string, expected: string, valid: (list: number[]) => boolean): number[] {
  const where = opts?.name ?? type;
  if (!opts || typeof opts !== 'object') throw new ConfigError(`${where}: options must be an object with ${key}`);
  checkKeys(opts, ['type', 'name', key], where);
  const list: unknown = (opts as Record<string, unknown>)[key];
  if (!Array.isArray(list) || list.length === 0 || !valid(list)) throw new ConfigError(`${where}.${key} must be ${expected}, received ${JSON.stringify(list)}`);
  return [...list] as number[];
}

/**
 * A layer without parameters that rearranges the elements of each example as its one list
 * option says; the batch dimension stays first.
 */
abstract class Rearrangement extends Layer {
  /** The option that says how (`targetShape`, `dims`), as `config()` gives it. */
  protected abstract option(): Record<string, number[]>;
  /** The rearranged batch `[batch, …outputShape]`. */
  protected abstract rearrange(x: Tensor): Tensor;

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return this.traced(undefined, this.rearrange(x));
  }

  config(): Record<string, unknown> {
    return { type: this.type, name: this.name, ...this.option() };
  }
}

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
export class Reshape extends Rearrangement {
  readonly type = 'reshape';
  readonly targetShape: readonly number[];

  constructor(opts: ReshapeOptions) {
    super(opts?.name);
    this.targetShape = listOption(opts, 'reshape', 'targetShape', 'a list of positive integers with at most one -1',
      (t) => t.every((d) => Number.isInteger(d) && (d >= 1 || d === -1)) && t.filter((d) => d === -1).length <= 1);
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

  protected rearrange(x: Tensor): Tensor {
    return reshape(x, [x.shape[0], ...this.outputShape]);
  }

  protected option(): Record<string, number[]> {
    return { targetShape: [...this.targetShape] };
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
export class Permute extends Rearrangement {
  readonly type = 'permute';
  readonly dims: readonly number[];

  constructor(opts: PermuteOptions) {
    super(opts?.name);
    this.dims = listOption(opts, 'permute', 'dims', 'a permutation of 1…n (the dimensions after the batch)',
      (d) => [...d].sort((a, b) => a - b).every((v, i) => v === i + 1));
  }

  protected init(inputShape: readonly number[], _ctx: BuildContext): readonly number[] {
    if (inputShape.length !== this.dims.length) {
      throw new ShapeError(`${this.name} permutes ${this.dims.length} dimensions but its input ${fmtShape(inputShape)} has ${inputShape.length}`);
    }
    return this.dims.map((d) => inputShape[d - 1]);
  }

  protected rearrange(x: Tensor): Tensor {
    return permute(x, [0, ...this.dims]);
  }

  protected option(): Record<string, number[]> {
    return { dims: [...this.dims] };
  }
}

registerLayer('reshape', (s: ReshapeOptions) => new Reshape(s));
registerLayer('permute', (s: PermuteOptions) => new Permute(s));
