import { Tensor, isGradEnabled } from '../tensor/tensor.js';
import { affine } from '../ops/matmul.js';
import { affineAct } from '../ops/linear.js';
import { be, releaseScratch } from '../ops/graph.js';
import { unaryRow } from '../backend/unary.js';
import type { UnaryOp } from '../backend/unary.js';
import { reshape } from '../ops/shape.js';
import type { ActivationName } from '../ops/activations.js';
import { checkInitializer, initialize } from './init.js';
import type { Initializer } from './init.js';
import { Layer, checkInt } from './module.js';
import type { BuildContext } from './module.js';
import { ShapeError, fmtShape } from '../errors.js';
import { ACTIVATION_KEYS, LayerActivation, flattenActivation } from './activation.js';
import type { ActivationOptions } from './activation.js';
import { registerLayer } from './registry.js';
import { checkKeys, checkObject } from '../validate.js';

/** Options of a {@link Dense} layer. */
export interface DenseOptions extends ActivationOptions {
  /** Number of neurons. */
  units: number;
  /** Name (default `dense_N`). */
  name?: string;
  /** Weight initialiser (default `glorotUniform`). */
  kernelInitializer?: Initializer;
  /** Bias initialiser (default `zeros`; e.g. `{type: 'constant', value: 0.1}` against dead ReLUs). */
  biasInitializer?: Initializer;
  /** Whether the layer has a bias (default true). */
  useBias?: boolean;
}

const DENSE_KEYS = ['type', 'name', 'units', ...ACTIVATION_KEYS, 'kernelInitializer', 'biasInitializer', 'useBias'];

/**
 * A fully connected layer: z = x·Wᵀ + b, a = φ(z).
 *
 * Parameters (names, shapes, layouts — exactly what `getWeights()/setWeights()` use):
 * - `weight` [units, inputs]: row j holds neuron j's weights (the lecture's W, PyTorch's layout)
 * - `bias` [units] (absent with `useBias: false`)
 * - `lambda` [units]: the PReLU slopes, only with `activation: 'prelu'`
 *
 * Input [batch, inputs] → output [batch, units]. A sequence [batch, T, inputs] (the output of a
 * recurrent layer with `returnSequences`) gets the same layer applied at every step →
 * [batch, T, units] (time-distributed; any T), passing a padding mask on. Inputs with more
 * dimensions are not flattened implicitly: put a `Flatten` layer first.
 *
 * @example
 * ```ts
 * new Dense({ units: 3, activation: 'logistic', kernelInitializer: { type: 'randomUniform' } });
 * new Dense({ units: 3, activation: { type: 'leakyRelu', alpha: 0.2 }, kernelInitializer: 'heNormal' });
 * ```
 */
export class Dense extends Layer {
  readonly type = 'dense';
  /** The activation, applied through the one implementation every layer shares. */
  private readonly act: LayerActivation;
  /** The activation as one elementwise kernel row, fused into the product (null: prelu, softmax). */
  private readonly fused: { op: UnaryOp; param: number } | null;
  readonly units: number;
  readonly activation: ActivationName;
  weight!: Tensor;
  bias: Tensor | null = null;
  lambda: Tensor | undefined;

  /** `opts` is kept with the activation flat: a name, its options as siblings. */
  constructor(readonly opts: DenseOptions) {
    super(opts?.name);
    const where = opts?.name ?? 'dense';
    checkKeys(checkObject(opts, where), DENSE_KEYS, where);
    this.units = checkInt(opts.units, `${where}.units`);
    const flat = flattenActivation(opts, where);
    this.opts = flat;
    this.activation = flat.activation;
    this.act = new LayerActivation(flat, -1, () => this.lambda);
    // (the threshold step has no gradient: it keeps the composed path and unaryOp's error for training)
    const e = this.act.elementwise();
    this.fused = e && unaryRow(e.op).differentiable !== false ? e : null;
    checkInitializer(opts.kernelInitializer ?? 'glorotUniform', `${where}.kernelInitializer`);
    checkInitializer(opts.biasInitializer ?? 'zeros', `${where}.biasInitializer`);
  }

  protected init(inputShape: readonly number[], ctx: BuildContext): readonly number[] {
    if (inputShape.length !== 1 && inputShape.length !== 2) {
      throw new ShapeError(`${this.name} expects a flat input [inputs] or a sequence [T, inputs], received ${fmtShape(inputShape)} (add a flatten layer first)`);
    }
    const inputs = inputShape[inputShape.length - 1];
    this.weight = this.addParam('weight', initialize(this.opts.kernelInitializer ?? 'glorotUniform', [this.units, inputs], inputs, this.units, ctx.rng));
    if (this.opts.useBias ?? true) {
      this.bias = this.addParam('bias', initialize(this.opts.biasInitializer ?? 'zeros', [this.units], inputs, this.units, ctx.rng));
    }
    const l = this.act.makeSlopes(this.units);
    if (l) this.lambda = this.addParam('lambda', l);
    return inputShape.length === 2 ? [inputShape[0], this.units] : [this.units];
  }

