import type { Tensor } from '../tensor/tensor.js';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { pair } from '../ops/conv.js';
import type { Pair } from '../ops/conv.js';
import { avgPool1d, avgPool2d, maxPool1d, maxPool2d, poolGeometry } from '../ops/pool.js';
import type { Pool1dOptions, Pool2dOptions } from '../ops/pool.js';
import type { PoolWindow } from '../ops/conv-pool.js';
import { Layer } from './module.js';
import type { BuildContext } from './module.js';
import { registerLayer } from './registry.js';
import { checkInt, checkKeys } from '../validate.js';

/** Options of {@link MaxPool2D} and {@link AvgPool2D} (TF.js key names). @example `const o: Pool2DOptions = { poolSize: 2 };` */
export interface Pool2DOptions {
  /** Window `[height, width]` or one number (default 2). */
  poolSize?: Pair;
  /** Step between windows (default: the pool size — non-overlapping windows). */
  strides?: Pair;
  /** `'valid'` (default; every window inside the input) or `'same'` (⌈h / s⌉ × ⌈w / s⌉ outputs; border windows use only the values inside). */
  padding?: 'valid' | 'same';
  /** Only `'channelsFirst'` (NCHW), the default. */
  dataFormat?: 'channelsFirst';
  /** Name (default `maxPool2d_N` / `avgPool2d_N`). */
  name?: string;
}

/** Options of {@link MaxPool1D} and {@link AvgPool1D}. @example `const o: Pool1DOptions = { poolSize: 3, strides: 1 };` */
export interface Pool1DOptions {
  /** Window length (default 2). */
  poolSize?: number;
  /** Step between windows (default: the pool size). */
  strides?: number;
  /** `'valid'` (default) or `'same'` (⌈length / stride⌉ outputs). */
  padding?: 'valid' | 'same';
  /** Only `'channelsFirst'` (NCL), the default. */
  dataFormat?: 'channelsFirst';
  /** Name (default `maxPool1d_N` / `avgPool1d_N`). */
  name?: string;
}

const POOL_KEYS = ['type', 'name', 'poolSize', 'strides', 'padding', 'dataFormat'];

/**
 * Common part of the pooling layers: options, shapes and tracing. A pooling neuron's z is its
 * output (the window's max or mean, ∂a/∂z = 1 as in eq 102), so a trace reports z = a and δ.
 */
abstract class PoolLayer extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'valid' | 'same';
  private readonly dims: 1 | 2;

  constructor(readonly opts: Pool2DOptions | Pool1DOptions, readonly type: string, private readonly kind: 'max' | 'avg') {
    super(opts?.name);
    if (!opts || typeof opts !== 'object') throw new ConfigError(`${type} needs an options object, received ${JSON.stringify(opts)}`);
    const where = opts.name ?? type;
    checkKeys(opts, POOL_KEYS, where);
    const dims = type.endsWith('2d') ? 2 : 1;
    this.dims = dims;
    if (dims === 2) {
      this.poolSize = pair(opts.poolSize ?? 2, `${where}.poolSize`);
      this.strides = opts.strides === undefined ? this.poolSize : pair(opts.strides, `${where}.strides`);
    } else {
      this.poolSize = [1, checkInt(opts.poolSize ?? 2, `${where}.poolSize`)];
      this.strides = [1, opts.strides === undefined ? this.poolSize[1] : checkInt(opts.strides, `${where}.strides`)];
    }
    if (opts.padding !== undefined && opts.padding !== 'valid' && opts.padding !== 'same') {
      throw new ConfigError(`${where}.padding must be "valid" (windows inside the input) or "same", received ${JSON.stringify(opts.padding)}`);
    }
    this.padding = opts.padding ?? 'valid';
    if (opts.dataFormat !== undefined && opts.dataFormat !== 'channelsFirst') {
      throw new ConfigError(`${where}.dataFormat: only "channelsFirst" is supported, received ${JSON.stringify(opts.dataFormat)}`);
    }
  }

  protected init(inputShape: readonly number[], _ctx: BuildContext): readonly number[] {
    if (this.dims === 2) {
      if (inputShape.length !== 3) throw new ShapeError(`${this.name} expects feature maps [channels, height, width], received input shape ${fmtShape(inputShape)}`);
      if (this.padding === 'same') return [inputShape[0], Math.ceil(inputShape[1] / this.strides[0]), Math.ceil(inputShape[2] / this.strides[1])];
      const g = poolGeometry(1, inputShape, this.poolSize, this.strides, this.name);
      return [inputShape[0], g.oh, g.ow];
    }
    if (inputShape.length !== 2) throw new ShapeError(`${this.name} expects sequences [channels, length], received input shape ${fmtShape(inputShape)}`);
    const [c, len] = inputShape;
    if (this.padding === 'same') return [c, Math.ceil(len / this.strides[1])];
    if (this.poolSize[1] > len) {
      throw new ConfigError(`${this.name}: pool window ${this.poolSize[1]} is larger than the input length ${len}; expected at most ${len}, received ${this.poolSize[1]}`);
    }
    return [c, poolGeometry(1, [c, 1, len], this.poolSize, this.strides, this.name).ow];
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    let y: Tensor;
    if (this.dims === 2) {
      const o: Pool2dOptions = { poolSize: this.poolSize, strides: this.strides, padding: this.padding };
      y = this.kind === 'max' ? maxPool2d(x, o) : avgPool2d(x, o);
    } else {
      const o: Pool1dOptions = { poolSize: this.poolSize[1], strides: this.strides[1], padding: this.padding };
      y = this.kind === 'max' ? maxPool1d(x, o) : avgPool1d(x, o);
    }
    return this.traced(y, y);
  }

  override poolWindow(): PoolWindow | null {
    // a traced pooling records its own output; 'same' pads the maps, which the fused op does not
    if (this.dims !== 2 || this.padding !== 'valid' || this.tracing) return null;
    return { kind: this.kind, poolSize: this.poolSize, strides: this.strides };
  }

  config(): Record<string, unknown> {
    const size = this.dims === 2 ? this.poolSize : this.poolSize[1];
    const strides = this.dims === 2 ? this.strides : this.strides[1];
    return { type: this.type, name: this.name, poolSize: size, strides, ...(this.padding === 'same' ? { padding: 'same' } : {}) };
  }
}

