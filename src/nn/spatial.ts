import type { Tensor } from '../tensor/tensor.js';
import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { globalAvgPool, upSample2d } from '../ops/spatial.js';
import { mean } from '../ops/reduce.js';
import { pair } from '../ops/conv.js';
import type { Pair } from '../ops/conv.js';
import { Layer } from './module.js';
import type { BuildContext } from './module.js';
import { checkKeys } from '../validate.js';
import { registerLayer } from './registry.js';

/** Options of {@link GlobalAveragePooling2D}. @example `const o: GlobalPoolingOptions = { name: 'gap' };` */
export interface GlobalPoolingOptions {
  /** Name (default `globalAveragePooling2d_N` / `globalAveragePooling1d_N`). */
  name?: string;
  /**
   * 1-D only: `'channelsFirst'` (default; [channels, length], as Conv1D produces) averages over the
   * length; `'channelsLast'` ([steps, features], as recurrent layers and Transformers produce)
   * averages over the steps.
   */
  dataFormat?: 'channelsFirst' | 'channelsLast';
}

/** Shared by the parameterless spatial layers: options check, z = a tracing, config. */
abstract class ShapeLayer extends Layer {
  constructor(readonly opts: Record<string, unknown>, type: string, keys: readonly string[]) {
    super(opts?.name as string | undefined);
    if (!opts || typeof opts !== 'object') throw new ConfigError(`${type} needs an options object, received ${JSON.stringify(opts)}`);
    checkKeys(opts, ['type', 'name', ...keys], (opts.name as string | undefined) ?? type);
  }

  /** The layer's computation on a batch. */
  protected abstract run(x: Tensor): Tensor;

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    const y = this.run(x);
    return this.traced(y, y);
  }

  config(): Record<string, unknown> {
    const { name: _n, type: _t, ...rest } = this.opts;
    return { type: this.type, name: this.name, ...rest };
  }
}

/**
 * Mean of every feature map: [batch, channels, h, w] → [batch, channels] (the usual head of a
 * residual CNN, in place of Flatten). Each input receives 1/(h·w) of its channel's gradient.
 * No parameters.
 *
 * @example
 * ```ts
 * new GlobalAveragePooling2D(); // [N, 32, 7, 7] → [N, 32]
 * ```
 */
export class GlobalAveragePooling2D extends ShapeLayer {
  readonly type = 'globalAveragePooling2d';
  constructor(opts: GlobalPoolingOptions = {}) {
    super(opts as Record<string, unknown>, 'globalAveragePooling2d', []);
  }
  protected init(inputShape: readonly number[], _ctx: BuildContext): readonly number[] {
    if (inputShape.length !== 3) throw new ShapeError(`${this.name} expects feature maps [channels, height, width], received input shape ${fmtShape(inputShape)}`);
    return [inputShape[0]];
  }
  protected run(x: Tensor): Tensor {
    return globalAvgPool(x);
  }
}

/**
 * Mean over a sequence: [batch, channels, length] → [batch, channels] (`channelsFirst`, after
 * Conv1D), or [batch, steps, features] → [batch, features] (`channelsLast`). No parameters.
 *
 * @example
 * ```ts
 * new GlobalAveragePooling1D({ dataFormat: 'channelsLast' }); // [N, T, 64] → [N, 64]
 * ```
 */
export class GlobalAveragePooling1D extends ShapeLayer {
  readonly type = 'globalAveragePooling1d';
  readonly dataFormat: 'channelsFirst' | 'channelsLast';
  constructor(opts: GlobalPoolingOptions = {}) {
    super(opts as Record<string, unknown>, 'globalAveragePooling1d', ['dataFormat']);
    const f = opts.dataFormat ?? 'channelsFirst';
    if (f !== 'channelsFirst' && f !== 'channelsLast') throw new ConfigError(`${opts.name ?? 'globalAveragePooling1d'}.dataFormat must be "channelsFirst" or "channelsLast", received ${JSON.stringify(f)}`);
    this.dataFormat = f;
  }
  protected init(inputShape: readonly number[], _ctx: BuildContext): readonly number[] {
    if (inputShape.length !== 2) throw new ShapeError(`${this.name} expects sequences [${this.dataFormat === 'channelsFirst' ? 'channels, length' : 'steps, features'}], received input shape ${fmtShape(inputShape)}`);
    return [this.dataFormat === 'channelsFirst' ? inputShape[0] : inputShape[1]];
  }
  protected run(x: Tensor): Tensor {
    return this.dataFormat === 'channelsFirst' ? globalAvgPool(x) : mean(x, 1);
  }
}

/** Options of {@link UpSampling2D}. @example `const o: UpSampling2DOptions = { size: 2 };` */
export interface UpSampling2DOptions {
  /** Factor `[vertical, horizontal]` or one number (default 2). */
  size?: Pair;
  /** Only `'nearest'` (each pixel repeated), the default. */
  interpolation?: 'nearest';
  /** Name (default `upSampling2d_N`). */
  name?: string;
}

/**
 * Nearest-neighbour up-sampling: every pixel becomes a size×size block,
 * [batch, channels, h, w] → [batch, channels, h·sh, w·sw]; a pixel's gradient is the sum over its
 * block. No parameters.
 *
 * @example
 * ```ts
 * new UpSampling2D({ size: 2 }); // [N, 8, 7, 7] → [N, 8, 14, 14]
 * ```
 */
export class UpSampling2D extends ShapeLayer {
  readonly type = 'upSampling2d';
  readonly size: [number, number];
  constructor(opts: UpSampling2DOptions = {}) {
    super(opts as Record<string, unknown>, 'upSampling2d', ['size', 'interpolation']);
    const where = opts.name ?? 'upSampling2d';
    this.size = pair(opts.size ?? 2, `${where}.size`);
    if (opts.interpolation !== undefined && opts.interpolation !== 'nearest') throw new ConfigError(`${where}.interpolation: only "nearest" is supported, received ${JSON.stringify(opts.interpolation)}`);
  }
  protected init(inputShape: readonly number[], _ctx: BuildContext): readonly number[] {
    if (inputShape.length !== 3) throw new ShapeError(`${this.name} expects images [channels, height, width], received input shape ${fmtShape(inputShape)}`);
    return [inputShape[0], inputShape[1] * this.size[0], inputShape[2] * this.size[1]];
  }
  protected run(x: Tensor): Tensor {
    return upSample2d(x, this.size);
  }
}

registerLayer('globalAveragePooling2d', (s: GlobalPoolingOptions) => new GlobalAveragePooling2D(s));
registerLayer('globalAveragePooling1d', (s: GlobalPoolingOptions) => new GlobalAveragePooling1D(s));
registerLayer('upSampling2d', (s: UpSampling2DOptions) => new UpSampling2D(s));
