import type { Backend, BinaryOp, ConvGeometry, PoolGeometry } from './backend.js';
import { jsTrainingKernels } from './js-training.js';
import { unaryRow } from './unary.js';
import { pooledAllocation } from './buffer-pool.js';

/**
 * The reference backend: plain TypeScript, runs everywhere, and is the oracle that every faster
 * backend is tested against. Loops are written for clarity first and cache order second.
 *
 * @example
 * ```ts
 * const c = new Float32Array(1);
 * jsBackend.gemm(false, false, 1, 1, 2, 1, Float32Array.of(1, 2), Float32Array.of(3, 4), 0, c); // c[0] = 11
 * ```
 */
export const jsBackend: Backend = {
  name: 'js',
  ...jsTrainingKernels,

  ...pooledAllocation,

  permute(x, shape, axes, out) {
    const r = shape.length;
    if (out.length === 0) return;
    const inStride = new Array<number>(r);
    let s = 1;
    for (let d = r - 1; d >= 0; d--) { inStride[d] = s; s *= shape[d]; }
    const outShape = axes.map((a) => shape[a]);
    const stride = axes.map((a) => inStride[a]);
    const inner = r === 0 ? 1 : outShape[r - 1];
    const innerStride = r === 0 ? 1 : stride[r - 1];
    const idx = new Array<number>(Math.max(r - 1, 0)).fill(0);
    let o = 0;
    let base = 0;
    while (o < s) {
      for (let j = 0; j < inner; j++) out[o + j] = x[base + j * innerStride];
      o += inner;
      for (let d = r - 2; d >= 0; d--) {
        idx[d]++;
        base += stride[d];
        if (idx[d] < outShape[d]) break;
        base -= stride[d] * outShape[d];
        idx[d] = 0;
      }
    }
  },

  softmaxBackward(y, dy, rows, cols, dx) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += dy[o + j] * y[o + j];
      for (let j = 0; j < cols; j++) dx[o + j] = y[o + j] * (dy[o + j] - dot);
    }
  },

  layerNorm(x, gamma, beta, rows, cols, eps, y, xhat, rstd) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) s += x[o + j];
      const mu = s / cols;
      let v = 0;
      for (let j = 0; j < cols; j++) { const d = x[o + j] - mu; v += d * d; }
      const rs = 1 / Math.sqrt(v / cols + eps);
      rstd[r] = rs;
      for (let j = 0; j < cols; j++) {
        const h = (x[o + j] - mu) * rs;
        xhat[o + j] = h;
        y[o + j] = (gamma ? gamma[j] * h : h) + (beta ? beta[j] : 0);
      }
    }
  },

  layerNormBackward(dy, xhat, rstd, gamma, rows, cols, dx) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let m1 = 0;
      let m2 = 0;
      for (let j = 0; j < cols; j++) {
        const g = gamma ? dy[o + j] * gamma[j] : dy[o + j];
        m1 += g;
        m2 += g * xhat[o + j];
      }
      m1 /= cols;
      m2 /= cols;
      for (let j = 0; j < cols; j++) {
        const g = gamma ? dy[o + j] * gamma[j] : dy[o + j];
        dx[o + j] = (g - m1 - xhat[o + j] * m2) * rstd[r];
      }
    }
  },

  gemmBatched(transA, transB, m, n, k, alpha, a, aOffsets, b, bOffsets, beta, c, cOffsets) {
    for (let i = 0; i < cOffsets.length; i++) {
      this.gemm(transA, transB, m, n, k, alpha, a.subarray(aOffsets[i], aOffsets[i] + m * k),
        b.subarray(bOffsets[i], bOffsets[i] + k * n), beta, c.subarray(cOffsets[i], cOffsets[i] + m * n));
    }
  },

  gemm(transA, transB, m, n, k, alpha, a, b, beta, c) {
    if (beta === 0) c.fill(0, 0, m * n);
    else if (beta !== 1) for (let i = 0; i < m * n; i++) c[i] *= beta;
    if (!transA && !transB) {
      // i-p-j order: streams rows of B and C.
      for (let i = 0; i < m; i++) {
        const ci = i * n;
        for (let p = 0; p < k; p++) {
          const av = alpha * a[i * k + p];
          if (av === 0) continue;
          const bp = p * n;
          for (let j = 0; j < n; j++) c[ci + j] += av * b[bp + j];
        }
      }
    } else if (!transA && transB) {
      // dot products of rows of A with rows of B.
      for (let i = 0; i < m; i++) {
        const ai = i * k;
        for (let j = 0; j < n; j++) {
          const bj = j * k;
          let s = 0;
          for (let p = 0; p < k; p++) s += a[ai + p] * b[bj + p];
          c[i * n + j] += alpha * s;
        }
      }
    } else if (transA && !transB) {
      // A stored k×m: C += Σ_p A[p,:]ᵀ ⊗ B[p,:].
      for (let p = 0; p < k; p++) {
        const ap = p * m;
        const bp = p * n;
        for (let i = 0; i < m; i++) {
          const av = alpha * a[ap + i];
          if (av === 0) continue;
          const ci = i * n;
          for (let j = 0; j < n; j++) c[ci + j] += av * b[bp + j];
        }
      }
    } else {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += a[p * m + i] * b[j * k + p];
          c[i * n + j] += alpha * s;
        }
      }
    }
  },

  unary(op, x, out, param) {
    const f = unaryRow(op).f;
    for (let i = 0; i < x.length; i++) out[i] = f(x[i], param);
  },

  unaryGrad(op, x, y, dy, dx, param, accumulate) {
    const d = unaryRow(op).df;
    if (accumulate) for (let i = 0; i < x.length; i++) dx[i] += dy[i] * d(x[i], y[i], param);
    else for (let i = 0; i < x.length; i++) dx[i] = dy[i] * d(x[i], y[i], param);
  },

  binary(op, a, aStrides, b, bStrides, out, shape) {
    const f = BINARY[op];
    const nd = shape.length;
    const size = out.length;
    if (nd === 0) {
      out[0] = f(a[0], b[0]);
      return;
    }
    const idx = new Array<number>(nd).fill(0);
    let ai = 0;
    let bi = 0;
    for (let o = 0; o < size; o++) {
      out[o] = f(a[ai], b[bi]);
      // increment the multi-index, last dimension fastest
      for (let d = nd - 1; d >= 0; d--) {
        idx[d]++;
        ai += aStrides[d];
        bi += bStrides[d];
        if (idx[d] < shape[d]) break;
        ai -= aStrides[d] * shape[d];
        bi -= bStrides[d] * shape[d];
        idx[d] = 0;
      }
    }
  },

  axpy(n, alpha, b, a, out) {
    for (let i = 0; i < n; i++) out[i] = a[i] + alpha * b[i];
  },

  scale(x, s, out) {
    for (let i = 0; i < x.length; i++) out[i] = x[i] * s;
  },

  fill(out, v) {
    out.fill(v);
  },

  sumAxis(x, outer, axis, inner, out, accumulate) {
    if (!accumulate) out.fill(0, 0, outer * inner);
    for (let o = 0; o < outer; o++) {
      const ob = o * inner;
      for (let a = 0; a < axis; a++) {
        const xb = (o * axis + a) * inner;
        for (let i = 0; i < inner; i++) out[ob + i] += x[xb + i];
      }
    }
  },

  addBroadcast(x, y, outer, axis, inner, out) {
    for (let o = 0; o < outer; o++) {
      for (let a = 0; a < axis; a++) {
        const xb = (o * axis + a) * inner;
        const yb = o * inner;
        for (let i = 0; i < inner; i++) out[xb + i] = x[xb + i] + y[yb + i];
      }
    }
  },

  softmax(x, rows, cols, out) {
    for (let r = 0; r < rows; r++) softmaxRow(x, r * cols, cols, out);
  },

  softmaxCrossEntropy(logits, targets, rows, cols, probs) {
    let loss = 0;
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      let max = -Infinity;
      for (let j = 0; j < cols; j++) if (logits[base + j] > max) max = logits[base + j];
      let s = 0;
      for (let j = 0; j < cols; j++) s += Math.exp(logits[base + j] - max);
      const logS = Math.log(s);
      for (let j = 0; j < cols; j++) {
        const logp = logits[base + j] - max - logS;
        probs[base + j] = Math.exp(logp);
        const t = targets[base + j];
        if (t !== 0) loss -= t * logp;
      }
    }
    return loss;
  },

  sum(x) {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i];
    return s;
  },

  sumSquares(x) {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i] * x[i];
    return s;
  },

  allFinite(x) {
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) return false;
    return true;
  },

  conv2d(g, x, w, bias, y) {
    convForward(g, x, w, bias, y);
  },

  conv2dBackwardData(g, dy, w, dx) {
    convBackwardData(g, dy, w, dx);
  },

  conv2dBackwardFilter(g, x, dy, dw, db) {
    convBackwardFilter(g, x, dy, dw, db);
  },

  // the definition: the convolution, then the elementwise function over its output
  conv2dAct(g, x, w, bias, y, op, param) {
    convForward(g, x, w, bias, y);
    jsBackend.unary(op, y, y, param);
  },

  maxPool(g, x, y, argmax) {
    const { h, w: W, ph, pw, sh, sw, oh, ow } = g;
    let o = 0;
    for (let plane = 0; plane < g.n * g.c; plane++) {
      const base = plane * h * W;
      for (let oy = 0; oy < oh; oy++) {
        const y0 = oy * sh;
        const iEnd = Math.min(ph, h - y0);
        for (let ox = 0; ox < ow; ox++, o++) {
          const x0 = ox * sw;
          const jEnd = Math.min(pw, W - x0);
          // the first maximum in row-major window order wins (ties go to the earliest input)
          let at = base + y0 * W + x0;
          let best = x[at];
          for (let i = 0; i < iEnd; i++) {
            const r = base + (y0 + i) * W + x0;
            for (let j = 0; j < jEnd; j++) {
              const v = x[r + j];
              if (v > best) {
                best = v;
                at = r + j;
              }
            }
          }
          y[o] = best;
          argmax[o] = at;
        }
      }
    }
  },

  maxPoolBackward(g, dy, argmax, dx) {
    dx.fill(0, 0, g.n * g.c * g.h * g.w);
    const total = g.n * g.c * g.oh * g.ow;
    for (let o = 0; o < total; o++) dx[argmax[o]] += dy[o];
  },

  avgPool(g, x, y) {
    const inv = 1 / (g.ph * g.pw);
    const acc = new Float64Array(g.n * g.c * g.oh * g.ow);
    forEachWindowCell(g, (o, at) => { acc[o] += x[at]; });
    for (let o = 0; o < acc.length; o++) y[o] = acc[o] * inv;
  },

  avgPoolBackward(g, dy, dx) {
    dx.fill(0, 0, g.n * g.c * g.h * g.w);
    const inv = 1 / (g.ph * g.pw);
    forEachWindowCell(g, (o, at) => { dx[at] += dy[o] * inv; });
  },

  lstmCell(B, H, pre, cPrev, gates, c, h) {
    const H4 = 4 * H;
    for (let b = 0; b < B; b++) {
      const g0 = b * H4;
      const s0 = b * H;
      for (let u = 0; u < H; u++) {
        const f = sigmoid(pre[g0 + u]);
        const i = sigmoid(pre[g0 + H + u]);
        const cc = Math.tanh(pre[g0 + 2 * H + u]);
        const o = sigmoid(pre[g0 + 3 * H + u]);
        gates[g0 + u] = f;
        gates[g0 + H + u] = i;
        gates[g0 + 2 * H + u] = cc;
        gates[g0 + 3 * H + u] = o;
        const cv = f * cPrev[s0 + u] + i * cc;
        c[s0 + u] = cv;
        h[s0 + u] = o * Math.tanh(cv);
      }
    }
  },

  lstmCellBackward(B, H, gates, cPrev, c, dh, dc, dPre, dcPrev) {
    const H4 = 4 * H;
    for (let b = 0; b < B; b++) {
      const g0 = b * H4;
      const s0 = b * H;
      for (let u = 0; u < H; u++) {
        const f = gates[g0 + u];
        const i = gates[g0 + H + u];
        const cc = gates[g0 + 2 * H + u];
        const o = gates[g0 + 3 * H + u];
        const tc = Math.tanh(c[s0 + u]);
        const dhv = dh[s0 + u];
        // the fork at c_t: gradient from h_t (through tanh) plus gradient from c_{t+1}
        const dcv = dc[s0 + u] + dhv * o * (1 - tc * tc);
        dPre[g0 + u] = dcv * cPrev[s0 + u] * f * (1 - f);
        dPre[g0 + H + u] = dcv * cc * i * (1 - i);
        dPre[g0 + 2 * H + u] = dcv * i * (1 - cc * cc);
        dPre[g0 + 3 * H + u] = dhv * tc * o * (1 - o);
        dcPrev[s0 + u] = dcv * f;
      }
    }
  },

  gruGates(B, H, pre, h, gates, resetHidden) {
    for (let b = 0; b < B; b++) {
      for (let u = 0; u < 2 * H; u++) gates[b * 2 * H + u] = sigmoid(pre[b * 2 * H + u]);
      for (let u = 0; u < H; u++) resetHidden[b * H + u] = gates[b * 2 * H + H + u] * h[b * H + u];
    }
  },

  gruState(B, H, gates, hPrev, preCandidate, candidate, h) {
    for (let b = 0; b < B; b++) {
      for (let u = 0; u < H; u++) {
        const k = b * H + u;
        const z = gates[b * 2 * H + u];
        candidate[k] = Math.tanh(preCandidate[k]);
        h[k] = z * hPrev[k] + (1 - z) * candidate[k];
      }
    }
  },

  gruStateBackward(B, H, gates, hPrev, candidate, dh, dhPrev, dPreCandidate, dPreGates) {
    for (let b = 0; b < B; b++) {
      for (let u = 0; u < H; u++) {
        const k = b * H + u;
        const z = gates[b * 2 * H + u];
        const n = candidate[k];
        dhPrev[k] = dh[k] * z;
        dPreCandidate[k] = dh[k] * (1 - z) * (1 - n * n);
        dPreGates[b * 2 * H + u] = dh[k] * (hPrev[k] - n) * z * (1 - z);
      }
    }
  },

  gatherRows(src, cols, index, out) {
    const rows = cols > 0 ? src.length / cols : 0;
    for (let k = 0; k < index.length; k++) {
      const r = index[k];
      if (!(Number.isInteger(r) && r >= 0 && r < rows)) return k;
      out.set(src.subarray(r * cols, (r + 1) * cols), k * cols);
    }
    return -1;
  },

  scatterAddRows(src, cols, index, out) {
    for (let k = 0; k < index.length; k++) {
      const r = index[k];
      for (let j = 0; j < cols; j++) out[r * cols + j] += src[k * cols + j];
    }
  },

  argmaxRows(x, rows, cols, out) {
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let j = 1; j < cols; j++) if (x[r * cols + j] > x[r * cols + best]) best = j;
      out[r] = best;
    }
  },

  nonzeroIndices(x, out) {
    let n = 0;
    for (let i = 0; i < x.length; i++) if (x[i] !== 0) out[n++] = i;
    return n;
  },

  gruGatesBackward(B, H, gates, h, dResetHidden, dPreGates, dh) {
    for (let b = 0; b < B; b++) {
      for (let u = 0; u < H; u++) {
        const k = b * H + u;
        const r = gates[b * 2 * H + H + u];
        dPreGates[b * 2 * H + H + u] = dResetHidden[k] * h[k] * r * (1 - r);
        dh[k] = dResetHidden[k] * r;
      }
    }
  },

  affineAct(rows, units, inputs, x, w, b, op, param, out, z) {
    // the definition, composed from the other kernels: z = x·wᵀ + b, then a = φ(z)
    const zz = z ?? new Float32Array(rows * units);
    this.gemm(false, true, rows, units, inputs, 1, x, w, 0, zz);
    if (b) this.addBroadcast(zz, b, 1, rows, units, zz);
    this.unary(op, zz.subarray(0, rows * units), out, param);
  },
};

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

