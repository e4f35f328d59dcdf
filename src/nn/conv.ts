import { Tensor, shapeSize } from '../tensor/tensor.js';
import { conv2dTranspose, outputPaddingPair } from '../ops/spatial.js';
import type { Conv2dTransposeOptions } from '../ops/spatial.js';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { conv2dPool } from '../ops/conv-pool.js';
import { conv1d, conv2d, checkKernel1D, checkPadding, convGeometry, pair, resolvePadding1D, resolvePadding2D } from '../ops/conv.js';
import type { ConvActivation, ConvActivationOptions, Pair, Padding1D, Padding2D } from '../ops/conv.js';
import type { ConvGeometry } from '../backend/backend.js';
import { derivativeFromOutput } from '../backend/unary.js';
import type { ActivationName } from '../ops/activations.js';
import { checkInitializer, initialize } from './init.js';
import type { Initializer } from './init.js';
import { Layer } from './module.js';
import type { BuildContext } from './module.js';
import { ACTIVATION_KEYS, LayerActivation, flattenActivation } from './activation.js';
import type { ActivationOptions } from './activation.js';
import { registerLayer } from './registry.js';
import { checkInt, checkKeys } from '../validate.js';

/** Options shared by {@link Conv2D} and {@link Conv1D}. @example `const o: ConvOptions = { filters: 8, activation: 'relu' };` */
export interface ConvOptions extends ActivationOptions {
  /** Number of filters (feature maps, output channels). */
  filters: number;
  /** Name (default `conv2d_N` / `conv1d_N`). */
  name?: string;
  /** Filter initialiser (default `glorotUniform`; fans n_in = channels·kernel area, n_out = filters·kernel area). */
  kernelInitializer?: Initializer;
  /** Bias initialiser (default `zeros`). */
  biasInitializer?: Initializer;
  /** Whether the layer has a bias (default true). */
  useBias?: boolean;
  /** Only `'channelsFirst'` (NCHW / NCL), the default, is supported. */
  dataFormat?: 'channelsFirst';
}

/** Options of a {@link Conv2D} layer (TF.js key names). @example `const o: Conv2DOptions = { filters: 16, kernelSize: 5 };` */
export interface Conv2DOptions extends ConvOptions {
  /** Filter `[height, width]`, or one number for a square filter. */
  kernelSize: Pair;
  /** Step between receptive fields, `[vertical, horizontal]` or one number (default 1). */
  strides?: Pair;
  /** `'valid'` (default), `'same'`, pixels on every edge, or `[top, bottom, left, right]`. */
  padding?: Padding2D;
}

/** Options of a {@link Conv1D} layer. @example `const o: Conv1DOptions = { filters: 4, kernelSize: 3, padding: 'same' };` */
export interface Conv1DOptions extends ConvOptions {
  /** Filter width. */
  kernelSize: number;
  /** Step between receptive fields (default 1). */
  strides?: number;
  /** `'valid'` (default), `'same'`, a number for both ends, or `[left, right]`. */
  padding?: Padding1D;
}

const CONV_KEYS = [
  'type', 'name', 'filters', 'kernelSize', 'strides', 'padding', ...ACTIVATION_KEYS,
  'kernelInitializer', 'biasInitializer', 'useBias', 'dataFormat',
];

/**
 * Common part of the convolutional layers: options, parameters, activation and tracing. The
 * PReLU slope λ is one per filter (shared by every position of its feature map).
 */
/**
 * ShapeError naming the layer when the shape of one example is not `what`, e.g. `images
 * [channels, height, width]` (rank 3), with an `example` of a right one.
 */
function checkExampleRank(layer: Layer, inputShape: readonly number[], rank: number, what: string, example?: string): void {
  if (inputShape.length !== rank) {
    throw new ShapeError(`${layer.name} expects ${what}, received input shape ${fmtShape(inputShape)}${example ? ` (${example})` : ''}`);
  }
}

/**
 * A convolution's window options: `kernelSize` and `strides` (default 1), each read by `size`
 * (one integer, or a pair in 2-D); a ConfigError names the layer and the option.
 */
