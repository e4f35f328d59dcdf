import { ConfigError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { be, record, releaseScratch, wants } from './graph.js';
import { conv2d, conv2dSetup, pair } from './conv.js';
import type { Conv2dOptions, Pair } from './conv.js';
import { avgPool2d, maxPool2d, poolGeometry } from './pool.js';

/**
 * A pooling window that a convolution can take into its own op ({@link conv2dPool}): the kind,
 * the window `[height, width]` and the strides. Windows lie inside the feature maps ('valid').
 *
 * @example
 * ```ts
 * const w: PoolWindow = { kind: 'max', poolSize: [2, 2], strides: [2, 2] };
 * ```
 */
export interface PoolWindow {
  kind: 'max' | 'avg';
  poolSize: readonly [number, number];
  strides: readonly [number, number];
}

/** Options of {@link conv2dPool}: the convolution's, and the pooling after it. @example `const o: Conv2dPoolOptions = { activation: 'relu', pool: 'max' };` */
export interface Conv2dPoolOptions extends Conv2dOptions {
  /** `'max'` or `'avg'` pooling of the activated feature maps. */
  pool: 'max' | 'avg';
  /** Pooling window (default 2). */
  poolSize?: Pair;
  /** Step between pooling windows (default: the window, so windows do not overlap). */
  poolStrides?: Pair;
}

/**
 * A convolution, its activation and a pooling in one op: the same values and gradients as
 * `maxPool2d(conv2d(x, w, b, opts))` (or `avgPool2d`), with the activated feature maps kept in
 * the backend's blocked layout between the three where the backend has one (native: oneDNN's
 * nChw16c, so no reorder between convolution, activation and pooling, and δz is formed from the
 * pooled gradient in that layout); elsewhere the separate ops run. The activated maps are not a
 * tensor of their own (a network runs the separate ops when it traces z and a).
 *
 * @example
 * ```ts
 * // one 4×4 image, a 1×1 filter of weight 1, ReLU, then 2×2 max pooling
 * const x = tensor([[[[1, -2, 3, 0], [0, 5, -1, 2], [-3, 1, 0, 0], [2, 0, 4, -4]]]]);
 * conv2dPool(x, tensor([[[[1]]]]), null, { activation: 'relu', pool: 'max' }).toArray(); // [[[[5, 3], [2, 4]]]]
 * ```
 */
export function conv2dPool(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dPoolOptions): Tensor {
  const { g, act } = conv2dSetup('conv2dPool', x, w, b, opts);
  if (opts.pool !== 'max' && opts.pool !== 'avg') {
    throw new ConfigError(`conv2dPool.pool must be "max" or "avg", received ${JSON.stringify(opts.pool)}`);
  }
  const poolSize = pair(opts.poolSize ?? 2, 'conv2dPool poolSize');
  const strides = opts.poolStrides === undefined ? poolSize : pair(opts.poolStrides, 'conv2dPool poolStrides');
  const p = poolGeometry(g.n, [g.k, g.oh, g.ow], poolSize, strides, 'conv2dPool');
  const B = be();
  const kernels = B.convPool;
  const plan = kernels?.plan(g, p, b !== null, act.op, act.param) ?? null;
  const max = opts.pool === 'max';
  if (!kernels || !plan) {
    const z = conv2d(x, w, b, { strides: opts.strides, padding: opts.padding, activation: act.op, alpha: act.param });
    return max ? maxPool2d(z, { poolSize, strides }) : avgPool2d(z, { poolSize, strides });
  }
  const y = B.allocUninit(g.n * g.k * p.oh * p.ow);
  const a = B.allocUninit(plan.aSize);
  // the winners' indices, as Int32 in a pooled buffer (every one is written)
  const idxStore = max ? B.allocUninit(plan.idxSize) : null;
  const idx = idxStore ? new Int32Array(idxStore.buffer, idxStore.byteOffset, plan.idxSize) : null;
  const xb = plan.xSize ? B.allocUninit(plan.xSize) : null;
  kernels.forward(g, p, max, x.data, w.data, b ? b.data : null, act.op, act.param, y, a, idx, xb);
  const saved = [a, idxStore, xb].filter((t): t is Float32Array => t !== null);
  const parents = b ? [x, w, b] : [x, w];
  const name = `conv2d${act.op === 'linear' ? '' : `+${act.op}`}+${max ? 'maxPool2d' : 'avgPool2d'}`;
  const out = record(name, y, [g.n, g.k, p.oh, p.ow], parents, (gy) => {
    const dz = B.allocUninit(plan.aSize);
    const gx = wants(x) ? B.allocUninit(x.size) : null;
    const gw = wants(w) ? B.alloc(w.size) : null;
    const gb = b && wants(b) ? B.alloc(g.k) : null;
    kernels.backward(g, p, max, act.op, act.param, gy, a, idx, xb ?? x.data, w.data, dz, gx, gw, gb);
    releaseScratch(dz);
    return b ? [gx, gw, gb] : [gx, gw];
  }, saved);
  // without a backward pass nothing reads what the forward kept
  if (!out.node) releaseScratch(...saved);
  return out;
}
