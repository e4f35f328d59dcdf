import type { Tensor } from '../tensor/tensor.js';
import { releaseScratch, wants } from './graph.js';
import { HiddenGrad, Unrolled, checkParam, joinBiases, joinColumns, packGates, unpackGate } from './recurrent.js';
import type { RecurrentOpOptions, RecurrentResult, RecurrentTrace } from './recurrent.js';

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
 * h_t = z ⊙ h_{t−1} + (1 − z) ⊙ n. Returns every h_t as [batch, T, H]. Per step: one GEMM for
 * both gates z and r, the backend's `gruGates` kernel, one GEMM for the candidate, the backend's
 * `gruState` kernel; backward mirrors it.
 *
 * @example
 * ```ts
 * const { output } = gru(x, { Wz, Wr, Wh, bz, br, bh });
 * ```
 */
export function gru(x: Tensor, w: GruWeights, opts: RecurrentOpOptions = {}): RecurrentResult {
  const H = w.Wz.shape[0];
  const H2 = 2 * H;
  const run = new Unrolled('gru', x, H, opts, 3 * H);
  for (const g of ['z', 'r', 'h'] as const) {
    checkParam('gru', `W${g}`, w[`W${g}`], [H, H + run.inputs]);
    checkParam('gru', `b${g}`, w[`b${g}`], [H]);
  }
  const B = run.backend;
  const { batch, rows, stateSize, inputs } = run;
  const weights = [w.Wz, w.Wr, w.Wh];
  const biases = [w.bz, w.br, w.bh];
  const { wh, wx } = packGates(weights, H);
  // the update and reset gates share one GEMM per step; the candidate acts on r ⊙ h instead of h
  const gatesRecurrent = wh.subarray(0, H2 * H);
  const candidateRecurrent = wh.subarray(H2 * H);
  const gatesInput = wx.subarray(0, H2 * inputs);
  const candidateInput = wx.subarray(H2 * inputs);
  const gateBias = joinBiases([w.bz, w.br]);
  const preGates = run.project(gatesInput, gateBias, H2);
  releaseScratch(gateBias);
  const preCandidate = run.project(candidateInput, w.bh.data, H);
  const gates = run.perStep(H2);
  const candidates = run.perStep();
  // r ⊙ h_{t−1} of every step: what the candidate's recurrent weights multiplied
  const resetHidden = run.perStep();
  const h0 = run.initial(opts.h0);
  const { hs, hEntering } = run.unroll(h0, (t, hPrev, hIn, h) => {
    const preGatesT = run.at(preGates, t, H2);
    const preCandidateT = run.at(preCandidate, t);
    B.gemm(false, true, batch, H2, H, 1, hIn, gatesRecurrent, 1, preGatesT);
    B.gruGates(batch, H, preGatesT, hIn, run.at(gates, t, H2), run.at(resetHidden, t));
    B.gemm(false, true, batch, H, H, 1, run.at(resetHidden, t), candidateRecurrent, 1, preCandidateT);
    B.gruState(batch, H, run.at(gates, t, H2), hPrev, preCandidateT, run.at(candidates, t), h);
  });
  const parents: Tensor[] = [x, ...weights, ...biases];
  if (opts.h0) parents.push(opts.h0);
  let trace: Omit<RecurrentTrace, 'h'> | undefined;
  if (opts.keepTrace) {
    // z, r and n side by side per row, as the packed gate matrices order them
    trace = { z: run.traced(joinColumns(preGates, H2, preCandidate, H, rows), 3 * H), gates: run.traced(joinColumns(gates, H2, candidates, H, rows), 3 * H) };
  }
  // what the forward pass made for the backward alone (not a given initial state: that is the caller's)
  const scratch = [run.inputsByStep, wh, wx, preGates, preCandidate, gates, candidates, resetHidden, hs, hEntering, ...(opts.h0 ? [] : [h0])];
  return run.finish(hs, parents, (g) => {
    const dPreGates = run.perStep(H2);
    const dPreCandidate = run.perStep();
    const dOut = run.timeMajor(g, H);
    const dh = new HiddenGrad(run, dOut);
    const dResetHidden = run.state();
    const dhEntering = run.state();
    for (let t = run.steps - 1; t >= 0; t--) {
      const hPrev = run.before(hs, t, h0);
      const gatesT = run.at(gates, t, H2);
      const dPreGatesT = run.at(dPreGates, t, H2);
      const dPreCandidateT = run.at(dPreCandidate, t);
      dh.collect(t);
      B.gruStateBackward(batch, H, gatesT, hPrev, run.at(candidates, t), dh.step, dh.prev, dPreCandidateT, dPreGatesT);
      run.zeroPadding(t, dPreCandidateT, H);
      run.zeroPadding(t, dPreGatesT, H2);
      run.carry(t, dh.step, dh.prev);
      // through n = tanh(W_h·[r ⊙ h̃; x]): ∂(r ⊙ h̃) = δ_n·U_h, then the product rule
      B.gemm(false, false, batch, H, H, 1, dPreCandidateT, candidateRecurrent, 0, dResetHidden);
      B.gruGatesBackward(batch, H, gatesT, run.at(hEntering, t), dResetHidden, dPreGatesT, dhEntering);
      B.gemm(false, false, batch, H, H2, 1, dPreGatesT, gatesRecurrent, 1, dhEntering);
      run.dropRecurrentGrad(dhEntering);
      B.axpy(stateSize, 1, dhEntering, dh.prev, dh.prev);
      dh.advance();
    }
    const wantWeights = weights.some(wants);
    const need = { weights: wantWeights, bias: biases.some(wants) };
    const dxs = run.inputGradBuffer();
    const gateGrads = run.projectionGrads(dPreGates, gatesInput, H2, need, dxs);
    const candidateGrads = run.projectionGrads(dPreCandidate, candidateInput, H, need, dxs);
    let dwh: Float32Array | null = null;
    let dwx: Float32Array | null = null;
    if (wantWeights) {
      const dwhGates = run.recurrentWeightGrad(dPreGates, H2, hEntering);
      const dwhCandidate = run.recurrentWeightGrad(dPreCandidate, H, resetHidden);
      dwh = B.allocUninit(3 * H * H);
      dwh.set(dwhGates, 0);
      dwh.set(dwhCandidate, H2 * H);
      dwx = B.allocUninit(3 * H * inputs);
      dwx.set(gateGrads.dwx!, 0);
      dwx.set(candidateGrads.dwx!, H2 * inputs);
      releaseScratch(dwhGates, dwhCandidate);
    }
    if (trace) trace.z.grad = run.traced(joinColumns(dPreGates, H2, dPreCandidate, H, rows), 3 * H);
    const grads: (Float32Array | null)[] = [run.inputGrad(dxs)];
    weights.forEach((wg, gi) => grads.push(wants(wg) && dwh && dwx ? unpackGate(dwh, dwx, gi, H, inputs) : null));
    const dbs = [gateGrads.db?.slice(0, H) ?? null, gateGrads.db?.slice(H) ?? null, candidateGrads.db];
    biases.forEach((bg, gi) => grads.push(wants(bg) ? dbs[gi] : null));
    if (opts.h0) grads.push(dh.next);
    // (candidateGrads.db is a gradient itself; the rest were copied or sliced)
    releaseScratch(dPreGates, dPreCandidate, dOut, dh.step, dh.prev, opts.h0 ? null : dh.next, dResetHidden, dhEntering, dxs,
      gateGrads.dwx, candidateGrads.dwx, gateGrads.db, dwh, dwx);
    return grads;
  }, trace, scratch);
}

