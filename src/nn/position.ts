import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { add } from '../ops/elementwise.js';
import { slice } from '../ops/shape.js';
import { checkInitializer, initialize } from './init.js';
import type { Initializer } from './init.js';
import { Layer, checkInt } from './module.js';
import type { BuildContext } from './module.js';
import { checkKeys } from '../validate.js';
import { registerLayer } from './registry.js';

/** Checks a [batch, T, F] input against the built F and the longest T; returns T. */
function checkPositions(layer: Layer, x: Tensor, maxLength: number): number {
  const F = layer.inputShape[1];
  if (x.rank !== 3 || x.shape[2] !== F) {
    throw new ShapeError(`${layer.name} expects input [*, T, ${F}], received ${fmtShape(x.shape)}`);
  }
  if (x.shape[1] > maxLength) {
    throw new ShapeError(`${layer.name} has positions for sequences of up to ${maxLength} steps, received ${x.shape[1]} (${fmtShape(x.shape)})`);
  }
  return x.shape[1];
}

/**
 * A layer that adds a [maxLength, F] table of position vectors to sequences of up to maxLength
 * steps. The options are checked here: the keys (`maxLength`, `name` and the layer's own, each
 * with its check), and `maxLength` a positive integer.
 */
abstract class PositionLayer<O extends PositionOptions> extends Layer {
  maxLength = 0;
  private positions: Tensor | null = null;

  constructor(readonly opts: O, defaultName: string, checks: Record<string, (value: unknown, where: string) => void>) {
    super(opts?.name);
    const where = opts?.name ?? defaultName;
    if (!opts || typeof opts !== 'object') throw new ConfigError(`${where}: options must be an object`);
    checkKeys(opts, ['type', 'name', 'maxLength', ...Object.keys(checks)], where);
    if (opts.maxLength !== undefined) checkInt(opts.maxLength, `${where}.maxLength`);
    for (const [key, check] of Object.entries(checks)) check((opts as Record<string, unknown>)[key], `${where}.${key}`);
  }

  /** Makes the position table [maxLength, F] (a parameter, or a constant). */
  protected abstract makePositions(maxLength: number, F: number, ctx: BuildContext): Tensor;

  /** The layer's own options as `config()` gives them. */
  protected abstract ownConfig(): Record<string, unknown>;

  protected init(inputShape: readonly number[], ctx: BuildContext): readonly number[] {
    if (inputShape.length !== 2) {
      throw new ShapeError(`${this.name} expects sequences [T, features], received input shape ${fmtShape(inputShape)}`);
    }
    this.maxLength = this.opts.maxLength ?? inputShape[0];
    this.positions = this.makePositions(this.maxLength, inputShape[1], ctx);
    return inputShape;
  }

  forward(x: Tensor): Tensor {
    const T = checkPositions(this, x, this.maxLength);
    const table = this.positions!;
    const p = T === this.maxLength ? table : slice(table, 0, 0, T);
    return this.traced(undefined, add(x, p));
  }

  config(): Record<string, unknown> {
    return { type: this.type, name: this.name, maxLength: this.maxLength, ...this.ownConfig() };
  }
}

/** Options both position layers take. @example `const o: PositionOptions = { maxLength: 128 };` */
export interface PositionOptions {
  /** The longest sequence it has positions for (default: the input's T). */
  maxLength?: number;
  /** Name (default the layer's type and a number, e.g. `positionEmbedding_1`). */
  name?: string;
}

/**
 * Options of a {@link PositionEmbedding} layer: those of {@link PositionOptions} and `initializer`,
 * the position vectors' initialiser (default `{type: 'randomNormal', stddev: 0.02}`).
 */
export type PositionEmbeddingOptions = PositionOptions & { initializer?: Initializer };

/**
 * Learned position embeddings (GPT's): adds a trained vector per position to each step,
 * y[b, t] = x[b, t] + P[t]. Input [batch, T, F] with T ≤ maxLength → same shape (a mask passes on).
 *
 * Parameters: `embeddings` [maxLength, F] — row t is position t's vector.
 *
 * @example
 * ```ts
 * new Sequential([new Embedding({ inputDim: 64, outputDim: 32 }), new PositionEmbedding()],
 *   { inputShape: [64] });
 * ```
 */
export class PositionEmbedding extends PositionLayer<PositionEmbeddingOptions> {
  readonly type = 'positionEmbedding';
  embeddings!: Tensor;

  constructor(opts: PositionEmbeddingOptions = {}) {
    super(opts, 'positionEmbedding', { initializer: (v, where) => checkInitializer(v ?? 'zeros', where) });
  }

  protected makePositions(maxLength: number, F: number, ctx: BuildContext): Tensor {
    const init = this.opts.initializer ?? { type: 'randomNormal', stddev: 0.02 };
    this.embeddings = this.addParam('embeddings', initialize(init, [maxLength, F], F, F, ctx.rng));
    return this.embeddings;
  }

  protected ownConfig(): Record<string, unknown> {
    return this.opts.initializer ? { initializer: this.opts.initializer } : {};
  }
}

/**
 * Options of a {@link SinusoidalEncoding} layer: those of {@link PositionOptions} and `base`, the
 * base of the wavelengths (default 10000, "Attention is all you need").
 */
export type SinusoidalEncodingOptions = PositionOptions & { base?: number };

/**
 * The fixed sinusoidal position encoding of "Attention is all you need": y[b, t] = x[b, t] + PE[t]
 * with PE[t, 2i] = sin(t / base^(2i/F)) and PE[t, 2i+1] = cos(t / base^(2i/F)). No parameters;
 * works for any T ≤ maxLength. Input [batch, T, F] → same shape.
 *
 * @example
 * ```ts
 * new SinusoidalEncoding({ maxLength: 512 });
 * ```
 */
export class SinusoidalEncoding extends PositionLayer<SinusoidalEncodingOptions> {
  readonly type = 'sinusoidalEncoding';
  /** The encoding table [maxLength, F]. */
  table!: Tensor;

  constructor(opts: SinusoidalEncodingOptions = {}) {
    super(opts, 'sinusoidalEncoding', {
      base: (v, where) => {
        if (v !== undefined && (typeof v !== 'number' || !(v > 1))) throw new ConfigError(`${where} must be a number > 1, received ${JSON.stringify(v)}`);
      },
    });
  }

  protected makePositions(maxLength: number, F: number): Tensor {
    const base = this.opts.base ?? 10000;
    // position t, feature j at index t·F + j
    const d = Float32Array.from({ length: maxLength * F }, (_, i) => {
      const j = i % F;
      const angle = Math.floor(i / F) / Math.pow(base, (2 * Math.floor(j / 2)) / F);
      return j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    });
    this.table = new Tensor(d, [maxLength, F]);
    return this.table;
  }

  protected ownConfig(): Record<string, unknown> {
    return { base: this.opts.base ?? 10000 };
  }
}

registerLayer('positionEmbedding', (s: PositionEmbeddingOptions) => new PositionEmbedding(s));
registerLayer('sinusoidalEncoding', (s: SinusoidalEncodingOptions) => new SinusoidalEncoding(s));
