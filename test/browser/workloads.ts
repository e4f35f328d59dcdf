// Workloads run both in Node and, bundled with the public entry, in Chromium (test/browser/
// wasm-browser.test.ts): their results must be bit-identical on the wasm backend.
import { buildModel, parseSpec, tensor } from '../../src/index.js';
import type { Model, ModelSpec } from '../../src/index.js';
import { workedModel, x, y } from '../lecture/fixtures.js';

/** Every parameter of a model, flattened in layer order (float32 values as numbers). */
export function flatWeights(m: Model): number[] {
  return m.net.namedParameters().flatMap(([, p]) => Array.from(p.data));
}

/** The lecture's worked example (2 → 3 → 2 → 1, logistic, SSE, SGD 0.2), 300 full-batch epochs. */
export function workedExample(): { weights: number[]; losses: number[] } {
  const m = workedModel();
  const h = m.fit(x(), y(), { epochs: 300, batchSize: 4, shuffle: false });
  return { weights: flatWeights(m), losses: h.epochs.map((e) => e.loss) };
}

/** A small CNN for 28×28 digits: conv 4@5×5 → ReLU → max-pool 2 → dense 10 softmax. */
export const CNN_SPEC: ModelSpec = parseSpec({
  input: [1, 28, 28],
  layers: [
    { type: 'conv2d', filters: 4, kernelSize: 5, activation: 'relu' },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
  loss: 'crossEntropy', optimizer: { type: 'sgd', learningRate: 0.05 },
  train: { epochs: 2, batchSize: 32, seed: 7 },
});

/** The digits subset as plain arrays (what crosses into the page). */
export interface DigitsSubset {
  x: number[];
  y: number[];
  n: number;
  test: number[];
  nTest: number;
}

/** Trains {@link CNN_SPEC} with fitAsync on the subset; weights, losses and test probabilities. */
export async function smallCnn(d: DigitsSubset): Promise<{ model: Model; weights: number[]; losses: number[]; predictions: number[] }> {
  const m = buildModel(CNN_SPEC);
  const h = await m.fitAsync(tensor(Float32Array.from(d.x), { shape: [d.n, 1, 28, 28] }),
    tensor(Float32Array.from(d.y), { shape: [d.n, 10] }), { epochs: 2, batchSize: 32, yieldEveryMs: 0 });
  return { model: m, weights: flatWeights(m), losses: h.epochs.map((e) => e.loss), predictions: predictions(m, d) };
}

/** Test-set probabilities of a model, flattened. */
export function predictions(m: Model, d: DigitsSubset): number[] {
  return Array.from(m.predict(tensor(Float32Array.from(d.test), { shape: [d.nTest, 1, 28, 28] })).data);
}
