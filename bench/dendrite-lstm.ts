/**
 * W-LSTM for dendrite through the public API: `Sequential([LSTM 128 (every step), Dense 64 softmax
 * at every step])` over one-hot inputs [32, 32 steps, 64], trained by a custom loop — logits of
 * every step, fused softmax + cross-entropy averaged over the 32 steps and the batch (as the
 * workload and PyTorch's `CrossEntropyLoss` define it), full backpropagation through time, SGD
 * lr 0.1. The LSTM keeps its default initialisation (Glorot inputs, orthogonal recurrent
 * weights, forget bias 1).
 */
import { Dense, LSTM as LSTMLayer, SGD, Sequential, reshape, softmaxCrossEntropy, zeros } from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { LSTM, lstmMeasure, lstmSymbols, sequenceStart } from './common.js';
import type { ChildOptions, ChildResult } from './common.js';

const { vocab: V, hidden: H, steps: T, batch: B } = LSTM;

/** Batch b: one-hot inputs [B, T, V] and the next symbols as targets [B·T, V] (row i·T + t). */
function lstmBatch(sym: Uint8Array, b: number): { x: Tensor; targets: Tensor } {
  const x = zeros([B, T, V]);
  const targets = zeros([B * T, V]);
  for (let i = 0; i < B; i++) {
    const s = sequenceStart(b * B + i, sym.length);
    for (let t = 0; t < T; t++) {
      x.data[(i * T + t) * V + sym[s + t]] = 1;
      targets.data[(i * T + t) * V + sym[s + t + 1]] = 1;
    }
  }
  return { x, targets };
}

/** W-LSTM on the active backend. */
export async function lstmWorkload(o: ChildOptions): Promise<Omit<ChildResult, 'peakRssMiB'>> {
  const sym = lstmSymbols(o);
  const net = new Sequential([
    new LSTMLayer({ units: H, returnSequences: true }),
    new Dense({ units: V, activation: 'softmax' }),
  ], { inputShape: [T, V], seed: o.seed });
  const params = net.namedParameters();
  const opt = new SGD({ learningRate: LSTM.learningRate });
  let next = 0;
  const { metrics, info } = await lstmMeasure(o, () => {
    const { x, targets } = lstmBatch(sym, next++);
    const logits = net.forwardLogits(x);
    const loss = softmaxCrossEntropy(reshape(logits, [B * T, V]), targets, 'mean');
    loss.backward();
    opt.step(params);
    net.zeroGrad();
  });
  return { workload: 'lstm', system: o.system, metrics, info: { ...info, implementation: 'bench/dendrite-lstm.ts (LSTM + Dense layers, custom loop)' } };
}
