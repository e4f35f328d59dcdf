import { ConfigError } from '../errors.js';
import { Optimizer } from './optimizer.js';
import type { ParamState } from './optimizer.js';
import { registerOptimizer } from './registry.js';
import { checkPositive, checkUnitInterval } from '../validate.js';
import { checkKeys } from '../validate.js';

/** Options of {@link Adam} (Keras/TF.js names and defaults). */
export interface AdamOptions {
  /** Step size α (default 0.001). */
  learningRate?: number;
  /** Decay of the first-moment (mean) estimate, in [0, 1) (default 0.9). */
  beta1?: number;
  /** Decay of the second-moment (uncentred variance) estimate, in [0, 1) (default 0.999). */
  beta2?: number;
  /** ε added to √v̂ (default 1e-7, as Keras/TF.js). */
  epsilon?: number;
  /** L2 weight decay λ: g ← g + λ·w before the rule (coupled L2, not AdamW). Default 0. */
  weightDecay?: number;
}

/**
 * Adam (Kingma & Ba), per parameter at update t:
 * m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g², m̂ = m/(1 − β1ᵗ), v̂ = v/(1 − β2ᵗ),
 * w ← w − α·m̂/(√v̂ + ε). State per parameter: `m`, `v` (saved in checkpoints).
 *
 * @example
 * ```ts
 * const opt = new Adam({ learningRate: 0.01 });
 * const model = new Model(net, { loss: 'crossEntropy', optimizer: opt });
 * ```
 */
export class Adam extends Optimizer {
  readonly type = 'adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  constructor(opts: AdamOptions = {}) {
    super(opts.learningRate ?? 0.001, opts.weightDecay ?? 0, 'adam');
    checkKeys(opts, ['type', 'learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay'], 'adam');
    this.beta1 = checkUnitInterval(opts.beta1 ?? 0.9, 'adam.beta1');
    this.beta2 = checkUnitInterval(opts.beta2 ?? 0.999, 'adam.beta2');
    this.epsilon = checkPositive(opts.epsilon ?? 1e-7, 'adam.epsilon');
  }

  protected initState(n: number): ParamState {
    return { m: new Float32Array(n), v: new Float32Array(n) };
  }

  protected update(w: Float32Array, g: Float32Array, st: ParamState, t: number): void {
    const { m, v } = st;
    const b1 = this.beta1;
    const b2 = this.beta2;
    const c1 = 1 - Math.pow(b1, t);
    const c2 = 1 - Math.pow(b2, t);
    const lr = this.learningRate;
    const eps = this.epsilon;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i];
      const mi = b1 * m[i] + (1 - b1) * gi;
      const vi = b2 * v[i] + (1 - b2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      w[i] -= (lr * (mi / c1)) / (Math.sqrt(vi / c2) + eps);
    }
  }

  config(): Record<string, unknown> {
    return { type: 'adam', learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay };
  }
}

registerOptimizer('adam', (s) => new Adam(s as AdamOptions));
