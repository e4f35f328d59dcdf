import type { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../backend/index.js';
import { checkNumber, checkPositive } from '../validate.js';
import { ConfigError } from '../errors.js';
import type { Module } from '../nn/module.js';
import type { LearningRateSchedule } from './schedules.js';
import type { StepRule } from '../backend/backend.js';

/** Per-parameter optimiser state: named buffers (e.g. `velocity`, `m`, `v`). */
export type ParamState = Record<string, Float32Array>;

/**
 * An optimiser is a per-parameter update rule `(grad, param, state) → (param, state)` (MLX's
 * shape): each subclass gives its rule as the backend runs it ({@link Optimizer.rule}: the rule's
 * kind and numbers at update t) and a parameter's state buffers in the rule's order, and
 * {@link Optimizer.step} hands every parameter's storage, gradient and state to the backend's
 * fused `optimizerStep` kernel in one call, which writes the new parameters and states in place.
 * The state is plain Float32Arrays keyed by parameter name, so it can be saved in checkpoints and
 * restored exactly. Subclasses: {@link SGD} (`sgd.ts`), {@link Adam} / {@link AdamW} (`adam.ts`),
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
  /** The rule's numbers handed to the kernel (reused from step to step). */
  private readonly hyper = new Float64Array(8);
  /** The kernel's buffer list (reused from step to step). */
  private readonly buffers: (Float32Array | null)[] = [];

  constructor(learningRate: number, weightDecay = 0, where = 'optimizer') {
    this.learningRate = checkPositive(learningRate, `${where}.learningRate`);
    this.weightDecay = checkNumber(weightDecay, `${where}.weightDecay`, { min: 0 });
    this.baseLearningRate = this.learningRate;
    this.initialLearningRate = this.learningRate;
  }

  /** Type name as in the spec (`sgd`, `adam`, …). */
  abstract readonly type: string;

  /**
   * The rule at update t as the backend's `optimizerStep` runs it: its kind and its numbers
   * (see `Backend.optimizerStep`: e.g. SGD `[α, μ, nesterov, λ]`); null for a rule of one's own,
   * which {@link Optimizer.update} applies parameter by parameter.
   */
  protected abstract rule(t: number): { kind: StepRule; hyper: readonly number[] } | null;

  /** A parameter's state buffers in the rule's order (null where the rule has none). */
  protected stateBuffers(_state: ParamState): readonly (Float32Array | null)[] {
    return [null, null, null];
  }

  /**
   * A rule of one's own (when {@link Optimizer.rule} gives null): updates `param` in place from
   * `grad` and the parameter's `state` at update t, with the backend's kernels (e.g. `axpy`,
   * `scale`), never a loop over the arrays in JavaScript where the rule runs often. Weight decay
   * is the rule's to apply.
   *
   * @example
   * ```ts
   * // gradient descent with a step that shrinks as 1/√t
   * class DecayingSGD extends Optimizer {
   *   readonly type = 'decayingSgd';
   *   protected rule() { return null; }
   *   protected initState() { return {}; }
   *   protected update(w: Float32Array, g: Float32Array, _s: ParamState, t: number) {
   *     getBackend().axpy(w.length, -this.learningRate / Math.sqrt(t), g, w, w);
   *   }
   *   config() { return { type: this.type, learningRate: this.learningRate }; }
   * }
   * ```
   */
  protected update(_param: Float32Array, _grad: Float32Array, _state: ParamState, _t: number): void {
    throw new ConfigError(`${this.type}: rule() gives no fused rule, so the optimizer must implement update()`);
  }

  /** Fresh state for a parameter of n elements. */
  protected abstract initState(n: number): ParamState;

  /**
   * Applies one update to every parameter that has a gradient, in one backend call: give the
   * named parameters (`net.namedParameters()`, the names key the optimiser's state) or the module
   * itself. This and {@link Optimizer.zeroGrad} are the custom training loop: compute a loss,
   * `loss.backward()`, `opt.step(net)`, `opt.zeroGrad(net)`. Returns Σg² over the gradients it
   * applied (their squared global norm, before weight decay), a by-product of the one pass over
   * them; NaN or Infinity when a gradient holds NaN or Inf, and then the update stopped at that
   * gradient's block of 4,096 elements (before a non-finite value reached a state; plain SGD, which
   * has none, after updating that block), so the weights are partly updated: `fit` restores them
   * and throws a `NumericError`.
   *
   * @example
   * ```ts
   * const loss = softmaxCrossEntropy(net.forward(x), y);
   * loss.backward();
   * const norm = Math.sqrt(opt.step(net));
   * opt.zeroGrad(net);
   * ```
   */
  step(params: readonly [string, Tensor][] | Module): number {
    if (!Array.isArray(params)) params = (params as Module).namedParameters();
    if (this.schedule) this.learningRate = this.baseLearningRate * this.schedule.factor(this.iterations);
    this.iterations++;
    const be = getBackend();
    const buffers = this.buffers;
    buffers.length = 0;
    for (const [name, p] of params as readonly [string, Tensor][]) {
      if (!p.grad) continue;
      let st = this.states.get(name);
      if (!st) {
        st = this.initState(p.size);
        // states live where the parameters do (wasm: the shared memory), read and written in place
        if (be.resident) for (const k of Object.keys(st)) st[k] = be.resident(st[k]);
        this.states.set(name, st);
      }
      buffers.push(p.data, p.grad.data, ...this.stateBuffers(st));
    }
    const rule = this.rule(this.iterations);
    let sq = 0;
    if (rule) {
      this.hyper.fill(0);
      this.hyper.set(rule.hyper);
      if (buffers.length) sq = be.optimizerStep(rule.kind, this.hyper, buffers);
    } else {
      // a rule of one's own: parameter by parameter, each gradient checked before it is applied
      for (const [name, p] of params as readonly [string, Tensor][]) {
        if (!p.grad) continue;
        const s = be.sumSquares(p.grad.data);
        sq += s;
        if (!Number.isFinite(s)) break;
        this.update(p.data, p.grad.data, this.states.get(name)!, this.iterations);
      }
    }
    buffers.length = 0;
    return sq;
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
