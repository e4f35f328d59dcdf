/**
 * W-LSTM (shared/WORKLOADS.md) with dendrite's layers: one-hot inputs of 64 symbols → LSTM of 128
 * units (returnSequences) → dense 128 → 64 softmax at every step; cross-entropy averaged over
 * the 32 steps and the batch of 32; SGD lr 0.1; full backpropagation through the 32 steps,
 * trained with `Model.fit` on a {@link BatchSource} that builds each batch's one-hot sequences. Reports training sequences/s, time-steps/s and peak resident memory.
 *
 * Run: `npx tsc -p . && node dist/bench/lstm.js [--batches 40] [--warmup 5] [--backend js|native] [--text FILE]`
 * Prints one JSON line.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Dense, LSTM, Model, SGD, Sequential, Tensor, getBackend, setBackend } from '../src/index.js';
import type { BackendName, BatchSource } from '../src/index.js';
import { LSTM as W, peakRssMiB, sequenceStart, textSymbols } from './common.js';

const { vocab: V, hidden: H, steps: T, batch: B } = W;

/**
 * The training sequences as a {@link BatchSource}: sequence j is the j-th window of the text
 * (`sequenceStart`), one-hot inputs [rows, T, V] and next-symbol targets [rows, T, V] built per
 * batch (as PyTorch's bench builds its batches), so only the batch in progress is in memory. The
 * source reuses its two buffers: fit is done with a batch before it asks for the next.
 */
function sequences(sym: Uint8Array, n: number): BatchSource {
  let x = new Float32Array(0);
  let y = new Float32Array(0);
  return {
    size: n,
    batch(rows) {
      const m = rows.length;
      if (x.length !== m * T * V) [x, y] = [new Float32Array(m * T * V), new Float32Array(m * T * V)];
      else [x.fill(0), y.fill(0)];
      for (let i = 0; i < m; i++) {
        const s = sequenceStart(rows[i], sym.length);
        for (let t = 0; t < T; t++) {
          x[(i * T + t) * V + sym[s + t]] = 1;
          y[(i * T + t) * V + sym[s + t + 1]] = 1;
        }
      }
      return { x: new Tensor(x, [m, T, V]), y: new Tensor(y, [m, T, V]) };
    },
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      batches: { type: 'string', default: '40' },
      warmup: { type: 'string', default: '5' },
      backend: { type: 'string' },
      text: { type: 'string', default: fileURLToPath(new URL('../../data/sonnets.txt', import.meta.url)) },
    },
  });
  if (values.backend) setBackend(values.backend as BackendName);
  const batches = Number(values.batches);
  const warmup = Number(values.warmup);
  const sym = textSymbols(readFileSync(values.text!, 'latin1'));
  const net = new Sequential([
    new LSTM({ units: H, returnSequences: true }),
    new Dense({ units: V, activation: 'softmax' }),
  ], { inputShape: [T, V], seed: 1 });
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: W.learningRate }), seed: 1 });
  if (warmup > 0) model.fit(sequences(sym, warmup * B), { epochs: 1, batchSize: B, shuffle: false });
  const t0 = performance.now();
  const h = model.fit(sequences(sym, batches * B), { epochs: 1, batchSize: B, shuffle: false });
  const seconds = (performance.now() - t0) / 1000;
  const seqPerS = (batches * B) / seconds;
  console.log(JSON.stringify({
    workload: 'W-LSTM',
    backend: getBackend().name,
    batches,
    seconds: Number(seconds.toFixed(3)),
    sequences_per_s: Number(seqPerS.toFixed(1)),
    steps_per_s: Number((seqPerS * T).toFixed(0)),
    loss: Number(h.epochs[0].loss.toFixed(4)),
    peak_rss_mib: Number(peakRssMiB().toFixed(1)),
  }));
}

main();
