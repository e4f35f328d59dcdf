import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { full } from '../tensor/create.js';
import { getBackend } from '../backend/index.js';
import { batchNormInference, batchNormTrain } from '../ops/batchnorm.js';
import { Layer } from './module.js';
import type { BuildContext } from './module.js';
import { registerLayer } from './registry.js';
import { checkBool, checkKeys, checkObject, checkPositive, checkUnitInterval, optional } from '../validate.js';

/** Options of a {@link BatchNorm} layer (TF.js key names). */
export interface BatchNormOptions {
  /** Weight of the old running statistics in each update (default 0.99, as Keras/TF.js). */
  momentum?: number;
  /** ε added to the variance (default 0.001, as Keras/TF.js). */
  epsilon?: number;
  /** Learn a shift β (default true). */
  center?: boolean;
  /** Learn a scale γ (default true). */
  scale?: boolean;
  /** Name (default `batchNorm_N`). */
  name?: string;
}

/**
 * Batch normalisation (Ioffe & Szegedy; the lecture's further reading), per feature of `[N, F]`
 * inputs and per channel of `[N, C, H, W]` images (any input with channels on axis 1).
 *
 * - Training mode: normalises with the batch's mean and (biased) variance, y = γ·x̂ + β, and
 *   updates the running statistics: running ← momentum·running + (1 − momentum)·batch
 *   (the biased batch variance, as Keras/TF.js do).
 * - Inference mode (`eval()`, `predict()`, `evaluate()`): uses the running statistics.
 *
 * Parameters: `gamma` [C] (scale, initialised to 1; absent with `scale: false`), `beta` [C]
 * (shift, initialised to 0; absent with `center: false`). State (not trained, saved with the model
 * and returned by `getWeights()`): `movingMean` [C] (starts at 0), `movingVariance` [C] (starts at 1).
 *
 * @example
 * ```ts
 * const net = new Sequential([
 *   new Dense({ units: 32 }), new BatchNorm({}), new Activation({ activation: 'relu' }),
 *   new Dense({ units: 1 }),
 * ], { inputShape: [8] });
 * ```
 */
export class BatchNorm extends Layer {
  readonly type = 'batchNorm';
  readonly momentum: number;
  readonly epsilon: number;
  gamma: Tensor | null = null;
  beta: Tensor | null = null;
  movingMean!: Tensor;
  movingVariance!: Tensor;

  constructor(readonly opts: BatchNormOptions = {}) {
    super(opts?.name);
    const where = opts?.name ?? 'batchNorm';
    checkKeys(checkObject(opts, where), ['type', 'name', 'momentum', 'epsilon', 'center', 'scale'], where);
    const m = checkUnitInterval(opts.momentum ?? 0.99, `${where}.momentum`);
    const e = checkPositive(opts.epsilon ?? 1e-3, `${where}.epsilon`);
    for (const k of ['center', 'scale'] as const) optional(opts[k], (v) => checkBool(v, `${where}.${k}`));
    this.momentum = m;
    this.epsilon = e;
  }

  protected init(inputShape: readonly number[], _ctx: BuildContext): readonly number[] {
    if (inputShape.length !== 1 && inputShape.length !== 3) {
      throw new ShapeError(`${this.name} expects inputs [N, F] or [N, C, H, W], received ${fmtShape(['N', ...inputShape])}`);
    }
    const C = inputShape[0];
    if (this.opts.scale ?? true) this.gamma = this.addParam('gamma', full([C], 1));
    if (this.opts.center ?? true) this.beta = this.addParam('beta', full([C], 0));
    this.movingMean = full([C], 0);
    this.movingVariance = full([C], 1);
    this.movingMean.name = `${this.name}.movingMean`;
    this.movingVariance.name = `${this.name}.movingVariance`;
    this.state.set('movingMean', this.movingMean);
    this.state.set('movingVariance', this.movingVariance);
    return inputShape;
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    if (!this.training) {
      return this.traced(undefined, batchNormInference(x, this.movingMean, this.movingVariance, this.gamma, this.beta, this.epsilon, this.name));
    }
    const { y, mean, variance } = batchNormTrain(x, this.gamma, this.beta, this.epsilon, this.name);
    const B = getBackend();
    B.movingAverage(this.movingMean.data, mean, this.momentum);
    B.movingAverage(this.movingVariance.data, variance, this.momentum);
    return this.traced(undefined, y);
  }

  config(): Record<string, unknown> {
    return {
      type: this.type, name: this.name, momentum: this.momentum, epsilon: this.epsilon,
      center: this.opts.center ?? true, scale: this.opts.scale ?? true,
    };
  }
}

registerLayer('batchNorm', (s: BatchNormOptions) => new BatchNorm(s), { aliases: ['batchNormalization'] });
