import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { be, record } from './graph.js';

/** How per-example losses are combined: summed (the lecture's batch rule) or averaged. */
export type Reduction = 'sum' | 'mean';

function check(name: string, pred: Tensor, target: Tensor, reduction: Reduction): number {
  if (pred.size !== target.size) {
    throw new ShapeError(`${name}: prediction ${fmtShape(pred.shape)} and target ${fmtShape(target.shape)} differ in size`);
  }
  if (reduction !== 'sum' && reduction !== 'mean') {
    throw new ConfigError(`${name}: reduction must be 'sum' or 'mean', received ${JSON.stringify(reduction)}`);
  }
  const rows = pred.rank === 0 ? 1 : pred.shape[0];
  return reduction === 'sum' ? 1 : 1 / rows;
}

/** Builds a scalar loss tensor from a float64 value and a per-element gradient rule. */
function scalarLoss(name: string, value: number, pred: Tensor, target: Tensor, gradAt: (i: number) => number): Tensor {
  const B = be();
  const out = B.alloc(1);
  out[0] = value;
  return record(name, out, [], [pred, target], (g) => {
    const d = B.alloc(pred.size);
    const s = g[0];
    for (let i = 0; i < d.length; i++) d[i] = s * gradAt(i);
    return [d, null];
  });
}

/**
 * The lecture's error E = ½ Σ (t − a)² summed over outputs; per example, then summed or averaged
 * over the batch (first dimension). ∂E/∂a = −(t − a).
 *
 * @example
 * ```ts
 * sse(tensor([[0.4715]]), tensor([[0.94]])).item(); // ½·0.4685² ≈ 0.10975
 * ```
 */
export function sse(pred: Tensor, target: Tensor, reduction: Reduction = 'sum'): Tensor {
  const k = check('sse', pred, target, reduction);
  const p = pred.data;
  const t = target.data;
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (t[i] - p[i]) * (t[i] - p[i]);
  return scalarLoss('sse', 0.5 * s * k, pred, target, (i) => k * (p[i] - t[i]));
}

/**
 * Mean squared error: per example the mean of (t − a)² over outputs, then summed or averaged.
 * @example `mse(tensor([[1, 3]]), tensor([[0, 0]])).item() // 5`
 */
export function mse(pred: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  const k = check('mse', pred, target, reduction);
  const p = pred.data;
  const t = target.data;
  const outs = pred.rank <= 1 ? pred.size : pred.size / pred.shape[0];
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (t[i] - p[i]) * (t[i] - p[i]);
  return scalarLoss('mse', (s * k) / outs, pred, target, (i) => (2 * k * (p[i] - t[i])) / outs);
}

const EPS = 1e-7;

/**
 * Categorical cross-entropy from probabilities: −Σ t·log p per example (p clamped to [1e-7, 1]).
 * Prefer {@link softmaxCrossEntropy} on logits for stability; layers do that automatically.
 * @example `crossEntropy(tensor([[0.5, 0.5]]), tensor([[1, 0]])).item() // ln 2`
 */
export function crossEntropy(probs: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  const k = check('crossEntropy', probs, target, reduction);
  const p = probs.data;
  const t = target.data;
  let s = 0;
  for (let i = 0; i < p.length; i++) if (t[i] !== 0) s -= t[i] * Math.log(Math.max(p[i], EPS));
  return scalarLoss('crossEntropy', s * k, probs, target, (i) => (t[i] === 0 ? 0 : (-k * t[i]) / Math.max(p[i], EPS)));
}

/**
 * Softmax and cross-entropy fused, from logits (eq 86–87): the gradient at the logits is
 * δ = P̂ − t (times 1/N for `'mean'`), exact and stable for any logits.
 *
 * @example
 * ```ts
 * softmaxCrossEntropy(tensor([[0, 0]]), tensor([[1, 0]])).item(); // ln 2
 * ```
 */
export function softmaxCrossEntropy(logits: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  const k = check('softmaxCrossEntropy', logits, target, reduction);
  const cols = logits.shape[logits.rank - 1];
  const rows = logits.size / cols;
  const B = be();
  const probs = B.alloc(logits.size);
  const loss = B.softmaxCrossEntropy(logits.data, target.data, rows, cols, probs);
  const t = target.data;
  return scalarLoss('softmaxCrossEntropy', loss * k, logits, target, (i) => k * (probs[i] - t[i]));
}

/**
 * Binary cross-entropy from probabilities: −Σ [t log p + (1 − t) log(1 − p)] per example.
 * @example `binaryCrossEntropy(tensor([[0.5]]), tensor([[1]])).item() // ln 2`
 */
export function binaryCrossEntropy(probs: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  const k = check('binaryCrossEntropy', probs, target, reduction);
  const p = probs.data;
  const t = target.data;
  let s = 0;
  const cl = (v: number) => Math.min(Math.max(v, EPS), 1 - EPS);
  for (let i = 0; i < p.length; i++) s -= t[i] * Math.log(cl(p[i])) + (1 - t[i]) * Math.log(1 - cl(p[i]));
  return scalarLoss('binaryCrossEntropy', s * k, probs, target, (i) => k * ((cl(p[i]) - t[i]) / (cl(p[i]) * (1 - cl(p[i])))));
}

/**
 * Binary cross-entropy from logits (a sigmoid and binary cross-entropy fused, PyTorch's
 * `BCEWithLogitsLoss`): per element max(z, 0) − z·t + log(1 + e^−|z|), summed per example, then
 * summed or averaged over the batch; gradient σ(z) − t. Stable for any logits — the loss of a GAN's
 * discriminator and generator (`t = 1` for "real").
 *
 * @example
 * ```ts
 * sigmoidCrossEntropy(tensor([[0]]), tensor([[1]])).item(); // ln 2
 * ```
 */
export function sigmoidCrossEntropy(logits: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  const scale = check('sigmoidCrossEntropy', logits, target, reduction);
  const z = logits.data;
  const t = target.data;
  let total = 0;
  for (let i = 0; i < z.length; i++) total += Math.max(z[i], 0) - z[i] * t[i] + Math.log1p(Math.exp(-Math.abs(z[i])));
  return scalarLoss('sigmoidCrossEntropy', total * scale, logits, target, (i) => scale * (1 / (1 + Math.exp(-z[i])) - t[i]));
}
