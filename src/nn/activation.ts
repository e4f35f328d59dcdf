import { Tensor, noGrad } from '../tensor/tensor.js';
import { full } from '../tensor/create.js';
import type { ActivationName } from '../ops/activations.js';
import { checkActivation, prelu, slopesAlong, softmax } from '../ops/activations.js';
import { add, mul, sub, unaryOp } from '../ops/elementwise.js';
import { be } from '../ops/graph.js';
import { unaryRow } from '../backend/unary.js';
import type { UnaryOp } from '../backend/unary.js';
import { ConfigError } from '../errors.js';
import { Layer } from './module.js';
import type { AppliedActivation, BuildContext } from './module.js';
import { registerLayer } from './registry.js';
import { checkKeys, checkNumber, checkObject, isObject, show } from '../validate.js';

/**
 * An activation as a spec object: its name under `type` and its own options beside it.
 *
 * @example
 * ```ts
 * const a: ActivationSpec = { type: 'leakyRelu', alpha: 0.2 };
 * new Dense({ units: 4, activation: a });
 * ```
 */
export interface ActivationSpec {
  /** The activation's name. */
  type: ActivationName;
  /** Leaky ReLU slope α (default 0.01). */
  alpha?: number;
  /** Threshold θ of the McCulloch–Pitts unit (default 0). */
  theta?: number;
  /** Initial PReLU slope λ for every neuron (default 0.25). */
  preluInit?: number;
}

/** An activation given by name (`'relu'`) or as a spec object (`{ type: 'leakyRelu', alpha: 0.2 }`). @example `const a: ActivationLike = { type: 'threshold', theta: 0.5 };` */
export type ActivationLike = ActivationName | ActivationSpec;

/**
 * Activation options shared by layers that end in an activation: a name with its options as
 * siblings (`{ activation: 'leakyRelu', alpha: 0.2 }`), or a spec object
 * (`{ activation: { type: 'leakyRelu', alpha: 0.2 } }`) — both everywhere.
 *
 * @example
 * ```ts
 * const o: ActivationOptions = { activation: 'threshold', theta: 0.5 };
 * ```
 */
export interface ActivationOptions {
  /** Activation name or spec object; default `'linear'`. */
  activation?: ActivationLike;
  /** Leaky ReLU slope (default 0.01). */
  alpha?: number;
  /** Threshold θ of the McCulloch–Pitts unit (default 0). */
  theta?: number;
  /** Initial PReLU slope λ for every neuron (default 0.25). */
  preluInit?: number;
}

/** The activation's own option keys (siblings of a name, or beside `type` in a spec object). */
export const ACTIVATION_KEYS = ['activation', 'alpha', 'theta', 'preluInit'] as const;
const OPTION_KEYS = ['alpha', 'theta', 'preluInit'] as const;

/**
 * Validates a layer's activation options in either form and returns them flat: `activation` a
 * name, its options as siblings (only those given), the rest of `opts` untouched — the form
 * layers keep, report in `config()` and exporters read. `where` names the layer in
 * `ConfigError`s (unknown keys with the closest valid one, unknown names, non-numbers, an option
 * given both inside the spec object and beside it).
 *
 * @example
 * ```ts
 * flattenActivation({ units: 2, activation: { type: 'leakyRelu', alpha: 0.2 } }, 'dense_1');
 * // { units: 2, activation: 'leakyRelu', alpha: 0.2 }
 * ```
 */
export function flattenActivation<O extends ActivationOptions>(opts: O, where: string): O & { activation: ActivationName } {
  const out = { ...opts } as Record<string, unknown>;
  const given = opts.activation ?? 'linear';
  if (isObject(given)) {
    const at = `${where}.activation`;
    checkKeys(given, ['type', ...OPTION_KEYS], at);
    for (const k of OPTION_KEYS) {
      if (given[k] === undefined) continue;
      if (opts[k] !== undefined) {
        throw new ConfigError(`${where}: ${k} is given twice, in activation.${k} (${show(given[k])}) and beside it (${show(opts[k])}); give it once`);
      }
      out[k] = given[k];
    }
    out.activation = checkActivation(given.type, `${at}.type`);
  } else {
    out.activation = checkActivation(given, `${where}.activation`);
  }
  for (const k of OPTION_KEYS) if (out[k] !== undefined) checkNumber(out[k], `${where}.${k}`);
  return out as unknown as O & { activation: ActivationName };
}

/**
 * {@link flattenActivation} for a layer with its own list of activation names (SimpleRNN): a spec
 * object becomes a name with its options beside it (validated), a name passes through for the
 * layer to check.
 *
 * @example
 * ```ts
 * flatSpecActivation({ activation: { type: 'relu' } }, 'rnn'); // { activation: 'relu' }
 * ```
 */
export function flatSpecActivation<O extends { activation?: unknown }>(opts: O, where: string): O {
  return isObject(opts) && isObject(opts.activation) ? flattenActivation(opts as ActivationOptions, where) as unknown as O : opts;
}

/**
 * The activation of a layer: a = φ(z) for every name (PReLU with one learned slope per neuron or
 * per filter along `axis`), and ∂a/∂z for inspection. Dense, convolutional and activation layers
 * all apply theirs through one of these, so every layer supports every activation the same way.
 *
 * @example
 * ```ts
 * const act = new LayerActivation({ activation: 'leakyRelu', alpha: 0.2 }, -1, () => undefined);
 * act.apply(tensor([-1, 2])).toArray(); // [-0.2, 2]
 * ```
 */
