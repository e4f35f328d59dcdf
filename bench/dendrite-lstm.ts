/**
 * W-LSTM for dendrite, written with the public ops and autograd (a custom training loop): one LSTM
 * layer of 128 units over one-hot inputs of 64 symbols, a dense 128 → 64 softmax at every step,
 * cross-entropy averaged over the 32 steps and the batch, full backpropagation through time, SGD
 * lr 0.1. Gate order f, i, ĉ, o (the lecture's); one weight matrix over [x_t, h_{t−1}].
 */
import {
  Rng, SGD, add, affine, concat, initialize, logistic, mul, slice, softmaxCrossEntropy, tanh, zeros,
} from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { LSTM, lstmMeasure, lstmSymbols, sequenceStart } from './common.js';
import type { ChildOptions, ChildResult } from './common.js';

const { vocab: V, hidden: H, steps: T, batch: B } = LSTM;

/** One-hot inputs per step ([B, V] each) and the targets of all steps ([T·B, V], step-major). */
function lstmBatch(sym: Uint8Array, b: number): { xs: Tensor[]; targets: Tensor } {
  const xs: Tensor[] = [];
  for (let t = 0; t < T; t++) xs.push(zeros([B, V]));
  const targets = zeros([T * B, V]);
  for (let i = 0; i < B; i++) {
    const s = sequenceStart(b * B + i, sym.length);
    for (let t = 0; t < T; t++) {
      xs[t].data[i * V + sym[s + t]] = 1;
      targets.data[(t * B + i) * V + sym[s + t + 1]] = 1;
    }
  }
  return { xs, targets };
}

/** W-LSTM on the active backend. */
export async function lstmWorkload(o: ChildOptions): Promise<Omit<ChildResult, 'peakRssMiB'>> {
  const sym = lstmSymbols(o);
  const rng = new Rng(o.seed);
  const lim = 1 / Math.sqrt(H);
  const u = { type: 'randomUniform', minval: -lim, maxval: lim } as const;
  const w = initialize(u, [4 * H, V + H], V + H, 4 * H, rng);
  const bias = initialize(u, [4 * H], V + H, 4 * H, rng);
  const wy = initialize(u, [V, H], H, V, rng);
  const by = initialize(u, [V], H, V, rng);
  const params: [string, Tensor][] = [['w', w], ['b', bias], ['wy', wy], ['by', by]];
  const opt = new SGD({ learningRate: LSTM.learningRate });
  let next = 0;
  const step = () => {
    const { xs, targets } = lstmBatch(sym, next++);
    let h = zeros([B, H]);
    let c = zeros([B, H]);
    const hs: Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const pre = affine(concat([xs[t], h], 1), w, bias);
      const f = logistic(slice(pre, 1, 0, H));
      const i = logistic(slice(pre, 1, H, 2 * H));
      const g = tanh(slice(pre, 1, 2 * H, 3 * H));
      const og = logistic(slice(pre, 1, 3 * H, 4 * H));
      c = add(mul(f, c), mul(i, g));
      h = mul(og, tanh(c));
      hs.push(h);
    }
    const loss = softmaxCrossEntropy(affine(concat(hs, 0), wy, by), targets, 'mean');
    loss.backward();
    opt.step(params);
    for (const [, p] of params) p.zeroGrad();
  };
  const { metrics, info } = await lstmMeasure(o, step);
  return { workload: 'lstm', system: o.system, metrics, info: { ...info, implementation: 'bench/dendrite-lstm.ts (ops + autograd)' } };
}