function kernelAndStrides<T>(opts: { kernelSize: unknown; strides?: unknown; name?: string }, type: string, size: (v: unknown, where: string) => T): [T, T] {
  const where = opts.name ?? type;
  return [size(opts.kernelSize, `${where}.kernelSize`), size(opts.strides ?? 1, `${where}.strides`)];
}

/**
 * The convolution kernel's form of a layer activation (its elementwise row, read from the layer's
 * {@link LayerActivation}), or null when the kernel cannot apply it: PReLU, softmax, and rows
 * whose derivative does not follow from the output.
 */
function fusedActivation(act: LayerActivation): ConvActivationOptions | null {
  const e = act.elementwise();
  return e && derivativeFromOutput(e.op, e.param) ? { activation: e.op as ConvActivation, alpha: e.param } : null;
}

abstract class ConvLayer<O extends ConvOptions> extends Layer {
  /** The activation, applied through the one implementation every layer shares. */
  private readonly act: LayerActivation;
  readonly filters: number;
  readonly activation: ActivationName;
  weight!: Tensor;
  bias: Tensor | null = null;
  lambda: Tensor | undefined;

  /**
   * The activation as the convolution kernel applies it (see {@link ConvActivation}), or null
   * when it cannot (PReLU, GELU, …; the transposed convolution): then z and a are two ops.
   */
  protected readonly fused: ConvActivationOptions | null;

  /**
   * `opts` is kept with the activation flat: a name, its options as siblings. `paddingDims`: the
   * layers on the conv2d op (2-D or 1-D padding options, checked here), or null for the
   * transposed convolution, which has its own padding rules.
   */
  constructor(readonly opts: O, type: string, keys: readonly string[], paddingDims: 1 | 2 | null) {
    super(opts?.name);
    if (!opts || typeof opts !== 'object') throw new ConfigError(`${type} needs an options object, received ${JSON.stringify(opts)}`);
    const where = opts.name ?? type;
    checkKeys(opts, keys, where);
    this.filters = checkInt(opts.filters, `${where}.filters`);
    const flat = flattenActivation(opts, where);
    this.opts = flat;
    this.activation = flat.activation;
    // PReLU: one slope per filter, along the channel axis 1 of [batch, filters, …]
    this.act = new LayerActivation(flat, 1, () => this.lambda);
    if (this.activation === 'softmax') {
      throw new ConfigError(`${where}.activation: softmax is not supported on feature maps; expected another activation (put flatten and a dense softmax layer after the convolutions), received "softmax"`);
    }
    checkInitializer(opts.kernelInitializer ?? 'glorotUniform', `${where}.kernelInitializer`);
    checkInitializer(opts.biasInitializer ?? 'zeros', `${where}.biasInitializer`);
    if (opts.useBias !== undefined && typeof opts.useBias !== 'boolean') {
      throw new ConfigError(`${where}.useBias must be true or false, received ${JSON.stringify(opts.useBias)}`);
    }
    if (opts.dataFormat !== undefined && opts.dataFormat !== 'channelsFirst') {
      throw new ConfigError(`${where}.dataFormat: only "channelsFirst" (NCHW) is supported, received ${JSON.stringify(opts.dataFormat)}`);
    }
    if (paddingDims !== null) checkPadding((opts as { padding?: unknown }).padding ?? 'valid', `${where}.padding`, paddingDims);
    this.fused = paddingDims === null ? null : fusedActivation(this.act);
  }

  /** Creates weight [filters, channels, …kernel], bias and PReLU slopes. */
  protected makeParams(channels: number, kernel: readonly number[], ctx: BuildContext, transposed = false): void {
    const area = kernel.reduce((a, b) => a * b, 1);
    const fanIn = channels * area;
    const fanOut = this.filters * area;
    const shape = transposed ? [channels, this.filters, ...kernel] : [this.filters, channels, ...kernel];
    this.weight = this.addParam('weight', initialize(this.opts.kernelInitializer ?? 'glorotUniform', shape, fanIn, fanOut, ctx.rng));
    if (this.opts.useBias ?? true) {
      this.bias = this.addParam('bias', initialize(this.opts.biasInitializer ?? 'zeros', [this.filters], fanIn, fanOut, ctx.rng));
    }
    const l = this.act.makeSlopes(this.filters);
    if (l) this.lambda = this.addParam('lambda', l);
  }

