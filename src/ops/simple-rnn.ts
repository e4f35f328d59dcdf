import type { UnaryOp } from '../backend/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { releaseScratch, wants } from './graph.js';
import { HiddenGrad, Unrolled, checkParam } from './recurrent.js';
import type { RecurrentOpOptions, RecurrentResult } from './recurrent.js';

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
  const run = new Unrolled('simpleRnn', x, H, opts, H);
  checkParam('simpleRnn', 'Whx', whx, [H, run.inputs]);
  checkParam('simpleRnn', 'Whh', whh, [H, H]);
  checkParam('simpleRnn', 'bias', bias, [H]);
  const B = run.backend;
  const slope = opts.alpha ?? 0.01;
  const { batch, rows } = run;
  const z = run.project(whx.data, bias.data, H);
  // hEntering: h_{t−1} of every step as it entered W_hh (after recurrent dropout): ∂W_hh = Σ_t δ_tᵀ·these
  const h0 = run.initial(opts.h0);
  const { hs, hEntering } = run.unroll(h0, (t, _hPrev, hIn, h) => {
    const zT = run.at(z, t);
    B.gemm(false, true, batch, H, H, 1, hIn, whh.data, 1, zT);
    B.unary(activation, zT, h, slope);
  });
  const parents = [x, whx, whh, bias];
  if (opts.h0) parents.push(opts.h0);
  const trace = opts.keepTrace ? { z: run.traced(z, H) } : undefined;
  // what the forward pass made for the backward alone (not a given initial state: that is the caller's)
  const scratch = [run.inputsByStep, z, hs, hEntering, ...(opts.h0 ? [] : [h0])];
  return run.finish(hs, parents, (g) => {
    const dz = run.perStep();
    const dOut = run.timeMajor(g, H);
    const dh = new HiddenGrad(run, dOut);
    for (let t = run.steps - 1; t >= 0; t--) {
      const dzT = run.at(dz, t);
      dh.collect(t);
      B.unaryGrad(activation, run.at(z, t), run.at(hs, t), dh.step, dzT, slope, false);
      run.zeroPadding(t, dzT, H);
      B.gemm(false, false, batch, H, H, 1, dzT, whh.data, 0, dh.prev);
      run.dropRecurrentGrad(dh.prev);
      run.carry(t, dh.step, dh.prev);
      dh.advance();
    }
    const dxs = run.inputGradBuffer();
    const { dwx, db } = run.projectionGrads(dz, whx.data, H, { weights: wants(whx), bias: wants(bias) }, dxs);
    const dwh = wants(whh) ? run.recurrentWeightGrad(dz, H, hEntering) : null;
    if (trace) trace.z.grad = run.traced(dz, H);
    const grads = [run.inputGrad(dxs), dwx, dwh, db];
    if (opts.h0) grads.push(dh.next);
    releaseScratch(dz, dOut, dh.step, dh.prev, opts.h0 ? null : dh.next, dxs);
    return grads;
  }, trace, scratch);
}
