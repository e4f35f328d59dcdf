import { ConfigError } from '../errors.js';
import { Optimizer } from './optimizer.js';
import type { ParamState } from './optimizer.js';

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
 * Throws a `ConfigError` naming `where` unless v is a number in [0, 1); returns v.
 *
 * @example
 * ```ts
 * checkUnitInterval(0.9, 'adam.beta1'); // 0.9
 * checkUnitInterval(1, 'adam.beta1');   // ConfigError: adam.beta1 must be in [0, 1), received 1
 * ```
 */
export function checkUnitInterval(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v >= 1) {
    throw new ConfigError(`${where} must be in [0, 1), received ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Throws a `ConfigError` naming `where` unless v is a positive finite number; returns v.
 *
 * @example
 * ```ts
 * checkPositive(1e-7, 'adam.epsilon'); // 1e-7
 * ```
 */
export function checkPositive(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) {
    throw new ConfigError(`${where} must be a positive number, received ${JSON.stringify(v)}`);
  }
  return v;
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
  readonly type: string = 'adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  constructor(opts: AdamOptions = {}) {
    super(opts.learningRate ?? 0.001, opts.weightDecay ?? 0, 'adam');
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

/** Options of {@link AdamW}: Adam's, with a decoupled `weightDecay` (default 0.01, as PyTorch). @example `const o: AdamWOptions = { learningRate: 1e-3, weightDecay: 0.05 };` */
export type AdamWOptions = AdamOptions;

/**
 * AdamW (Loshchilov & Hutter): Adam with decoupled weight decay. Each update first shrinks the
 * weights, w ← w − α·λ·w, then applies the Adam step on the unmodified gradient, so the decay
 * does not pass through Adam's per-weight scaling as L2 regularisation (Adam's `weightDecay`)
 * does. `weightDecay` λ defaults to 0.01. It decays every parameter given to `step` (biases and
 * normalisation scales included: freeze or split them into another optimiser to exempt them).
 *
 * @example
 * ```ts
 * const opt = new AdamW({ learningRate: 1e-3, weightDecay: 0.05 });
 * ```
 */
export class AdamW extends Adam {
  override readonly type: string = 'adamw';
  /** Decoupled decay λ (the base class's coupled `weightDecay` stays 0). */
  readonly decoupledWeightDecay: number;

  constructor(opts: AdamWOptions = {}) {
    super({ ...opts, weightDecay: 0 });
    const wd = opts.weightDecay ?? 0.01;
    if (typeof wd !== 'number' || !Number.isFinite(wd) || wd < 0) throw new ConfigError(`adamw.weightDecay must be a number ≥ 0, received ${JSON.stringify(wd)}`);
    this.decoupledWeightDecay = wd;
  }

  protected override update(w: Float32Array, g: Float32Array, st: ParamState, t: number): void {
    if (this.decoupledWeightDecay > 0) {
      const keep = 1 - this.learningRate * this.decoupledWeightDecay;
      for (let i = 0; i < w.length; i++) w[i] *= keep;
    }
    super.update(w, g, st, t);
  }

  override config(): Record<string, unknown> {
    return { ...super.config(), type: 'adamw', weightDecay: this.decoupledWeightDecay };
  }
}
