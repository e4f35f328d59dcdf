import { ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { be, record, releaseScratch, wants } from './graph.js';

/**
 * Layer normalisation over the last axis (Ba, Kiros & Hinton 2016; PyTorch's `LayerNorm` over one
 * dimension): for each row x of F features, x̂ = (x − μ)/√(σ² + ε) with the row's mean μ and biased
 * variance σ² (float64 accumulation), then y = γ ⊙ x̂ + β. `gamma` and `beta` are `[F]` or null
 * (no scale / no shift).
 *
 * Backward, per row with ĝ = g ⊙ γ: ∂x = (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂)) / √(σ² + ε);
 * ∂γ = Σ_rows g ⊙ x̂; ∂β = Σ_rows g.
 *
 * @example
 * ```ts
 * layerNorm(tensor([[1, 3]]), null, null, 0).toArray(); // [[-1, 1]]
 * ```
 */
export function layerNorm(x: Tensor, gamma: Tensor | null, beta: Tensor | null, eps = 1e-5): Tensor {
  if (x.rank < 1) throw new ShapeError(`layerNorm expects a tensor of rank ≥ 1, received ${fmtShape(x.shape)}`);
  const F = x.shape[x.rank - 1];
  for (const [p, name] of [[gamma, 'gamma'], [beta, 'beta']] as const) {
    if (p && (p.rank !== 1 || p.shape[0] !== F)) {
      throw new ShapeError(`layerNorm expects ${name} [${F}] for input ${fmtShape(x.shape)}, received ${fmtShape(p.shape)}`);
    }
  }
  const rows = F === 0 ? 0 : x.size / F;
  const B = be();
  const gd = gamma?.data ?? null;
  const xhat = B.allocUninit(x.size);
  const rstd = B.allocUninit(rows);
  const out = B.allocUninit(x.size);
  B.layerNorm(x.data, gd, beta?.data ?? null, rows, F, eps, out, xhat, rstd);
  const parents = [x, gamma, beta].filter((p): p is Tensor => p !== null);
  return record('layerNorm', out, x.shape, parents, (g) => {
    let gx: Float32Array | null = null;
    if (wants(x)) {
      gx = B.allocUninit(x.size);
      B.layerNormBackward(g, xhat, rstd, gd, rows, F, gx);
    }
    const grads: (Float32Array | null)[] = [gx];
    if (gamma) {
      let gg: Float32Array | null = null;
      if (wants(gamma)) {
        const prod = B.allocUninit(x.size);
        B.binary('mul', g, [1], xhat, [1], prod, [x.size]);
        gg = B.allocUninit(F);
        B.sumAxis(prod, 1, rows, F, gg, false);
        releaseScratch(prod);
      }
      grads.push(gg);
    }
    if (beta) {
      let gb: Float32Array | null = null;
      if (wants(beta)) {
        gb = B.alloc(F);
        B.sumAxis(g, 1, rows, F, gb, false);
      }
      grads.push(gb);
    }
    return grads;
  }, [xhat, rstd]);
}
