import { DataError, ShapeError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import type { UnaryOp } from '../backend/backend.js';
import { be, record, wants } from './graph.js';
import { affine } from './matmul.js';
import { add, mul } from './elementwise.js';
import { logistic, tanh } from './activations.js';
import { concat, reshape } from './shape.js';

/*
 * Recurrent ops: a whole sequence is one op (the unrolled network of Figure 39). The forward pass
 * stores z and a of every time-step (Algorithm 3 and the text around Figure 40); the backward pass
 * walks the steps in reverse, sums the gradients of the shared weights over the time-steps and
 * hands them back once. Inside, sequences are kept time-major ([T, B, ·]) so every step reads and
 * writes one contiguous block, and the input projections of all steps are one GEMM.
 */

// ------------------------------------------------------------------------------------------ masks

const masks = new WeakMap<Tensor, Tensor>();

/**
 * Attaches a padding mask to a sequence tensor: `mask` is [batch, T] with 1 where a step is real
 * and 0 where it is padding. Recurrent layers read it (masked steps carry the state through), a
 * dense layer applied at every step passes it on, and the loss of a sequence output skips masked
 * steps. The `masking` and `embedding` (`maskZero`) layers attach masks for you. Returns `t`.
 *
 * @example
 * ```ts
 * const x = attachMask(tensor([[[1], [2], [0]]]), tensor([[1, 1, 0]]));
 * maskOf(x)!.toArray(); // [[1, 1, 0]]
 * ```
 */
export function attachMask(t: Tensor, mask: Tensor | null | undefined): Tensor {
  if (!mask) return t;
  if (t.rank < 2 || mask.rank !== 2 || mask.shape[0] !== t.shape[0] || mask.shape[1] !== t.shape[1]) {
    throw new ShapeError(`a sequence mask must be [batch, T] = ${fmtShape(t.shape.slice(0, 2))} for a sequence ${fmtShape(t.shape)}, received ${fmtShape(mask.shape)}`);
  }
  masks.set(t, mask);
  return t;
}

/**
 * The padding mask attached to a sequence tensor by {@link attachMask}, or undefined.
 * @example `maskOf(layerOutput)?.toArray()`
 */
export function maskOf(t: Tensor): Tensor | undefined {
  return masks.get(t);
}

/**
 * Rows of a [batch, T, F] tensor at the steps where `mask` [batch, T] is 1, as [N, F] (a
 * differentiable gather: masked steps receive zero gradient).
 *
 * @example
 * ```ts
 * maskedSteps(tensor([[[1], [2], [3]]]), tensor([[1, 0, 1]])).toArray(); // [[1], [3]]
 * ```
 */
export function maskedSteps(x: Tensor, mask: Tensor): Tensor {
  const [Bn, T] = x.shape;
  const F = x.size / (Bn * T);
  if (mask.size !== Bn * T) throw new ShapeError(`maskedSteps: mask ${fmtShape(mask.shape)} does not match the sequence ${fmtShape(x.shape)}`);
  const rows: number[] = [];
  for (let r = 0; r < Bn * T; r++) if (mask.data[r] !== 0) rows.push(r);
  const B = be();
  const out = B.alloc(rows.length * F);
  rows.forEach((r, i) => out.set(x.data.subarray(r * F, (r + 1) * F), i * F));
  return record('maskedSteps', out, [rows.length, F], [x], (g) => {
    const dx = B.alloc(x.size);
    rows.forEach((r, i) => dx.set(g.subarray(i * F, (i + 1) * F), r * F));
    return [dx];
  });
}

/**
 * How a loss sees a prediction and its target. A sequence output [batch, T, F] becomes one row per
 * time-step ([batch·T, F]), so a loss is summed over the steps (the lecture's total error of an
 * unrolled network) and a `'mean'` reduction averages over examples × steps; masked (padding)
 * steps are left out entirely. Anything else is returned unchanged.
 *
 * @example
 * ```ts
 * const [p, t] = sequenceLossView(pred, target); // [B, T, F] → [B·T, F]
 * ```
 */
export function sequenceLossView(pred: Tensor, target: Tensor): [Tensor, Tensor] {
  if (pred.rank < 3 || target.size !== pred.size) return [pred, target];
  const F = pred.shape[pred.rank - 1];
  const m = maskOf(pred);
  const t = target.detach();
  if (!m) return [reshape(pred, [-1, F]), new Tensor(t.data, [t.size / F, F])];
  const tm = new Tensor(t.data, pred.shape);
  return [maskedSteps(pred, m), maskedSteps(tm, m)];
}

// ------------------------------------------------------------------------------ shared helpers

/** [A, Bdim, F] → [Bdim, A, F] (swaps the first two axes). */
function swap01(src: Float32Array, A: number, Bdim: number, F: number): Float32Array {
  const out = be().alloc(src.length);
  for (let a = 0; a < A; a++) {
    for (let b = 0; b < Bdim; b++) out.set(src.subarray((a * Bdim + b) * F, (a * Bdim + b + 1) * F), (b * A + a) * F);
  }
  return out;
}

/** Options shared by the recurrent ops. */
export interface RecurrentOpOptions {
  /** Initial hidden state [batch, H] (zeros when absent). May require gradients. */
  h0?: Tensor | null;
  /** Initial cell state [batch, H] of an LSTM (zeros when absent). May require gradients. */
  c0?: Tensor | null;
  /** Padding mask [batch, T]: 1 = real step, 0 = padding (the state is carried through unchanged). */
  mask?: Tensor | null;
  /**
   * Variational recurrent dropout: a mask [batch, H] (0 or 1/(1 − rate)) that multiplies h_{t−1}
   * wherever it enters a weight matrix, the same at every step.
   */
  recurrentMask?: Float32Array | null;
  /**
   * Keep per-step tensors for tracing (batch-major) and, after backward, put δ of every step
   * into `trace.z.grad`.
   */
  keepTrace?: boolean;
}

/** Per-step values of a recurrent op, batch-major, for tracing. */
export interface RecurrentTrace {
  /** Weighted sums of every step, [batch, T, G·H] (G gate blocks); `z.grad` holds δ after backward. */
  z: Tensor;
  /** Hidden state after every step, [batch, T, H]. */
  h: Tensor;
  /** LSTM cell state after every step, [batch, T, H]. */
  c?: Tensor;
  /** Gate activations of every step, [batch, T, G·H] (LSTM: f, i, c, o; GRU: z, r, n). */
  gates?: Tensor;
}

/** What a recurrent op returns. */
export interface RecurrentResult {
  /** Hidden states of every step, [batch, T, H] (differentiable). */
  output: Tensor;
  /** Hidden state after the last step, [batch, H] (a copy without history: the carried state). */
  hT: Tensor;
  /** LSTM: cell state after the last step, [batch, H] (differentiable, for ∂E_{t+1}/∂c_t). */
  cT?: Tensor;
  /** Present with `keepTrace`. */
  trace?: RecurrentTrace;
}

interface SeqDims { Bn: number; T: number; I: number; H: number }

function seqDims(op: string, x: Tensor, H: number, opts: RecurrentOpOptions): SeqDims {
  if (x.rank !== 3) throw new ShapeError(`${op} expects a sequence [batch, T, features], received ${fmtShape(x.shape)}`);
  const [Bn, T, I] = x.shape;
  if (T < 1) throw new ShapeError(`${op} needs at least one time-step, received ${fmtShape(x.shape)}`);
  for (const [k, s] of [['h0', opts.h0], ['c0', opts.c0]] as const) {
    if (s && (s.rank !== 2 || s.shape[0] !== Bn || s.shape[1] !== H)) {
      throw new ShapeError(`${op}: initial state ${k} must be [${Bn}, ${H}], received ${fmtShape(s.shape)}`);
    }
  }
  if (opts.mask && (opts.mask.rank !== 2 || opts.mask.shape[0] !== Bn || opts.mask.shape[1] !== T)) {
    throw new ShapeError(`${op}: mask must be [batch, T] = [${Bn}, ${T}], received ${fmtShape(opts.mask.shape)}`);
  }
  if (opts.recurrentMask && opts.recurrentMask.length !== Bn * H) {
    throw new ShapeError(`${op}: recurrent dropout mask must have batch × units = ${Bn * H} values, received ${opts.recurrentMask.length}`);
  }
  return { Bn, T, I, H };
}

function checkParam(op: string, name: string, t: Tensor, shape: readonly number[]): void {
  if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${op}: ${name} must be ${fmtShape(shape)}, received ${fmtShape(t.shape)}`);
  }
}

/** Time-major 0/1 step mask [T, B] from a [B, T] mask tensor (null without one). */
function stepMask(mask: Tensor | null | undefined, Bn: number, T: number): Uint8Array | null {
  if (!mask) return null;
  const m = new Uint8Array(T * Bn);
  for (let b = 0; b < Bn; b++) for (let t = 0; t < T; t++) m[t * Bn + b] = mask.data[b * T + t] !== 0 ? 1 : 0;
  return m;
}

/** For every masked row b at step t: dst row ← src row (the state carried through a padding step). */
function carryMasked(m: Uint8Array | null, t: number, Bn: number, H: number, src: Float32Array, dst: Float32Array): void {
  if (!m) return;
  for (let b = 0; b < Bn; b++) if (!m[t * Bn + b]) dst.set(src.subarray(b * H, (b + 1) * H), b * H);
}

/** Zeroes the rows of `buf` ([B, W]) that are masked at step t. */
function zeroMasked(m: Uint8Array | null, t: number, Bn: number, W: number, buf: Float32Array): void {
  if (!m) return;
  for (let b = 0; b < Bn; b++) if (!m[t * Bn + b]) buf.fill(0, b * W, (b + 1) * W);
}

/** h_{t−1} as it enters the weight matrices: times the recurrent dropout mask when there is one. */
function maskedInto(hp: Float32Array, rm: Float32Array | null | undefined, out: Float32Array): void {
  if (rm) for (let i = 0; i < out.length; i++) out[i] = hp[i] * rm[i];
  else out.set(hp);
}

/**
 * Packs per-gate matrices [H, H + I] (acting on [h; x], h first) into Wh [G·H, H] and Wx [G·H, I]
 * so one GEMM per step computes every gate.
 */
function packGates(ws: readonly Tensor[], H: number, I: number): { wh: Float32Array; wx: Float32Array } {
  const G = ws.length;
  const wh = be().alloc(G * H * H);
  const wx = be().alloc(G * H * I);
  ws.forEach((w, g) => {
    for (let j = 0; j < H; j++) {
      const row = w.data.subarray(j * (H + I), (j + 1) * (H + I));
      wh.set(row.subarray(0, H), (g * H + j) * H);
      wx.set(row.subarray(H), (g * H + j) * I);
    }
  });
  return { wh, wx };
}

/** The inverse of {@link packGates} for gradients: block g of dWh/dWx → a [H, H + I] gradient. */
function unpackGate(dwh: Float32Array, dwx: Float32Array, g: number, H: number, I: number): Float32Array {
  const out = be().alloc(H * (H + I));
  for (let j = 0; j < H; j++) {
    out.set(dwh.subarray((g * H + j) * H, (g * H + j + 1) * H), j * (H + I));
    out.set(dwx.subarray((g * H + j) * I, (g * H + j + 1) * I), j * (H + I) + H);
  }
  return out;
}

function concatVectors(vs: readonly Tensor[]): Float32Array {
  const out = be().alloc(vs.reduce((s, v) => s + v.size, 0));
  let off = 0;
  for (const v of vs) {
    out.set(v.data, off);
    off += v.size;
  }
  return out;
}

/** Input projection of all steps at once: P[rows, W] = xs[rows, I] · Wxᵀ + b. */
function projectInputs(xs: Float32Array, wx: Float32Array, b: Float32Array, rows: number, I: number, W: number): Float32Array {
  const B = be();
  const p = B.alloc(rows * W);
  B.gemm(false, true, rows, W, I, 1, xs, wx, 0, p);
  B.addBroadcast(p, b, 1, rows, W, p);
  return p;
}

/**
 * Gradients of the input projection from δ of every step (dA [rows, W]): ∂Wx = dAᵀ·xs (summed
 * over steps and examples), ∂b = Σ dA, and ∂x = dA·Wx (time-major), each only when wanted.
 */
function inputGrads(dA: Float32Array, xs: Float32Array, wx: Float32Array, rows: number, I: number, W: number,
  need: { w: boolean; b: boolean; x: boolean }, dxs: Float32Array | null):
  { dwx: Float32Array | null; db: Float32Array | null } {
  const B = be();
  let dwx: Float32Array | null = null;
  let db: Float32Array | null = null;
  if (need.w) {
    dwx = B.alloc(W * I);
    B.gemm(true, false, W, I, rows, 1, dA, xs, 0, dwx);
  }
  if (need.b) {
    db = B.alloc(W);
    B.sumAxis(dA, 1, rows, W, db, false);
  }
  if (need.x && dxs) B.gemm(false, false, rows, I, W, 1, dA, wx, 1, dxs);
  return { dwx, db };
}

function traceTensor(tm: Float32Array, T: number, Bn: number, W: number): Tensor {
  return new Tensor(swap01(tm, T, Bn, W), [Bn, T, W]);
}

// ------------------------------------------------------------------------------------- simple RNN

/** Activations a simple RNN can use, as backend kernels. */
export type RnnActivation = Extract<UnaryOp, 'linear' | 'logistic' | 'tanh' | 'relu' | 'leakyRelu'>;

/**
 * The simple (Elman) recurrent layer over a whole sequence, eq 110:
 * h_t = φ(W_hh·h_{t−1} + W_hx·x_t + w_0), for x [batch, T, I], `whx` [H, I], `whh` [H, H],
 * `bias` [H]. Returns every h_t as [batch, T, H]. Backpropagation through time: δ_t = (∂E/∂h_t
 * from the output at t + W_hhᵀ·δ_{t+1}) ⊙ φ'(z_t); ∂W_hx = Σ_t δ_t·x_tᵀ, ∂W_hh = Σ_t δ_t·h_{t−1}ᵀ.
 *
 * @example
 * ```ts
 * const { output } = simpleRnn(x, whx, whh, bias, 'tanh'); // [batch, T, H]
 * ```
 */
export function simpleRnn(x: Tensor, whx: Tensor, whh: Tensor, bias: Tensor, activation: RnnActivation = 'tanh',
  opts: RecurrentOpOptions & { alpha?: number } = {}): RecurrentResult {
  const H = whh.shape[0];
  const { Bn, T, I } = seqDims('simpleRnn', x, H, opts);
  checkParam('simpleRnn', 'Whx', whx, [H, I]);
  checkParam('simpleRnn', 'Whh', whh, [H, H]);
  checkParam('simpleRnn', 'bias', bias, [H]);
  const B = be();
  const param = opts.alpha ?? 0.01;
  const rows = T * Bn;
  const BH = Bn * H;
  const xs = swap01(x.data, Bn, T, I);
  const z = projectInputs(xs, whx.data, bias.data, rows, I, H);
  const hs = B.alloc(rows * H);
  const hin = B.alloc(rows * H);
  const h0 = opts.h0 ? opts.h0.data : B.alloc(BH);
  const rm = opts.recurrentMask;
  const m = stepMask(opts.mask, Bn, T);
  for (let t = 0; t < T; t++) {
    const hp = t ? hs.subarray((t - 1) * BH, t * BH) : h0;
    const hinT = hin.subarray(t * BH, (t + 1) * BH);
    const zT = z.subarray(t * BH, (t + 1) * BH);
    const hT = hs.subarray(t * BH, (t + 1) * BH);
    maskedInto(hp, rm, hinT);
    B.gemm(false, true, Bn, H, H, 1, hinT, whh.data, 1, zT);
    B.unary(activation, zT, hT, param);
    carryMasked(m, t, Bn, H, hp, hT);
  }
  const parents = [x, whx, whh, bias];
  if (opts.h0) parents.push(opts.h0);
  const trace = opts.keepTrace ? { z: traceTensor(z, T, Bn, H), h: null as unknown as Tensor } : undefined;
  const output = record('simpleRnn', swap01(hs, T, Bn, H), [Bn, T, H], parents, (g) => {
    const dhs = swap01(g, Bn, T, H);
    const dz = B.alloc(rows * H);
    let dh = B.alloc(BH);
    let dhPrev = B.alloc(BH);
    const dht = B.alloc(BH);
    for (let t = T - 1; t >= 0; t--) {
      const dzT = dz.subarray(t * BH, (t + 1) * BH);
      B.axpy(BH, 1, dh, dhs.subarray(t * BH, (t + 1) * BH), dht);
      B.unaryGrad(activation, z.subarray(t * BH, (t + 1) * BH), hs.subarray(t * BH, (t + 1) * BH), dht, dzT, param, false);
      zeroMasked(m, t, Bn, H, dzT);
      B.gemm(false, false, Bn, H, H, 1, dzT, whh.data, 0, dhPrev);
      if (rm) for (let i = 0; i < BH; i++) dhPrev[i] *= rm[i];
      carryMasked(m, t, Bn, H, dht, dhPrev);
      [dh, dhPrev] = [dhPrev, dh];
    }
    const dxs = wants(x) ? B.alloc(rows * I) : null;
    const { dwx, db } = inputGrads(dz, xs, whx.data, rows, I, H, { w: wants(whx), b: wants(bias), x: wants(x) }, dxs);
    let dwh: Float32Array | null = null;
    if (wants(whh)) {
      dwh = B.alloc(H * H);
      B.gemm(true, false, H, H, rows, 1, dz, hin, 0, dwh);
    }
    if (trace) trace.z.grad = traceTensor(dz, T, Bn, H);
    const grads = [dxs && swap01(dxs, T, Bn, I), dwx, dwh, db];
    if (opts.h0) grads.push(dh);
    return grads;
  });
  if (trace) trace.h = output;
  return { output, hT: new Tensor(hs.slice((T - 1) * BH), [Bn, H]), trace };
}

// ------------------------------------------------------------------------------------------ LSTM

/**
 * LSTM parameters in the lecture's layout: one matrix per gate, each [H, H + I] acting on
 * [h_{t−1}; x_t] (h first), and one bias [H] per gate. `Wi`/`bi` are the sigmoid input gate i†,
 * `Wc`/`bc` the tanh candidate i‡.
 */
export interface LstmWeights {
  Wf: Tensor; Wi: Tensor; Wc: Tensor; Wo: Tensor;
  bf: Tensor; bi: Tensor; bc: Tensor; bo: Tensor;
}

const LSTM_GATES = ['f', 'i', 'c', 'o'] as const;

function checkLstmWeights(op: string, w: LstmWeights, H: number, I: number): void {
  for (const g of LSTM_GATES) {
    checkParam(op, `W${g}`, w[`W${g}`], [H, H + I]);
    checkParam(op, `b${g}`, w[`b${g}`], [H]);
  }
}

/**
 * A long short-term memory layer over a whole sequence (eq 112–123, with the corrections of
 * LECTURE-NOTES.md): for each step, f = σ(W_f·[h;x] + b_f), i† = σ(W_i·[h;x] + b_i),
 * i‡ = tanh(W_c·[h;x] + b_c), o† = σ(W_o·[h;x] + b_o), c_t = f ⊙ c_{t−1} + i† ⊙ i‡,
 * h_t = o† ⊙ tanh(c_t). The four gate matrices are packed once per call so that one GEMM per step
 * computes all gates, then the backend's fused `lstmCell` kernel does the elementwise part.
 * Backward follows eq 124–137: forks sum their gradients (h_t feeds the output and the next step;
 * c_t feeds the next step and tanh), products send the gradient times the other factor; ∂W of
 * every gate is Σ_t δ_gate·[h_{t−1}; x_t]ᵀ (eq 137).
 *
 * @example
 * ```ts
 * const { output, hT, cT } = lstm(x, { Wf, Wi, Wc, Wo, bf, bi, bc, bo }); // output [batch, T, H]
 * ```
 */
export function lstm(x: Tensor, w: LstmWeights, opts: RecurrentOpOptions = {}): RecurrentResult {
  const H = w.Wf.shape[0];
  const { Bn, T, I } = seqDims('lstm', x, H, opts);
  checkLstmWeights('lstm', w, H, I);
  const B = be();
  const G = 4 * H;
  const rows = T * Bn;
  const BH = Bn * H;
  const weights = [w.Wf, w.Wi, w.Wc, w.Wo];
  const biases = [w.bf, w.bi, w.bc, w.bo];
  const { wh, wx } = packGates(weights, H, I);
  const xs = swap01(x.data, Bn, T, I);
  const pre = projectInputs(xs, wx, concatVectors(biases), rows, I, G);
  const gates = B.alloc(rows * G);
  const cs = B.alloc(rows * H);
  const hs = B.alloc(rows * H);
  const hin = B.alloc(rows * H);
  const h0 = opts.h0 ? opts.h0.data : B.alloc(BH);
  const c0 = opts.c0 ? opts.c0.data : B.alloc(BH);
  const rm = opts.recurrentMask;
  const m = stepMask(opts.mask, Bn, T);
  for (let t = 0; t < T; t++) {
    const hp = t ? hs.subarray((t - 1) * BH, t * BH) : h0;
    const cp = t ? cs.subarray((t - 1) * BH, t * BH) : c0;
    const hinT = hin.subarray(t * BH, (t + 1) * BH);
    const preT = pre.subarray(t * Bn * G, (t + 1) * Bn * G);
    const cT = cs.subarray(t * BH, (t + 1) * BH);
    const hT = hs.subarray(t * BH, (t + 1) * BH);
    maskedInto(hp, rm, hinT);
    B.gemm(false, true, Bn, G, H, 1, hinT, wh, 1, preT);
    B.lstmCell(Bn, H, preT, cp, gates.subarray(t * Bn * G, (t + 1) * Bn * G), cT, hT);
    carryMasked(m, t, Bn, H, cp, cT);
    carryMasked(m, t, Bn, H, hp, hT);
  }
  const parents: Tensor[] = [x, ...weights, ...biases];
  if (opts.h0) parents.push(opts.h0);
  if (opts.c0) parents.push(opts.c0);
  const trace: RecurrentTrace | undefined = opts.keepTrace
    ? { z: traceTensor(pre, T, Bn, G), h: null as unknown as Tensor, c: traceTensor(cs, T, Bn, H), gates: traceTensor(gates, T, Bn, G) }
    : undefined;

  // Backpropagation through time from ∂E/∂h of every step (dhsExt, batch-major) and/or ∂E/∂c_T.
  const bptt = (dhsExt: Float32Array | null, dcT: Float32Array | null): (Float32Array | null)[] => {
    const dhs = dhsExt ? swap01(dhsExt, Bn, T, H) : null;
    const dPre = B.alloc(rows * G);
    let dh = B.alloc(BH);
    let dc = dcT ? Float32Array.from(dcT) : B.alloc(BH);
    let dhPrev = B.alloc(BH);
    let dcPrev = B.alloc(BH);
    const dht = B.alloc(BH);
    for (let t = T - 1; t >= 0; t--) {
      const cp = t ? cs.subarray((t - 1) * BH, t * BH) : c0;
      const dPreT = dPre.subarray(t * Bn * G, (t + 1) * Bn * G);
      if (dhs) B.axpy(BH, 1, dh, dhs.subarray(t * BH, (t + 1) * BH), dht);
      else dht.set(dh);
      B.lstmCellBackward(Bn, H, gates.subarray(t * Bn * G, (t + 1) * Bn * G), cp, cs.subarray(t * BH, (t + 1) * BH), dht, dc, dPreT, dcPrev);
      zeroMasked(m, t, Bn, G, dPreT);
      carryMasked(m, t, Bn, H, dc, dcPrev);
      B.gemm(false, false, Bn, H, G, 1, dPreT, wh, 0, dhPrev);
      if (rm) for (let i = 0; i < BH; i++) dhPrev[i] *= rm[i];
      carryMasked(m, t, Bn, H, dht, dhPrev);
      [dh, dhPrev] = [dhPrev, dh];
      [dc, dcPrev] = [dcPrev, dc];
    }
    const wantW = weights.some(wants);
    const dxs = wants(x) ? B.alloc(rows * I) : null;
    const { dwx, db } = inputGrads(dPre, xs, wx, rows, I, G, { w: wantW, b: biases.some(wants), x: wants(x) }, dxs);
    let dwh: Float32Array | null = null;
    if (wantW) {
      dwh = B.alloc(G * H);
      B.gemm(true, false, G, H, rows, 1, dPre, hin, 0, dwh);
    }
    if (trace) {
      const d = traceTensor(dPre, T, Bn, G);
      if (trace.z.grad) B.axpy(d.size, 1, d.data, trace.z.grad.data, trace.z.grad.data);
      else trace.z.grad = d;
    }
    const grads: (Float32Array | null)[] = [dxs && swap01(dxs, T, Bn, I)];
    weights.forEach((wg, g) => grads.push(wants(wg) && dwh && dwx ? unpackGate(dwh, dwx, g, H, I) : null));
    biases.forEach((bg, g) => grads.push(wants(bg) && db ? db.slice(g * H, (g + 1) * H) : null));
    if (opts.h0) grads.push(dh);
    if (opts.c0) grads.push(dc);
    return grads;
  };
  const output = record('lstm', swap01(hs, T, Bn, H), [Bn, T, H], parents, (g) => bptt(g, null));
  // c_T is an output of its own: backward is linear in (∂E/∂h, ∂E/∂c_T), so its gradient can be
  // propagated separately and the autograd engine sums the two contributions (a fork, eq 124).
  const cT = record('lstmCellState', cs.slice((T - 1) * BH), [Bn, H], parents, (g) => bptt(null, g));
  if (trace) trace.h = output;
  return { output, hT: new Tensor(hs.slice((T - 1) * BH), [Bn, H]), cT, trace };
}

/**
 * One LSTM step built from elementary ops, every intermediate named as in the lecture, so the
 * backward pass of eq 124–144 can be followed value by value: call `retainGrad()` on the
 * intermediates of interest, backpropagate, and read their `.grad`. (The `lstm` op computes the
 * same thing fused; this form is for teaching, tests and custom cells.) x [B, I], hPrev/cPrev [B, H].
 *
 * @example
 * ```ts
 * const s = lstmCellStep(x, h, c, weights);
 * s.f.retainGrad(); s.zf.retainGrad();
 * add(sum(s.h), sum(s.c)).backward();
 * s.zf.grad; // δ_f (eq 133)
 * ```
 */
export function lstmCellStep(x: Tensor, hPrev: Tensor, cPrev: Tensor, w: LstmWeights): LstmCellTrace {
  const H = w.Wf.shape[0];
  if (x.rank !== 2 || hPrev.rank !== 2 || cPrev.rank !== 2 || hPrev.shape[1] !== H || cPrev.shape[1] !== H) {
    throw new ShapeError(`lstmCellStep expects x [B, I], h and c [B, ${H}], received ${fmtShape(x.shape)}, ${fmtShape(hPrev.shape)}, ${fmtShape(cPrev.shape)}`);
  }
  checkLstmWeights('lstmCellStep', w, H, x.shape[1]);
  const hx = concat([hPrev, x], 1);
  const zf = affine(hx, w.Wf, w.bf);
  const f = logistic(zf);
  const cDagger = mul(cPrev, f);
  const zi = affine(hx, w.Wi, w.bi);
  const iDagger = logistic(zi);
  const zc = affine(hx, w.Wc, w.bc);
  const iDDagger = tanh(zc);
  const i = mul(iDagger, iDDagger);
  const c = add(cDagger, i);
  const zo = affine(hx, w.Wo, w.bo);
  const oDagger = logistic(zo);
  const oDDagger = tanh(c);
  const h = mul(oDagger, oDDagger);
  return { hx, zf, f, cDagger, zi, iDagger, zc, iDDagger, i, c, zo, oDagger, oDDagger, h };
}

/** Every intermediate of {@link lstmCellStep}, named as in the lecture (eq 112–123). */
export interface LstmCellTrace {
  /** [h_{t−1}; x_t]. */
  hx: Tensor;
  /** Forget gate weighted sum and activation f_t (eq 112). */
  zf: Tensor; f: Tensor;
  /** c†_t = c_{t−1} ⊙ f_t (eq 113). */
  cDagger: Tensor;
  /** Input gate: z and sigmoid i†_t (eq 116), z and tanh i‡_t (eq 117), i_t = i† ⊙ i‡ (eq 118). */
  zi: Tensor; iDagger: Tensor; zc: Tensor; iDDagger: Tensor; i: Tensor;
  /** c_t = c†_t + i_t (eq 119). */
  c: Tensor;
  /** Output gate: z and o†_t (eq 120), o‡_t = tanh(c_t) (eq 121). */
  zo: Tensor; oDagger: Tensor; oDDagger: Tensor;
  /** o_t = h_t = o† ⊙ o‡ (eq 122–123). */
  h: Tensor;
}

// ------------------------------------------------------------------------------------------- GRU

/**
 * GRU parameters, in the same layout as the LSTM's: one matrix per gate, [H, H + I], acting on
 * [h_{t−1}; x_t] (h first), and a bias [H] each. `Wz`/`bz` update gate, `Wr`/`br` reset gate,
 * `Wh`/`bh` candidate (whose h-columns act on r ⊙ h_{t−1}).
 */
export interface GruWeights {
  Wz: Tensor; Wr: Tensor; Wh: Tensor;
  bz: Tensor; br: Tensor; bh: Tensor;
}

/**
 * A gated recurrent unit layer over a whole sequence (Cho et al. 2014; not in the lecture):
 * z = σ(W_z·[h;x] + b_z), r = σ(W_r·[h;x] + b_r), n = tanh(W_h·[r ⊙ h; x] + b_h),
 * h_t = z ⊙ h_{t−1} + (1 − z) ⊙ n. Returns every h_t as [batch, T, H].
 *
 * @example
 * ```ts
 * const { output } = gru(x, { Wz, Wr, Wh, bz, br, bh });
 * ```
 */
export function gru(x: Tensor, w: GruWeights, opts: RecurrentOpOptions = {}): RecurrentResult {
  const H = w.Wz.shape[0];
  const { Bn, T, I } = seqDims('gru', x, H, opts);
  for (const g of ['z', 'r', 'h'] as const) {
    checkParam('gru', `W${g}`, w[`W${g}`], [H, H + I]);
    checkParam('gru', `b${g}`, w[`b${g}`], [H]);
  }
  const B = be();
  const H2 = 2 * H;
  const rows = T * Bn;
  const BH = Bn * H;
  const weights = [w.Wz, w.Wr, w.Wh];
  const biases = [w.bz, w.br, w.bh];
  const { wh, wx } = packGates(weights, H, I);
  const uzr = wh.subarray(0, H2 * H);
  const uh = wh.subarray(H2 * H);
  const wxzr = wx.subarray(0, H2 * I);
  const wxn = wx.subarray(H2 * I);
  const xs = swap01(x.data, Bn, T, I);
  const pzr = projectInputs(xs, wxzr, concatVectors([w.bz, w.br]), rows, I, H2);
  const pn = projectInputs(xs, wxn, w.bh.data, rows, I, H);
  const gzr = B.alloc(rows * H2);
  const ns = B.alloc(rows * H);
  const hs = B.alloc(rows * H);
  const hin = B.alloc(rows * H);
  const rh = B.alloc(rows * H);
  const h0 = opts.h0 ? opts.h0.data : B.alloc(BH);
  const rm = opts.recurrentMask;
  const m = stepMask(opts.mask, Bn, T);
  for (let t = 0; t < T; t++) {
    const hp = t ? hs.subarray((t - 1) * BH, t * BH) : h0;
    const hinT = hin.subarray(t * BH, (t + 1) * BH);
    const pzrT = pzr.subarray(t * Bn * H2, (t + 1) * Bn * H2);
    const gT = gzr.subarray(t * Bn * H2, (t + 1) * Bn * H2);
    const pnT = pn.subarray(t * BH, (t + 1) * BH);
    const nT = ns.subarray(t * BH, (t + 1) * BH);
    const rhT = rh.subarray(t * BH, (t + 1) * BH);
    const hT = hs.subarray(t * BH, (t + 1) * BH);
    maskedInto(hp, rm, hinT);
    B.gemm(false, true, Bn, H2, H, 1, hinT, uzr, 1, pzrT);
    B.unary('logistic', pzrT, gT, 0);
    for (let b = 0; b < Bn; b++) for (let u = 0; u < H; u++) rhT[b * H + u] = gT[b * H2 + H + u] * hinT[b * H + u];
    B.gemm(false, true, Bn, H, H, 1, rhT, uh, 1, pnT);
    B.unary('tanh', pnT, nT, 0);
    for (let b = 0; b < Bn; b++) {
      for (let u = 0; u < H; u++) {
        const k = b * H + u;
        const zv = gT[b * H2 + u];
        hT[k] = zv * hp[k] + (1 - zv) * nT[k];
      }
    }
    carryMasked(m, t, Bn, H, hp, hT);
  }
  const parents: Tensor[] = [x, ...weights, ...biases];
  if (opts.h0) parents.push(opts.h0);
  let trace: RecurrentTrace | undefined;
  if (opts.keepTrace) {
    const zAll = B.alloc(rows * 3 * H);
    const gAll = B.alloc(rows * 3 * H);
    for (let r = 0; r < rows; r++) {
      zAll.set(pzr.subarray(r * H2, (r + 1) * H2), r * 3 * H);
      zAll.set(pn.subarray(r * H, (r + 1) * H), r * 3 * H + H2);
      gAll.set(gzr.subarray(r * H2, (r + 1) * H2), r * 3 * H);
      gAll.set(ns.subarray(r * H, (r + 1) * H), r * 3 * H + H2);
    }
    trace = { z: traceTensor(zAll, T, Bn, 3 * H), h: null as unknown as Tensor, gates: traceTensor(gAll, T, Bn, 3 * H) };
  }
  const output = record('gru', swap01(hs, T, Bn, H), [Bn, T, H], parents, (g) => {
    const dhs = swap01(g, Bn, T, H);
    const dzr = B.alloc(rows * H2);
    const dn = B.alloc(rows * H);
    let dh = B.alloc(BH);
    let dhPrev = B.alloc(BH);
    const dht = B.alloc(BH);
    const drh = B.alloc(BH);
    const dhin = B.alloc(BH);
    for (let t = T - 1; t >= 0; t--) {
      const hp = t ? hs.subarray((t - 1) * BH, t * BH) : h0;
      const gT = gzr.subarray(t * Bn * H2, (t + 1) * Bn * H2);
      const nT = ns.subarray(t * BH, (t + 1) * BH);
      const hinT = hin.subarray(t * BH, (t + 1) * BH);
      const dzrT = dzr.subarray(t * Bn * H2, (t + 1) * Bn * H2);
      const dnT = dn.subarray(t * BH, (t + 1) * BH);
      B.axpy(BH, 1, dh, dhs.subarray(t * BH, (t + 1) * BH), dht);
      for (let b = 0; b < Bn; b++) {
        const live = !m || m[t * Bn + b];
        for (let u = 0; u < H; u++) {
          const k = b * H + u;
          if (!live) {
            dhPrev[k] = dht[k];
            dnT[k] = 0;
            dzrT[b * H2 + u] = 0;
            continue;
          }
          const zv = gT[b * H2 + u];
          const nv = nT[k];
          dhPrev[k] = dht[k] * zv;
          dnT[k] = dht[k] * (1 - zv) * (1 - nv * nv);
          dzrT[b * H2 + u] = dht[k] * (hp[k] - nv) * zv * (1 - zv);
        }
      }
      // through n = tanh(W_h·[r ⊙ h̃; x]): ∂(r ⊙ h̃) = δ_n·U_h, then the product rule
      B.gemm(false, false, Bn, H, H, 1, dnT, uh, 0, drh);
      for (let b = 0; b < Bn; b++) {
        for (let u = 0; u < H; u++) {
          const k = b * H + u;
          const rv = gT[b * H2 + H + u];
          dzrT[b * H2 + H + u] = drh[k] * hinT[k] * rv * (1 - rv);
          dhin[k] = drh[k] * rv;
        }
      }
      B.gemm(false, false, Bn, H, H2, 1, dzrT, uzr, 1, dhin);
      if (rm) for (let i = 0; i < BH; i++) dhPrev[i] += dhin[i] * rm[i];
      else B.axpy(BH, 1, dhin, dhPrev, dhPrev);
      [dh, dhPrev] = [dhPrev, dh];
    }
    const wantW = weights.some(wants);
    const wantB = biases.some(wants);
    const dxs = wants(x) ? B.alloc(rows * I) : null;
    const need = { w: wantW, b: wantB, x: wants(x) };
    const gzrIn = inputGrads(dzr, xs, wxzr, rows, I, H2, need, dxs);
    const gnIn = inputGrads(dn, xs, wxn, rows, I, H, need, dxs);
    let dwh: Float32Array | null = null;
    let dwx: Float32Array | null = null;
    if (wantW) {
      dwh = B.alloc(3 * H * H);
      B.gemm(true, false, H2, H, rows, 1, dzr, hin, 0, dwh.subarray(0, H2 * H));
      B.gemm(true, false, H, H, rows, 1, dn, rh, 0, dwh.subarray(H2 * H));
      dwx = B.alloc(3 * H * I);
      dwx.set(gzrIn.dwx!, 0);
      dwx.set(gnIn.dwx!, H2 * I);
    }
    if (trace) {
      const dAll = B.alloc(rows * 3 * H);
      for (let r = 0; r < rows; r++) {
        dAll.set(dzr.subarray(r * H2, (r + 1) * H2), r * 3 * H);
        dAll.set(dn.subarray(r * H, (r + 1) * H), r * 3 * H + H2);
      }
      trace.z.grad = traceTensor(dAll, T, Bn, 3 * H);
    }
    const grads: (Float32Array | null)[] = [dxs && swap01(dxs, T, Bn, I)];
    weights.forEach((wg, gi) => grads.push(wants(wg) && dwh && dwx ? unpackGate(dwh, dwx, gi, H, I) : null));
    const dbs = [gzrIn.db?.slice(0, H) ?? null, gzrIn.db?.slice(H) ?? null, gnIn.db];
    biases.forEach((bg, gi) => grads.push(wants(bg) ? dbs[gi] : null));
    if (opts.h0) grads.push(dh);
    return grads;
  });
  if (trace) trace.h = output;
  return { output, hT: new Tensor(hs.slice((T - 1) * BH), [Bn, H]), trace };
}

// ------------------------------------------------------------------------------------- embedding

/**
 * Embedding lookup: each index of `indices` (any shape, integer values stored as floats) selects
 * a row of `weight` [vocab, dim]; the output has shape [...indices.shape, dim]. Backward adds
 * each output row's gradient into the row it came from (indices get no gradient). An index that
 * is not an integer in [0, vocab) is a `DataError` naming `where`, the index and the vocabulary.
 *
 * @example
 * ```ts
 * embedding(tensor([[2, 0]]), tensor([[0, 0], [1, 1], [2, 2]])).toArray(); // [[[2, 2], [0, 0]]]
 * ```
 */
export function embedding(indices: Tensor, weight: Tensor, where = 'embedding'): Tensor {
  if (weight.rank !== 2) throw new ShapeError(`${where}: the embedding matrix must be [vocab, dim], received ${fmtShape(weight.shape)}`);
  const [V, D] = weight.shape;
  const n = indices.size;
  const idx = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const v = indices.data[k];
    if (!Number.isInteger(v) || v < 0 || v >= V) {
      const pos: number[] = [];
      let r = k;
      for (let d = indices.rank - 1; d >= 0; d--) {
        pos.unshift(r % indices.shape[d]);
        r = Math.floor(r / indices.shape[d]);
      }
      throw new DataError(`${where}: index ${v} at position ${fmtShape(pos)} is outside the vocabulary of size ${V} (indices must be integers 0..${V - 1})`);
    }
    idx[k] = v;
  }
  const B = be();
  const out = B.alloc(n * D);
  for (let k = 0; k < n; k++) out.set(weight.data.subarray(idx[k] * D, (idx[k] + 1) * D), k * D);
  return record('embedding', out, [...indices.shape, D], [weight], (g) => {
    const dw = B.alloc(weight.size);
    for (let k = 0; k < n; k++) {
      const o = idx[k] * D;
      for (let j = 0; j < D; j++) dw[o + j] += g[k * D + j];
    }
    return [dw];
  });
}