  /**
   * The geometry of this layer's convolution of one image [c, h, w] (ConfigError naming the layer
   * when the kernel does not fit), after creating the parameters for c channels and `kernel`.
   */
  protected planeGeometry(image: readonly number[], kernel2: readonly [number, number], strides2: readonly [number, number],
    pad: readonly [number, number, number, number], kernel: readonly number[], ctx: BuildContext): ConvGeometry {
    const g = convGeometry(1, image, this.filters, kernel2, strides2, pad, this.name);
    this.makeParams(image[0], kernel, ctx);
    return g;
  }

  /** ShapeError naming this layer when a batch's channels or size differ from the built input. */
  protected checkImages(x: Tensor, what: string): void {
    const want = this.inputShape;
    const ok = x.rank === want.length + 1 && want.every((d, i) => d === x.shape[i + 1]);
    if (ok) return;
    let detail = '';
    if (x.rank === want.length + 1 && x.shape[1] !== want[0]) detail = ` (channel count ${x.shape[1]} instead of ${want[0]})`;
    else if (x.rank === want.length + 1) detail = ` (size ${x.shape.slice(2).join('×')} instead of ${want.slice(1).join('×')})`;
    throw new ShapeError(`${this.name} expects ${what} ${fmtShape(['*', ...want])}, received ${fmtShape(x.shape)}${detail}`);
  }

  /**
   * conv(x, W) + b in the layer's output shape (with the batch dimension), with `act` applied in
   * the convolution's kernel (linear: the weighted sums z).
   */
  protected abstract convolve(x: Tensor, act: ConvActivationOptions): Tensor;

  /** The weighted sums z = conv(x, W) + b in the layer's output shape (with the batch dimension). */
  preActivation(x: Tensor): Tensor {
    return this.convolve(x, {});
  }

  forward(x: Tensor): Tensor {
    // a trace records z (and δ = ∂E/∂z as its gradient) as a tensor of its own: fused only when not tracing
    if (this.fused && !this.tracing) return this.convolve(x, this.fused);
    const z = this.preActivation(x);
    return this.traced(z, this.act.apply(z));
  }

  override activationOf(): LayerActivation {
    return this.act;
  }

  config(): Record<string, unknown> {
    const { name: _n, type: _t, ...rest } = this.opts as O & { type?: string };
    return { type: this.type, name: this.name, ...rest, activation: this.activation };
  }
}

/**
 * A 2-D convolutional layer (eq 90–109): `filters` filters of `kernelSize`, each with the input's
 * depth (eq 104), slide over the image with `strides` after `padding`; z = conv(x, W) + b and
 * a = φ(z). Tensors are NCHW (the ONNX/PyTorch convention).
 *
 * Parameters (names, shapes, layouts — exactly what `getWeights()/setWeights()` use):
 * - `weight` [filters, channels, kh, kw]: `weight[f][c]` is filter f's kh×kw slice for input
 *   channel c (eq 105's red/green/blue matrices), row-major
 * - `bias` [filters] (eq 104's w0; absent with `useBias: false`)
 * - `lambda` [filters]: PReLU slopes, one per filter, only with `activation: 'prelu'`
 *
 * Input [batch, channels, height, width] → output [batch, filters, oh, ow] with
 * oh = ⌊(height + top + bottom − kh) / sv⌋ + 1 (likewise ow). While tracing, z and a are recorded
 * in that shape, and δ = ∂E/∂z appears as `record.z.grad`.
 *
 * @example
 * ```ts
 * new Conv2D({ filters: 16, kernelSize: 5, activation: 'relu', kernelInitializer: 'heNormal' });
 * new Conv2D({ filters: 1, kernelSize: [3, 3], strides: [2, 1], padding: 'same' });
 * ```
 */
export class Conv2D extends ConvLayer<Conv2DOptions> {
  readonly type = 'conv2d';
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  /** Explicit padding [top, bottom, left, right], known after build. */
  padding: [number, number, number, number] = [0, 0, 0, 0];