/** The pooling layer class of one spec `type` and window function; its constructor takes the options alone (default `{}`). */
function poolLayer<O extends Pool2DOptions | Pool1DOptions>(type: string, kind: 'max' | 'avg'): new (opts?: O) => PoolLayer {
  return class extends PoolLayer {
    constructor(opts: O = {} as O) {
      super(opts, type, kind);
    }
  };
}

/**
 * Max pooling over 2-D windows (eq 100–103): each output is the largest value in its window of
 * every feature map; backpropagation sends the whole gradient to the input that gave the max
 * (the first in row-major order on ties) and zero to the others.
 * Input [batch, channels, h, w] → [batch, channels, ⌊(h − ph) / sv⌋ + 1, ⌊(w − pw) / sh⌋ + 1].
 * No parameters.
 *
 * @example
 * ```ts
 * new MaxPool2D({ poolSize: 2 });               // non-overlapping 2×2 windows
 * new MaxPool2D({ poolSize: 3, strides: 2 });   // overlapping
 * ```
 */
export class MaxPool2D extends poolLayer<Pool2DOptions>('maxPool2d', 'max') {}

/**
 * Average pooling over 2-D windows (the early CNNs' sub-sampling): each output is the mean of its
 * window; each input of a window receives the window's gradient ÷ window size. No parameters.
 *
 * @example
 * ```ts
 * new AvgPool2D({ poolSize: [2, 2] });
 * ```
 */
export class AvgPool2D extends poolLayer<Pool2DOptions>('avgPool2d', 'avg') {}

/**
 * Max pooling along sequences: [batch, channels, length] → [batch, channels, ⌊(length − size) / stride⌋ + 1].
 *
 * @example
 * ```ts
 * new MaxPool1D({ poolSize: 2 });
 * ```
 */
export class MaxPool1D extends poolLayer<Pool1DOptions>('maxPool1d', 'max') {}

/**
 * Average pooling along sequences: [batch, channels, length] → [batch, channels, ol].
 *
 * @example
 * ```ts
 * new AvgPool1D({ poolSize: 4, strides: 2 });
 * ```
 */
export class AvgPool1D extends poolLayer<Pool1DOptions>('avgPool1d', 'avg') {}

// each under its spec type and its Keras-style alias
for (const [Pool, alias] of [[MaxPool2D, 'maxPooling2d'], [AvgPool2D, 'averagePooling2d'], [MaxPool1D, 'maxPooling1d'], [AvgPool1D, 'averagePooling1d']] as const) {
  registerLayer(new Pool().type, (s) => new Pool(s as never), { aliases: [alias] });
}
