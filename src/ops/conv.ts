import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ConvGeometry } from '../backend/backend.js';
import { be, record, releaseScratch, wants } from './graph.js';
import { reshape } from './shape.js';
import { checkInt } from '../validate.js';
import { UNARY_OPS, unaryRow } from '../backend/unary.js';

/**
 * Zero padding of a 2-D convolution:
 * - `'valid'`: none (the lecture's default: the filter only visits real pixels);
 * - `'same'`: TensorFlow's rule — the output has ⌈size / stride⌉ rows and columns, and the
 *   padding this needs is split between the edges as equally as possible (the odd pixel goes to
 *   the bottom / right);
 * - a number p: p pixels on every edge (eq 98/99 use 1);
 * - `[top, bottom, left, right]`: explicit.
 *
 * @example
 * ```ts
 * const p: Padding2D = [1, 1, 0, 0]; // one row above and below, no columns
 * ```
 */
export type Padding2D = 'valid' | 'same' | number | readonly [number, number, number, number];

/**
 * Zero padding of a 1-D convolution: `'valid'`, `'same'`, a number for both ends, or
 * `[left, right]`.
 *
 * @example
 * ```ts
 * const p: Padding1D = 'same';
 * ```
 */
export type Padding1D = 'valid' | 'same' | number | readonly [number, number];

/** A number for both directions or a `[vertical, horizontal]` pair. @example `const s: Pair = [2, 1];` */
export type Pair = number | readonly [number, number];

/**
 * The activations a convolution applies in its own kernel (see {@link Conv2dOptions.activation}):
 * those whose derivative follows from the output a alone, so that backward needs no z —
 * ReLU and leaky ReLU (a > 0 exactly where z > 0, for α ≥ 0), tanh (1 − a²) and the logistic
 * sigmoid (a(1 − a)); `'linear'` is none.
 *
 * @example
 * ```ts
 * const f: ConvActivation = 'relu';
 * ```
 */
export type ConvActivation = 'linear' | 'relu' | 'leakyRelu' | 'tanh' | 'logistic';

// the activation rows whose derivative follows from the output (for some parameter)
const CONV_ACTIVATIONS = UNARY_OPS.filter((op) => unaryRow(op).activation && unaryRow(op).fromOutput) as ConvActivation[];

/** The activation part of the convolutions' options. @example `const o: ConvActivationOptions = { activation: 'leakyRelu', alpha: 0.1 };` */
export interface ConvActivationOptions {
  /**
   * a = f(z) applied to the weighted sums in the convolution's kernel (default `'linear'`: the
   * output is z). The result equals the activation op applied to the plain convolution; the
   * backward pass computes ∂a/∂z from the saved output.
   */
  activation?: ConvActivation;
  /** Leaky ReLU slope α ≥ 0 (default 0.01). */
  alpha?: number;
}

/** Options of {@link conv2d}. @example `const o: Conv2dOptions = { strides: [2, 1], padding: 'same', activation: 'relu' };` */
export interface Conv2dOptions extends ConvActivationOptions {
  /** Step between receptive fields, `[vertical, horizontal]` or one number for both (default 1). */
  strides?: Pair;
  /** Zero padding (default `'valid'`). */
  padding?: Padding2D;
}

/** Options of {@link conv1d}. @example `const o: Conv1dOptions = { strides: 2, padding: [1, 0] };` */
export interface Conv1dOptions extends ConvActivationOptions {
  /** Step between receptive fields (default 1). */
  strides?: number;
  /** Zero padding (default `'valid'`). */
  padding?: Padding1D;
}

/**
 * Reads a convolution's activation option into the kernel's function and parameter, or a
 * ConfigError naming `where`: an activation outside {@link ConvActivation}, or a negative or
 * non-finite leaky slope (its output would no longer tell where z > 0).
 *
 * @example
 * ```ts
 * convActivation({ activation: 'leakyRelu' }, 'conv2d'); // { op: 'leakyRelu', param: 0.01 }
 * ```
 */
