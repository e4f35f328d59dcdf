import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../backend/index.js';
import { attachMask, embedding } from '../ops/rnn.js';
import { reshape } from '../ops/shape.js';
import { checkInitializer, initialize } from './init.js';
import type { Initializer } from './init.js';
import { Layer, checkInt } from './module.js';
import type { BuildContext } from './module.js';
import { registerLayer } from './registry.js';
import { checkKeys, checkObject } from '../validate.js';

/** Options of an {@link Embedding} layer (TensorFlow.js names). */
export interface EmbeddingOptions {
  /** Vocabulary size: indices 0..inputDim−1. */
  inputDim: number;
  /** Size of each embedding vector. */
  outputDim: number;
  /** Index 0 is padding: attach a mask so recurrent layers and the loss skip those steps. */
  maskZero?: boolean;
  /** Initialiser of the embedding matrix (default `{type: 'randomUniform', minval: -0.05, maxval: 0.05}`). */
  embeddingsInitializer?: Initializer;
  /** Name (default `embedding_N`). */
  name?: string;
}

/**
 * Maps integer indices (a character or word id per step, stored as numbers) to learned vectors:
 * input [batch, T] → output [batch, T, outputDim] (any input shape works: one vector per index).
 * An index that is not an integer in [0, inputDim) is a `DataError` naming the layer, the index
 * and the vocabulary size. With `maskZero`, index 0 marks padding steps.
 *
 * Parameters: `weight` [inputDim, outputDim] — row k is the vector of index k.
 *
 * @example
 * ```ts
 * new Sequential([
 *   new Embedding({ inputDim: 64, outputDim: 16 }),
 *   new LSTM({ units: 128, returnSequences: true }),
 *   new Dense({ units: 64, activation: 'softmax' }),
 * ], { inputShape: [32] });
 * ```
 */
export class Embedding extends Layer {
  readonly type = 'embedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly maskZero: boolean;
  weight!: Tensor;

  constructor(readonly opts: EmbeddingOptions) {
    super(opts?.name);
    const where = opts?.name ?? 'embedding';
    checkKeys(checkObject(opts, where), ['type', 'name', 'inputDim', 'outputDim', 'maskZero', 'embeddingsInitializer'], where);
    this.inputDim = checkInt(opts.inputDim, `${where}.inputDim`);
    this.outputDim = checkInt(opts.outputDim, `${where}.outputDim`);
    if (opts.maskZero !== undefined && typeof opts.maskZero !== 'boolean') {
      throw new ConfigError(`${where}.maskZero must be true or false, received ${JSON.stringify(opts.maskZero)}`);
    }
    this.maskZero = opts.maskZero ?? false;
    checkInitializer(opts.embeddingsInitializer ?? 'zeros', `${where}.embeddingsInitializer`);
  }

  protected init(inputShape: readonly number[], ctx: BuildContext): readonly number[] {
    const init = this.opts.embeddingsInitializer ?? { type: 'randomUniform', minval: -0.05, maxval: 0.05 };
    this.weight = this.addParam('weight', initialize(init, [this.inputDim, this.outputDim], this.inputDim, this.outputDim, ctx.rng));
    return [...inputShape, this.outputDim];
  }

  forward(x: Tensor): Tensor {
    const want = this.inputShape;
    if (x.rank !== want.length + 1 || (want.length > 1 && want.slice(1).some((d, i) => d !== x.shape[i + 2]))) {
      throw new ShapeError(`${this.name} expects indices [*, ${want.map((d, i) => (i === 0 ? 'T' : d)).join(', ')}], received ${fmtShape(x.shape)}`);
    }
    const out = embedding(x, this.weight, this.name);
    if (this.maskZero && x.rank === 2) {
      // the indices are integers (the lookup checked them): |index| ≥ 0.5 marks a real step
      const be = getBackend();
      const m = be.alloc(x.size);
      be.unary('abs', x.data, m, 0);
      be.unary('threshold', m, m, 0.5);
      attachMask(out, new Tensor(m, x.shape));
    }
    return this.traced(undefined, out);
  }

  config(): Record<string, unknown> {
    const { name: _n, ...rest } = this.opts;
    return { type: this.type, name: this.name, ...rest };
  }
}

/** Options of a {@link Masking} layer. */
export interface MaskingOptions {
  /** Feature value that marks padding: a step whose features all equal it is masked (default 0). */
  maskValue?: number;
  /** Name (default `masking_N`). */
  name?: string;
}

/**
 * Marks padding steps of padded sequences (Keras's `Masking`): a step of [batch, T, features]
 * whose features all equal `maskValue` is masked. Values pass through unchanged; recurrent layers
 * carry their state through masked steps, a dense layer at every step passes the mask on, and the
 * loss of a sequence output leaves masked steps out. No parameters.
 *
 * @example
 * ```ts
 * const { x } = padSequences(seqs);            // pads with 0
 * new Sequential([new Masking(), new LSTM({ units: 8 }), new Dense({ units: 1 })], { inputShape: [x.shape[1], x.shape[2]] });
 * ```
 */
export class Masking extends Layer {
  readonly type = 'masking';
  readonly maskValue: number;

  constructor(readonly opts: MaskingOptions = {}) {
    super(opts?.name);
    checkKeys(checkObject(opts, opts?.name ?? 'masking'), ['type', 'name', 'maskValue'], opts?.name ?? 'masking');
    const v = opts.maskValue ?? 0;
    if (typeof v !== 'number' || Number.isNaN(v)) throw new ConfigError(`${opts.name ?? 'masking'}.maskValue must be a number, received ${JSON.stringify(v)}`);
    this.maskValue = v;
  }

  protected init(inputShape: readonly number[], _ctx: BuildContext): readonly number[] {
    if (inputShape.length !== 2) throw new ShapeError(`${this.name} expects sequences [T, features], received input shape ${fmtShape(inputShape)}`);
    return inputShape;
  }

  forward(x: Tensor): Tensor {
    const F = this.inputShape[1];
    if (x.rank !== 3 || x.shape[2] !== F) throw new ShapeError(`${this.name} expects input [*, T, ${F}], received ${fmtShape(x.shape)}`);
    const [Bn, T] = x.shape;
    // a step is real where Σ_features |x − maskValue| > 0, i.e. some feature differs from it
    const be = getBackend();
    const distance = be.alloc(x.size);
    be.binary('sub', x.data, [1], Float32Array.of(this.maskValue), [0], distance, [x.size]);
    be.unary('abs', distance, distance, 0);
    const m = be.alloc(Bn * T);
    be.sumAxis(distance, Bn * T, F, 1, m, false);
    be.unary('threshold', m, m, 1e-37);
    return this.traced(undefined, attachMask(reshape(x, x.shape), new Tensor(m, [Bn, T])));
  }

  config(): Record<string, unknown> {
    return { type: this.type, name: this.name, maskValue: this.maskValue };
  }
}

registerLayer('embedding', (s: EmbeddingOptions) => new Embedding(s));
registerLayer('masking', (s: MaskingOptions) => new Masking(s));
