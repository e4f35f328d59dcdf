/**
 * The kernel interface. Backends are the only place with hot loops: everything above (ops,
 * layers, training) calls these kernels on flat float32 buffers with explicit sizes. All matrices
 * are row-major and all images NCHW. A backend must implement every kernel (the compiler checks);
 * the reference backend (`backend/js`) is the oracle every faster backend is tested against.
 *
 * Buffers come from {@link Backend.alloc} so a backend can hand out memory it owns (aligned, or
 * native) while the rest of the library only ever sees `Float32Array`s.
 */

import type { UnaryOp } from './unary.js';

/** Elementwise functions with a kernel-level forward and derivative: the rows of `backend/unary.ts`. @example `const op: UnaryOp = 'tanh';` */
export type { UnaryOp };

/** Elementwise binary ops (broadcasting is resolved by the caller into strides). */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min';

/**
 * Elementwise losses with a kernel-level value and gradient (see {@link Backend.lossValue}):
 * `squared` (t − p)², `crossEntropy` −t·log p, `binaryCrossEntropy` −t·log p − (1 − t)·log(1 − p)
 * (p clamped to [1e-7, 1 − 1e-7]; crossEntropy clamps p below at 1e-7) and `sigmoidCrossEntropy`
 * from logits z: max(z, 0) − z·t + log(1 + e^−|z|).
 */
export type LossKind = 'squared' | 'crossEntropy' | 'binaryCrossEntropy' | 'sigmoidCrossEntropy';

/** Geometry of a 2-D convolution over NCHW input; filters are `[k, c, kh, kw]`. */
export interface ConvGeometry {
  n: number; c: number; h: number; w: number;
  k: number; kh: number; kw: number;
  sh: number; sw: number;
  padTop: number; padLeft: number;
  oh: number; ow: number;
}

/** Geometry of a 2-D pooling window over NCHW input (zero padding is never used for pooling). */
export interface PoolGeometry {
  n: number; c: number; h: number; w: number;
  ph: number; pw: number;
  sh: number; sw: number;
  oh: number; ow: number;
}

/**
 * A backend: the complete set of kernels. Every kernel is required, so the compiler checks that
 * a new backend is complete; ops reach kernels only through {@link getBackend}.
 *
 * @example
 * ```ts
 * const be: Backend = getBackend();
 * const out = be.alloc(3);
 * be.unary('relu', Float32Array.of(-1, 0, 2), out, 0); // [0, 0, 2]
 * ```
 */
export interface Backend {
  /** `'js'` (reference) or `'native'`. */
  readonly name: string;

  /**
   * A zero-filled buffer of n floats owned by this backend (from the buffer pool, see
   * `backend/buffer-pool.ts`: a reused buffer is zero-filled again).
   */
  alloc(n: number): Float32Array;

