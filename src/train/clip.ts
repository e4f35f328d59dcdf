import type { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../backend/index.js';

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
    const c = opts.clipValue;
    for (const [, p] of params) {
      if (!p.grad) continue;
      const g = p.grad.data;
      for (let i = 0; i < g.length; i++) g[i] = g[i] > c ? c : g[i] < -c ? -c : g[i];
    }
    n = gradientNorm(params);
  }
  if (opts.clipNorm !== undefined && n > opts.clipNorm) {
    const s = opts.clipNorm / n;
    for (const [, p] of params) if (p.grad) be.scale(p.grad.data, s, p.grad.data);
  }
}
