// The in-page side of bench/browser.ts: the W-MLP training step (784 → 256 ReLU → 128 ReLU → 10
// softmax, batch 64, SGD 0.05) on whatever backend the page gets, timed over a number of batches.
import { Model, Rng, SGD, getBackend, tensor } from '../src/index.js';
import type { WasmBackend } from '../src/backend/wasm.js';
import { mlpNetwork } from './networks.js';

/** Trains `batches` W-MLP batches of random data after `warmup` ones; examples per second. */
export function mlpSteps(warmup: number, batches: number): { examplesPerSecond: number; backend: string; threads: number } {
  const rng = new Rng(1);
  const n = 64 * (warmup + batches);
  const x = tensor(Float32Array.from({ length: n * 784 }, () => rng.next()), { shape: [n, 784] });
  const labels = Float32Array.from({ length: n * 10 }, (_, i) => (i % 10 === (Math.floor(i / 10) * 7) % 10 ? 1 : 0));
  const y = tensor(labels, { shape: [n, 10] });
  const model = new Model(mlpNetwork(1), { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.05 }) });
  let t0 = 0;
  model.fit(x, y, {
    epochs: 1, batchSize: 64, shuffle: false,
    callbacks: [{ onBatchEnd: (b) => { if (b === warmup - 1) t0 = performance.now(); } }],
  });
  const seconds = (performance.now() - t0) / 1000;
  const be = getBackend() as Partial<WasmBackend>;
  return { examplesPerSecond: (64 * batches) / seconds, backend: be.name!, threads: be.threads?.() ?? 1 };
}

Object.assign(globalThis, { mlpSteps });
