import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import type { LossKind } from '../backend/backend.js';
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

/**
 * A scalar loss tensor with the value `value`; its backward is one loss-gradient kernel call:
 * ∂/∂pred = g · scale · (the kind's per-element derivative), the target receiving none.
 */
function scalarLoss(name: string, value: number, pred: Tensor, target: Tensor, kind: LossKind, scale: number,
  predData = pred.data): Tensor {
  const B = be();
  const out = B.allocUninit(1);
  B.fill(out, value);
  return record(name, out, [], [pred, target], (g) => {
    const d = B.allocUninit(pred.size);
    B.lossGrad(kind, predData, target.data, B.sum(g) * scale, d);
    return [d, null];
  }, predData !== pred.data ? [predData] : undefined);
}

/** A loss that is the kind's per-element loss summed per example, then summed or averaged (the op is named as the kind). */
function summedLoss(kind: LossKind, pred: Tensor, target: Tensor, reduction: Reduction): Tensor {
  const k = check(kind, pred, target, reduction);
  return scalarLoss(kind, be().lossValue(kind, pred.data, target.data) * k, pred, target, kind, k);
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
  const s = be().lossValue('squared', pred.data, target.data);
  return scalarLoss('sse', 0.5 * s * k, pred, target, 'squared', k);
}

/**
 * Mean squared error: per example the mean of (t − a)² over outputs, then summed or averaged.
 * @example `mse(tensor([[1, 3]]), tensor([[0, 0]])).item() // 5`
 */
export function mse(pred: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  const k = check('mse', pred, target, reduction);
  const outs = pred.rank <= 1 ? pred.size : pred.size / pred.shape[0];
  const s = be().lossValue('squared', pred.data, target.data);
  return scalarLoss('mse', (s * k) / outs, pred, target, 'squared', (2 * k) / outs);
}

/**
 * Categorical cross-entropy from probabilities: −Σ t·log p per example (p clamped to [1e-7, 1]).
 * Prefer {@link softmaxCrossEntropy} on logits for stability; layers do that automatically.
 * @example `crossEntropy(tensor([[0.5, 0.5]]), tensor([[1, 0]])).item() // ln 2`
 */
export function crossEntropy(probs: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return summedLoss('crossEntropy', probs, target, reduction);
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
  const probs = B.allocUninit(logits.size);
  const loss = B.softmaxCrossEntropy(logits.data, target.data, rows, cols, probs);
  // δ = P̂ − t: the squared loss's derivative p − t, taken at the probabilities
  return scalarLoss('softmaxCrossEntropy', loss * k, logits, target, 'squared', k, probs);
}

/**
 * Binary cross-entropy from probabilities: −Σ [t log p + (1 − t) log(1 − p)] per example.
 * @example `binaryCrossEntropy(tensor([[0.5]]), tensor([[1]])).item() // ln 2`
 */
export function binaryCrossEntropy(probs: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return summedLoss('binaryCrossEntropy', probs, target, reduction);
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
  return summedLoss('sigmoidCrossEntropy', logits, target, reduction);
}