  constructor(opts: Conv2DOptions) {
    super(opts, 'conv2d', CONV_KEYS, 2);
    [this.kernelSize, this.strides] = kernelAndStrides(opts, 'conv2d', pair);
  }

  protected init(inputShape: readonly number[], ctx: BuildContext): readonly number[] {
    checkExampleRank(this, inputShape, 3, 'images [channels, height, width]', 'a grayscale 28×28 image is [1, 28, 28]');
    this.padding = resolvePadding2D(this.opts.padding ?? 'valid', [inputShape[1], inputShape[2]], this.kernelSize, this.strides, this.name);
    const g = this.planeGeometry(inputShape, this.kernelSize, this.strides, this.padding, this.kernelSize, ctx);
    return [this.filters, g.oh, g.ow];
  }

  /** conv(x, W) + b (then `act`), [batch, filters, oh, ow]. */
  protected convolve(x: Tensor, act: ConvActivationOptions): Tensor {
    this.checkImages(x, 'images');
    return conv2d(x, this.weight, this.bias, { strides: this.strides, padding: this.padding, ...act });
  }

  /**
   * This convolution, its activation and the pooling layer `next` as one op (`conv2dPool`: on
   * the native backend the feature maps stay in oneDNN's blocked layout between the three), or
   * null when they do not fuse: either layer tracing, an activation the convolution's kernel does
   * not apply (PReLU, GELU, …), a layer that is not a 2-D 'valid' pooling.
   */
  override forwardFused(x: Tensor, next: Layer): Tensor | null {
    const window = next.poolWindow();
    if (!window || !this.fused || this.tracing) return null;
    this.checkImages(x, 'images');
    return conv2dPool(x, this.weight, this.bias, {
      strides: this.strides, padding: this.padding, ...this.fused,
      pool: window.kind, poolSize: window.poolSize, poolStrides: window.strides,
    });
  }
}

/**
 * A 1-D convolutional layer for sequences and signals (the lecture's 1-D filters): `filters`
 * filters of width `kernelSize` and the input's depth slide along the sequence.
 *
 * Parameters:
 * - `weight` [filters, channels, kernelSize]
 * - `bias` [filters] (absent with `useBias: false`)
 * - `lambda` [filters]: PReLU slopes, only with `activation: 'prelu'`
 *
 * Input [batch, channels, length] → output [batch, filters, ol], ol = ⌊(length + left + right −
 * kernelSize) / strides⌋ + 1. Runs on the 2-D convolution kernels with height 1.
 *
 * @example
 * ```ts
 * new Conv1D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'tanh' });
 * ```
 */
export class Conv1D extends ConvLayer<Conv1DOptions> {
  readonly type = 'conv1d';
  readonly kernelSize: number;
  readonly strides: number;
  /** Explicit padding [left, right], known after build. */
  padding: [number, number] = [0, 0];

  constructor(opts: Conv1DOptions) {
    super(opts, 'conv1d', CONV_KEYS, 1);
    [this.kernelSize, this.strides] = kernelAndStrides(opts, 'conv1d', checkInt);
  }

  protected init(inputShape: readonly number[], ctx: BuildContext): readonly number[] {
    checkExampleRank(this, inputShape, 2, 'sequences [channels, length]', 'a single-channel signal of 100 samples is [1, 100]');
    const [c, len] = inputShape;
    this.padding = resolvePadding1D(this.opts.padding ?? 'valid', len, this.kernelSize, this.strides, this.name);
    checkKernel1D(this.kernelSize, len, this.padding, this.name);
    const g = this.planeGeometry([c, 1, len], [1, this.kernelSize], [1, this.strides], [0, 0, ...this.padding], [this.kernelSize], ctx);
    return [this.filters, g.ow];
  }

  /** conv(x, W) + b (then `act`), [batch, filters, ol]. */
  protected convolve(x: Tensor, act: ConvActivationOptions): Tensor {
    this.checkImages(x, 'sequences');
    return conv1d(x, this.weight, this.bias, { strides: this.strides, padding: this.padding, ...act });
  }
}