function softmaxRow(x: Float32Array, base: number, cols: number, out: Float32Array): void {
  let max = -Infinity;
  for (let j = 0; j < cols; j++) if (x[base + j] > max) max = x[base + j];
  let s = 0;
  for (let j = 0; j < cols; j++) {
    const e = Math.exp(x[base + j] - max);
    out[base + j] = e;
    s += e;
  }
  const inv = 1 / s;
  for (let j = 0; j < cols; j++) out[base + j] *= inv;
}

// ---------------------------------------------------------------------------------------------
// Convolution, straight from its definition. Every output is a sum of terms
//   y[b, f, oy, ox] += w[f, ch, i, j] · x[b, ch, oy·sh + i − padTop, ox·sw + j − padLeft]
// over the taps (ch, i, j) that land inside the image (the zero padding adds nothing). The three
// kernels walk the same terms: the forward pass sums them per output, the data gradient sends
// dy·w back to each x, the filter gradient collects dy·x per weight. Sums accumulate in float64
// and are rounded to float32 once.
// ---------------------------------------------------------------------------------------------

/** Calls visit(yi, xi, wi) for every term w[wi]·x[xi] of the output y[yi], in output order. */
function forEachTap(g: ConvGeometry, visit: (yi: number, xi: number, wi: number) => void): void {
  const { n, c, h, w: W, k, kh, kw, sh, sw, padTop, padLeft, oh, ow } = g;
  let yi = 0;
  for (let b = 0; b < n; b++) {
    for (let f = 0; f < k; f++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++, yi++) {
          for (let ch = 0; ch < c; ch++) {
            for (let i = 0; i < kh; i++) {
              const iy = oy * sh + i - padTop;
              if (iy < 0 || iy >= h) continue;
              for (let j = 0; j < kw; j++) {
                const ix = ox * sw + j - padLeft;
                if (ix >= 0 && ix < W) visit(yi, ((b * c + ch) * h + iy) * W + ix, ((f * c + ch) * kh + i) * kw + j);
              }
            }
          }
        }
      }
    }
  }
}

