import { ShapeError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { be, record, wants } from './graph.js';

/** x viewed as [outer, channels, inner]: channels are axis 1 ([N, F] → inner 1; [N, C, H, W] → inner H·W). */
function view(x: Tensor, where: string): { outer: number; C: number; inner: number } {
  if (x.rank < 2) throw new ShapeError(`${where} expects input [N, C, …] with channels on axis 1, received ${fmtShape(x.shape)}`);
  const outer = x.shape[0];
  const C = x.shape[1];
  return { outer, C, inner: x.size / Math.max(1, outer * C) };
}

function checkChannelParam(t: Tensor | null, C: number, what: string, where: string): void {
  if (t && (t.rank !== 1 || t.shape[0] !== C)) {
    throw new ShapeError(`${where}: ${what} must have shape [${C}] (one per channel), received ${fmtShape(t.shape)}`);
  }
}

/**
 * The backward of both modes: the batch-norm backward kernel, asked only for the gradients that
 * x, γ and β want; returned in parent order (x, then γ and β where they exist).
 */
function backward(training: boolean, g: Float32Array, xhat: Float32Array | null, invStd: Float64Array, x: Tensor,
  gamma: Tensor | null, beta: Tensor | null, outer: number, C: number, inner: number): (Float32Array | null)[] {
  const B = be();
  const dx = wants(x) ? B.alloc(x.size) : null;
  const dGamma = gamma && wants(gamma) ? B.alloc(C) : null;
  const dBeta = beta && wants(beta) ? B.alloc(C) : null;
  B.batchNormBackward(training, g, xhat, invStd, gamma?.data ?? null, outer, C, inner, dx, dGamma, dBeta);
  return [dx, ...(gamma ? [dGamma] : []), ...(beta ? [dBeta] : [])];
}

/** Output of {@link batchNormTrain}: the normalised tensor and the batch statistics it used. */
export interface BatchNormResult {
  y: Tensor;
  /** Per-channel batch mean. */
  mean: Float64Array;
  /** Per-channel biased batch variance (divided by the number of values per channel). */
  variance: Float64Array;
}

/**
 * Batch normalisation with the batch's own statistics (training mode), per channel (axis 1):
 * x̂ = (x − μ_B) / √(σ²_B + ε), y = γ ⊙ x̂ + β, where μ_B and σ²_B (biased) are taken over every
 * axis but 1. `gamma`/`beta` (shape [C]) may be null for no scale/shift. Statistics accumulate in
 * float64. Backward: ∂x = γ/(M·√(σ²+ε)) · (M·g − Σg − x̂·Σ(g·x̂)), ∂γ = Σ g·x̂, ∂β = Σ g (M values
 * per channel).
 *
 * @example
 * ```ts
 * batchNormTrain(tensor([[1], [3]]), null, null, 0).y.toArray(); // [[-1], [1]]
 * ```
 */
export function batchNormTrain(x: Tensor, gamma: Tensor | null, beta: Tensor | null, epsilon: number, where = 'batchNorm'): BatchNormResult {
  const { outer, C, inner } = view(x, where);
  checkChannelParam(gamma, C, 'gamma', where);
  checkChannelParam(beta, C, 'beta', where);
  const B = be();
  const xhat = B.alloc(x.size);
  const out = B.alloc(x.size);
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  const invStd = new Float64Array(C);
  B.batchNormTrain(x.data, gamma?.data ?? null, beta?.data ?? null, outer, C, inner, epsilon, out, xhat, mean, variance, invStd);
  const parents = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  const y = record('batchNorm', out, x.shape, parents, (g) => backward(true, g, xhat, invStd, x, gamma, beta, outer, C, inner), [xhat]);
  return { y, mean, variance };
}

/**
 * Batch normalisation with fixed statistics (inference mode): y = γ ⊙ (x − μ)/√(σ² + ε) + β per
 * channel (axis 1), with μ and σ² the running statistics (shape [C]). A per-channel affine map;
 * gradients flow to x, γ and β (the statistics are constants).
 *
 * @example
 * ```ts
 * batchNormInference(tensor([[3]]), tensor([1]), tensor([4]), null, null, 0).toArray(); // [[1]]
 * ```
 */
export function batchNormInference(x: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor | null, beta: Tensor | null,
  epsilon: number, where = 'batchNorm'): Tensor {
  const { outer, C, inner } = view(x, where);
  checkChannelParam(mean, C, 'the running mean', where);
  checkChannelParam(variance, C, 'the running variance', where);
  checkChannelParam(gamma, C, 'gamma', where);
  checkChannelParam(beta, C, 'beta', where);
  const B = be();
  const out = B.alloc(x.size);
  const invStd = new Float64Array(C);
  // x̂ is needed for ∂γ: kept only when γ takes gradients
  const xhat = gamma && wants(gamma) ? B.alloc(x.size) : null;
  B.batchNormInference(x.data, mean.data, variance.data, gamma?.data ?? null, beta?.data ?? null, outer, C, inner, epsilon,
    out, xhat, invStd);
  const parents = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  return record('batchNormInference', out, x.shape, parents, (g) => backward(false, g, xhat, invStd, x, gamma, beta, outer, C, inner), xhat ? [xhat] : undefined);
}
