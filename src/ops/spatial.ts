import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { tensor } from '../tensor/create.js';
import { be, record, releaseScratch, wants } from './graph.js';
import { add, mul } from './elementwise.js';
import { reshape } from './shape.js';
import { convGeometry, pair } from './conv.js';
import type { Pair } from './conv.js';

/**
 * Pads the two spatial dimensions of images [N, C, H, W] with a constant:
 * `[top, bottom, left, right]` rows/columns of `value` (default 0). The gradient is the
 * gradient's centre (the padding receives none).
 *
 * @example
 * ```ts
 * pad2d(tensor([[[[1]]]]), [1, 0, 0, 1]).toArray(); // [[[[0, 0], [1, 0]]]]
 * ```
 */
export function pad2d(x: Tensor, pad: readonly [number, number, number, number], value = 0): Tensor {
  if (x.rank !== 4) throw new ShapeError(`pad2d expects images [batch, channels, height, width], received ${fmtShape(x.shape)}`);
  if (pad.length !== 4 || pad.some((p) => !Number.isInteger(p) || p < 0)) throw new ConfigError(`pad2d: padding must be [top, bottom, left, right] integers ≥ 0, received ${JSON.stringify(pad)}`);
  const [n, c, h, w] = x.shape;
  const [t, b, l, r] = pad;
  const oh = h + t + b;
  const ow = w + l + r;
  const B = be();
  const y = B.alloc(n * c * oh * ow);
  if (value !== 0) B.fill(y, value);
  const planes = n * c;
  // each of the h rows of w pixels of every plane, moved t rows down and l columns right
  B.copyRuns(x.data, 0, [h * w, w], y, t * ow + l, [oh * ow, ow], [planes, h], w);
  return record('pad2d', y, [n, c, oh, ow], [x], (g) => {
    const dx = B.alloc(x.size);
    B.copyRuns(g, t * ow + l, [oh * ow, ow], dx, 0, [h * w, w], [planes, h], w);
    return [dx];
  });
}

/**
 * Nearest-neighbour up-sampling of images [N, C, H, W] by `[sh, sw]` (or one factor): every pixel
 * becomes an sh×sw block → [N, C, H·sh, W·sw]. The gradient of a pixel is the sum over its block.
 * Built from a broadcasting multiply, so it needs no kernel of its own.
 *
 * @example
 * ```ts
 * upSample2d(tensor([[[[1, 2]]]]), 2).toArray(); // [[[[1, 1, 2, 2], [1, 1, 2, 2]]]]
 * ```
 */
export function upSample2d(x: Tensor, size: Pair = 2): Tensor {
  if (x.rank !== 4) throw new ShapeError(`upSample2d expects images [batch, channels, height, width], received ${fmtShape(x.shape)}`);
  const [sh, sw] = pair(size, 'upSample2d size');
  const [n, c, h, w] = x.shape;
  const ones = tensor(new Float32Array(sh * sw).fill(1), { shape: [1, 1, 1, sh, 1, sw] });
  return reshape(mul(reshape(x, [n, c, h, 1, w, 1]), ones), [n, c, h * sh, w * sw]);
}

/** Options of {@link conv2dTranspose}. @example `const o: Conv2dTransposeOptions = { strides: 2, padding: 'same' };` */
export interface Conv2dTransposeOptions {
  /** Step of the corresponding forward convolution: the up-sampling factor (default 1). */
  strides?: Pair;
  /**
   * `'valid'` (default): output (in − 1)·s + k; `'same'`: output in·s; a number p: PyTorch's
   * `padding`, output (in − 1)·s + k − 2p.
   */
  padding?: 'valid' | 'same' | number;
  /** Extra rows/columns at the bottom/right (PyTorch's `output_padding`), each < the stride. Default 0. */
  outputPadding?: number | readonly [number, number];
}

/**
 * Output padding as `[rows, columns]` from one integer ≥ 0 or a pair of them (ConfigError naming `where`).
 *
 * @example
 * ```ts
 * outputPaddingPair(1, 'outputPadding'); // [1, 1]
 * ```
 */
export function outputPaddingPair(v: unknown, where: string): [number, number] {
  if (v === undefined) return [0, 0];
  const ok = (d: unknown) => typeof d === 'number' && Number.isInteger(d) && d >= 0;
  if (ok(v)) return [v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && v.every(ok)) return [v[0], v[1]];
  throw new ConfigError(`${where} must be an integer ≥ 0 or a pair [rows, columns] of them, received ${JSON.stringify(v)}`);
}

/** Padding [before, after] and output padding of one dimension of a transposed convolution (the exporters use it too). @example `transposePad('same', 4, 2, 0) // { before: 1, after: 1, extra: 0 }` */
export function transposePad(padding: 'valid' | 'same' | number, k: number, s: number, extra: number): { before: number; after: number; extra: number } {
  // output padding first uncovers rows the padding would crop at the bottom/right (PyTorch),
  // the rest are new rows that only the bias reaches
  const total = padding === 'same' ? Math.max(k - s, 0) : 2 * (padding === 'valid' ? 0 : padding);
  const before = padding === 'same' ? Math.floor(total / 2) : total / 2;
  const more = extra + (padding === 'same' ? Math.max(s - k, 0) : 0);
  const uncover = Math.min(more, total - before);
  return { before, after: total - before - uncover, extra: more - uncover };
}

/** Output size of a transposed convolution along one dimension, before output padding. */
const coreSize = (size: number, k: number, s: number, before: number, after: number) => (size - 1) * s + k - before - after;

