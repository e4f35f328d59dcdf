import type { Backend, LossKind } from './backend.js';

/**
 * The reference backend's training kernels (optimiser rules, clipping, batch normalisation,
 * running averages, losses) and the strided copy of runs: plain loops in float64 arithmetic, each stored to float32 where the
 * buffer is float32. Spread into {@link jsBackend}; the fast backends are tested against these.
 *
 * @example
 * ```ts
 * jsTrainingKernels.clipValue(Float32Array.of(-3, 2), 1); // [-1, 1]
 * ```
 */
export const jsTrainingKernels: Pick<Backend, 'sgdUpdate' | 'adamUpdate' | 'rmspropUpdate' | 'clipValue' |
  'batchNormTrain' | 'batchNormInference' | 'batchNormBackward' | 'movingAverage' | 'lossValue' | 'lossGrad' | 'copyRuns' |
  'optimizerStep' | 'countMatchingRows'> = {
  sgdUpdate(w, g, velocity, learningRate, momentum, nesterov) {
    for (let i = 0; i < w.length; i++) {
      if (!velocity) {
        w[i] -= learningRate * g[i];
        continue;
      }
      velocity[i] = momentum * velocity[i] + g[i];
      w[i] -= learningRate * (nesterov ? g[i] + momentum * velocity[i] : velocity[i]);
    }
  },

  adamUpdate(w, g, m, v, learningRate, beta1, beta2, epsilon, c1, c2, keep) {
    for (let i = 0; i < w.length; i++) {
      const gi = g[i];
      const mi = beta1 * m[i] + (1 - beta1) * gi;
      const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      w[i] = Math.fround(w[i] * keep) - (learningRate * (mi / c1)) / (Math.sqrt(vi / c2) + epsilon);
    }
  },

  rmspropUpdate(w, g, ms, mg, mom, learningRate, rho, momentum, epsilon) {
    for (let i = 0; i < w.length; i++) {
      const gi = g[i];
      const s = rho * ms[i] + (1 - rho) * gi * gi;
      ms[i] = s;
      let denom = s;
      if (mg) {
        const a = rho * mg[i] + (1 - rho) * gi;
        mg[i] = a;
        denom = s - a * a;
      }
      const step = (learningRate * gi) / Math.sqrt(Math.max(denom, 0) + epsilon);
      if (mom) {
        const u = momentum * mom[i] + step;
        mom[i] = u;
        w[i] -= u;
      } else {
        w[i] -= step;
      }
    }
  },

  optimizerStep(rule, h, buffers) {
    const wd = h[rule === 'sgd' ? 3 : rule === 'adam' ? 7 : 4];
    const wd32 = f32(wd);
    let total = 0;
    for (let k = 0; k < buffers.length; k += 5) {
      const w = buffers[k]!;
      for (let at = 0; at < w.length; at += STEP_BLOCK) {
        const end = Math.min(at + STEP_BLOCK, w.length);
        const block = (b: Float32Array | null): Float32Array | null => (b ? b.subarray(at, end) : null);
        const [wb, gb, s0, s1, s2] = [0, 1, 2, 3, 4].map((j) => block(buffers[k + j]));
        const s = blockSumSquares(gb!);
        // a rule with state is checked before the block; plain SGD after it
        const stateless = rule === 'sgd' && !s0;
        if (!Number.isFinite(s) && !stateless) return s;
        const g = wd === 0 ? gb! : gb!.map((gi, i) => f32(gi + f32(wd32 * wb![i])));
        if (rule === 'sgd') sgd32(wb!, g, s0, f32(h[0]), f32(h[1]), h[2] !== 0);
        else if (rule === 'adam') jsTrainingKernels.adamUpdate(wb!, g, s0!, s1!, h[0], h[1], h[2], h[3], h[4], h[5], h[6]);
        else jsTrainingKernels.rmspropUpdate(wb!, g, s0!, s1, s2, h[0], h[1], h[2], h[3]);
        if (!Number.isFinite(s)) return s;
        total += s;
      }
    }
    return total;
  },

  countMatchingRows(a, b, rows, cols) {
    let same = 0;
    for (let r = 0; r < rows; r++) {
      if (cols === 1) {
        if ((a[r] >= 0.5) === (b[r] >= 0.5)) same++;
        continue;
      }
      let ia = 0;
      let ib = 0;
      for (let j = 1; j < cols; j++) {
        if (a[r * cols + j] > a[r * cols + ia]) ia = j;
        if (b[r * cols + j] > b[r * cols + ib]) ib = j;
      }
      if (ia === ib) same++;
    }
    return same;
  },

  clipValue(x, limit) {
    for (let i = 0; i < x.length; i++) x[i] = x[i] > limit ? limit : x[i] < -limit ? -limit : x[i];
  },

  batchNormTrain(x, gamma, beta, outer, C, inner, eps, y, xhat, mean, variance, invStd) {
    const M = outer * inner;
    mean.fill(0, 0, C);
    variance.fill(0, 0, C);
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < C; c++) {
        const base = (o * C + c) * inner;
        let s = 0;
        for (let i = 0; i < inner; i++) s += x[base + i];
        mean[c] += s;
      }
    }
    for (let c = 0; c < C; c++) mean[c] /= M;
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < C; c++) {
        const base = (o * C + c) * inner;
        const m = mean[c];
        let s = 0;
        for (let i = 0; i < inner; i++) s += (x[base + i] - m) * (x[base + i] - m);
        variance[c] += s;
      }
    }
    for (let c = 0; c < C; c++) {
      variance[c] /= M;
      invStd[c] = 1 / Math.sqrt(variance[c] + eps);
    }
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < C; c++) {
        const base = (o * C + c) * inner;
        const gc = gamma ? gamma[c] : 1;
        const bc = beta ? beta[c] : 0;
        for (let i = 0; i < inner; i++) {
          const h = (x[base + i] - mean[c]) * invStd[c];
          xhat[base + i] = h;
          y[base + i] = gc * h + bc;
        }
      }
    }
  },

  batchNormInference(x, mean, variance, gamma, beta, outer, C, inner, eps, y, xhat, invStd) {
    for (let c = 0; c < C; c++) invStd[c] = 1 / Math.sqrt(variance[c] + eps);
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < C; c++) {
        const base = (o * C + c) * inner;
        const k = (gamma ? gamma[c] : 1) * invStd[c];
        const bc = beta ? beta[c] : 0;
        for (let i = 0; i < inner; i++) {
          const h = x[base + i] - mean[c];
          y[base + i] = k * h + bc;
          if (xhat) xhat[base + i] = h * invStd[c];
        }
      }
    }
  },

  batchNormBackward(training, dy, xhat, invStd, gamma, outer, C, inner, dx, dGamma, dBeta) {
    const M = outer * inner;
    const sumG = new Float64Array(C);
    const sumGX = new Float64Array(C);
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < C; c++) {
        const base = (o * C + c) * inner;
        let a = 0;
        let b = 0;
        for (let i = 0; i < inner; i++) {
          a += dy[base + i];
          b += dy[base + i] * (xhat ? xhat[base + i] : 0);
        }
        sumG[c] += a;
        sumGX[c] += b;
      }
    }
    if (dGamma) dGamma.set(sumGX);
    if (dBeta) dBeta.set(sumG);
    if (!dx) return;
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < C; c++) {
        const base = (o * C + c) * inner;
        if (training) {
          const k = (gamma ? gamma[c] : 1) * invStd[c] / M;
          for (let i = 0; i < inner; i++) dx[base + i] = k * (M * dy[base + i] - sumG[c] - xhat![base + i] * sumGX[c]);
        } else {
          const k = (gamma ? gamma[c] : 1) * invStd[c];
          for (let i = 0; i < inner; i++) dx[base + i] = k * dy[base + i];
        }
      }
    }
  },

  movingAverage(avg, x, momentum) {
    for (let i = 0; i < avg.length; i++) avg[i] = momentum * avg[i] + (1 - momentum) * x[i];
  },

  lossValue(kind, pred, target) {
    const term = LOSS[kind];
    let s = 0;
    for (let i = 0; i < pred.length; i++) s += term(pred[i], target[i]);
    return s;
  },

  copyRuns(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, counts, len) {
    const runs = counts.reduce((p, c) => p * c, 1);
    for (let r = 0; r < runs; r++) {
      // the run's multi-index, last dimension fastest
      let from = srcOffset;
      let to = dstOffset;
      for (let d = counts.length - 1, rest = r; d >= 0; d--) {
        const i = rest % counts[d];
        rest = Math.floor(rest / counts[d]);
        from += i * srcStrides[d];
        to += i * dstStrides[d];
      }
      for (let j = 0; j < len; j++) dst[to + j] = src[from + j];
    }
  },

  lossGrad(kind, pred, target, scale, dx) {
    const grad = LOSS_GRAD[kind];
    for (let i = 0; i < pred.length; i++) dx[i] = scale * grad(pred[i], target[i]);
  },
};

