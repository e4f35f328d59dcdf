import type { Backend, BinaryOp, ConvGeometry, PoolGeometry, UnaryOp } from './backend.js';

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

  alloc(n) {
    return new Float32Array(n);
  },

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
    const f = FORWARD[op];
    for (let i = 0; i < x.length; i++) out[i] = f(x[i], param);
  },

  unaryGrad(op, x, y, dy, dx, param, accumulate) {
    const d = DERIVATIVE[op];
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
    forEachWindow(g, (o, base, y0, x0) => {
      let s = 0;
      for (let i = 0; i < g.ph; i++) {
        const iy = y0 + i;
        if (iy >= g.h) break;
        for (let j = 0; j < g.pw; j++) {
          const ix = x0 + j;
          if (ix >= g.w) break;
          s += x[base + iy * g.w + ix];
        }
      }
      y[o] = s * inv;
    });
  },

  avgPoolBackward(g, dy, dx) {
    dx.fill(0, 0, g.n * g.c * g.h * g.w);
    const inv = 1 / (g.ph * g.pw);
    forEachWindow(g, (o, base, y0, x0) => {
      const v = dy[o] * inv;
      for (let i = 0; i < g.ph; i++) {
        const iy = y0 + i;
        if (iy >= g.h) break;
        for (let j = 0; j < g.pw; j++) {
          const ix = x0 + j;
          if (ix >= g.w) break;
          dx[base + iy * g.w + ix] += v;
        }
      }
    });
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
      for (let j = 0; j < cols; j++) out[k * cols + j] = src[r * cols + j];
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
};

/**
 * The complementary error function erfc(z) for z ≥ 0, as t·e^(−z² + P(t)) with t = 1/(1 + z/2)
 * and the degree-9 polynomial P of Numerical Recipes' `erfcc` (relative error < 1.2e-7 everywhere).
 */
function erfcPositive(z: number): number {
  const t = 1 / (1 + 0.5 * z);
  const p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * Math.exp(-z * z + p);
}

/** Φ(x), the standard normal distribution function, with small relative error in both tails. */
function normalCdf(x: number): number {
  const h = 0.5 * erfcPositive(Math.abs(x) * Math.SQRT1_2);
  return x < 0 ? h : 1 - h;
}

/**
 * GELU (exact form, PyTorch's default): x·Φ(x). 0 below −40 (where x·Φ(x) underflows), so −∞ → −0.
 * @example `geluScalar(1) // 0.8413…`
 */
export function geluScalar(x: number): number {
  if (x < -40) return -0;
  return x * normalCdf(x);
}

/**
 * d/dx x·Φ(x) = Φ(x) + x·φ(x), with φ the standard normal density; 0 below −40 and 1 above 40.
 * @example `geluDerivativeScalar(0) // 0.5`
 */
export function geluDerivativeScalar(x: number): number {
  if (x < -40) return 0;
  if (x > 40) return 1;
  return normalCdf(x) + x * Math.exp(-0.5 * x * x) * 0.3989422804014327;
}

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
// Convolution as matrix products over packed panels (im2col).
//
// With Q = c·kh·kw (one filter's weights), P = oh·ow (pixels of a feature map) and M = nb·P
// (the pixels of a chunk of nb images), the three kernels are three products:
//   forward      Y[k × M]  = W[k × Q] · cols[Q × M]        (+ bias, scattered to NCHW)
//   filter grad  dW[k × Q] += dY[k × M] · cols[Q × M]ᵀ       (db[k] += Σ dY)
//   data grad    dcols[Q × M] = W[k × Q]ᵀ · dY[k × M]        (scatter-added back: col2im)
// where cols[(ch,i,j), (b,oy,ox)] = x[b, ch, oy·sh + i − padTop, ox·sw + j − padLeft] (0 outside).
// Every operand is written straight into the layout the 4×4 register-blocked product reads:
// panels of 4 rows (or columns) with the shared dimension running down each panel, zero padded
// to a multiple of 4. Sums accumulate in float64 registers, so results match the direct
// definition to float32 rounding.
// ---------------------------------------------------------------------------------------------

