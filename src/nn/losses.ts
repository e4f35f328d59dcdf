import { ConfigError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { binaryCrossEntropy, crossEntropy, mse, softmaxCrossEntropy, sse } from '../ops/losses.js';
import type { Reduction } from '../ops/losses.js';
import { sequenceLossView } from '../ops/rnn.js';

/** Loss names accepted by models and specs (TF.js spellings are accepted as aliases). */
export type LossName = 'sse' | 'mse' | 'crossEntropy' | 'binaryCrossEntropy';

const ALIASES: Record<string, LossName> = {
  sse: 'sse', mse: 'mse', meanSquaredError: 'mse',
  crossEntropy: 'crossEntropy', categoricalCrossentropy: 'crossEntropy', categoricalCrossEntropy: 'crossEntropy',
  binaryCrossEntropy: 'binaryCrossEntropy', binaryCrossentropy: 'binaryCrossEntropy',
};

/**
 * A loss as models use it: the function, its default reduction, and whether it fuses with a
 * final softmax (cross-entropy does: the model then feeds logits to the stable fused op).
 */
export interface Loss {
  readonly name: LossName;
  readonly reduction: Reduction;
  /** loss(pred, target) with this loss's reduction. */
  compute(pred: Tensor, target: Tensor): Tensor;
  /** loss from logits when the model ends in a softmax, else null. */
  computeFromLogits: ((logits: Tensor, target: Tensor) => Tensor) | null;
}

/**
 * Looks up a loss by name. Default reductions: `'sum'` for `sse` (the lecture's batch rule,
 * ½Σ(t − a)² summed over examples), `'mean'` for the others.
 * A sequence output [batch, T, F] is scored per time-step (see `sequenceLossView`): summed over
 * the steps, `'mean'` averaging over examples × steps, padding steps of a masked batch left out.
 *
 * @example
 * ```ts
 * const l = getLoss('crossEntropy');   // mean over the batch, fused with softmax
 * const e = getLoss('sse', 'sum');
 * ```
 */
export function getLoss(name: string, reduction?: Reduction): Loss {
  const base = baseLoss(name, reduction);
  const fromLogits = base.computeFromLogits;
  return {
    ...base,
    compute: (p, t) => base.compute(...sequenceLossView(p, t)),
    computeFromLogits: fromLogits && ((z, t) => fromLogits(...sequenceLossView(z, t))),
  };
}

function baseLoss(name: string, reduction?: Reduction): Loss {
  const n = Object.hasOwn(ALIASES, name) ? ALIASES[name] : undefined;
  if (!n) throw new ConfigError(`unknown loss ${JSON.stringify(name)}; expected one of sse, mse, crossEntropy, binaryCrossEntropy`);
  const red: Reduction = reduction ?? (n === 'sse' ? 'sum' : 'mean');
  if (red !== 'sum' && red !== 'mean') throw new ConfigError(`loss reduction must be 'sum' or 'mean', received ${JSON.stringify(reduction)}`);
  switch (n) {
    case 'sse': return { name: n, reduction: red, compute: (p, t) => sse(p, t, red), computeFromLogits: null };
    case 'mse': return { name: n, reduction: red, compute: (p, t) => mse(p, t, red), computeFromLogits: null };
    case 'crossEntropy': return {
      name: n, reduction: red,
      compute: (p, t) => crossEntropy(p, t, red),
      computeFromLogits: (z, t) => softmaxCrossEntropy(z, t, red),
    };
    case 'binaryCrossEntropy': return { name: n, reduction: red, compute: (p, t) => binaryCrossEntropy(p, t, red), computeFromLogits: null };
  }
}
