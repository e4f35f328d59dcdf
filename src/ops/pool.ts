import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { PoolGeometry } from '../backend/backend.js';
import { be, record } from './graph.js';
import { reshape } from './shape.js';
import { pair, resolvePadding2D } from './conv.js';
import { pad2d } from './spatial.js';
import { mul } from './elementwise.js';
import { tensor } from '../tensor/create.js';
import type { Pair } from './conv.js';
import { checkInt } from '../validate.js';

/** Options of {@link maxPool2d} and {@link avgPool2d}. @example `const o: Pool2dOptions = { poolSize: 2 };` */
export interface Pool2dOptions {
  /** Window `[height, width]` or one number for both (default 2). */
  poolSize?: Pair;
  /** Step between windows (default: the pool size, so windows do not overlap). */
  strides?: Pair;
  /**
   * `'valid'` (default): every window inside the input; `'same'`: ⌈size / stride⌉ outputs per
   * axis, windows at the border see only the input's values (max ignores the padding, the mean is
   * over the values inside, as Keras does).
   */
  padding?: 'valid' | 'same';
}

/** Options of {@link maxPool1d} and {@link avgPool1d}. @example `const o: Pool1dOptions = { poolSize: 3, strides: 1 };` */
export interface Pool1dOptions {
  /** Window length (default 2). */
  poolSize?: number;
  /** Step between windows (default: the pool size). */
  strides?: number;
  /** `'valid'` (default) or `'same'` (see {@link Pool2dOptions.padding}). */
  padding?: 'valid' | 'same';
}

/**
 * The geometry of pooling images [c, h, w] (n of them) with windows [ph, pw] and strides
 * [sh, sw] (no padding: every window lies inside the image), or a ConfigError naming `where` when
 * the window is larger than the image. Output size: ⌊(size − window) / stride⌋ + 1.
 *
 * @example
 * ```ts
 * poolGeometry(64, [16, 24, 24], [2, 2], [2, 2], 'maxPool2d_1'); // oh = ow = 12
 * ```
 */
export function poolGeometry(n: number, image: readonly number[], pool: readonly [number, number],
  strides: readonly [number, number], where: string): PoolGeometry {
  const [c, h, w] = image;
  const [ph, pw] = pool;
  if (ph > h || pw > w) {
    throw new ConfigError(`${where}: pool window ${ph}×${pw} is larger than the input ${h}×${w}; expected a window of at most ${h}×${w}, received ${ph}×${pw}`);
  }
  const [sh, sw] = strides;
  return { n, c, h, w, ph, pw, sh, sw, oh: Math.floor((h - ph) / sh) + 1, ow: Math.floor((w - pw) / sw) + 1 };
}

/** Padding [top, bottom, left, right] of a 'same' pooling (null for 'valid'). */
function samePoolPadding(op: string, x: Tensor, opts: Pool2dOptions): [number, number, number, number] | null {
  const p = opts.padding ?? 'valid';
  if (p !== 'valid' && p !== 'same') throw new ConfigError(`${op} padding must be "valid" or "same", received ${JSON.stringify(p)}`);
  if (p === 'valid') return null;
  if (x.rank !== 4) throw new ShapeError(`${op} expects images x [batch, channels, height, width], received ${fmtShape(x.shape)}`);
  const pool = pair(opts.poolSize ?? 2, `${op} poolSize`);
  const strides = opts.strides === undefined ? pool : pair(opts.strides, `${op} strides`);
  return resolvePadding2D('same', [x.shape[2], x.shape[3]], pool, strides, op);
}

/** [1, 1, oh, ow]: window area ÷ the number of the window's cells inside the unpadded h×w image. */
function insideShare(h: number, w: number, oh: number, ow: number, pads: readonly number[], opts: Pool2dOptions): Tensor {
  const [ph, pw] = pair(opts.poolSize ?? 2, 'poolSize');
  const [sh, sw] = opts.strides === undefined ? [ph, pw] : pair(opts.strides, 'strides');
  const inside = (o: number, s: number, k: number, before: number, size: number) => Math.min(o * s - before + k, size) - Math.max(o * s - before, 0);
  // output (i, j) at index i·ow + j
  const f = Float32Array.from({ length: oh * ow }, (_, o) => (ph * pw) /
    (inside(Math.floor(o / ow), sh, ph, pads[0], h) * inside(o % ow, sw, pw, pads[2], w)));
  return tensor(f, { shape: [1, 1, oh, ow] });
}