/** Floats of im2col data per chunk of images (bounds the scratch memory to ~16 MB per buffer). */
const CONV_CHUNK = 1 << 22;

const f32Scratch: Float32Array[] = [];
const i32Scratch: Int32Array[] = [];

/** A reusable zero-filled float buffer of at least n elements (slot = which buffer). */
function scratchF32(slot: number, n: number): Float32Array {
  let b = f32Scratch[slot];
  if (!b || b.length < n) b = f32Scratch[slot] = new Float32Array(n);
  else b.fill(0, 0, n);
  return b;
}

function scratchI32(slot: number, n: number): Int32Array {
  let b = i32Scratch[slot];
  if (!b || b.length < n) b = i32Scratch[slot] = new Int32Array(n);
  return b;
}

const pad4 = (n: number): number => (n + 3) & ~3;

/**
 * Destination offsets for one index of a packed operand: `split` = this index is cut into panels
 * of 4 (offset (i>>2)·4·other + (i&3)); otherwise it runs down the panels (offset 4i).
 */
function panelTerms(slot: number, n: number, split: boolean, other: number): Int32Array {
  const t = scratchI32(slot, n);
  if (split) for (let i = 0; i < n; i++) t[i] = (i >> 2) * 4 * other + (i & 3);
  else for (let i = 0; i < n; i++) t[i] = 4 * i;
  return t;
}

/** Offsets i·stride (an unpacked row-major index). */
function linearTerms(slot: number, n: number, stride: number): Int32Array {
  const t = scratchI32(slot, n);
  for (let i = 0; i < n; i++) t[i] = i * stride;
  return t;
}

let f64Scratch = new Float64Array(0);

/** A reusable zero-filled float64 accumulator of at least n elements. */
function scratchF64(n: number): Float64Array {
  if (f64Scratch.length < n) f64Scratch = new Float64Array(n);
  else f64Scratch.fill(0, 0, n);
  return f64Scratch;
}

/**
 * Below this fraction of nonzero output gradients the backward kernels visit the nonzeros one by
 * one instead of multiplying dense matrices. After ReLU + max pooling most of a conv layer's
 * gradients are zero (each window passes one; about 15% are nonzero when training on digits); a
 * term of the sparse loops costs about 4× a term of the blocked product, so they win below ~25%.
 */
const SPARSE_BELOW = 0.25;

function nonzeroFraction(a: Float32Array, n: number): number {
  let nz = 0;
  for (let i = 0; i < n; i++) if (a[i] !== 0) nz++;
  return nz / Math.max(1, n);
}

/** Images per chunk so that a chunk's im2col matrix stays within CONV_CHUNK floats. */
function chunkImages(g: ConvGeometry): number {
  return Math.max(1, Math.min(g.n, Math.floor(CONV_CHUNK / (g.c * g.kh * g.kw * g.oh * g.ow))));
}

/**
 * Walks the runs of the im2col matrix for images b0 … b0+nb−1: for each image, filter tap
 * q = (ch, i, j) and output row oy whose input row is inside the image, calls
 * `run(q, xAt, m0, lo, hi)` — output columns ox ∈ [lo, hi] (those reading real pixels) take
 * x[xAt + ox·sw] and are matrix column m0 + ox.
 */