function convForward(g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array): void {
  const acc = new Float64Array(g.n * g.k * g.oh * g.ow);
  forEachTap(g, (yi, xi, wi) => { acc[yi] += w[wi] * x[xi]; });
  const P = g.oh * g.ow;
  for (let yi = 0; yi < acc.length; yi++) y[yi] = acc[yi] + (bias ? bias[Math.floor(yi / P) % g.k] : 0);
}

function convBackwardData(g: ConvGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array): void {
  const acc = new Float64Array(g.n * g.c * g.h * g.w);
  forEachTap(g, (yi, xi, wi) => { acc[xi] += dy[yi] * w[wi]; });
  dx.set(acc);
}

function convBackwardFilter(g: ConvGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array, db: Float32Array | null): void {
  const acc = new Float64Array(g.k * g.c * g.kh * g.kw);
  forEachTap(g, (yi, xi, wi) => { acc[wi] += dy[yi] * x[xi]; });
  for (let wi = 0; wi < acc.length; wi++) dw[wi] += acc[wi];
  if (!db) return;
  const P = g.oh * g.ow;
  const accB = new Float64Array(g.k);
  for (let yi = 0; yi < g.n * g.k * P; yi++) accB[Math.floor(yi / P) % g.k] += dy[yi];
  for (let f = 0; f < g.k; f++) db[f] += accB[f];
}

/** Calls visit(o, at) for every input cell `at` of pooling window o (a window is cut at the image's edge). */
function forEachWindowCell(g: PoolGeometry, visit: (o: number, at: number) => void): void {
  forEachWindow(g, (o, base, y0, x0) => {
    for (let iy = y0; iy < Math.min(y0 + g.ph, g.h); iy++) {
      for (let ix = x0; ix < Math.min(x0 + g.pw, g.w); ix++) visit(o, base + iy * g.w + ix);
    }
  });
}

function forEachWindow(g: PoolGeometry, fn: (o: number, base: number, y0: number, x0: number) => void): void {
  let o = 0;
  for (let p = 0; p < g.n * g.c; p++) {
    const base = p * g.h * g.w;
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) fn(o++, base, oy * g.sh, ox * g.sw);
    }
  }
}

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: (a, b) => (a > b ? a : b),
  min: (a, b) => (a < b ? a : b),
};
