import { ConfigError } from '../errors.js';
import { checkKeys, checkOneOf, isObject, show } from '../validate.js';
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

/** A loss as a spec object. @example `const l: LossSpec = { type: 'crossEntropy', reduction: 'sum' };` */
export interface LossSpec {
  /** The loss's name (or a TF.js spelling). */
  type: string;
  /** `'sum'` or `'mean'` (default: the loss's own, see {@link getLoss}). */
  reduction?: Reduction;
}

/**
 * A loss given as a spec object `{type, reduction}` flattened to its name with the reduction
 * beside it (the form models and specs keep), checked: unknown keys and names are
 * `ConfigError`s naming `where` with the closest valid one, and so is a reduction given both
 * inside and beside it with different values. Anything else passes through unchanged.
 *
 * @example
 * ```ts
 * flattenLoss({ type: 'sse', reduction: 'mean' }, undefined); // { loss: 'sse', reduction: 'mean' }
 * flattenLoss('mse', 'sum');                                   // { loss: 'mse', reduction: 'sum' }
 * ```
 */
export function flattenLoss(loss: unknown, reduction: unknown, where = 'loss'): { loss: unknown; reduction: unknown } {
  if (!isObject(loss) || typeof loss.compute === 'function') return { loss, reduction };
  checkKeys(loss, ['type', 'reduction'], where);
  const type = checkOneOf(loss.type, Object.keys(ALIASES), `${where}.type`);
  if (loss.reduction !== undefined && reduction !== undefined && loss.reduction !== reduction) {
    throw new ConfigError(`${where}: the reduction is given twice, ${show(loss.reduction)} inside the loss and ${show(reduction)} beside it; give it once`);
  }
  return { loss: type, reduction: loss.reduction ?? reduction };
}

/**
 * A model's loss from any of its forms: a name (reduction beside it), a spec object
 * `{type, reduction}`, or a {@link Loss} object; `ConfigError`s name `where`.
 *
 * @example
 * ```ts
 * resolveLoss({ type: 'crossEntropy' }, undefined).reduction; // 'mean'
 * ```
 */
export function resolveLoss(loss: unknown, reduction?: Reduction, where = 'loss'): Loss {
  if (isObject(loss) && typeof loss.compute === 'function') return loss as unknown as Loss;
  const flat = flattenLoss(loss, reduction, where);
  if (typeof flat.loss !== 'string') {
    throw new ConfigError(`${where} must be a loss name, a spec object {type, reduction} or a Loss, received ${show(loss)}`);
  }
  return getLoss(flat.loss, flat.reduction as Reduction | undefined);
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