export function convActivation(opts: ConvActivationOptions, where: string): { op: ConvActivation; param: number } {
  const op = opts.activation ?? 'linear';
  if (!CONV_ACTIVATIONS.includes(op)) {
    throw new ConfigError(`${where}.activation must be one of ${CONV_ACTIVATIONS.map((a) => `"${a}"`).join(', ')} (an activation whose derivative follows from its output), received ${JSON.stringify(op)}`);
  }
  if (op !== 'leakyRelu') return { op, param: 0 };
  const alpha = opts.alpha ?? 0.01;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0) {
    throw new ConfigError(`${where}.alpha must be a finite number ≥ 0 for a fused leaky ReLU, received ${JSON.stringify(opts.alpha)}`);
  }
  return { op, param: alpha };
}

/**
 * Reads a size or stride given as a number or a `[vertical, horizontal]` pair; every entry must be
 * an integer ≥ 1 (ConfigError naming `where` otherwise).
 *
 * @example
 * ```ts
 * pair(3, 'conv2d_1.kernelSize');      // [3, 3]
 * pair([2, 1], 'conv2d_1.strides');    // [2, 1]
 * ```
 */
export function pair(v: unknown, where: string): [number, number] {
  const ok = (d: unknown) => typeof d === 'number' && Number.isInteger(d) && d >= 1;
  if (ok(v)) return [v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && v.every(ok)) return [v[0], v[1]];
  throw new ConfigError(`${where} must be an integer ≥ 1 or a pair [vertical, horizontal] of them, received ${JSON.stringify(v)}`);
}

/**
 * Validates a padding option without an input size (so layers can reject it at construction).
 * @example `checkPadding('same', 'conv2d_1.padding', 2) // ok; 'full' would throw a ConfigError`
 */
export function checkPadding(p: unknown, where: string, dims: 1 | 2): void {
  const n = dims === 2 ? 4 : 2;
  const nonNeg = (d: unknown) => typeof d === 'number' && Number.isInteger(d) && d >= 0;
  if (p === 'valid' || p === 'same' || nonNeg(p)) return;
  if (Array.isArray(p) && p.length === n && p.every(nonNeg)) return;
  const explicit = dims === 2 ? '[top, bottom, left, right]' : '[left, right]';
  throw new ConfigError(`${where} must be "valid", "same", an integer ≥ 0 or ${explicit} integers ≥ 0, received ${JSON.stringify(p)}`);
}