function forEachPatchRun(g: ConvGeometry, b0: number, nb: number,
  run: (q: number, xAt: number, m0: number, lo: number, hi: number) => void): void {
  const { c, h, w: W, kh, kw, sh, sw, padTop, padLeft, oh, ow } = g;
  const P = oh * ow;
  for (let bi = 0; bi < nb; bi++) {
    const xb = (b0 + bi) * c * h * W;
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const q = (ch * kh + i) * kw + j;
          const lo = Math.max(0, Math.ceil((padLeft - j) / sw));
          const hi = Math.min(ow - 1, Math.floor((W - 1 + padLeft - j) / sw));
          for (let oy = 0; oy < oh; oy++) {
            const iy = oy * sh + i - padTop;
            if (iy >= 0 && iy < h) run(q, xb + (ch * h + iy) * W + j - padLeft, bi * P + oy * ow, lo, hi);
          }
        }
      }
    }
  }
}

/** Writes cols of images b0 … b0+nb−1 into `out` at qTerm[q] + mTerm[m] (zeros elsewhere untouched). */
function im2colPacked(g: ConvGeometry, x: Float32Array, b0: number, nb: number, out: Float32Array,
  qTerm: Int32Array, mTerm: Int32Array): void {
  const sw = g.sw;
  forEachPatchRun(g, b0, nb, (q, xAt, m0, lo, hi) => {
    const qt = qTerm[q];
    for (let ox = lo; ox <= hi; ox++) out[qt + mTerm[m0 + ox]] = x[xAt + ox * sw];
  });
}

/**
 * Adds dcols of images b0 … b0+nb−1 back into dx (the adjoint of im2col); element (q, m) of dcols
 * is at q·qs + m·ms.
 */
function col2imAdd(g: ConvGeometry, dcols: Float32Array, qs: number, ms: number, b0: number, nb: number, dx: Float32Array): void {
  const sw = g.sw;
  forEachPatchRun(g, b0, nb, (q, xAt, m0, lo, hi) => {
    const at = q * qs + m0 * ms;
    for (let ox = lo; ox <= hi; ox++) dx[xAt + ox * sw] += dcols[at + ox * ms];
  });
}

/** Packs dy of images b0 … b0+nb−1 (as the matrix dY[k × M]) at fTerm[f] + mTerm[m]. */
function packGrad(g: ConvGeometry, dy: Float32Array, b0: number, nb: number, out: Float32Array,
  fTerm: Int32Array, mTerm: Int32Array): void {
  const P = g.oh * g.ow;
  for (let bi = 0; bi < nb; bi++) {
    for (let f = 0; f < g.k; f++) {
      const src = ((b0 + bi) * g.k + f) * P;
      const ft = fTerm[f];
      const m0 = bi * P;
      for (let p = 0; p < P; p++) out[ft + mTerm[m0 + p]] = dy[src + p];
    }
  }
}

/** Packs the filters W[k × Q] at fTerm[f] + qTerm[q]. */
function packFilters(w: Float32Array, k: number, Q: number, out: Float32Array, fTerm: Int32Array, qTerm: Int32Array): void {
  for (let f = 0; f < k; f++) {
    const ft = fTerm[f];
    for (let q = 0; q < Q; q++) out[ft + qTerm[q]] = w[f * Q + q];
  }
}

/**
 * C = A·B for packed operands: A is mPanels panels of [kk][4] (4 rows each), B is nPanels panels
 * of [kk][4] (4 columns each); C is written row-major with ldc = 4·nPanels.
 */
function gemmPanels(ap: Float32Array, bp: Float32Array, mPanels: number, nPanels: number, kk: number, c: Float32Array): void {
  const ldc = 4 * nPanels;
  for (let jp = 0; jp < nPanels; jp++) {
    const bo = jp * kk * 4;
    for (let ip = 0; ip < mPanels; ip++) {
      let ao = ip * kk * 4;
      let bq = bo;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let p = 0; p < kk; p++, ao += 4, bq += 4) {
        const a0 = ap[ao], a1 = ap[ao + 1], a2 = ap[ao + 2], a3 = ap[ao + 3];
        const b0 = bp[bq], b1 = bp[bq + 1], b2 = bp[bq + 2], b3 = bp[bq + 3];
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
      }
      let o = ip * 4 * ldc + jp * 4;
      c[o] = c00; c[o + 1] = c01; c[o + 2] = c02; c[o + 3] = c03; o += ldc;
      c[o] = c10; c[o + 1] = c11; c[o + 2] = c12; c[o + 3] = c13; o += ldc;
      c[o] = c20; c[o + 1] = c21; c[o + 2] = c22; c[o + 3] = c23; o += ldc;
      c[o] = c30; c[o + 1] = c31; c[o + 2] = c32; c[o + 3] = c33;
    }
  }
}