/** Options of a {@link Conv2DTranspose} layer. @example `const o: Conv2DTransposeOptions = { filters: 16, kernelSize: 4, strides: 2, padding: 'same' };` */
export interface Conv2DTransposeOptions extends ConvOptions {
  /** Filter `[height, width]`, or one number for a square filter. */
  kernelSize: Pair;
  /** Up-sampling step `[vertical, horizontal]` or one number (default 1). */
  strides?: Pair;
  /** `'valid'` (default; output (in − 1)·s + k), `'same'` (output in·s) or PyTorch's symmetric padding p. */
  padding?: 'valid' | 'same' | number;
  /** PyTorch's `output_padding`: extra rows/columns at the bottom/right, each smaller than the stride. */
  outputPadding?: number | readonly [number, number];
}

/**
 * Transposed 2-D convolution (a learned up-sampling, the generator's layer in a DCGAN): each
 * input pixel adds its filter, weighted by its value, into the output at stride spacing, so
 * `strides: 2, padding: 'same'` doubles the height and width. Input [batch, channels, h, w] →
 * [batch, filters, (h − 1)·s + kh − 2p + op, …] (`'same'`: [batch, filters, h·s, w·s]).
 *
 * Parameters: `weight` [channels, filters, kh, kw] (PyTorch's `ConvTranspose2d` layout: input
 * channel first), `bias` [filters], `lambda` [filters] with PReLU.
 *
 * @example
 * ```ts
 * new Conv2DTranspose({ filters: 1, kernelSize: 4, strides: 2, padding: 'same', activation: 'logistic' }); // 14×14 → 28×28
 * ```
 */
export class Conv2DTranspose extends ConvLayer<Conv2DTransposeOptions> {
  readonly type = 'conv2dTranspose';
  readonly kernelSize: [number, number];
  readonly strides: [number, number];

  constructor(opts: Conv2DTransposeOptions) {
    super(opts, 'conv2dTranspose', [...CONV_KEYS, 'outputPadding'], null);
    const where = opts.name ?? 'conv2dTranspose';
    [this.kernelSize, this.strides] = kernelAndStrides(opts, 'conv2dTranspose', pair);
    const p = opts.padding ?? 'valid';
    if (p !== 'valid' && p !== 'same' && !(Number.isInteger(p) && (p as number) >= 0)) {
      throw new ConfigError(`${where}.padding must be "valid", "same" or an integer ≥ 0, received ${JSON.stringify(p)}`);
    }
    const op = outputPaddingPair(opts.outputPadding, `${where}.outputPadding`);
    if (op[0] >= this.strides[0] || op[1] >= this.strides[1]) {
      throw new ConfigError(`${where}.outputPadding must be smaller than the stride ${this.strides.join('×')}, received ${JSON.stringify(opts.outputPadding)}`);
    }
  }

  protected init(inputShape: readonly number[], ctx: BuildContext): readonly number[] {
    checkExampleRank(this, inputShape, 3, 'images [channels, height, width]');
    this.makeParams(inputShape[0], this.kernelSize, ctx, true);
    const probe = conv2dTranspose(new Tensor(new Float32Array(shapeSize(inputShape)), [1, ...inputShape]), new Tensor(new Float32Array(this.weight.size), this.weight.shape), null, this.transposeOptions());
    return probe.shape.slice(1);
  }

  private transposeOptions(): Conv2dTransposeOptions {
    return { strides: this.strides, padding: this.opts.padding ?? 'valid', outputPadding: this.opts.outputPadding ?? 0 };
  }

  /** The weighted sums z = convTranspose(x, W) + b, [batch, filters, oh, ow] (no fused activation: `act` is always linear here). */
  protected convolve(x: Tensor, _act: ConvActivationOptions): Tensor {
    this.checkImages(x, 'images');
    return conv2dTranspose(x, this.weight, this.bias, this.transposeOptions());
  }
}

registerLayer('conv2d', (s: Conv2DOptions) => new Conv2D(s));
registerLayer('conv1d', (s: Conv1DOptions) => new Conv1D(s));
registerLayer('conv2dTranspose', (s: Conv2DTransposeOptions) => new Conv2DTranspose(s));
