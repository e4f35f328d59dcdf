import type { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../backend/index.js';
import { checkNumber, checkPositive } from '../validate.js';
import type { Module } from '../nn/module.js';
import type { LearningRateSchedule } from './schedules.js';

/** Per-parameter optimiser state: named buffers (e.g. `velocity`, `m`, `v`). */
export type ParamState = Record<string, Float32Array>;

/**
 * An optimiser is a per-parameter update rule `(grad, param, state) → (param, state)` (MLX's
 * shape): {@link Optimizer.step} walks the parameters and hands each one's gradient, storage and
 * state to {@link Optimizer.update}, which is one backend kernel per rule (`sgdUpdate`,
 * `adamUpdate`, `rmspropUpdate`) that writes the new parameter and state in place. The state is
 * plain Float32Arrays keyed by parameter name, so it can be saved in checkpoints and restored
 * exactly. Subclasses: {@link SGD} (`sgd.ts`), {@link Adam} / {@link AdamW} (`adam.ts`),
 * {@link RMSProp} (`rmsprop.ts`).
 *
 * @example
 * ```ts
 * const opt: Optimizer = new Adam({ learningRate: 0.01 });
 * loss.backward(); opt.step(net); opt.zeroGrad(net);
 * ```
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

  /**
   * The rule for one parameter at update t: (grad, param, state) → (param, state), written into
   * `param` and `state` in place by the rule's backend kernel.
   */
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