/** [before, after] padding of one dimension for `'same'` (TensorFlow's rule). */
function samePad(size: number, k: number, s: number): [number, number] {
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + k - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/**
 * Resolves a 2-D padding option for an input of `size` [h, w], kernel [kh, kw] and strides
 * [sh, sw] into explicit `[top, bottom, left, right]`.
 *
 * @example
 * ```ts
 * resolvePadding2D('same', [6, 6], [3, 3], [1, 1], 'conv2d_1'); // [1, 1, 1, 1]
 * ```
 */
export function resolvePadding2D(padding: Padding2D, size: readonly [number, number], kernel: readonly [number, number],
  strides: readonly [number, number], where: string): [number, number, number, number] {
  checkPadding(padding, `${where}.padding`, 2);
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') return [...samePad(size[0], kernel[0], strides[0]), ...samePad(size[1], kernel[1], strides[1])];
  if (typeof padding === 'number') return [padding, padding, padding, padding];
  return [padding[0], padding[1], padding[2], padding[3]];
}

/**
 * The geometry of a 2-D convolution of images [c, h, w] (n of them) with k filters of
 * [kh, kw], or a ConfigError naming `where` when the kernel does not fit in the padded input.
 * Output size per dimension: ⌊(size + padding − kernel) / stride⌋ + 1.
 *
 * @example
 * ```ts
 * convGeometry(64, [1, 28, 28], 16, [5, 5], [1, 1], [0, 0, 0, 0], 'conv2d_1'); // oh = ow = 24
 * ```
 */
export function convGeometry(n: number, image: readonly number[], k: number, kernel: readonly [number, number],
  strides: readonly [number, number], pad: readonly [number, number, number, number], where: string): ConvGeometry {
  const [c, h, w] = image;
  const [kh, kw] = kernel;
  const [sh, sw] = strides;
  const ph = h + pad[0] + pad[1];
  const pw = w + pad[2] + pad[3];
  if (kh > ph || kw > pw) {
    const padded = pad.some((p) => p > 0) ? ` padded by [top ${pad[0]}, bottom ${pad[1]}, left ${pad[2]}, right ${pad[3]}] to ${ph}×${pw}` : '';
    throw new ConfigError(`${where}: kernel ${kh}×${kw} is larger than the input ${h}×${w}${padded}; expected a kernel of at most ${ph}×${pw}, received ${kh}×${kw}`);
  }
  return {
    n, c, h, w, k, kh, kw, sh, sw, padTop: pad[0], padLeft: pad[2],
    oh: Math.floor((ph - kh) / sh) + 1, ow: Math.floor((pw - kw) / sw) + 1,
  };
}

/**
 * 2-D convolution (cross-correlation, as in every deep-learning library and the lecture) of a
 * batch of NCHW images x [N, C, H, W] with filters w [F, C, kh, kw] (a filter has the input's
 * depth, eq 104) and an optional bias b [F]:
 * z[n, f, i, j] = b[f] + Σ_c Σ_u Σ_v w[f, c, u, v] · xpad[n, c, i·sh + u, j·sw + v].
 * Output [N, F, OH, OW]: z, or a = f(z) with `activation` (computed in the convolution's kernel;
 * the same values as the activation op applied to z). Backward: δz = δa ⊙ f′ from the saved a,
 * then ∂x by the transposed convolution, ∂w summed over every position that shares the filter
 * (eq 95), ∂b summed over batch and positions.
 *
 * @example
 * ```ts
 * // eq 105–109: a 2×2×3 filter with bias 0.5 over a 3×3 RGB image
 * conv2d(image, filter, tensor([0.5])).toArray(); // [[[[8.5, 6.5], [0.5, 10.5]]]]
 * conv2d(image, filter, tensor([-9]), { activation: 'relu' }).toArray(); // [[[[0, 0], [0, 1]]]]
 * ```
 */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const { g, act } = conv2dSetup('conv2d', x, w, b, opts);
  const B = be();
  const y = B.allocUninit(g.n * g.k * g.oh * g.ow);
  if (act.op === 'linear') B.conv2d(g, x.data, w.data, b ? b.data : null, y);
  else B.conv2dAct(g, x.data, w.data, b ? b.data : null, y, act.op, act.param);
  const parents = b ? [x, w, b] : [x, w];
  return record(act.op === 'linear' ? 'conv2d' : `conv2d+${act.op}`, y, [g.n, g.k, g.oh, g.ow], parents, (ga) => {
    // δz = δa ⊙ f′, f′ from the output alone (the saved a stands for z where f′ reads it)
    let gy = ga;
    if (act.op !== 'linear') {
      gy = B.allocUninit(y.length);
      B.unaryGrad(act.op, y, y, ga, gy, act.param, false);
    }
    const grads = conv2dBackward(g, x, w, b, gy);
    if (gy !== ga) releaseScratch(gy);
    return grads;
  });
}

/**
 * The checks and geometry of a 2-D convolution (ShapeError/ConfigError naming `op`): shapes of
 * images, filters and bias, strides, padding and the fused activation.
 *
 * @example
 * ```ts
 * conv2dSetup('conv2d', x, w, b, { padding: 'same' }).g.oh; // the output height
 * ```
 */
export function conv2dSetup(op: string, x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions): { g: ConvGeometry; act: { op: ConvActivation; param: number } } {
  if (x.rank !== 4) throw new ShapeError(`${op} expects images x [batch, channels, height, width], received ${fmtShape(x.shape)}`);
  if (w.rank !== 4) throw new ShapeError(`${op} expects filters w [filters, channels, height, width], received ${fmtShape(w.shape)}`);
  const [n, c, h, wd] = x.shape;
  const [k, wc, kh, kw] = w.shape;
  if (wc !== c) {
    throw new ShapeError(`${op}: filters ${fmtShape(w.shape)} have depth ${wc} but the images ${fmtShape(x.shape)} have ${c} channels`);
  }
  if (b && (b.rank !== 1 || b.shape[0] !== k)) throw new ShapeError(`${op} expects bias [${k}], received ${fmtShape(b.shape)}`);
  const strides = pair(opts.strides ?? 1, `${op} strides`);
  const pad = resolvePadding2D(opts.padding ?? 'valid', [h, wd], [kh, kw], strides, op);
  const g = convGeometry(n, [c, h, wd], k, [kh, kw], strides, pad, op);
  return { g, act: convActivation(opts, op) };
}

/**
 * The gradients [∂x, ∂w, (∂b)] of a 2-D convolution from δz (`gy`, NCHW), each null where its
 * tensor wants none: the first layer's input needs no gradient, so its (costly) data gradient is
 * skipped.
 */
