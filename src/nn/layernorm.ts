import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { full } from '../tensor/create.js';
import { layerNorm } from '../ops/layernorm.js';
import { Layer } from './module.js';
import type { BuildContext } from './module.js';
import { checkKeys } from '../validate.js';
import { registerLayer } from './registry.js';

/** Options of a {@link LayerNormalization} layer. */
export interface LayerNormalizationOptions {
  /** ε added to the variance (default 1e-5, PyTorch's; Keras uses 1e-3). */
  epsilon?: number;
  /** Learn a shift β (default true). */
  center?: boolean;
  /** Learn a scale γ (default true). */
  scale?: boolean;
  /** Name (default `layerNormalization_N`). */
  name?: string;
}

/**
 * Layer normalisation over the last axis: each example (each step of a sequence) is normalised
 * to mean 0 and variance 1 across its features, then scaled and shifted: y = γ ⊙ x̂ + β.
 * Unlike batch normalisation it has no batch statistics and behaves the same in training and
 * inference. Input [batch, …, F] → same shape, for any sizes before F (a sequence mask passes on).
 *
 * Parameters: `gamma` [F] (starts at 1), `beta` [F] (starts at 0) — PyTorch's `weight` and `bias`.
 *
 * @example
 * ```ts
 * new Sequential([new Embedding({ inputDim: 64, outputDim: 32 }), new LayerNormalization()],
 *   { inputShape: [16] });
 * ```
 */
export class LayerNormalization extends Layer {
  readonly type = 'layerNormalization';
  readonly epsilon: number;
  gamma: Tensor | null = null;
  beta: Tensor | null = null;

  constructor(readonly opts: LayerNormalizationOptions = {}) {
    super(opts?.name);
    const where = opts?.name ?? 'layerNormalization';
    if (!opts || typeof opts !== 'object') throw new ConfigError(`${where}: options must be an object`);
    checkKeys(opts, ['type', 'name', 'epsilon', 'center', 'scale'], where);
    const eps = opts.epsilon ?? 1e-5;
    if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) {
      throw new ConfigError(`${where}.epsilon must be a positive number, received ${JSON.stringify(opts.epsilon)}`);
    }
    for (const k of ['center', 'scale'] as const) {
      if (opts[k] !== undefined && typeof opts[k] !== 'boolean') throw new ConfigError(`${where}.${k} must be true or false, received ${JSON.stringify(opts[k])}`);
    }
    this.epsilon = eps;
  }

  protected init(inputShape: readonly number[], _ctx: BuildContext): readonly number[] {
    if (inputShape.length < 1) throw new ShapeError(`${this.name} expects input with features, received ${fmtShape(inputShape)}`);
    const F = inputShape[inputShape.length - 1];
    if (this.opts.scale ?? true) this.gamma = this.addParam('gamma', full([F], 1));
    if (this.opts.center ?? true) this.beta = this.addParam('beta', full([F], 0));
    return inputShape;
  }

  forward(x: Tensor): Tensor {
    const F = this.inputShape[this.inputShape.length - 1];
    if (x.rank < 2 || x.shape[x.rank - 1] !== F) {
      throw new ShapeError(`${this.name} expects input [*, …, ${F}] (${F} features last), received ${fmtShape(x.shape)}`);
    }
    return this.traced(undefined, layerNorm(x, this.gamma, this.beta, this.epsilon));
  }

  config(): Record<string, unknown> {
    return { type: this.type, name: this.name, epsilon: this.epsilon, center: this.opts.center ?? true, scale: this.opts.scale ?? true };
  }
}

registerLayer('layerNormalization', (s: LayerNormalizationOptions) => new LayerNormalization(s));
