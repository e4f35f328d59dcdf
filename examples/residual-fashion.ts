/**
 * A small residual CNN — a graph model with skip connections (`Add`) — on Fashion-MNIST, trained
 * for the same number of epochs as the W-CNN benchmark network (shared/WORKLOADS.md: LeNet-style,
 * SGD 0.05, batch 64, one epoch) on the same data, and both evaluated on the 10,000 test images.
 * Writes an HTML report of the residual model (its summary lists every connection).
 *
 *   npx tsc -p . && node dist/examples/residual-fashion.js [--epochs 1] [--limit N] [--report residual.html]
 *
 * The residual network:
 *   input [1, 28, 28] → conv 16 3×3 same, BN, ReLU → max-pool 2 → [16, 14, 14]
 *   → block(16) → max-pool 2 → [16, 7, 7] → conv 32 3×3 same, BN, ReLU → block(32)
 *   → flatten → dense 10 softmax
 * where block(c)(h) = ReLU(h + BN(conv c 3×3(ReLU(BN(conv c 3×3(h)))))).
 */
import { pathToFileURL } from 'node:url';
import {
  Activation, Adam, Add, BatchNorm, Conv2D, Dense, Flatten, GraphNetwork, Input, MaxPool2D, Model, SGD, confusionMatrix,
  loadIdxDataset, gatherRows, writeReport, reportFromData, FASHION_MNIST_CLASSES,
} from '../src/index.js';
import type { SymbolicTensor } from '../src/index.js';
import { cnnNetwork } from '../bench/networks.js';

/** conv → batch norm → (ReLU): the usual unit of a residual network. */
function convBn(x: SymbolicTensor, filters: number, relu: boolean): SymbolicTensor {
  const c = new Conv2D({ filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: 'heNormal' }).apply(x);
  const b = new BatchNorm({}).apply(c);
  return relu ? new Activation({ activation: 'relu' }).apply(b) : b;
}

/** A residual block: relu(h + F(h)), F = two 3×3 convolutions with batch norm. */
function residualBlock(h: SymbolicTensor, filters: number): SymbolicTensor {
  const f = convBn(convBn(h, filters, true), filters, false);
  return new Activation({ activation: 'relu' }).apply(new Add().apply([h, f]));
}

/** The residual CNN as a graph model. */
export function residualCnn(seed = 1): GraphNetwork {
  const x = Input({ shape: [1, 28, 28], name: 'image' });
  let h = new MaxPool2D({ poolSize: 2 }).apply(convBn(x, 16, true));
  h = new MaxPool2D({ poolSize: 2 }).apply(residualBlock(h, 16));
  h = residualBlock(convBn(h, 32, true), 32);
  const y = new Dense({ units: 10, activation: 'softmax', kernelInitializer: 'heNormal' }).apply(new Flatten().apply(h));
  return new GraphNetwork({ inputs: x, outputs: y, seed, name: 'residual_cnn' });
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** Trains W-CNN and the residual CNN for `epochs` epochs; returns both test accuracies. */
export async function compare(opts: { epochs?: number; limit?: number; report?: string; data?: string } = {}) {
  const epochs = opts.epochs ?? 1;
  const d = await loadIdxDataset(opts.data ?? '/usr/share/datasets/fashion-mnist');
  const n = Math.min(opts.limit ?? d.train.labels.length, d.train.labels.length);
  const [x, y] = n < d.train.labels.length ? [gatherRows(d.train.x, null, 0, n), gatherRows(d.train.y, null, 0, n)] : [d.train.x, d.train.y];
  const run = (name: string, model: Model) => {
    const t0 = performance.now();
    model.fit(x, y, { epochs, batchSize: 64 });
    const seconds = (performance.now() - t0) / 1000;
    const ev = model.evaluate(d.test.x, d.test.y);
    console.log(`${name}: ${model.net.paramCount()} parameters, ${epochs} epoch(s) on ${n} images in ${seconds.toFixed(1)} s, test accuracy ${(100 * ev.accuracy!).toFixed(2)}%`);
    return ev.accuracy!;
  };
  const wcnn = run('W-CNN (SGD 0.05, as benchmarked)', new Model(cnnNetwork(1), { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.05 }) }));
  // the same optimiser as the residual network, so the comparison is not only SGD against Adam
  const wcnnAdam = run('W-CNN (Adam 0.002)', new Model(cnnNetwork(1), { loss: 'crossEntropy', optimizer: new Adam({ learningRate: 0.002 }) }));
  const residual = new Model(residualCnn(1), { loss: 'crossEntropy', optimizer: new Adam({ learningRate: 0.002 }) });
  console.log(residual.summary());
  const res = run('residual CNN (Adam 0.002)', residual);
  if (opts.report) {
    const pred = residual.predict(d.test.x);
    const cm = confusionMatrix(pred, d.test.labels, 10);
    // layer dynamics, diagnostics and feature maps from 256 test images; the confusion matrix of all
    const sample = reportFromData(residual, gatherRows(d.test.x, null, 0, 256), gatherRows(d.test.y, null, 0, 256), { title: 'Residual CNN on Fashion-MNIST' });
    writeReport(opts.report, { ...sample, confusion: { matrix: cm, labels: [...FASHION_MNIST_CLASSES] } });
    console.log(`report: ${opts.report}`);
  }
  return { wcnn, wcnnAdam, residual: res };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await compare({ epochs: Number(arg('epochs', '1')), limit: process.argv.includes('--limit') ? Number(arg('limit', '60000')) : undefined, report: arg('report', 'residual-fashion.html') });
  console.log(`residual − W-CNN: ${(100 * (r.residual - r.wcnn)).toFixed(2)} percentage points (${(100 * (r.residual - r.wcnnAdam)).toFixed(2)} against W-CNN with Adam)`);
}