// scratch slots: floats 0 = packed filters, 1 = packed cols / dY (B), 2 = product, 3 = packed dY (A)
//                ints   0 = row terms, 1 = shared-dimension terms, 2 = column terms

function convForward(g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array): void {
  const { k } = g;
  const Q = g.c * g.kh * g.kw;
  const P = g.oh * g.ow;
  const kp = pad4(k);
  const wp = scratchF32(0, kp * Q);
  const qTerm = panelTerms(1, Q, false, 0);
  packFilters(w, k, Q, wp, panelTerms(0, k, true, Q), qTerm);
  const nbMax = chunkImages(g);
  for (let b0 = 0; b0 < g.n; b0 += nbMax) {
    const nb = Math.min(nbMax, g.n - b0);
    const M = nb * P;
    const mp = pad4(M);
    const cols = scratchF32(1, mp * Q);
    im2colPacked(g, x, b0, nb, cols, qTerm, panelTerms(2, M, true, Q));
    const prod = scratchF32(2, kp * mp);
    gemmPanels(wp, cols, kp >> 2, mp >> 2, Q, prod);
    for (let bi = 0; bi < nb; bi++) {
      for (let f = 0; f < k; f++) {
        const bv = bias ? bias[f] : 0;
        const src = f * mp + bi * P;
        const dst = ((b0 + bi) * k + f) * P;
        for (let p = 0; p < P; p++) y[dst + p] = prod[src + p] + bv;
      }
    }
  }
}

function convBackwardData(g: ConvGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array): void {
  const { k } = g;
  const Q = g.c * g.kh * g.kw;
  const P = g.oh * g.ow;
  const qp = pad4(Q);
  dx.fill(0, 0, g.n * g.c * g.h * g.w);
  const sparse = nonzeroFraction(dy, g.n * k * P) < SPARSE_BELOW;
  const fTerm = panelTerms(0, k, false, 0);
  const wt = sparse ? w : scratchF32(0, qp * k);
  if (!sparse) packFilters(w, k, Q, wt, fTerm, panelTerms(1, Q, true, k));
  const nbMax = chunkImages(g);
  for (let b0 = 0; b0 < g.n; b0 += nbMax) {
    const nb = Math.min(nbMax, g.n - b0);
    const M = nb * P;
    if (sparse) {
      // dcols[m, :] += dy[f, m] · W[f, :] for the nonzero dy only (patch-major)
      const dcols = scratchF32(2, M * Q);
      for (let bi = 0; bi < nb; bi++) {
        for (let f = 0; f < k; f++) {
          const src = ((b0 + bi) * k + f) * P;
          const wf = f * Q;
          for (let p = 0; p < P; p++) {
            const gv = dy[src + p];
            if (gv === 0) continue;
            const at = (bi * P + p) * Q;
            for (let q = 0; q < Q; q++) dcols[at + q] += gv * w[wf + q];
          }
        }
      }
      col2imAdd(g, dcols, 1, Q, b0, nb, dx);
      continue;
    }
    const mp = pad4(M);
    const dyp = scratchF32(1, mp * k);
    packGrad(g, dy, b0, nb, dyp, fTerm, panelTerms(2, M, true, k));
    const dcols = scratchF32(2, qp * mp);
    gemmPanels(wt, dyp, qp >> 2, mp >> 2, k, dcols);
    col2imAdd(g, dcols, mp, 1, b0, nb, dx);
  }
}

