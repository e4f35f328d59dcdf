import { ShapeError, fmtShape } from '../errors.js';
import { Tensor, noGrad } from '../tensor/tensor.js';
import type { Backend } from '../backend/backend.js';
import { be, record, releaseScratch, wants } from './graph.js';
import { concat, slice } from './shape.js';

/*
 * What the recurrent ops (simple RNN, LSTM, GRU) share: a whole sequence is one op (the unrolled
 * network of Figure 39). The forward pass stores z and a of every time-step (Algorithm 3 and the
 * text around Figure 40); the backward pass walks the steps in reverse, sums the gradients of the
 * shared weights over the time-steps and hands them back once. Inside, sequences are kept
 * time-major ([T, B, ·]) so every step reads and writes one contiguous block, and the input
 * projections of all steps are one GEMM. Each op supplies only its cell: the step forward and
 * the step backward.
 */

/** Options shared by the recurrent ops. */
export interface RecurrentOpOptions {
  /** Initial hidden state [batch, H] (zeros when absent). May require gradients. */
  h0?: Tensor | null;
  /** Initial cell state [batch, H] of an LSTM (zeros when absent). May require gradients. */
  c0?: Tensor | null;
  /** Padding mask [batch, T]: 1 = real step, 0 = padding (the state is carried through unchanged). */
  mask?: Tensor | null;
  /**
   * Variational recurrent dropout: a mask [batch, H] (0 or 1/ρ, ρ the keep probability) that
   * multiplies h_{t−1} wherever it enters a weight matrix, the same at every step.
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

/** Throws a ShapeError naming `op` unless `t` has exactly `shape`. */
export function checkParam(op: string, name: string, t: Tensor, shape: readonly number[]): void {
  if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${op}: ${name} must be ${fmtShape(shape)}, received ${fmtShape(t.shape)}`);
  }
}

/**
 * Which steps of which sequences are padding, time-major, as kernel operands: `real` [T, B] is 1
 * at real steps, `padding` = 1 − real.
 */
class StepMask {
  private readonly real: Float32Array;
  private readonly padding: Float32Array;
  private readonly scratch: Float32Array;

  constructor(private readonly backend: Backend, mask: Tensor, private readonly batch: number, steps: number, widest: number) {
    const real = backend.alloc(batch * steps);
    // any non-zero mask value marks a real step: |m| ≥ 1e-30 → 1, else 0
    backend.unary('abs', mask.data, real, 0);
    backend.unary('threshold', real, real, 1e-30);
    this.real = backend.alloc(batch * steps);
    backend.permute(real, [batch, steps], [1, 0], this.real);
    this.padding = backend.alloc(batch * steps);
    backend.binary('sub', Float32Array.of(1), [0], this.real, [1], this.padding, [batch * steps]);
    this.scratch = backend.alloc(batch * widest);
  }

  /** Rows of `buf` ([B, width]) at padding steps of step t become zero. */
  zero(t: number, buf: Float32Array, width: number): void {
    const m = this.real.subarray(t * this.batch, (t + 1) * this.batch);
    this.backend.binary('mul', buf, [width, 1], m, [1, 0], buf, [this.batch, width]);
  }

  /** Rows of `dst` ([B, width]) at padding steps of step t become the rows of `src`: the state carried through. */
  carry(t: number, src: Float32Array, dst: Float32Array, width: number): void {
    const shape = [this.batch, width];
    const pad = this.padding.subarray(t * this.batch, (t + 1) * this.batch);
    const fromSrc = this.scratch.subarray(0, this.batch * width);
    this.zero(t, dst, width);
    this.backend.binary('mul', src, [width, 1], pad, [1, 0], fromSrc, shape);
    this.backend.binary('add', dst, [width, 1], fromSrc, [width, 1], dst, shape);
  }
}

/**
 * One recurrent op's run over a sequence x [batch, T, inputs] with `units` hidden units: the
 * checked dimensions, the time-major inputs, the padding and recurrent-dropout masks, and the
 * pieces every cell's forward and backward pass is built from.
 */
export class Unrolled {
  readonly backend: Backend;
  readonly batch: number;
  readonly steps: number;
  readonly inputs: number;
  /** steps × batch: the rows of a time-major buffer. */
  readonly rows: number;
  /** batch × units: the values of one step's state. */
  readonly stateSize: number;
  /** x time-major, [T, B, inputs]. */
  readonly inputsByStep: Float32Array;
  private readonly stepMask: StepMask | null;
  private readonly recurrentKeep: Float32Array | null;

  constructor(readonly op: string, readonly x: Tensor, readonly units: number, readonly opts: RecurrentOpOptions, gateWidth: number) {
    if (x.rank !== 3) throw new ShapeError(`${op} expects a sequence [batch, T, features], received ${fmtShape(x.shape)}`);
    const [batch, steps, inputs] = x.shape;
    if (steps < 1) throw new ShapeError(`${op} needs at least one time-step, received ${fmtShape(x.shape)}`);
    for (const [k, s] of [['h0', opts.h0], ['c0', opts.c0]] as const) {
      if (s && (s.rank !== 2 || s.shape[0] !== batch || s.shape[1] !== units)) {
        throw new ShapeError(`${op}: initial state ${k} must be [${batch}, ${units}], received ${fmtShape(s.shape)}`);
      }
    }
    if (opts.mask && (opts.mask.rank !== 2 || opts.mask.shape[0] !== batch || opts.mask.shape[1] !== steps)) {
      throw new ShapeError(`${op}: mask must be [batch, T] = [${batch}, ${steps}], received ${fmtShape(opts.mask.shape)}`);
    }
    if (opts.recurrentMask && opts.recurrentMask.length !== batch * units) {
      throw new ShapeError(`${op}: recurrent dropout mask must have batch × units = ${batch * units} values, received ${opts.recurrentMask.length}`);
    }
    this.backend = be();
    this.batch = batch;
    this.steps = steps;
    this.inputs = inputs;
    this.rows = steps * batch;
    this.stateSize = batch * units;
    this.inputsByStep = this.timeMajor(x.data, inputs);
    this.stepMask = opts.mask ? new StepMask(this.backend, opts.mask, batch, steps, Math.max(units, gateWidth)) : null;
    this.recurrentKeep = opts.recurrentMask ?? null;
  }

  /** [B, T, width] → [T, B, width]. */
  timeMajor(src: Float32Array, width: number): Float32Array {
    const out = this.backend.allocUninit(src.length);
    this.backend.permute(src, [this.batch, this.steps, width], [1, 0, 2], out);
    return out;
  }

  /** [T, B, width] → [B, T, width]. */
  batchMajor(src: Float32Array, width: number): Float32Array {
    const out = this.backend.allocUninit(src.length);
    this.backend.permute(src, [this.steps, this.batch, width], [1, 0, 2], out);
    return out;
  }

  /** Step t of a time-major buffer with `width` values per row. */
  at(buf: Float32Array, t: number, width = this.units): Float32Array {
    return buf.subarray(t * this.batch * width, (t + 1) * this.batch * width);
  }

  /** A time-major buffer of every step, `width` values per row (zeros). */
  perStep(width = this.units): Float32Array {
    return this.backend.alloc(this.rows * width);
  }

  /** A buffer of one step's state [B, H] (zeros). */
  state(): Float32Array {
    return this.backend.alloc(this.stateSize);
  }

  /** The state before step t: step t − 1 of `states`, or `initial` at t = 0. */
  before(states: Float32Array, t: number, initial: Float32Array): Float32Array {
    return t ? this.at(states, t - 1) : initial;
  }

  /**
   * Walks the steps forward. At step t, h_{t−1} (`h0` at t = 0) enters the weight matrices as
   * `hIn` (after recurrent dropout); `step` writes h_t into `h`, and at padding steps h_t is then
   * h_{t−1}. Returns every h_t and every hIn, time-major ([T, B, H]).
   */
  unroll(h0: Float32Array, step: (t: number, hPrev: Float32Array, hIn: Float32Array, h: Float32Array) => void):
    { hs: Float32Array; hEntering: Float32Array } {
    const hs = this.perStep();
    const hEntering = this.perStep();
    for (let t = 0; t < this.steps; t++) {
      const hPrev = this.before(hs, t, h0);
      const hIn = this.at(hEntering, t);
      const h = this.at(hs, t);
      this.dropRecurrent(hPrev, hIn);
      step(t, hPrev, hIn, h);
      this.carry(t, hPrev, h);
    }
    return { hs, hEntering };
  }

  /** Initial state: the given tensor's values or zeros. */
  initial(s: Tensor | null | undefined): Float32Array {
    return s ? s.data : this.backend.alloc(this.stateSize);
  }

  /** h_{t−1} as it enters the weight matrices, written into `out`: times the recurrent dropout mask when there is one. */
  dropRecurrent(hPrev: Float32Array, out: Float32Array): void {
    if (this.recurrentKeep) this.backend.binary('mul', hPrev, [1], this.recurrentKeep, [1], out, [out.length]);
    else out.set(hPrev);
  }

  /** The gradient reaching h_{t−1} through the weight matrices, times the recurrent dropout mask (in place). */
  dropRecurrentGrad(dh: Float32Array): void {
    if (this.recurrentKeep) this.backend.binary('mul', dh, [1], this.recurrentKeep, [1], dh, [dh.length]);
  }

  /** At the padding steps of step t, `dst` takes the rows of `src` (the state passes through unchanged). */
  carry(t: number, src: Float32Array, dst: Float32Array, width = this.units): void {
    this.stepMask?.carry(t, src, dst, width);
  }

  /** Zeroes the rows of `buf` ([B, width]) at the padding steps of step t (no gradient from padding). */
  zeroPadding(t: number, buf: Float32Array, width: number): void {
    this.stepMask?.zero(t, buf, width);
  }

  /** Input projection of every step at once: P[rows, width] = xs · Wxᵀ + b. */
  project(wx: Float32Array, bias: Float32Array, width: number): Float32Array {
    const B = this.backend;
    const p = B.allocUninit(this.rows * width);
    B.gemm(false, true, this.rows, width, this.inputs, 1, this.inputsByStep, wx, 0, p);
    B.addBroadcast(p, bias, 1, this.rows, width, p);
    return p;
  }

  /**
   * Gradients of the input projection from δ of every step (`dPre` [rows, width]): ∂Wx = δᵀ·xs
   * (summed over steps and examples), ∂b = Σ δ, and ∂x += δ·Wx (time-major, into `dxs`), each
   * only when wanted.
   */
  projectionGrads(dPre: Float32Array, wx: Float32Array, width: number, need: { weights: boolean; bias: boolean },
    dxs: Float32Array | null): { dwx: Float32Array | null; db: Float32Array | null } {
    const B = this.backend;
    let dwx: Float32Array | null = null;
    let db: Float32Array | null = null;
    if (need.weights) {
      dwx = B.allocUninit(width * this.inputs);
      B.gemm(true, false, width, this.inputs, this.rows, 1, dPre, this.inputsByStep, 0, dwx);
    }
    if (need.bias) {
      db = B.allocUninit(width);
      B.sumAxis(dPre, 1, this.rows, width, db, false);
    }
    if (dxs) B.gemm(false, false, this.rows, this.inputs, width, 1, dPre, wx, 1, dxs);
    return { dwx, db };
  }

  /** ∂W_h = Σ_t δ_tᵀ·(what multiplied W_h at step t), [width, units]. */
  recurrentWeightGrad(dPre: Float32Array, width: number, inputsOfWh: Float32Array): Float32Array {
    const dwh = this.backend.allocUninit(width * this.units);
    this.backend.gemm(true, false, width, this.units, this.rows, 1, dPre, inputsOfWh, 0, dwh);
    return dwh;
  }

  /** A second differentiable output [B, H] of the op (an LSTM's last cell state). */
  stateOutput(op: string, data: Float32Array, parents: readonly Tensor[], backward: (d: Float32Array) => (Float32Array | null)[]): Tensor {
    return record(op, data, [this.batch, this.units], parents, backward);
  }

  /** A time-major buffer as a batch-major tensor [B, T, width] (for traces). */
  traced(buf: Float32Array, width: number): Tensor {
    return new Tensor(this.batchMajor(buf, width), [this.batch, this.steps, width]);
  }

  /** A buffer for ∂x (time-major) when x needs a gradient, else null. */
  inputGradBuffer(): Float32Array | null {
    return wants(this.x) ? this.backend.alloc(this.rows * this.inputs) : null;
  }


  /** ∂x batch-major from its time-major buffer. */
  inputGrad(dxs: Float32Array | null): Float32Array | null {
    return dxs && this.batchMajor(dxs, this.inputs);
  }

  /**
   * The differentiable output [B, T, H] of the hidden states `hs` (time-major), the carried last
   * state, and the trace with `h` filled in.
   */
  finish(hs: Float32Array, parents: readonly Tensor[], backward: (dOutput: Float32Array) => (Float32Array | null)[],
    trace: Omit<RecurrentTrace, 'h'> | undefined, saved?: readonly Float32Array[]): RecurrentResult {
    const output = record(this.op, this.batchMajor(hs, this.units), [this.batch, this.steps, this.units], parents, backward, saved);
    const hT = new Tensor(hs.slice((this.steps - 1) * this.stateSize), [this.batch, this.units]);
    return { output, hT, trace: trace && { ...trace, h: output } };
  }
}

/**
 * The gradient at the hidden state while backpropagation walks the steps in reverse: `next` is
 * ∂E/∂h_t arriving from step t + 1, `step` the total at h_t (that plus the output's ∂E/∂h_t),
 * and `prev` the ∂E/∂h_{t−1} the step builds. After the walk, `next` is ∂E/∂h_0.
 */
export class HiddenGrad {
  next: Float32Array;
  prev: Float32Array;
  readonly step: Float32Array;

  constructor(private readonly run: Unrolled, private readonly dOut: Float32Array | null) {
    this.next = run.state();
    this.prev = run.state();
    this.step = run.state();
  }

  /** step ← next + ∂E/∂h_t from the output at t (when the output has a gradient). */
  collect(t: number): void {
    if (this.dOut) this.run.backend.axpy(this.run.stateSize, 1, this.next, this.run.at(this.dOut, t), this.step);
    else this.step.set(this.next);
  }

  /** After step t: what it built arrives at step t − 1. */
  advance(): void {
    [this.next, this.prev] = [this.prev, this.next];
  }
}

/**
 * Packs per-gate matrices [H, H + I] (acting on [h; x], h first) into Wh [G·H, H] and Wx [G·H, I]
 * so one GEMM per step computes every gate: the gate matrices stacked are [G·H, H + I], whose
 * first H columns are Wh and the rest Wx.
 */
export function packGates(ws: readonly Tensor[], units: number): { wh: Float32Array; wx: Float32Array } {
  return noGrad(() => {
    const stacked = concat(ws, 0);
    const width = stacked.shape[1];
    const packed = { wh: slice(stacked, 1, 0, units).data, wx: slice(stacked, 1, units, width).data };
    // the slices are copies: the stack is dead (back to the pool when this step's scope made it)
    releaseScratch(stacked.data);
    return packed;
  });
}

/** The inverse of {@link packGates} for gradients: block g of dWh/dWx → a [H, H + I] gradient. */
export function unpackGate(dwh: Float32Array, dwx: Float32Array, g: number, units: number, inputs: number): Float32Array {
  return joinColumns(dwh.subarray(g * units * units, (g + 1) * units * units), units, dwx.subarray(g * units * inputs, (g + 1) * units * inputs), inputs, units);
}

/** The biases of several gates, one after the other (the bias of packed gates). */
export function joinBiases(biases: readonly Tensor[]): Float32Array {
  return noGrad(() => concat(biases, 0).data);
}

/** Two buffers [rows, a] and [rows, b] side by side, as [rows, a + b]. */
export function joinColumns(left: Float32Array, a: number, right: Float32Array, b: number, rows: number): Float32Array {
  return noGrad(() => concat([new Tensor(left, [rows, a]), new Tensor(right, [rows, b])], 1).data);
}