function geometry2d(op: string, x: Tensor, opts: Pool2dOptions): PoolGeometry {
  if (x.rank !== 4) throw new ShapeError(`${op} expects images x [batch, channels, height, width], received ${fmtShape(x.shape)}`);
  const pool = pair(opts.poolSize ?? 2, `${op} poolSize`);
  const strides = opts.strides === undefined ? pool : pair(opts.strides, `${op} strides`);
  const [n, c, h, w] = x.shape;
  return poolGeometry(n, [c, h, w], pool, strides, op);
}

/**
 * Max pooling over windows of NCHW images x [N, C, H, W] → [N, C, OH, OW] (sub-sampling, eq
 * 100–103). Backward: the whole gradient of a window goes to the input that gave its maximum
 * (the first one in row-major order on ties); the others receive zero.
 *
 * @example
 * ```ts
 * maxPool2d(tensor([[[[1, 2], [4, 3]]]])).toArray(); // [[[[4]]]]
 * ```
 */
export function maxPool2d(x: Tensor, opts: Pool2dOptions = {}): Tensor {
  const pads = samePoolPadding('maxPool2d', x, opts);
  if (pads) return maxPool2d(pad2d(x, pads, -Infinity), { ...opts, padding: 'valid' });
  const g = geometry2d('maxPool2d', x, opts);
  const B = be();
  const y = B.allocUninit(g.n * g.c * g.oh * g.ow);
  // the winners' indices live in a pooled buffer (every one is written) that goes back with the step
  const argmaxStore = B.allocUninit(y.length);
  const argmax = new Int32Array(argmaxStore.buffer, 0, y.length);
  B.maxPool(g, x.data, y, argmax);
  return record('maxPool2d', y, [g.n, g.c, g.oh, g.ow], [x], (gy) => {
    const dx = B.allocUninit(x.size);
    B.maxPoolBackward(g, gy, argmax, dx);
    return [dx];
  }, [argmaxStore]);
}

/**
 * Average pooling over windows of NCHW images x [N, C, H, W] → [N, C, OH, OW] (the early CNNs'
 * sub-sampling). Backward: each input of a window receives the window's gradient ÷ window size.
 *
 * @example
 * ```ts
 * avgPool2d(tensor([[[[1, 2], [4, 3]]]])).toArray(); // [[[[2.5]]]]
 * ```
 */
export function avgPool2d(x: Tensor, opts: Pool2dOptions = {}): Tensor {
  const pads = samePoolPadding('avgPool2d', x, opts);
  if (pads) {
    const y = avgPool2d(pad2d(x, pads), { ...opts, padding: 'valid' });
    return mul(y, insideShare(x.shape[2], x.shape[3], y.shape[2], y.shape[3], pads, opts));
  }
  const g = geometry2d('avgPool2d', x, opts);
  const B = be();
  const y = B.allocUninit(g.n * g.c * g.oh * g.ow);
  B.avgPool(g, x.data, y);
  return record('avgPool2d', y, [g.n, g.c, g.oh, g.ow], [x], (gy) => {
    const dx = B.allocUninit(x.size);
    B.avgPoolBackward(g, gy, dx);
    return [dx];
  });
}

function pool1d(op: string, x: Tensor, opts: Pool1dOptions, f: (x4: Tensor, o: Pool2dOptions) => Tensor): Tensor {
  if (x.rank !== 3) throw new ShapeError(`${op} expects sequences x [batch, channels, length], received ${fmtShape(x.shape)}`);
  const size = checkInt(opts.poolSize ?? 2, `${op} poolSize`);
  const stride = opts.strides === undefined ? size : checkInt(opts.strides, `${op} strides`);
  const [n, c, len] = x.shape;
  if (size > len && opts.padding !== 'same') throw new ConfigError(`${op}: pool window ${size} is larger than the input length ${len}; expected at most ${len}, received ${size}`);
  const y = f(reshape(x, [n, c, 1, len]), { poolSize: [1, size], strides: [1, stride], padding: opts.padding });
  return reshape(y, [n, c, y.shape[3]]);
}

/**
 * Max pooling of sequences x [N, C, L] → [N, C, OL] (windows of `poolSize`, step `strides`).
 *
 * @example
 * ```ts
 * maxPool1d(tensor([[[1, 3, 2, 0]]])).toArray(); // [[[3, 2]]]
 * ```
 */
export function maxPool1d(x: Tensor, opts: Pool1dOptions = {}): Tensor {
  return pool1d('maxPool1d', x, opts, maxPool2d);
}

/**
 * Average pooling of sequences x [N, C, L] → [N, C, OL].
 *
 * @example
 * ```ts
 * avgPool1d(tensor([[[1, 3, 2, 0]]])).toArray(); // [[[2, 1]]]
 * ```
 */
export function avgPool1d(x: Tensor, opts: Pool1dOptions = {}): Tensor {
  return pool1d('avgPool1d', x, opts, avgPool2d);
}