/**
 * Transposed 2-D convolution ("deconvolution"), the gradient of `conv2d` with respect to its
 * input used as a layer: each input pixel scatters its filter-weighted values into an s×s-spaced
 * output, so a stride of 2 doubles the size. x [N, Cin, H, W], w [Cin, Cout, kh, kw] (PyTorch's
 * `ConvTranspose2d` layout), bias [Cout] → [N, Cout, (H − 1)·s + kh − 2p + op, …].
 * Forward is the backend's conv2d data-gradient kernel; the input gradient is a plain conv2d and
 * the filter gradient the conv2d filter-gradient kernel with the roles of x and dy swapped.
 *
 * @example
 * ```ts
 * conv2dTranspose(tensor([[[[1, 2]]]]), tensor([[[[1, 10]]]]), null, { strides: 2 }).toArray(); // [[[[1, 10, 2, 20]]]]
 * ```
 */
export function conv2dTranspose(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dTransposeOptions = {}): Tensor {
  if (x.rank !== 4) throw new ShapeError(`conv2dTranspose expects images x [batch, channels, height, width], received ${fmtShape(x.shape)}`);
  if (w.rank !== 4) throw new ShapeError(`conv2dTranspose expects filters w [inChannels, outChannels, height, width], received ${fmtShape(w.shape)}`);
  const [n, cin, h, wd] = x.shape;
  const [wc, cout, kh, kw] = w.shape;
  if (wc !== cin) throw new ShapeError(`conv2dTranspose: filters ${fmtShape(w.shape)} take ${wc} input channels but the images ${fmtShape(x.shape)} have ${cin}`);
  if (b && (b.rank !== 1 || b.shape[0] !== cout)) throw new ShapeError(`conv2dTranspose expects bias [${cout}], received ${fmtShape(b.shape)}`);
  const [sh, sw] = pair(opts.strides ?? 1, 'conv2dTranspose strides');
  const padding = opts.padding ?? 'valid';
  if (padding !== 'valid' && padding !== 'same' && !(Number.isInteger(padding) && (padding as number) >= 0)) {
    throw new ConfigError(`conv2dTranspose padding must be "valid", "same" or an integer ≥ 0, received ${JSON.stringify(padding)}`);
  }
  const op = outputPaddingPair(opts.outputPadding, 'conv2dTranspose outputPadding');
  if (op[0] >= sh || op[1] >= sw) throw new ConfigError(`conv2dTranspose outputPadding must be smaller than the stride ${sh}×${sw}, received ${op[0]}×${op[1]}`);
  const ph = transposePad(padding, kh, sh, op[0]);
  const pw = transposePad(padding, kw, sw, op[1]);
  const oh = coreSize(h, kh, sh, ph.before, ph.after);
  const ow = coreSize(wd, kw, sw, pw.before, pw.after);
  if (oh < 1 || ow < 1) throw new ConfigError(`conv2dTranspose: padding ${JSON.stringify(padding)} leaves no output for a ${h}×${wd} input and a ${kh}×${kw} kernel`);
  // the forward convolution whose input gradient this is: image [cout, oh, ow] → [cin, h, w]
  const g = convGeometry(n, [cout, oh, ow], cin, [kh, kw], [sh, sw], [ph.before, ph.after, pw.before, pw.after], 'conv2dTranspose');
  if (g.oh !== h || g.ow !== wd) throw new ShapeError(`conv2dTranspose: internal geometry mismatch (${g.oh}×${g.ow} for ${h}×${wd})`);
  const B = be();
  const y = B.alloc(n * cout * oh * ow);
  B.conv2dBackwardData(g, x.data, w.data, y);
  let out = record('conv2dTranspose', y, [n, cout, oh, ow], [x, w], (gy) => {
    let gx: Float32Array | null = null;
    let gw: Float32Array | null = null;
    if (wants(x)) {
      gx = B.alloc(x.size);
      B.conv2d(g, gy, w.data, null, gx);
    }
    if (wants(w)) {
      gw = B.alloc(w.size);
      B.conv2dBackwardFilter(g, gy, x.data, gw, null);
    }
    return [gx, gw];
  });
  if (ph.extra || pw.extra) out = pad2d(out, [0, ph.extra, 0, pw.extra]);
  return b ? add(out, reshape(b, [1, cout, 1, 1])) : out;
}

/**
 * Mean over the spatial axes of images [N, C, H, W] → [N, C] (or of sequences [N, C, L] → [N, C]).
 *
 * @example
 * ```ts
 * globalAvgPool(tensor([[[[1, 2], [3, 6]]]])).toArray(); // [[3]]
 * ```
 */
export function globalAvgPool(x: Tensor): Tensor {
  if (x.rank !== 3 && x.rank !== 4) throw new ShapeError(`globalAvgPool expects [batch, channels, length] or [batch, channels, height, width], received ${fmtShape(x.shape)}`);
  const [n, c] = x.shape;
  const area = x.size / (n * c);
  const B = be();
  const y = B.alloc(n * c);
  B.sumAxis(x.data, n * c, area, 1, y, false);
  B.scale(y, 1 / area, y);
  return record('globalAvgPool', y, [n, c], [x], (g) => {
    const dx = B.alloc(x.size);
    const s = B.alloc(g.length);
    B.scale(g, 1 / area, s);
    B.addBroadcast(dx, s, n * c, area, 1, dx);
    releaseScratch(s);
    return [dx];
  });
}
