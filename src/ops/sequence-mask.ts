import { ShapeError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { be, record } from './graph.js';
import { reshape } from './shape.js';

/**
 * Attaches a padding mask to a sequence tensor (sets `t.mask`): `mask` is [batch, T] with 1 where
 * a step is real and 0 where it is padding. Recurrent layers read it (masked steps carry the state
 * through), a network hands it from each layer's input to its output (`applyLayer`), and the loss
 * of a sequence output skips masked steps. The `masking` and `embedding` (`maskZero`) layers
 * attach masks for you. Returns `t`.
 *
 * @example
 * ```ts
 * const x = attachMask(tensor([[[1], [2], [0]]]), tensor([[1, 1, 0]]));
 * maskOf(x)!.toArray(); // [[1, 1, 0]]
 * ```
 */
export function attachMask(t: Tensor, mask: Tensor | null | undefined): Tensor {
  if (!mask) return t;
  if (t.rank < 2 || mask.rank !== 2 || mask.shape[0] !== t.shape[0] || mask.shape[1] !== t.shape[1]) {
    throw new ShapeError(`a sequence mask must be [batch, T] = ${fmtShape(t.shape.slice(0, 2))} for a sequence ${fmtShape(t.shape)}, received ${fmtShape(mask.shape)}`);
  }
  t.mask = mask;
  return t;
}

/**
 * The padding mask of a sequence tensor ({@link attachMask}, `Tensor.mask`), or undefined.
 * @example `maskOf(layerOutput)?.toArray()`
 */
export function maskOf(t: Tensor): Tensor | undefined {
  return t.mask ?? undefined;
}

/**
 * Rows of a [batch, T, F] tensor at the steps where `mask` [batch, T] is 1, as [N, F] (a
 * differentiable gather: masked steps receive zero gradient).
 *
 * @example
 * ```ts
 * maskedSteps(tensor([[[1], [2], [3]]]), tensor([[1, 0, 1]])).toArray(); // [[1], [3]]
 * ```
 */
export function maskedSteps(x: Tensor, mask: Tensor): Tensor {
  const [batch, steps] = x.shape;
  const features = x.size / (batch * steps);
  if (mask.size !== batch * steps) throw new ShapeError(`maskedSteps: mask ${fmtShape(mask.shape)} does not match the sequence ${fmtShape(x.shape)}`);
  const B = be();
  const positions = B.alloc(mask.size);
  const real = positions.subarray(0, B.nonzeroIndices(mask.data, positions));
  const out = B.alloc(real.length * features);
  B.gatherRows(x.data, features, real, out);
  return record('maskedSteps', out, [real.length, features], [x], (g) => {
    const dx = B.alloc(x.size);
    B.scatterAddRows(g, features, real, dx);
    return [dx];
  });
}

/**
 * How a loss sees a prediction and its target. A sequence output [batch, T, F] becomes one row per
 * time-step ([batch·T, F]), so a loss is summed over the steps (the lecture's total error of an
 * unrolled network) and a `'mean'` reduction averages over examples × steps; masked (padding)
 * steps are left out entirely. Anything else is returned unchanged.
 *
 * @example
 * ```ts
 * const [p, t] = sequenceLossView(pred, target); // [B, T, F] → [B·T, F]
 * ```
 */
export function sequenceLossView(pred: Tensor, target: Tensor): [Tensor, Tensor] {
  if (pred.rank < 3 || target.size !== pred.size) return [pred, target];
  const F = pred.shape[pred.rank - 1];
  const m = maskOf(pred);
  // the target's storage seen without history (not detach(): that would keep fit's batch from the pool)
  if (!m) return [reshape(pred, [-1, F]), new Tensor(target.data, [target.size / F, F])];
  const tm = new Tensor(target.data, pred.shape);
  return [maskedSteps(pred, m), maskedSteps(tm, m)];
}
