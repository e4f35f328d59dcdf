import { ConfigError } from '../errors.js';
import type { StepRule } from '../backend/backend.js';
import { Optimizer } from './optimizer.js';
import type { ParamState } from './optimizer.js';
import { registerOptimizer } from './registry.js';
import { checkBool, checkKeys, checkObject, checkUnitInterval } from '../validate.js';

/** Options of {@link SGD}. @example `const o: SGDOptions = { learningRate: 0.1, momentum: 0.9 };` */
export interface SGDOptions {
  learningRate: number;
  /** Momentum μ (0 = plain gradient descent). */
  momentum?: number;
  /** Nesterov's look-ahead variant of momentum. */
  nesterov?: boolean;
  weightDecay?: number;
}

/**
 * Stochastic gradient descent, w ← w − α·∂E/∂w (the lecture's rule). Online, batch and
 * mini-batch gradient descent are the batch size given to `fit()`. With momentum μ:
 * v ← μ·v + g, w ← w − α·v; Nesterov: w ← w − α·(g + μ·v). State per parameter: `velocity`
 * (with momentum only). The backend runs the rule in float32 arithmetic, as PyTorch does.
 *
 * @example
 * ```ts
 * const opt = new SGD({ learningRate: 0.2 });
 * ```
 */
export class SGD extends Optimizer {
  readonly type = 'sgd';
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(opts: SGDOptions) {
    super(checkObject(opts, 'sgd').learningRate as number, opts.weightDecay ?? 0, 'sgd');
    checkKeys(opts, ['type', 'learningRate', 'momentum', 'nesterov', 'weightDecay'], 'sgd');
    const m = checkUnitInterval(opts.momentum ?? 0, 'sgd.momentum');
    this.momentum = m;
    this.nesterov = checkBool(opts.nesterov ?? false, 'sgd.nesterov');
    if (this.nesterov && m === 0) throw new ConfigError('sgd.nesterov needs a momentum > 0');
  }

  protected initState(n: number): ParamState {
    return this.momentum > 0 ? { velocity: new Float32Array(n) } : {};
  }

  protected rule(): { kind: StepRule; hyper: readonly number[] } {
    return { kind: 'sgd', hyper: [this.learningRate, this.momentum, this.nesterov ? 1 : 0, this.weightDecay] };
  }

  protected override stateBuffers(st: ParamState): readonly (Float32Array | null)[] {
    return [st.velocity ?? null, null, null];
  }

  config(): Record<string, unknown> {
    return { type: 'sgd', learningRate: this.learningRate, momentum: this.momentum, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }
}

registerOptimizer('sgd', (s) => new SGD(s as unknown as SGDOptions));