function convBackwardFilter(g: ConvGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array, db: Float32Array | null): void {
  const { k } = g;
  const Q = g.c * g.kh * g.kw;
  const P = g.oh * g.ow;
  const kp = pad4(k);
  const qp = pad4(Q);
  if (db) {
    for (let b = 0; b < g.n; b++) {
      for (let f = 0; f < k; f++) {
        const src = (b * k + f) * P;
        let s = 0;
        for (let p = 0; p < P; p++) s += dy[src + p];
        db[f] += s;
      }
    }
  }
  const sparse = nonzeroFraction(dy, g.n * k * P) < SPARSE_BELOW;
  const acc = sparse ? scratchF64(k * Q) : null;
  const nbMax = chunkImages(g);
  for (let b0 = 0; b0 < g.n; b0 += nbMax) {
    const nb = Math.min(nbMax, g.n - b0);
    const M = nb * P;
    if (acc) {
      // dW[f, :] += dy[f, m] · patch m, for the nonzero dy only (patches stored contiguously)
      const cols = scratchF32(1, M * Q);
      im2colPacked(g, x, b0, nb, cols, linearTerms(1, Q, 1), linearTerms(2, M, Q));
      for (let bi = 0; bi < nb; bi++) {
        for (let f = 0; f < k; f++) {
          const src = ((b0 + bi) * k + f) * P;
          const af = f * Q;
          for (let p = 0; p < P; p++) {
            const gv = dy[src + p];
            if (gv === 0) continue;
            const at = (bi * P + p) * Q;
            for (let q = 0; q < Q; q++) acc[af + q] += gv * cols[at + q];
          }
        }
      }
      continue;
    }
    const mTerm = panelTerms(2, M, false, 0);
    const dyp = scratchF32(3, kp * M);
    packGrad(g, dy, b0, nb, dyp, panelTerms(0, k, true, M), mTerm);
    const cols = scratchF32(1, qp * M);
    im2colPacked(g, x, b0, nb, cols, panelTerms(1, Q, true, M), mTerm);
    const prod = scratchF32(2, kp * qp);
    gemmPanels(dyp, cols, kp >> 2, qp >> 2, M, prod);
    for (let f = 0; f < k; f++) {
      for (let q = 0; q < Q; q++) dw[f * Q + q] += prod[f * qp + q];
    }
  }
  if (acc) for (let i = 0; i < k * Q; i++) dw[i] += acc[i];
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

type Fwd = (x: number, p: number) => number;
type Der = (x: number, y: number, p: number) => number;

const FORWARD: Record<UnaryOp, Fwd> = {
  linear: (x) => x,
  logistic: (x) => sigmoid(x),
  tanh: (x) => Math.tanh(x),
  relu: (x) => (x > 0 ? x : 0),
  leakyRelu: (x, p) => (x > 0 ? x : p * x),
  threshold: (x, p) => (x >= p ? 1 : 0),
  exp: (x) => Math.exp(x),
  log: (x) => Math.log(x),
  neg: (x) => -x,
  sqrt: (x) => Math.sqrt(x),
  square: (x) => x * x,
  abs: (x) => Math.abs(x),
  gelu: (x) => geluScalar(x),
};

const DERIVATIVE: Record<UnaryOp, Der> = {
  linear: () => 1,
  logistic: (_x, y) => y * (1 - y),
  tanh: (_x, y) => 1 - y * y,
  relu: (x) => (x > 0 ? 1 : 0),
  leakyRelu: (x, _y, p) => (x > 0 ? 1 : p),
  threshold: () => 0,
  exp: (_x, y) => y,
  log: (x) => 1 / x,
  neg: () => -1,
  sqrt: (_x, y) => 0.5 / y,
  square: (x) => 2 * x,
  abs: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  gelu: (x) => geluDerivativeScalar(x),
};

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: (a, b) => (a > b ? a : b),
  min: (a, b) => (a < b ? a : b),
};
