import type { StepRule } from '../backend/backend.js';
import { Optimizer } from './optimizer.js';
import type { ParamState } from './optimizer.js';
import { checkBool, checkKeys, checkPositive, checkUnitInterval } from '../validate.js';
import { registerOptimizer } from './registry.js';

/** Options of {@link RMSProp} (Keras names and defaults; TF.js calls `rho` "decay"). */
export interface RMSPropOptions {
  /** Step size α (default 0.001). */
  learningRate?: number;
  /** Decay of the running mean of g², in [0, 1) (default 0.9). */
  rho?: number;
  /** Momentum μ applied to the scaled step, in [0, 1) (default 0). */
  momentum?: number;
  /** ε added to the root (default 1e-7). */
  epsilon?: number;
  /** Divide by the running variance (E[g²] − E[g]²) instead of E[g²] (default false). */
  centered?: boolean;
  /** L2 weight decay λ: g ← g + λ·w before the rule. Default 0. */
  weightDecay?: number;
}

/**
 * RMSProp (Tieleman & Hinton), per parameter:
 * s ← ρ·s + (1 − ρ)·g²; step = α·g/√(s + ε) (centred: √(s − ḡ² + ε) with ḡ ← ρ·ḡ + (1 − ρ)·g);
 * with momentum μ: u ← μ·u + step, w ← w − u; else w ← w − step.
 * State per parameter: `ms` (and `mg` when centred, `mom` with momentum). The rule is the
 * backend's `rmspropUpdate` arithmetic.
 *
 * @example
 * ```ts
 * const opt = new RMSProp({ learningRate: 0.001, rho: 0.9 });
 * ```
 */
export class RMSProp extends Optimizer {
  readonly type = 'rmsprop';
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;

  constructor(opts: RMSPropOptions = {}) {
    super(opts.learningRate ?? 0.001, opts.weightDecay ?? 0, 'rmsprop');
    checkKeys(opts, ['type', 'learningRate', 'rho', 'momentum', 'epsilon', 'centered', 'weightDecay'], 'rmsprop');
    this.rho = checkUnitInterval(opts.rho ?? 0.9, 'rmsprop.rho');
    this.momentum = checkUnitInterval(opts.momentum ?? 0, 'rmsprop.momentum');
    this.epsilon = checkPositive(opts.epsilon ?? 1e-7, 'rmsprop.epsilon');
    this.centered = checkBool(opts.centered ?? false, 'rmsprop.centered');
  }

  protected initState(n: number): ParamState {
    const st: ParamState = { ms: new Float32Array(n) };
    if (this.centered) st.mg = new Float32Array(n);
    if (this.momentum > 0) st.mom = new Float32Array(n);
    return st;
  }

  protected rule(): { kind: StepRule; hyper: readonly number[] } {
    return { kind: 'rmsprop', hyper: [this.learningRate, this.rho, this.momentum, this.epsilon, this.weightDecay] };
  }

  protected override stateBuffers(st: ParamState): readonly (Float32Array | null)[] {
    return [st.ms, st.mg ?? null, st.mom ?? null];
  }

  config(): Record<string, unknown> {
    return { type: 'rmsprop', learningRate: this.learningRate, rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered, weightDecay: this.weightDecay };
  }
}

registerOptimizer('rmsprop', (s) => new RMSProp(s as RMSPropOptions));
