// A small CNN classifier trained for a few epochs with diagnostics: everything a report shows.
import { Conv2D, Dense, Flatten, MaxPool2D, Model, Rng, SGD, Sequential, TrainingDiagnostics, tensor, reportFromData } from '../../src/index.js';
import type { ReportInput, Tensor } from '../../src/index.js';

/** 60 6×6 images of vertical, horizontal and diagonal strokes with one-hot labels. */
export function strokes(n = 60, seed = 3): { x: Tensor; y: Tensor } {
  const rng = new Rng(seed);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    const p = 1 + rng.int(4);
    for (let r = 0; r < 6; r++) for (let c = 0; c < 6; c++) {
      const on = k === 0 ? c === p : k === 1 ? r === p : r === c;
      xs.push((on ? 1 : 0) + rng.normal(0, 0.1));
    }
    ys.push(...[0, 1, 2].map((j) => (j === k ? 1 : 0)));
  }
  return { x: tensor(xs, { shape: [n, 1, 6, 6] }), y: tensor(ys, { shape: [n, 3] }) };
}

/** Trains the CNN for `epochs` (with diagnostics) and returns the report input. */
export function cnnReport(epochs = 8): ReportInput {
  const { x, y } = strokes();
  const net = new Sequential([
    new Conv2D({ filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: 'heNormal', name: 'conv' }),
    new MaxPool2D({ poolSize: 2, name: 'pool' }),
    new Flatten({ name: 'flat' }),
    new Dense({ units: 8, activation: 'tanh', name: 'hidden' }),
    new Dense({ units: 3, activation: 'softmax', name: 'out' }),
  ], { inputShape: [1, 6, 6], seed: 2, name: 'strokes-cnn' });
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.1 }) });
  const diagnostics = new TrainingDiagnostics(model, x, y, { sampleSize: 32 });
  const split = 45;
  const tx = tensor(x.data.subarray(0, split * 36), { shape: [split, 1, 6, 6] });
  const ty = tensor(y.data.subarray(0, split * 3), { shape: [split, 3] });
  const vx = tensor(x.data.subarray(split * 36), { shape: [60 - split, 1, 6, 6] });
  const vy = tensor(y.data.subarray(split * 3), { shape: [60 - split, 3] });
  model.fit(tx, ty, { epochs, batchSize: 8, validationData: [vx, vy], callbacks: [diagnostics] });
  return reportFromData(model, x, y, { diagnostics, title: 'Strokes CNN' });
}
