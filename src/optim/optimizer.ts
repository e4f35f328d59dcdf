import { ConfigError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../backend/index.js';
import { registerOptimizer } from './registry.js';
import { checkBool, checkKeys, checkNumber, checkObject, checkPositive, checkUnitInterval } from '../validate.js';
import type { Module } from '../nn/module.js';
import type { LearningRateSchedule } from './schedules.js';

/** Per-parameter optimiser state: named buffers (e.g. `velocity`, `m`, `v`). */
export type ParamState = Record<string, Float32Array>;

/**
 * An optimiser is a per-parameter update rule `(grad, param, state) → param, state`, applied to
 * every parameter after backward. The state is plain Float32Arrays keyed by parameter name, so
 * it can be saved in checkpoints and restored exactly.
 */
export abstract class Optimizer {
  /** Step size α. */
  learningRate: number;
  /** L2 weight decay λ: grad += λ·w before the rule (0 = off). */
  weightDecay: number;
  /** Updates applied so far. */
  iterations = 0;
  /**
   * The rate a {@link Optimizer.schedule} scales (the constructor's `learningRate`; lowered by
   * `ReduceLROnPlateau`).
   */
  baseLearningRate: number;
  /**
   * The rate the optimiser was made with (a spec's `learningRate`), before any schedule or
   * `ReduceLROnPlateau` changed it: a spec is checked against a trained model with it.
   */
  readonly initialLearningRate: number;
  /** Learning-rate schedule: before each update, learningRate = baseLearningRate × schedule.factor(update). */
  schedule: LearningRateSchedule | null = null;
  protected readonly states = new Map<string, ParamState>();

  constructor(learningRate: number, weightDecay = 0, where = 'optimizer') {
    this.learningRate = checkPositive(learningRate, `${where}.learningRate`);
    this.weightDecay = checkNumber(weightDecay, `${where}.weightDecay`, { min: 0 });
    this.baseLearningRate = this.learningRate;
    this.initialLearningRate = this.learningRate;
  }

  /** Type name as in the spec (`sgd`, `adam`, …). */
  abstract readonly type: string;

  /** The update rule for one parameter: modify `param` in place using `grad` and `state`. */
  protected abstract update(param: Float32Array, grad: Float32Array, state: ParamState, t: number): void;

  /** Fresh state for a parameter of n elements. */
  protected abstract initState(n: number): ParamState;

  /**
   * Applies one update to every parameter that has a gradient: give the named parameters
   * (`net.namedParameters()`, the names key the optimiser's state) or the module itself. This and
   * {@link Optimizer.zeroGrad} are the custom training loop: compute a loss, `loss.backward()`,
   * `opt.step(net)`, `opt.zeroGrad(net)`.
   *
   * @example
   * ```ts
   * const loss = softmaxCrossEntropy(net.forward(x), y);
   * loss.backward(); opt.step(net); opt.zeroGrad(net);
   * ```
   */
  step(params: readonly [string, Tensor][] | Module): void {
    if (!Array.isArray(params)) params = (params as Module).namedParameters();
    if (this.schedule) this.learningRate = this.baseLearningRate * this.schedule.factor(this.iterations);
    this.iterations++;
    const be = getBackend();
    for (const [name, p] of params as readonly [string, Tensor][]) {
      if (!p.grad) continue;
      let g = p.grad.data;
      if (this.weightDecay > 0) {
        const d = be.alloc(g.length);
        be.axpy(g.length, this.weightDecay, p.data, g, d);
        g = d;
      }
      let st = this.states.get(name);
      if (!st) {
        st = this.initState(p.size);
        this.states.set(name, st);
      }
      this.update(p.data, g, st, this.iterations);
    }
  }

  /**
   * Clears the gradients of the given parameters or module (PyTorch's `optimizer.zero_grad()`).
   *
   * @example
   * ```ts
   * opt.zeroGrad(net);
   * ```
   */
  zeroGrad(params: readonly [string, Tensor][] | Module): void {
    const list = Array.isArray(params) ? params as readonly [string, Tensor][] : (params as Module).namedParameters();
    for (const [, p] of list) p.grad = null;
  }

  /** Copy of the optimiser's state (for checkpoints). */
  getState(): { iterations: number; params: Record<string, Record<string, number[]>> } {
    const params: Record<string, Record<string, number[]>> = {};
    for (const [k, st] of this.states) {
      params[k] = {};
      for (const [b, arr] of Object.entries(st)) params[k][b] = Array.from(arr);
    }
    return { iterations: this.iterations, params };
  }

  /** Restores a state from {@link Optimizer.getState}. */
  setState(s: { iterations: number; params: Record<string, Record<string, number[]>> }): void {
    this.iterations = s.iterations;
    this.states.clear();
    for (const [k, st] of Object.entries(s.params)) {
      const o: ParamState = {};
      for (const [b, arr] of Object.entries(st)) o[b] = Float32Array.from(arr);
      this.states.set(k, o);
    }
  }

  /** Configuration as in the spec. */
  abstract config(): Record<string, unknown>;
}

/** Options of {@link SGD}. */
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
 * v ← μ·v + g, w ← w − α·v; Nesterov: w ← w − α·(g + μ·v).
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

  protected update(w: Float32Array, g: Float32Array, st: ParamState): void {
    const be = getBackend();
    const lr = this.learningRate;
    if (this.momentum === 0) {
      be.axpy(w.length, -lr, g, w, w);
      return;
    }
    const v = st.velocity;
    const mu = this.momentum;
    for (let i = 0; i < w.length; i++) {
      v[i] = mu * v[i] + g[i];
      w[i] -= lr * (this.nesterov ? g[i] + mu * v[i] : v[i]);
    }
  }

  config(): Record<string, unknown> {
    return { type: 'sgd', learningRate: this.learningRate, momentum: this.momentum, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }
}

registerOptimizer('sgd', (s) => new SGD(s as unknown as SGDOptions));