export class LayerActivation implements AppliedActivation {
  readonly name: ActivationName;
  /** The elementwise kernel (null for prelu and softmax). */
  private readonly op: UnaryOp | null;
  /** The kernel's parameter (leaky slope α, threshold θ), or 0. */
  private readonly param: number;

  /**
   * @param opts flat options (see {@link flattenActivation})
   * @param axis the axis of z the PReLU slopes run along (−1 for neurons, 1 for filters)
   * @param slopes the layer's PReLU slope parameter λ, when it has one
   */
  constructor(private readonly opts: ActivationOptions & { activation: ActivationName }, private readonly axis: number,
    private readonly slopes: () => Tensor | undefined) {
    this.name = opts.activation;
    const op = this.name === 'sigmoid' ? 'logistic' : this.name;
    this.op = op === 'prelu' || op === 'softmax' ? null : op;
    const p = this.op ? unaryRow(this.op).param : undefined;
    this.param = p ? (this.opts[p.key] ?? p.default) : 0;
  }

  /** The PReLU slope parameter λ for `units` neurons or filters (initialised to `preluInit`, default 0.25); undefined for other activations. */
  makeSlopes(units: number): Tensor | undefined {
    return this.name === 'prelu' ? full([units], this.opts.preluInit ?? 0.25, { requiresGrad: true }) : undefined;
  }

  /**
   * The elementwise kernel row and its parameter, for a layer that fuses φ into its own kernel
   * (Dense's `affineAct`); null for PReLU and softmax, which are not one elementwise row.
   *
   * @example
   * ```ts
   * new LayerActivation({ activation: 'leakyRelu', alpha: 0.2 }, -1, () => undefined).elementwise(); // { op: 'leakyRelu', param: 0.2 }
   * ```
   */
  elementwise(): { op: UnaryOp; param: number } | null {
    return this.op ? { op: this.op, param: this.param } : null;
  }

  /** a = φ(z). */
  apply(z: Tensor): Tensor {
    if (this.name === 'softmax') return softmax(z);
    if (this.name === 'prelu') return prelu(z, this.lambda(), this.axis);
    return unaryOp(this.op!, z, this.param);
  }

  /** ∂a/∂z from z and a (see {@link AppliedActivation.derivative}). */
  derivative(z: Tensor, a: Tensor): Float32Array | null {
    if (this.name === 'softmax' || (this.op && unaryRow(this.op).differentiable === false)) return null;
    const B = be();
    const ones = B.alloc(z.size);
    B.fill(ones, 1);
    if (this.op) {
      const d = B.alloc(z.size);
      B.unaryGrad(this.op, z.data, a.data, ones, d, this.param, false);
      return d;
    }
    // PReLU: s + λ ⊙ (1 − s) with s the ReLU step (1 for z > 0, else 0): 1 or λ
    const step = B.alloc(z.size);
    B.unaryGrad('relu', z.data, z.data, ones, step, 0, false);
    const s = new Tensor(step, z.shape);
    return noGrad(() => add(s, mul(slopesAlong(z, this.lambda(), this.axis), sub(1, s)))).data;
  }

  private lambda(): Tensor {
    const l = this.slopes();
    if (!l) throw new ConfigError('prelu activation needs a slope parameter');
    return l;
  }
}

/**
 * Applies an activation to z (PReLU with its slopes λ along the last axis).
 *
 * @example
 * ```ts
 * applyActivation('leakyRelu', tensor([-1, 2]), { alpha: 0.2 }).toArray(); // [-0.2, 2]
 * ```
 */
export function applyActivation(name: ActivationLike, z: Tensor, opts: Omit<ActivationOptions, 'activation'> = {}, lambda?: Tensor): Tensor {
  return new LayerActivation(flattenActivation({ ...opts, activation: name }, 'applyActivation'), -1, () => lambda).apply(z);
}

/**
 * A standalone activation layer (e.g. `conv2d → activation('relu') → maxPool2d`).
 * Parameters: `lambda` [channels or units] only for `prelu` (one slope per entry of the last axis).
 *
 * @example
 * ```ts
 * new Activation({ activation: 'relu' });
 * new Activation({ activation: { type: 'leakyRelu', alpha: 0.2 } });
 * ```
 */
export class Activation extends Layer {
  readonly type = 'activation';
  readonly activation: ActivationName;
  /** The options, with the activation flat (a name, its options as siblings). */
  readonly opts: ActivationOptions & { activation: ActivationName; name?: string };
  private lambda?: Tensor;
  private readonly act: LayerActivation;

  constructor(opts: ActivationOptions & { name?: string }) {
    super(opts?.name);
    const where = opts?.name ?? 'activation';
    checkKeys(checkObject(opts, where), ['type', 'name', ...ACTIVATION_KEYS], where);
    this.opts = flattenActivation(opts, where);
    this.activation = this.opts.activation;
    this.act = new LayerActivation(this.opts, -1, () => this.lambda);
  }

  protected init(inputShape: readonly number[], _ctx: BuildContext): readonly number[] {
    const l = this.act.makeSlopes(inputShape[inputShape.length - 1]);
    if (l) this.lambda = this.addParam('lambda', l);
    return inputShape;
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return this.traced(x, this.act.apply(x));
  }

  override forwardLogits(x: Tensor): Tensor | null {
    return this.activation === 'softmax' ? x : null;
  }

  override endsInSoftmax(): boolean {
    return this.activation === 'softmax';
  }

  override activationOf(): LayerActivation {
    return this.act;
  }

  config(): Record<string, unknown> {
    const { alpha, theta, preluInit } = this.opts;
    return { type: this.type, name: this.name, activation: this.activation, alpha, theta, preluInit };
  }
}

registerLayer('activation', (s: ActivationOptions & { name?: string }) => new Activation(s));
