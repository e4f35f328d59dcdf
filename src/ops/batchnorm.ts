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

/** Calls f(base, c) for every contiguous block of `inner` values of channel c. */
function eachBlock(outer: number, C: number, inner: number, f: (base: number, c: number) => void): void {
  for (let o = 0; o < outer; o++) for (let c = 0; c < C; c++) f((o * C + c) * inner, c);
}

function checkChannelParam(t: Tensor | null, C: number, what: string, where: string): void {
  if (t && (t.rank !== 1 || t.shape[0] !== C)) {
    throw new ShapeError(`${where}: ${what} must have shape [${C}] (one per channel), received ${fmtShape(t.shape)}`);
  }
}

/** Per channel: Σ g and Σ g·x̂ (float64). */
function gradSums(g: Float32Array, xhat: ArrayLike<number>, outer: number, C: number, inner: number): [Float64Array, Float64Array] {
  const sumG = new Float64Array(C);
  const sumGX = new Float64Array(C);
  eachBlock(outer, C, inner, (base, c) => {
    let a = 0;
    let b = 0;
    for (let i = 0; i < inner; i++) {
      a += g[base + i];
      b += g[base + i] * xhat[base + i];
    }
    sumG[c] += a;
    sumGX[c] += b;
  });
  return [sumG, sumGX];
}

/** Gradients of γ (Σ g·x̂) and β (Σ g) in parent order, for the parents that exist. */
function affineGrads(gamma: Tensor | null, beta: Tensor | null, sumG: Float64Array, sumGX: Float64Array): (Float32Array | null)[] {
  const out: (Float32Array | null)[] = [];
  if (gamma) out.push(wants(gamma) ? Float32Array.from(sumGX) : null);
  if (beta) out.push(wants(beta) ? Float32Array.from(sumG) : null);
  return out;
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
  const M = outer * inner;
  const xd = x.data;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  eachBlock(outer, C, inner, (base, c) => {
    let s = 0;
    for (let i = 0; i < inner; i++) s += xd[base + i];
    mean[c] += s;
  });
  for (let c = 0; c < C; c++) mean[c] /= M;
  eachBlock(outer, C, inner, (base, c) => {
    const m = mean[c];
    let s = 0;
    for (let i = 0; i < inner; i++) s += (xd[base + i] - m) * (xd[base + i] - m);
    variance[c] += s;
  });
  const invStd = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    variance[c] /= M;
    invStd[c] = 1 / Math.sqrt(variance[c] + epsilon);
  }
  const B = be();
  const xhat = B.alloc(x.size);
  const out = B.alloc(x.size);
  const gd = gamma?.data;
  const bd = beta?.data;
  eachBlock(outer, C, inner, (base, c) => {
    const m = mean[c];
    const s = invStd[c];
    const g = gd ? gd[c] : 1;
    const b = bd ? bd[c] : 0;
    for (let i = 0; i < inner; i++) {
      const h = (xd[base + i] - m) * s;
      xhat[base + i] = h;
      out[base + i] = g * h + b;
    }
  });
  const parents = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  const y = record('batchNorm', out, x.shape, parents, (g) => {
    const [sumG, sumGX] = gradSums(g, xhat, outer, C, inner);
    let dx: Float32Array | null = null;
    if (wants(x)) {
      const d = B.alloc(x.size);
      eachBlock(outer, C, inner, (base, c) => {
        const k = (gd ? gd[c] : 1) * invStd[c] / M;
        const sg = sumG[c];
        const sgx = sumGX[c];
        for (let i = 0; i < inner; i++) d[base + i] = k * (M * g[base + i] - sg - xhat[base + i] * sgx);
      });
      dx = d;
    }
    return [dx, ...affineGrads(gamma, beta, sumG, sumGX)];
  });
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
  const invStd = new Float64Array(C);
  for (let c = 0; c < C; c++) invStd[c] = 1 / Math.sqrt(variance.data[c] + epsilon);
  const B = be();
  const xd = x.data;
  const md = mean.data;
  const gd = gamma?.data;
  const bd = beta?.data;
  const out = B.alloc(x.size);
  // x̂ is needed for ∂γ: kept only when γ takes gradients
  const xhat = gamma && wants(gamma) ? new Float32Array(x.size) : null;
  eachBlock(outer, C, inner, (base, c) => {
    const s = invStd[c];
    const k = (gd ? gd[c] : 1) * s;
    const b = bd ? bd[c] : 0;
    for (let i = 0; i < inner; i++) {
      const h = xd[base + i] - md[c];
      out[base + i] = k * h + b;
      if (xhat) xhat[base + i] = h * s;
    }
  });
  const parents = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  return record('batchNormInference', out, x.shape, parents, (g) => {
    let dx: Float32Array | null = null;
    if (wants(x)) {
      const d = B.alloc(x.size);
      eachBlock(outer, C, inner, (base, c) => {
        const k = (gd ? gd[c] : 1) * invStd[c];
        for (let i = 0; i < inner; i++) d[base + i] = k * g[base + i];
      });
      dx = d;
    }
    const [sumG, sumGX] = gradSums(g, xhat ?? new Float32Array(x.size), outer, C, inner);
    return [dx, ...affineGrads(gamma, beta, sumG, sumGX)];
  });
}
