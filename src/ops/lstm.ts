import type { Tensor } from '../tensor/tensor.js';
import { releaseScratch, wants } from './graph.js';
import { HiddenGrad, Unrolled, checkParam, joinBiases, packGates, unpackGate } from './recurrent.js';
import type { RecurrentOpOptions, RecurrentResult, RecurrentTrace } from './recurrent.js';

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

/** Throws a ShapeError naming `op` unless every gate matrix is [H, H + I] and every bias [H]. */
export function checkLstmWeights(op: string, w: LstmWeights, units: number, inputs: number): void {
  for (const g of LSTM_GATES) {
    checkParam(op, `W${g}`, w[`W${g}`], [units, units + inputs]);
    checkParam(op, `b${g}`, w[`b${g}`], [units]);
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
  const G = 4 * H;
  const run = new Unrolled('lstm', x, H, opts, G);
  checkLstmWeights('lstm', w, H, run.inputs);
  const B = run.backend;
  const { batch, rows, stateSize } = run;
  const weights = [w.Wf, w.Wi, w.Wc, w.Wo];
  const biases = [w.bf, w.bi, w.bc, w.bo];
  const { wh, wx } = packGates(weights, H);
  const bias = joinBiases(biases);
  const pre = run.project(wx, bias, G);
  const gates = run.perStep(G);
  const cs = run.perStep();
  const c0 = run.initial(opts.c0);
  const h0 = run.initial(opts.h0);
  const { hs, hEntering } = run.unroll(h0, (t, _hPrev, hIn, h) => {
    const cPrev = run.before(cs, t, c0);
    const preT = run.at(pre, t, G);
    B.gemm(false, true, batch, G, H, 1, hIn, wh, 1, preT);
    B.lstmCell(batch, H, preT, cPrev, run.at(gates, t, G), run.at(cs, t), h);
    run.carry(t, cPrev, run.at(cs, t));
  });
  const parents: Tensor[] = [x, ...weights, ...biases];
  if (opts.h0) parents.push(opts.h0);
  if (opts.c0) parents.push(opts.c0);
  const trace: Omit<RecurrentTrace, 'h'> | undefined = opts.keepTrace
    ? { z: run.traced(pre, G), c: run.traced(cs, H), gates: run.traced(gates, G) }
    : undefined;

  // Backpropagation through time from ∂E/∂h of every step (batch-major) and/or ∂E/∂c_T.
  const bptt = (dOutput: Float32Array | null, dcLast: Float32Array | null): (Float32Array | null)[] => {
    const dPre = run.perStep(G);
    const dOut = dOutput && run.timeMajor(dOutput, H);
    const dh = new HiddenGrad(run, dOut);
    let dc = dcLast ? Float32Array.from(dcLast) : run.state();
    let dcPrev = run.state();
    for (let t = run.steps - 1; t >= 0; t--) {
      const cPrev = run.before(cs, t, c0);
      const dPreT = run.at(dPre, t, G);
      dh.collect(t);
      B.lstmCellBackward(batch, H, run.at(gates, t, G), cPrev, run.at(cs, t), dh.step, dc, dPreT, dcPrev);
      run.zeroPadding(t, dPreT, G);
      run.carry(t, dc, dcPrev);
      B.gemm(false, false, batch, H, G, 1, dPreT, wh, 0, dh.prev);
      run.dropRecurrentGrad(dh.prev);
      run.carry(t, dh.step, dh.prev);
      dh.advance();
      [dc, dcPrev] = [dcPrev, dc];
    }
    const wantWeights = weights.some(wants);
    const dxs = run.inputGradBuffer();
    const { dwx, db } = run.projectionGrads(dPre, wx, G, { weights: wantWeights, bias: biases.some(wants) }, dxs);
    const dwh = wantWeights ? run.recurrentWeightGrad(dPre, G, hEntering) : null;
    if (trace) {
      const d = run.traced(dPre, G);
      if (trace.z.grad) B.axpy(d.size, 1, d.data, trace.z.grad.data, trace.z.grad.data);
      else trace.z.grad = d;
    }
    const grads: (Float32Array | null)[] = [run.inputGrad(dxs)];
    weights.forEach((wg, g) => grads.push(wants(wg) && dwh && dwx ? unpackGate(dwh, dwx, g, H, run.inputs) : null));
    biases.forEach((bg, g) => grads.push(wants(bg) && db ? db.slice(g * H, (g + 1) * H) : null));
    if (opts.h0) grads.push(dh.next);
    if (opts.c0) grads.push(dc);
    releaseScratch(dPre, dOut, dh.step, dh.prev, opts.h0 ? null : dh.next, dcPrev, opts.c0 ? null : dc, dxs, dwx, dwh, db);
    return grads;
  };
  // what the forward pass made for the backward alone (not the given initial states: those are the caller's)
  const scratch = [run.inputsByStep, wh, wx, bias, pre, gates, cs, hs, hEntering, ...(opts.h0 ? [] : [h0]), ...(opts.c0 ? [] : [c0])];
  const result = run.finish(hs, parents, (g) => bptt(g, null), trace, scratch);
  // c_T is an output of its own: backward is linear in (∂E/∂h, ∂E/∂c_T), so its gradient can be
  // propagated separately and the autograd engine sums the two contributions (a fork, eq 124).
  const cT = run.stateOutput('lstmCellState', cs.slice((run.steps - 1) * stateSize), parents, (g) => bptt(null, g));
  return { ...result, cT };
}