function conv2dBackward(g: ConvGeometry, x: Tensor, w: Tensor, b: Tensor | null, gy: Float32Array): (Float32Array | null)[] {
  const B = be();
  let gx: Float32Array | null = null;
  let gw: Float32Array | null = null;
  let gb: Float32Array | null = null;
  if (wants(x)) {
    gx = B.allocUninit(x.size);
    B.conv2dBackwardData(g, gy, w.data, gx);
  }
  const wantB = b !== null && wants(b);
  if (wants(w)) {
    gw = B.alloc(w.size);
    gb = wantB ? B.alloc(g.k) : null;
    B.conv2dBackwardFilter(g, x.data, gy, gw, gb);
  } else if (wantB) {
    const perImage = B.allocUninit(g.k * g.oh * g.ow);
    B.sumAxis(gy, 1, g.n, g.k * g.oh * g.ow, perImage, false);
    gb = B.allocUninit(g.k);
    B.sumAxis(perImage, g.k, g.oh * g.ow, 1, gb, false);
    releaseScratch(perImage);
  }
  return b ? [gx, gw, gb] : [gx, gw];
}

/**
 * Resolves a 1-D padding option into `[left, right]` for a sequence of `length`, kernel k and
 * stride s.
 *
 * @example
 * ```ts
 * resolvePadding1D('same', 10, 3, 1, 'conv1d_1'); // [1, 1]
 * ```
 */
export function resolvePadding1D(padding: Padding1D, length: number, k: number, s: number, where: string): [number, number] {
  checkPadding(padding, `${where}.padding`, 1);
  if (padding === 'valid') return [0, 0];
  if (padding === 'same') return samePad(length, k, s);
  if (typeof padding === 'number') return [padding, padding];
  return [padding[0], padding[1]];
}

/**
 * ConfigError naming `where` unless a 1-D kernel of width k fits in a sequence of `length`
 * padded by [left, right].
 * @example `checkKernel1D(5, 3, [0, 0], 'conv1d_1') // throws: kernel width 5 is larger than the input length 3`
 */
export function checkKernel1D(k: number, length: number, pad: readonly [number, number], where: string): void {
  const padded = length + pad[0] + pad[1];
  if (k > padded) {
    throw new ConfigError(`${where}: kernel width ${k} is larger than the input length ${length}${padded > length ? ` padded to ${padded}` : ''}; expected a kernel of at most ${padded}, received ${k}`);
  }
}

/**
 * 1-D convolution of sequences x [N, C, L] with filters w [F, C, k] and optional bias b [F]
 * (the lecture's 1-D filters): z[n, f, t] = b[f] + Σ_c Σ_u w[f, c, u] · xpad[n, c, t·s + u].
 * Output [N, F, OL]. Runs on the 2-D kernels with height 1.
 *
 * @example
 * ```ts
 * conv1d(tensor([[[1, 2, 3, 4]]]), tensor([[[1, -1]]])).toArray(); // [[[-1, -1, -1]]]
 * ```
 */
export function conv1d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv1dOptions = {}): Tensor {
  if (x.rank !== 3) throw new ShapeError(`conv1d expects sequences x [batch, channels, length], received ${fmtShape(x.shape)}`);
  if (w.rank !== 3) throw new ShapeError(`conv1d expects filters w [filters, channels, width], received ${fmtShape(w.shape)}`);
  const [n, c, len] = x.shape;
  const [k, wc, kw] = w.shape;
  if (wc !== c) {
    throw new ShapeError(`conv1d: filters ${fmtShape(w.shape)} have depth ${wc} but the sequences ${fmtShape(x.shape)} have ${c} channels`);
  }
  convActivation(opts, 'conv1d');
  const s = checkInt(opts.strides ?? 1, 'conv1d strides');
  const [left, right] = resolvePadding1D(opts.padding ?? 'valid', len, kw, s, 'conv1d');
  checkKernel1D(kw, len, [left, right], 'conv1d');
  const z = conv2d(reshape(x, [n, c, 1, len]), reshape(w, [k, wc, 1, kw]), b,
    { strides: [1, s], padding: [0, 0, left, right], activation: opts.activation, alpha: opts.alpha });
  return reshape(z, [n, k, z.shape[3]]);
}