/** Elements of a gradient block in {@link Backend.optimizerStep}. */
const STEP_BLOCK = 4096;
const f32 = Math.fround;

/** Σ g² of a block in float64: element i into running sum i mod 16, the sixteen added in order. */
function blockSumSquares(g: Float32Array): number {
  const acc = new Float64Array(16);
  for (let i = 0; i < g.length; i++) acc[i & 15] += g[i] * g[i];
  let s = 0;
  for (let j = 0; j < 16; j++) s += acc[j];
  return s;
}

/** SGD in float32 arithmetic: w ← w − α·g; v ← μ·v + g, w ← w − α·v (Nesterov: w ← w − α·(g + μ·v)). */
function sgd32(w: Float32Array, g: Float32Array, velocity: Float32Array | null, lr: number, mu: number, nesterov: boolean): void {
  for (let i = 0; i < w.length; i++) {
    if (!velocity) {
      w[i] = w[i] - f32(lr * g[i]);
      continue;
    }
    const v = f32(f32(mu * velocity[i]) + g[i]);
    velocity[i] = v;
    w[i] = w[i] - f32(lr * (nesterov ? f32(g[i] + f32(mu * v)) : v));
  }
}

/** The clamp of probabilities inside the logarithms. */
const EPS = 1e-7;
const clamp = (p: number): number => Math.min(Math.max(p, EPS), 1 - EPS);

/** Per-element loss of prediction p (or logit) against target t. */
const LOSS: Record<LossKind, (p: number, t: number) => number> = {
  squared: (p, t) => (t - p) * (t - p),
  crossEntropy: (p, t) => (t === 0 ? 0 : -(t * Math.log(Math.max(p, EPS)))),
  binaryCrossEntropy: (p, t) => -(t * Math.log(clamp(p)) + (1 - t) * Math.log(1 - clamp(p))),
  sigmoidCrossEntropy: (z, t) => Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z))),
};

/** Its derivative with respect to the prediction (or logit). */
const LOSS_GRAD: Record<LossKind, (p: number, t: number) => number> = {
  squared: (p, t) => p - t,
  crossEntropy: (p, t) => (t === 0 ? 0 : -t / Math.max(p, EPS)),
  binaryCrossEntropy: (p, t) => (clamp(p) - t) / (clamp(p) * (1 - clamp(p))),
  sigmoidCrossEntropy: (z, t) => 1 / (1 + Math.exp(-z)) - t,
};
