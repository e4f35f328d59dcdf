import type { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../backend/index.js';
import { NumericError } from '../errors.js';
import type { Optimizer } from '../optim/optimizer.js';

/** Named parameters as models list them (`[name, tensor]`). */
export type NamedParams = readonly (readonly [string, Tensor])[];

/**
 * The global L2 norm of all parameter gradients, √Σ g², accumulated in float64.
 *
 * @example
 * ```ts
 * loss.backward(); const norm = gradientNorm(net.namedParameters());
 * ```
 */
export function gradientNorm(params: NamedParams): number {
  const be = getBackend();
  let sq = 0;
  for (const [, p] of params) if (p.grad) sq += be.sumSquares(p.grad.data);
  return Math.sqrt(sq);
}

/**
 * Clips gradients in place: first every element to [−clipValue, clipValue], then the global norm
 * (measured after value clipping) to at most clipNorm. `norm` is the gradient norm before any
 * clipping, when the caller already has it.
 *
 * @example
 * ```ts
 * loss.backward(); clipGradients(net.namedParameters(), { clipNorm: 1 }); opt.step(net.namedParameters());
 * ```
 */
export function clipGradients(params: NamedParams, opts: { clipNorm?: number; clipValue?: number }, norm = gradientNorm(params)): void {
  const be = getBackend();
  let n = norm;
  if (opts.clipValue !== undefined) {
    for (const [, p] of params) if (p.grad) be.clipValue(p.grad.data, opts.clipValue);
    n = gradientNorm(params);
  }
  if (opts.clipNorm !== undefined && n > opts.clipNorm) {
    const s = opts.clipNorm / n;
    for (const [, p] of params) if (p.grad) be.scale(p.grad.data, s, p.grad.data);
  }
}

/** The layer owning the first parameter whose gradient holds NaN or Inf, or null. */
export function firstNonFiniteGradient(params: NamedParams): string | null {
  const be = getBackend();
  const bad = params.find(([, p]) => p.grad && !be.allFinite(p.grad.data));
  return bad ? bad[0].split('.')[0] : null;
}

/** What {@link checkAndClip}'s error says became of the weights. */
const WEIGHTS_AFTER = {
  restored: 'restored to the last ones that gave a finite loss',
  unchanged: 'left as before this update',
} as const;

/**
 * The step between backward and the optimiser: checks the loss and the gradients for NaN/Inf
 * and, if one is not finite, clears the gradients and throws a `NumericError` naming the layer
 * `locate()` finds (else the first layer with a non-finite gradient) and saying what the caller
 * does with the weights (`weights`: `'restored'` to the last ones that gave a finite loss, or
 * `'unchanged'`, as before this update); otherwise clips (see {@link clipGradients}). Returns the
 * gradient norm before clipping.
 *
 * @example
 * ```ts
 * loss.backward();
 * const norm = checkAndClip(params, loss.item(), { clipNorm: 1 }, () => null, 'unchanged');
 * ```
 */
export function checkAndClip(params: NamedParams, lossValue: number, opts: { clipNorm?: number; clipValue?: number },
  locate: () => string | null, weights: 'restored' | 'unchanged'): number {
  const norm = gradientNorm(params);
  if (!Number.isFinite(lossValue) || !Number.isFinite(norm)) throw nonFinite(params, lossValue, locate, weights);
  clipGradients(params, opts, norm);
  return norm;
}

/**
 * One checked update of a training step, after backward: with clipping, {@link checkAndClip} and
 * then the optimiser's step; without, the optimiser's one fused pass alone, whose Σg² by-product
 * is the gradient norm and the check for NaN/Inf gradients (no separate pass over the gradients).
 * A non-finite loss throws before any update; a non-finite gradient throws after the optimiser
 * stopped at it (see {@link Optimizer.step}: the weights before it were updated, so the caller
 * restores them, `weights: 'restored'`). The `NumericError`s are those of {@link checkAndClip}.
 * Returns the gradient norm before clipping.
 *
 * @example
 * ```ts
 * loss.backward();
 * const norm = checkedUpdate(params, loss.item(), {}, opt, () => null, 'restored');
 * ```
 */
export function checkedUpdate(params: NamedParams, lossValue: number, opts: { clipNorm?: number; clipValue?: number },
  optimizer: Optimizer, locate: () => string | null, weights: 'restored' | 'unchanged'): number {
  if (!Number.isFinite(lossValue)) throw nonFinite(params, lossValue, locate, weights);
  if (opts.clipNorm !== undefined || opts.clipValue !== undefined) {
    const norm = checkAndClip(params, lossValue, opts, locate, weights);
    optimizer.step(params as [string, Tensor][]);
    return norm;
  }
  const sq = optimizer.step(params as [string, Tensor][]);
  if (!Number.isFinite(sq)) throw nonFinite(params, lossValue, locate, weights);
  return Math.sqrt(sq);
}

/** The `NumericError` of a non-finite loss or gradient (the gradients are cleared). */
function nonFinite(params: NamedParams, lossValue: number, locate: () => string | null, weights: 'restored' | 'unchanged'): NumericError {
  const where = locate() ?? firstNonFiniteGradient(params) ?? 'loss';
  for (const [, p] of params) p.grad = null;
  return new NumericError(
    `training produced a non-finite value (loss ${lossValue}) first in layer ${where}; the weights were ${WEIGHTS_AFTER[weights]} (lower the learning rate, clip gradients, or check the data)`,
    where,
  );
}

/**
 * Checks the weights after an epoch's last update (whose effect no later loss checks): if one
 * is NaN or Inf, restores `restore` (when given) and throws a `NumericError` naming the layer.
 *
 * @example
 * ```ts
 * checkWeights(net.namedParameters(), 3, startOfEpochWeights);
 * ```
 */
export function checkWeights(params: NamedParams, epoch: number, restore: Float32Array[] | null): void {
  const be = getBackend();
  const bad = params.find(([, p]) => !be.allFinite(p.data));
  if (!bad) return;
  if (restore) params.forEach(([, p], i) => p.data.set(restore[i]));
  const where = bad[0].split('.')[0];
  throw new NumericError(
    `the last update of epoch ${epoch} made ${bad[0]} non-finite (first in layer ${where}); the weights were ${restore ? 'restored to those at the start of the epoch' : 'left as they are'} (lower the learning rate, clip gradients, or check the optimiser state)`,
    where,
  );
}
