import type { StepRule } from '../backend/backend.js';
import { Optimizer } from './optimizer.js';
import type { ParamState } from './optimizer.js';
import { registerOptimizer } from './registry.js';
import { checkKeys, checkNumber, checkPositive, checkUnitInterval } from '../validate.js';

const ADAM_KEYS = ['type', 'learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay'];

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
  readonly type: string = 'adam';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;

  constructor(opts: AdamOptions = {}, where = 'adam') {
    super(opts.learningRate ?? 0.001, opts.weightDecay ?? 0, where);
    checkKeys(opts, ADAM_KEYS, where);
    this.beta1 = checkUnitInterval(opts.beta1 ?? 0.9, `${where}.beta1`);
    this.beta2 = checkUnitInterval(opts.beta2 ?? 0.999, `${where}.beta2`);
    this.epsilon = checkPositive(opts.epsilon ?? 1e-7, `${where}.epsilon`);
  }

  protected initState(n: number): ParamState {
    return { m: new Float32Array(n), v: new Float32Array(n) };
  }

  protected rule(t: number): { kind: StepRule; hyper: readonly number[] } {
    return this.adamRule(t, 1);
  }

  protected override stateBuffers(st: ParamState): readonly (Float32Array | null)[] {
    return [st.m, st.v, null];
  }

  /** The rule, after shrinking the weights by `keep` (AdamW's decoupled decay; 1 for Adam). */
  protected adamRule(t: number, keep: number): { kind: StepRule; hyper: readonly number[] } {
    return {
      kind: 'adam',
      hyper: [this.learningRate, this.beta1, this.beta2, this.epsilon, 1 - Math.pow(this.beta1, t), 1 - Math.pow(this.beta2, t), keep, this.weightDecay],
    };
  }

  config(): Record<string, unknown> {
    return { type: 'adam', learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay };
  }
}

registerOptimizer('adam', (s) => new Adam(s as AdamOptions));

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
    super({ ...opts, weightDecay: 0 }, 'adamw');
    this.decoupledWeightDecay = checkNumber(opts.weightDecay ?? 0.01, 'adamw.weightDecay', { min: 0 });
  }

  protected override rule(t: number): { kind: StepRule; hyper: readonly number[] } {
    return this.adamRule(t, 1 - this.learningRate * this.decoupledWeightDecay);
  }

  override config(): Record<string, unknown> {
    return { ...super.config(), type: 'adamw', weightDecay: this.decoupledWeightDecay };
  }
}

registerOptimizer('adamw', (s) => new AdamW(s as AdamWOptions));