  /**
   * General matrix multiply, row-major: C[m×n] = alpha · op(A) · op(B) + beta · C, where op(A) is
   * m×k (A stored k×m when transA) and op(B) is k×n (B stored n×k when transB). beta = 0 means C's
   * old contents are ignored (even NaN).
   */
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array): void;

  /** out[i] = f(x[i]); `param` is the leaky slope or the threshold θ where the op has one. */
  unary(op: UnaryOp, x: Float32Array, out: Float32Array, param: number): void;

  /**
   * dx[i] = dy[i] · f'(x[i]) (assigns, or adds into dx when `accumulate`); `y` is f(x) (kernels may
   * use either). The threshold step has no useful derivative: callers never ask for it.
   */
  unaryGrad(op: UnaryOp, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array,
    param: number, accumulate: boolean): void;

  /**
   * Strided broadcasting binary op over an output of shape `shape` (row-major, contiguous);
   * aStrides/bStrides give each input's stride per output dimension (0 where it broadcasts).
   */
  binary(op: BinaryOp, a: Float32Array, aStrides: readonly number[], b: Float32Array,
    bStrides: readonly number[], out: Float32Array, shape: readonly number[]): void;

  /** out[i] = a[i] + alpha · b[i] over n elements (axpy into a separate output; out may alias a). */
  axpy(n: number, alpha: number, b: Float32Array, a: Float32Array, out: Float32Array): void;

  /** out[i] = x[i] · s. out may alias x. */
  scale(x: Float32Array, s: number, out: Float32Array): void;

  /** Fills out with v. */
  fill(out: Float32Array, v: number): void;

  /** x viewed as [outer, axis, inner]: out[o, i] = Σ_a x[o, a, i] (assigns, or adds when accumulate). */
  sumAxis(x: Float32Array, outer: number, axis: number, inner: number, out: Float32Array,
    accumulate: boolean): void;

  /** x viewed as [outer, axis, inner]: out[o, a, i] = x[o, a, i] + y[o, i]. Bias-add broadcast. */
  addBroadcast(x: Float32Array, y: Float32Array, outer: number, axis: number, inner: number,
    out: Float32Array): void;

  /** Row-wise stable softmax of a [rows × cols] matrix. */
  softmax(x: Float32Array, rows: number, cols: number, out: Float32Array): void;

  /**
   * Row-wise softmax + cross-entropy from logits: writes probabilities into `probs` and returns
   * Σ_rows −Σ_j t·log p (float64 accumulation). Stable for any logits.
   */
  softmaxCrossEntropy(logits: Float32Array, targets: Float32Array, rows: number, cols: number,
    probs: Float32Array): number;

  /** Σ x[i] accumulated in float64. */
  sum(x: Float32Array): number;

  /** Σ x[i]² accumulated in float64. */
  sumSquares(x: Float32Array): number;

  /** True when every element is finite. */
  allFinite(x: Float32Array): boolean;

  /** Convolution forward: y[n,k,oh,ow] = Σ w[k,c,i,j] · xpad[n,c,oh·sh+i,ow·sw+j] + bias[k] (bias may be null). */
  conv2d(g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array): void;

  /** Gradient w.r.t. the input: dx (assigned) from dy and w. */
  conv2dBackwardData(g: ConvGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array): void;

  /** Gradients w.r.t. filters and bias, added into dw and db (db may be null). */
  conv2dBackwardFilter(g: ConvGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array,
    db: Float32Array | null): void;

  /** Max pooling forward; `argmax` receives, per output, the flat input index that won (first max). */
  maxPool(g: PoolGeometry, x: Float32Array, y: Float32Array, argmax: Int32Array): void;

  /** Max pooling backward: dx (assigned) gets each dy at its argmax, summed where windows overlap. */
  maxPoolBackward(g: PoolGeometry, dy: Float32Array, argmax: Int32Array, dx: Float32Array): void;

  /** Average pooling forward. */
  avgPool(g: PoolGeometry, x: Float32Array, y: Float32Array): void;

  /** Average pooling backward: dx (assigned). */
  avgPoolBackward(g: PoolGeometry, dy: Float32Array, dx: Float32Array): void;

  /**
   * Fused LSTM cell, elementwise part, for a batch of B rows and H units. `pre` is [B, 4H] with the
   * gate pre-activations in the order f, i (sigmoid i†), c (tanh i‡), o — each block of H
   * contiguous per row. Writes the activated gates into `gates` ([B, 4H], same order), and
   * c = f ⊙ cPrev + i ⊙ ĉ, h = o ⊙ tanh(c) (both [B, H]).
   */
  lstmCell(B: number, H: number, pre: Float32Array, cPrev: Float32Array, gates: Float32Array,
    c: Float32Array, h: Float32Array): void;

  /**
   * Backward of {@link Backend.lstmCell}: from dh and dc (gradient arriving at c from the next
   * step, may be all zeros) computes dPre ([B, 4H], gradient at the gate pre-activations) and
   * dcPrev ([B, H]).
   */
  lstmCellBackward(B: number, H: number, gates: Float32Array, cPrev: Float32Array, c: Float32Array,
    dh: Float32Array, dc: Float32Array, dPre: Float32Array, dcPrev: Float32Array): void;

  /**
   * Batched GEMM: for each i < cOffsets.length, C_i[m×n] = alpha · op(A_i) · op(B_i) + beta · C_i
   * (row-major, transpositions as in {@link Backend.gemm}), where A_i starts at a[aOffsets[i]],
   * B_i at b[bOffsets[i]] and C_i at c[cOffsets[i]]. Offsets may repeat for the inputs (a
   * broadcast operand), never for the outputs.
   *
   * @example
   * ```ts
   * // two 1×1·1×1 products sharing B: c = [2·5, 3·5]
   * be.gemmBatched(false, false, 1, 1, 1, 1, Float32Array.of(2, 3), Int32Array.of(0, 1),
   *   Float32Array.of(5), Int32Array.of(0, 0), 0, c, Int32Array.of(0, 1));
   * ```
   */
  gemmBatched(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float32Array, aOffsets: Int32Array, b: Float32Array, bOffsets: Int32Array, beta: number,
    c: Float32Array, cOffsets: Int32Array): void;

  /**
   * Backward of a row-wise softmax of a [rows × cols] matrix from its output y:
   * dx = y ⊙ (dy − Σ_j dy_j·y_j) per row (assigned).
   *
   * @example
   * ```ts
   * be.softmaxBackward(Float32Array.of(0.5, 0.5), Float32Array.of(1, 0), 1, 2, dx); // dx = [0.25, -0.25]
   * ```
   */
  softmaxBackward(y: Float32Array, dy: Float32Array, rows: number, cols: number, dx: Float32Array): void;

  /**
   * Layer normalisation of each row of a [rows × cols] matrix: x̂ = (x − μ)/√(σ² + eps) with the
   * row's mean and biased variance (accumulated in float64), y = gamma ⊙ x̂ + beta (gamma, beta:
   * [cols] or null for 1 and 0). Also writes x̂ and rstd[r] = 1/√(σ² + eps) for the backward pass.
   *
   * @example
   * ```ts
   * be.layerNorm(Float32Array.of(1, 3), null, null, 1, 2, 0, y, xhat, rstd); // y = [-1, 1], rstd = [1]
   * ```
   */
  layerNorm(x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, rows: number, cols: number,
    eps: number, y: Float32Array, xhat: Float32Array, rstd: Float32Array): void;

  /**
   * Input gradient of {@link Backend.layerNorm} (assigned): with ĝ = dy ⊙ gamma per row,
   * dx = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂)).
   *
   * @example
   * ```ts
   * be.layerNormBackward(dy, xhat, rstd, gamma, rows, cols, dx);
   * ```
   */
  layerNormBackward(dy: Float32Array, xhat: Float32Array, rstd: Float32Array, gamma: Float32Array | null,
    rows: number, cols: number, dx: Float32Array): void;

  /**
   * Reorders the dimensions of a row-major tensor of `shape` (rank ≤ 16): output dimension i is
   * input dimension axes[i], written contiguously into `out`.
   *
   * @example
   * ```ts
   * be.permute(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3], [1, 0], out); // out = [1, 4, 2, 5, 3, 6]
   * ```
   */
  permute(x: Float32Array, shape: readonly number[], axes: readonly number[], out: Float32Array): void;
  /**
   * One SGD update of a parameter, in place (all arithmetic in float64, stored as float32): plain
   * (`velocity` null) w ← w − α·g; with momentum μ, v ← μ·v + g, then w ← w − α·v, or with Nesterov's
   * look-ahead w ← w − α·(g + μ·v).
   *
   * @example
   * ```ts
   * be.sgdUpdate(w, g, null, 0.1, 0, false); // w = w − 0.1·g
   * ```
   */
  sgdUpdate(w: Float32Array, g: Float32Array, velocity: Float32Array | null, learningRate: number, momentum: number,
    nesterov: boolean): void;

  /**
   * One Adam update of a parameter, in place: first w ← keep·w (AdamW's decoupled decay; keep = 1
   * for Adam), then m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g², w ← w − α·(m/c1)/(√(v/c2) + ε)
   * with the bias corrections c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ given by the caller (float64 arithmetic).
   *
   * @example
   * ```ts
   * be.adamUpdate(w, g, m, v, 0.001, 0.9, 0.999, 1e-7, 0.1, 0.001, 1); // the first step (t = 1)
   * ```
   */
  adamUpdate(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, learningRate: number, beta1: number,
    beta2: number, epsilon: number, c1: number, c2: number, keep: number): void;

  /**
   * One RMSProp update of a parameter, in place: s ← ρ·s + (1 − ρ)·g² (`ms`); step = α·g/√(max(d, 0) + ε)
   * with d = s, or, centred (`mg` given), ḡ ← ρ·ḡ + (1 − ρ)·g and d = s − ḡ²; with momentum (`mom`
   * given) u ← μ·u + step, w ← w − u, else w ← w − step (float64 arithmetic).
   *
   * @example
   * ```ts
   * be.rmspropUpdate(w, g, ms, null, null, 0.001, 0.9, 0, 1e-7);
   * ```
   */
  rmspropUpdate(w: Float32Array, g: Float32Array, ms: Float32Array, mg: Float32Array | null, mom: Float32Array | null,
    learningRate: number, rho: number, momentum: number, epsilon: number): void;

  /**
   * Clamps every element to [−limit, limit] in place (NaN stays NaN).
   *
   * @example
   * ```ts
   * be.clipValue(Float32Array.of(-3, 0.5, 2), 1); // [-1, 0.5, 1]
   * ```
   */
  clipValue(x: Float32Array, limit: number): void;

  /**
   * Batch normalisation with the batch's statistics, x viewed as [outer, C, inner] (channels on the
   * middle axis): per channel the mean μ and biased variance σ² over the M = outer·inner values
   * (float64 sums, written to `mean` and `variance`), invStd = 1/√(σ² + eps), x̂ = (x − μ)·invStd
   * (written to `xhat`) and y = γ·x̂ + β (gamma, beta: [C] or null for 1 and 0).
   *
   * @example
   * ```ts
   * be.batchNormTrain(Float32Array.of(1, 3), null, null, 2, 1, 1, 0, y, xhat, mean, variance, invStd); // y = [-1, 1]
   * ```
   */
  batchNormTrain(x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, outer: number, C: number,
    inner: number, eps: number, y: Float32Array, xhat: Float32Array, mean: Float64Array, variance: Float64Array,
    invStd: Float64Array): void;

  /**
   * Batch normalisation with fixed statistics (mean, variance: [C]), x viewed as [outer, C, inner]:
   * invStd = 1/√(σ² + eps) (written), y = (γ·invStd)·(x − μ) + β, and x̂ = (x − μ)·invStd into `xhat`
   * when it is given.
   *
   * @example
   * ```ts
   * be.batchNormInference(Float32Array.of(3), Float32Array.of(1), Float32Array.of(4), null, null, 1, 1, 1, 0, y, null, invStd); // y = [1]
   * ```
   */
  batchNormInference(x: Float32Array, mean: Float32Array, variance: Float32Array, gamma: Float32Array | null,
    beta: Float32Array | null, outer: number, C: number, inner: number, eps: number, y: Float32Array,
    xhat: Float32Array | null, invStd: Float64Array): void;

  /**
   * Backward of {@link Backend.batchNormTrain} (`training`) or {@link Backend.batchNormInference}, from
   * dy, x̂ (null: taken as 0, inference only) and invStd. Per channel Σdy and Σdy·x̂ (float64) give
   * dGamma = Σdy·x̂ and dBeta = Σdy; dx = (γ·invStd/M)·(M·dy − Σdy − x̂·Σdy·x̂) when training, else
   * (γ·invStd)·dy. Every output is assigned, and skipped when null.
   *
   * @example
   * ```ts
   * be.batchNormBackward(true, dy, xhat, invStd, null, outer, C, inner, dx, null, null);
   * ```
   */
  batchNormBackward(training: boolean, dy: Float32Array, xhat: Float32Array | null, invStd: Float64Array,
    gamma: Float32Array | null, outer: number, C: number, inner: number, dx: Float32Array | null,
    dGamma: Float32Array | null, dBeta: Float32Array | null): void;

  /**
   * A running average, in place: avg ← μ·avg + (1 − μ)·x (float64 arithmetic; x is float64, as the
   * batch statistics of {@link Backend.batchNormTrain}).
   *
   * @example
   * ```ts
   * be.movingAverage(Float32Array.of(0), Float64Array.of(1), 0.9); // [0.1]
   * ```
   */
  movingAverage(avg: Float32Array, x: Float64Array, momentum: number): void;

  /**
   * The sum over all elements of a {@link LossKind}'s per-element loss, accumulated in float64
   * (`pred` is a probability, or the logits for `sigmoidCrossEntropy`; crossEntropy skips t = 0).
   *
   * @example
   * ```ts
   * be.lossValue('squared', Float32Array.of(1, 3), Float32Array.of(0, 0)); // 10
   * ```
   */
  lossValue(kind: LossKind, pred: Float32Array, target: Float32Array): number;

  /**
   * dx[i] = scale · ∂loss/∂pred[i] for a {@link LossKind} (assigned): squared p − t (the ½ or 2 is in
   * `scale`), crossEntropy −t/max(p, 1e-7) (0 where t = 0), binaryCrossEntropy (p − t)/(p·(1 − p))
   * on the clamped p, sigmoidCrossEntropy σ(z) − t.
   *
   * @example
   * ```ts
   * be.lossGrad('squared', Float32Array.of(1, 3), Float32Array.of(0, 0), 2, dx); // dx = [2, 6]
   * ```
   */
  lossGrad(kind: LossKind, pred: Float32Array, target: Float32Array, scale: number, dx: Float32Array): void;

  /**
   * Copies contiguous runs of `len` elements: for every index (i₀, …, i_{r−1}) below `counts` (rank
   * r ≤ 4), dst[dstOffset + Σ i_d·dstStrides[d] + j] = src[srcOffset + Σ i_d·srcStrides[d] + j] for
   * j < len (strides may be negative; every run must lie inside its buffer). Concatenation, slicing,
   * padding and reversal, and their gradients, are such copies.
   *
   * @example
   * ```ts
   * // the rows of a 2×3 matrix in reverse order
   * be.copyRuns(Float32Array.of(1, 2, 3, 4, 5, 6), 0, [3], out, 3, [-3], [2], 3); // out = [4, 5, 6, 1, 2, 3]
   * ```
   */
  copyRuns(src: Float32Array, srcOffset: number, srcStrides: readonly number[], dst: Float32Array, dstOffset: number,
    dstStrides: readonly number[], counts: readonly number[], len: number): void;


  /**
   * Optional: storage for a long-lived tensor (a layer's parameter) that this backend's kernels
   * read and write in place, holding a copy of `data` (or `data` itself when it already is such
   * storage). The WebAssembly backend keeps parameters in its memory this way, so that an
   * inference does not copy the weights in on every call; the array is still an ordinary
   * `Float32Array` for every other reader and writer (writes are seen by the next kernel: there is
   * no second copy to go stale). Backends without it use the array as it is.
   *
   * @example
   * ```ts
   * if (be.resident) weight.data = be.resident(weight.data);
   * ```
   */
  resident?(data: Float32Array): Float32Array;

  /**
   * Convolution → activation → pooling as one kernel pass that keeps the activations in the
   * backend's blocked layout between the three (native: oneDNN's nChw16c), reordering only the
   * input and its gradient. Backends without a blocked layout leave it out; the `conv2dPool` op
   * then runs the separate kernels.
   *
   * @example
   * ```ts
   * const plan = be.convPool?.plan(g, p, true, 'relu', 0); // null: no fused path for this geometry
   * ```
   */
  readonly convPool?: ConvPoolKernels;


  /**
   * GRU gates, elementwise part, for a batch of B rows and H units: `pre` [B, 2H] holds the
   * pre-activations of the update gate z and the reset gate r (blocks of H per row, z first).
   * Writes gates = σ(pre) ([B, 2H], same order) and resetHidden = r ⊙ h ([B, H]), where h is
   * h_{t−1} as it enters the weight matrices.
   *
   * @example
   * ```ts
   * be.gruGates(1, 1, Float32Array.of(0, 0), Float32Array.of(4), gates, rh); // gates = [0.5, 0.5], rh = [2]
   * ```
   */
  gruGates(B: number, H: number, pre: Float32Array, h: Float32Array, gates: Float32Array, resetHidden: Float32Array): void;

  /**
   * GRU state update for B rows and H units: candidate n = tanh(preCandidate) and
   * h = z ⊙ hPrev + (1 − z) ⊙ n, with z the first block of `gates` ([B, 2H] from
   * {@link Backend.gruGates}). Writes n and h ([B, H]).
   *
   * @example
   * ```ts
   * be.gruState(1, 1, Float32Array.of(0.5, 0.5), Float32Array.of(2), Float32Array.of(0), n, h); // n = [0], h = [1]
   * ```
   */
  gruState(B: number, H: number, gates: Float32Array, hPrev: Float32Array, preCandidate: Float32Array,
    candidate: Float32Array, h: Float32Array): void;

  /**
   * Backward of {@link Backend.gruState} from dh ([B, H]): writes dhPrev = dh ⊙ z (the direct
   * path), dPreCandidate = dh ⊙ (1 − z) ⊙ (1 − n²), and the update-gate block of dPreGates
   * ([B, 2H], first H of each row) = dh ⊙ (hPrev − n) ⊙ z(1 − z); the reset-gate block is left as it is.
   *
   * @example
   * ```ts
   * be.gruStateBackward(B, H, gates, hPrev, candidate, dh, dhPrev, dPreCandidate, dPreGates);
   * ```
   */
  gruStateBackward(B: number, H: number, gates: Float32Array, hPrev: Float32Array, candidate: Float32Array,
    dh: Float32Array, dhPrev: Float32Array, dPreCandidate: Float32Array, dPreGates: Float32Array): void;

  /**
   * Backward of {@link Backend.gruGates}'s product r ⊙ h from its gradient dResetHidden ([B, H]):
   * writes the reset-gate block of dPreGates ([B, 2H], second H of each row) =
   * dResetHidden ⊙ h ⊙ r(1 − r) and dh = dResetHidden ⊙ r ([B, H]); the update-gate block is left as it is.
   *
   * @example
   * ```ts
   * be.gruGatesBackward(B, H, gates, h, dResetHidden, dPreGates, dh);
   * ```
   */
  gruGatesBackward(B: number, H: number, gates: Float32Array, h: Float32Array, dResetHidden: Float32Array,
    dPreGates: Float32Array, dh: Float32Array): void;

  /**
   * Row gather: row k of `out` ([index.length, cols]) becomes row index[k] of `src`
   * ([src.length / cols, cols]). Indices are integer values stored as floats. Returns −1, or the
   * position k of the first index that is not an integer row number of `src` (then `out` is
   * partly written).
   *
   * @example
   * ```ts
   * be.gatherRows(Float32Array.of(1, 2, 3, 4), 2, Float32Array.of(1, 0), out); // −1; out = [3, 4, 1, 2]
   * ```
   */
  gatherRows(src: Float32Array, cols: number, index: Float32Array, out: Float32Array): number;

  /**
   * Row scatter-add, the backward of {@link Backend.gatherRows}: row k of `src`
   * ([index.length, cols]) is added into row index[k] of `out` (indices valid; repeats add up).
   *
   * @example
   * ```ts
   * be.scatterAddRows(Float32Array.of(1, 2, 3, 4), 2, Float32Array.of(0, 0), out); // out row 0 += [4, 6]
   * ```
   */
  scatterAddRows(src: Float32Array, cols: number, index: Float32Array, out: Float32Array): void;

  /**
   * For each row of x [rows, cols], the column of its largest value (the first on ties) into `out`.
   *
   * @example
   * ```ts
   * be.argmaxRows(Float32Array.of(1, 3, 3, 0), 2, 2, out); // out = [1, 0]
   * ```
   */
  argmaxRows(x: Float32Array, rows: number, cols: number, out: Int32Array): void;

  /**
   * Writes the positions i where x[i] ≠ 0, in order, into `out` (as floats, ready for
   * {@link Backend.gatherRows}; room for x.length) and returns how many there are.
   *
   * @example
   * ```ts
   * be.nonzeroIndices(Float32Array.of(1, 0, 2), out); // 2; out starts [0, 2]
   * ```
   */
  nonzeroIndices(x: Float32Array, out: Float32Array): number;

  /**
   * Convolution forward with its activation: y = f(conv2d(x, w) + bias) for the elementwise
   * function `op` (parameter `param`, as in {@link Backend.unary}) — the same result as
   * {@link Backend.conv2d} followed by `unary(op, y, y, param)`, in one pass where the backend
   * can fuse it (native: oneDNN's ReLU post-op).
   *
   * @example
   * ```ts
   * be.conv2dAct(g, x, w, bias, y, 'relu', 0); // y = max(0, conv2d(x, w) + bias)
   * ```
   */
  conv2dAct(g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array,
    op: UnaryOp, param: number): void;

  /**
   * One optimiser update of every parameter in one call (the fused step of `Optimizer.step`).
   * `buffers` holds five entries per parameter: `[w, g, s0, s1, s2]`, the state buffers the rule
   * reads (null when unused): SGD `velocity` (momentum only); Adam `m`, `v`; RMSProp `ms`, `mg`
   * (centred), `mom` (momentum). `hyper` (8 numbers): SGD `[α, μ, nesterov 0/1, λ]`; Adam
   * `[α, β1, β2, ε, c1, c2, keep, λ]`; RMSProp `[α, ρ, μ, ε, λ]`, where λ is the coupled L2 decay
   * g ← g + λ·w (float32). SGD runs in float32 arithmetic (as `axpy`: w ← w − α·g, v ← μ·v + g,
   * Nesterov w ← w − α·(g + μ·v)); Adam and RMSProp are {@link Backend.adamUpdate} and
   * {@link Backend.rmspropUpdate}. Each gradient is taken in blocks of 4,096 elements, whose Σg²
   * (float64, element i into running sum i mod 16, the sixteen then added in order) is taken in
   * the same pass as the block's update: a rule with state checks it before touching the block,
   * so a NaN or Inf gradient never reaches a weight or a state; plain SGD (no state) checks it
   * after updating the block (whose weights may then be non-finite: `fit` restores them). The step
   * stops at a non-finite block and returns its sum; otherwise Σg² over all gradients (before the
   * decay, the blocks' sums added in order). A backend may run the blocks of a big step on several
   * threads: then blocks after a non-finite one may have been applied too (each checked by itself).
   *
   * @example
   * ```ts
   * const sq = be.optimizerStep('sgd', Float64Array.of(0.1, 0, 0, 0, 0, 0, 0, 0), [w, g, null, null, null]);
   * const norm = Math.sqrt(sq); // w = w − 0.1·g
   * ```
   */
  optimizerStep(rule: StepRule, hyper: Float64Array, buffers: readonly (Float32Array | null)[]): number;

  /**
   * Rows of two `[rows, cols]` score matrices whose arg-max (the first maximum) agree; with one
   * column, rows where both are ≥ 0.5 or both below. Accuracy's count in one pass.
   *
   * @example
   * ```ts
   * be.countMatchingRows(Float32Array.of(0.9, 0.1, 0.2, 0.8), Float32Array.of(1, 0, 1, 0), 2, 2); // 1
   * ```
   */
  countMatchingRows(a: Float32Array, b: Float32Array, rows: number, cols: number): number;

  /**
   * A dense layer's forward pass in one kernel: out[rows×units] = φ(x·wᵀ + b), with x [rows, inputs],
   * w [units, inputs] (row j holds neuron j's weights), b [units] (null: no bias) and φ the
   * elementwise row `op` with its `param` (as {@link Backend.unary}). When `z` is given it also
   * receives the weighted sums x·wᵀ + b. `out` and `z` are assigned and overlap no input.
   *
   * @example
   * ```ts
   * // one row [1, 1] through two relu neurons with weights [1, 2] and [-3, -4], biases 0.5 and 0
   * be.affineAct(1, 2, 2, Float32Array.of(1, 1), Float32Array.of(1, 2, -3, -4), Float32Array.of(0.5, 0), 'relu', 0, out, z);
   * // out = [3.5, 0], z = [3.5, -7]
   * ```
   */
  affineAct(rows: number, units: number, inputs: number, x: Float32Array, w: Float32Array, b: Float32Array | null,
    op: UnaryOp, param: number, out: Float32Array, z: Float32Array | null): void;

  /**
   * A buffer of n floats whose contents are unspecified (a reused buffer keeps old values): for an
   * output that the kernel about to run writes completely (every element, whatever the input,
   * e.g. a GEMM with beta = 0 or an elementwise map), so that reuse skips the zero fill. Anything
   * that accumulates into its output or writes only part of it takes {@link Backend.alloc}.
   *
   * @example
   * ```ts
   * const out = be.allocUninit(x.length);
   * be.unary('relu', x, out, 0); // writes every element of out
   * ```
   */
  allocUninit(n: number): Float32Array;
}

