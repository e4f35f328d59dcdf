import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../tensor/rng.js';
import { matmul } from './matmul.js';
import { softmax, threshold } from './activations.js';
import { div, sub } from './elementwise.js';
import { reshape } from './shape.js';
import { dropoutWithMask, sampleDropMask } from './dropout.js';

/**
 * The additive causal mask `[T, S]` of a decoder: 0 where query position t may attend to key
 * position s (s ≤ t + S − T, i.e. not the future; S = T by default), −∞ elsewhere.
 *
 * @example
 * ```ts
 * causalMask(2).toArray(); // [[0, -Infinity], [0, 0]]
 * ```
 */
export function causalMask(T: number, S = T): Tensor {
  // entry (t, s) at index t·S + s
  const d = Float32Array.from({ length: T * S }, (_, i) => (i % S > Math.floor(i / S) + S - T ? -Infinity : 0));
  return new Tensor(d, [T, S]);
}

/**
 * The additive padding mask `[B, 1, 1, S]` for attention scores `[B, H, T, S]` from a 0/1 key mask
 * `[B, S]` (1 = a real token, 0 = padding, as {@link Embedding} with `maskZero` attaches): 0 for
 * real keys, −∞ for padded ones.
 *
 * @example
 * ```ts
 * paddingMask(tensor([[1, 0]])).shape; // [1, 1, 1, 2]
 * ```
 */
export function paddingMask(keep: Tensor): Tensor {
  if (keep.rank !== 2) throw new ShapeError(`paddingMask expects a key mask [batch, S], received ${fmtShape(keep.shape)}`);
  // 1 where keep > 0 (2⁻¹⁴⁹ is the smallest float32 above 0), else 0; then 1 − 1/1 = 0 and 1 − 1/0 = −∞
  const kept = threshold(keep, 2 ** -149);
  return reshape(sub(1, div(1, kept)), [keep.shape[0], 1, 1, keep.shape[1]]);
}

/** Options of {@link scaledDotProductAttention}. */
export interface AttentionOptions {
  /** Additive mask broadcast against the scores `[…, T, S]` (see {@link causalMask}, {@link paddingMask}). */
  mask?: Tensor;
  /** Dropout on the attention weights: keep probability ρ in (0, 1] (default 1, none). */
  keepProb?: number;
  /** Generator of the dropout masks (needed when keepProb < 1). */
  rng?: Rng;
  /** Scale of the scores (default 1/√d). */
  scale?: number;
}

/** Result of {@link scaledDotProductAttention}. */
export interface AttentionResult {
  /** softmax(q·kᵀ·scale + mask)·v: `[…, T, dv]`. */
  output: Tensor;
  /** The attention weights `[…, T, S]` (each row sums to 1; before dropout). */
  weights: Tensor;
}

/**
 * Scaled dot-product attention over batches of matrices: q `[…, T, d]`, k `[…, S, d]`,
 * v `[…, S, dv]` (leading dimensions broadcast, e.g. `[batch, heads]`):
 * weights = softmax(q·kᵀ·scale + mask) along S, output = dropout(weights)·v. Composed from
 * batched {@link matmul}, {@link softmax} with a mask and dropout, so every gradient flows.
 *
 * @example
 * ```ts
 * const q = tensor([[[1, 0]]]), k = tensor([[[1, 0], [0, 1]]]), v = tensor([[[1], [2]]]);
 * scaledDotProductAttention(q, k, v, { scale: 1 }).output.item(); // (e·1 + 1·2)/(e + 1) ≈ 1.269
 * ```
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): AttentionResult {
  if (q.rank < 2 || k.rank < 2 || v.rank < 2) {
    throw new ShapeError(`attention expects q, k, v of rank ≥ 2, received ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`);
  }
  const d = q.shape[q.rank - 1];
  if (k.shape[k.rank - 1] !== d || k.shape[k.rank - 2] !== v.shape[v.rank - 2]) {
    throw new ShapeError(`attention expects q [*, T, d], k [*, S, d], v [*, S, dv], received ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`);
  }
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  const scores = matmul(q, k, { transB: true, alpha: scale });
  const weights = softmax(scores, { mask: opts.mask });
  const rho = opts.keepProb ?? 1;
  let w = weights;
  if (rho < 1) {
    if (!opts.rng) throw new ConfigError('attention dropout (keepProb < 1) needs a generator (rng)');
    w = dropoutWithMask(weights, sampleDropMask(weights.size, rho, opts.rng), rho);
  }
  return { output: matmul(w, v), weights };
}