  /** The weighted sums z = x·Wᵀ + b. */
  preActivation(x: Tensor): Tensor {
    return this.perRow(x, (rows) => affine(rows, this.weight, this.bias));
  }

  /**
   * `fn` on the input's rows [batch, inputs] — or, for a sequence [batch, T, inputs], on its
   * batch·T steps as rows, reshaped back to [batch, T, units] (any T; a network hands the mask on).
   */
  private perRow(x: Tensor, fn: (rows: Tensor) => Tensor): Tensor {
    if (this.inputShape.length === 1) {
      this.checkInput(x);
      return fn(x);
    }
    const inputs = this.inputShape[1];
    if (x.rank !== 3 || x.shape[2] !== inputs) {
      throw new ShapeError(`${this.name} expects input [*, T, ${inputs}], received ${fmtShape(x.shape)}`);
    }
    const [n, T] = x.shape;
    return reshape(fn(reshape(x, [n * T, inputs])), [n, T, this.units]);
  }

  /**
   * a = φ(x·Wᵀ + b). An elementwise φ runs fused into the product (one kernel, no tensor z);
   * while tracing, and for PReLU and softmax, z is computed first and φ applied to it.
   */
  forward(x: Tensor): Tensor {
    const f = this.fused;
    if (f && !this.tracing) return this.perRow(x, (rows) => affineAct(rows, this.weight, this.bias, f.op, f.param));
    const z = this.weightedSums(x);
    return this.traced(z, this.act.apply(z));
  }

  /**
   * z for PReLU, softmax and tracing: the bias fused into the product (one kernel) unless tracing,
   * which keeps the op inspection has always seen.
   */
  private weightedSums(x: Tensor): Tensor {
    if (this.tracing) return this.preActivation(x);
    return this.perRow(x, (rows) => affineAct(rows, this.weight, this.bias, 'linear'));
  }

  override forwardLogits(x: Tensor): Tensor | null {
    if (this.activation !== 'softmax') return null;
    const z = this.weightedSums(x);
    this.traced(z, z);
    return z;
  }

  override endsInSoftmax(): boolean {
    return this.activation === 'softmax';
  }

  /**
   * The output of a chain of Dense layers on x [rows, inputs] without recording gradients, straight
   * on the backend's buffers: per layer the kernel its forward pass runs (affineAct with its fused
   * φ; for softmax, affineAct then softmax), each intermediate buffer back to the pool once the next
   * layer has read it. The values of the layers' forward passes, bit for bit, without an op, a
   * tensor and a graph record per layer (Model.predict's path for such networks: a few µs of a
   * single example's ~15). Null — run the layers' forward instead — while gradients are recorded,
   * when a layer is not exactly a Dense (a subclass, or its forward replaced), traces, or has no
   * one-kernel activation (PReLU, threshold), or when x is not [rows, inputs] of the first layer.
   *
   * @example
   * ```ts
   * const probs = noGrad(() => Dense.forwardChain(net.layers, x)) ?? noGrad(() => net.forward(x));
   * ```
   */
  static forwardChain(layers: readonly Layer[], x: Tensor): Tensor | null {
    if (isGradEnabled() || layers.length === 0 || x.rank !== 2 || x.mask) return null;
    let inputs = x.shape[1];
    for (const l of layers) {
      if (!(l instanceof Dense) || l.constructor !== Dense || Object.hasOwn(l, 'forward') || l.tracing) return null;
      if ((!l.fused && l.activation !== 'softmax') || l.inputShape.length !== 1 || l.inputShape[0] !== inputs) return null;
      inputs = l.units;
    }
    const B = be();
    const rows = x.shape[0];
    let h = x.data;
    inputs = x.shape[1];
    for (const l of layers as readonly Dense[]) {
      const f = l.fused;
      const out = B.allocUninit(rows * l.units);
      B.affineAct(rows, l.units, inputs, h, l.weight.data, l.bias ? l.bias.data : null, f ? f.op : 'linear', f ? f.param : 0, out, null);
      if (h !== x.data) releaseScratch(h);
      h = out;
      if (!f) {
        // softmax over the weighted sums
        const a = B.allocUninit(rows * l.units);
        B.softmax(h, rows, l.units, a);
        releaseScratch(h);
        h = a;
      }
      inputs = l.units;
    }
    return new Tensor(h, [rows, inputs]);
  }

  override activationOf(): LayerActivation {
    return this.act;
  }

  config(): Record<string, unknown> {
    const { name: _n, ...rest } = this.opts;
    return { type: this.type, name: this.name, ...rest, activation: this.activation };
  }
}

registerLayer('dense', (s: DenseOptions) => new Dense(s));