/**
 * The update rule of a fused {@link Backend.optimizerStep}.
 *
 * @example
 * ```ts
 * const rule: StepRule = 'adam';
 * ```
 */
export type StepRule = 'sgd' | 'adam' | 'rmsprop';

/** The rule codes of the fast backends' optimizer step (the enum in wasm/src/training.h). */
export const STEP_RULE_CODE: Record<StepRule, number> = { sgd: 0, adam: 1, rmsprop: 2 };

/**
 * What a fused convolution–pooling keeps between forward and backward, in elements
 * ({@link ConvPoolKernels.plan}): the activations a in the blocked layout, the blocked copy of
 * the input (0 when the convolution reads x as it is) and the pooled indices (max pooling; read
 * as Int32).
 *
 * @example
 * ```ts
 * const a = be.allocUninit(plan.aSize);
 * ```
 */
export interface ConvPoolPlan {
  aSize: number;
  xSize: number;
  idxSize: number;
}

/**
 * The kernels of {@link Backend.convPool}: y = pool(f(conv2d(x, w) + bias)) with `g` the
 * convolution's geometry and `p` the pooling's over its output (windows inside the maps), f the
 * elementwise row `op` (one of the convolution activations: linear, relu, leakyRelu, tanh,
 * logistic) with `param`. Results equal the separate kernels' (max pooling keeps the first maximum
 * of a window in row-major order; average pooling divides by the window area).
 *
 * @example
 * ```ts
 * const k = be.convPool!;
 * const plan = k.plan(g, p, true, 'relu', 0)!;
 * k.forward(g, p, true, x, w, b, 'relu', 0, y, a, idx, plan.xSize ? xb : null);
 * k.backward(g, p, true, 'relu', 0, dy, a, idx, plan.xSize ? xb : x, w, dz, dx, dw, db);
 * ```
 */
export interface ConvPoolKernels {
  /** The buffers this geometry needs, or null when the backend has no fused path for it. */
  plan(g: ConvGeometry, p: PoolGeometry, bias: boolean, op: UnaryOp, param: number): ConvPoolPlan | null;
  /** Writes y [n, k, p.oh, p.ow] (NCHW) and the saved a, idx (max only) and xb (when the plan has one). */
  forward(g: ConvGeometry, p: PoolGeometry, max: boolean, x: Float32Array, w: Float32Array, bias: Float32Array | null,
    op: UnaryOp, param: number, y: Float32Array, a: Float32Array, idx: Int32Array | null, xb: Float32Array | null): void;
  /**
   * From the pooled gradient dy: dz (scratch, aSize) receives δz; dx (null: not wanted) the input
   * gradient; dw and db (null: not wanted) accumulate the filter and bias gradients. `xin` is the
   * forward's xb, or x when the plan has none.
   */
  backward(g: ConvGeometry, p: PoolGeometry, max: boolean, op: UnaryOp, param: number, dy: Float32Array, a: Float32Array,
    idx: Int32Array | null, xin: Float32Array, w: Float32Array, dz: Float32Array, dx: Float32Array | null,
    dw: Float32Array | null, db: Float32Array | null): void;
}
