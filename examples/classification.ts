/**
 * Classification end to end: a softmax output layer trained with cross-entropy (the lecture's
 * "Handling Categorical Target Features"), inverted dropout on the inputs (ρ = 0.8) and hidden
 * layers (ρ = 0.5), Adam, and early stopping on a validation set that restores the best epoch's
 * weights (Algorithm 1). The data are synthetic and seeded: three overlapping classes in two
 * informative features plus six noise features, 600 rows split 60/20/20 into train, validation
 * and test. Prints the training summary, the test accuracy and the confusion matrix.
 *
 *   npx tsc -p . && node dist/examples/classification.js
 */
import { pathToFileURL } from 'node:url';
import {
  Adam, Dense, Dropout, EarlyStopping, Model, ProgressCallback, Rng, Sequential, accuracy, confusionMatrix,
  formatConfusionMatrix, gatherRows, oneHot, precisionRecall, splitIndices, tensor,
} from '../src/index.js';
import type { Tensor } from '../src/index.js';

/** Class names of the synthetic data (as the lecture bins its power-plant output). */
export const LEVELS = ['low', 'medium', 'high'];

/** n rows: class k centred at (cos θk, sin θk)·1.2 with unit noise, plus `noise` pure-noise features. */
export function syntheticClasses(n: number, seed = 7, noise = 6): { x: Tensor; y: Tensor; labels: Int32Array } {
  const rng = new Rng(seed);
  const rows: number[][] = [];
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    const angle = (2 * Math.PI * k) / 3;
    const row = [1.2 * Math.cos(angle) + rng.normal(0, 0.8), 1.2 * Math.sin(angle) + rng.normal(0, 0.8)];
    for (let j = 0; j < noise; j++) row.push(rng.normal(0, 1));
    rows.push(row);
    labels[i] = k;
  }
  return { x: tensor(rows), y: oneHot(labels, 3), labels };
}

/** Trains the classifier; returns the model, history, early-stopping state and the test set. */
export function trainClassifier(opts: { seed?: number; quiet?: boolean } = {}) {
  const seed = opts.seed ?? 1;
  const { x, y } = syntheticClasses(600);
  const { train, validation, test } = splitIndices(600, { validation: 0.2, test: 0.2, seed });
  const pick = (t: Tensor, idx: Int32Array) => gatherRows(t, idx, 0, idx.length);
  const net = new Sequential([
    new Dropout({ keepProb: 0.8, name: 'drop_in' }),
    new Dense({ units: 64, activation: 'relu', kernelInitializer: 'heNormal', name: 'h1' }),
    new Dropout({ keepProb: 0.5, name: 'drop_h1' }),
    new Dense({ units: 64, activation: 'relu', kernelInitializer: 'heNormal', name: 'h2' }),
    new Dropout({ keepProb: 0.5, name: 'drop_h2' }),
    new Dense({ units: 3, activation: 'softmax', name: 'out' }),
  ], { inputShape: [8], seed });
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new Adam({ learningRate: 0.003 }), seed });
  const es = new EarlyStopping({ patience: 15 });
  const history = model.fit(pick(x, train), pick(y, train), {
    epochs: 300,
    batchSize: 32,
    validationData: [pick(x, validation), pick(y, validation)],
    callbacks: [es, new ProgressCallback({ quiet: opts.quiet })],
  });
  return { model, history, es, xTest: pick(x, test), yTest: pick(y, test) };
}

function main(): void {
  const { model, history, es, xTest, yTest } = trainClassifier();
  console.log(model.net.summary());
  const last = history.epochs[history.epochs.length - 1];
  console.log(`\n${history.epochs.length} epochs (${history.stopped}); best validation loss ${es.best.toFixed(4)} at epoch ${es.bestEpoch}, whose weights were restored`);
  console.log(`last epoch: training loss ${last.loss.toFixed(4)}, validation loss ${(last.valLoss as number).toFixed(4)}`);
  const pred = model.predict(xTest);
  console.log(`\ntest accuracy: ${(100 * accuracy(pred, yTest)).toFixed(1)}% on ${xTest.shape[0]} rows\n`);
  const cm = confusionMatrix(pred, yTest);
  console.log(formatConfusionMatrix(cm, LEVELS));
  const f1 = precisionRecall(cm).f1;
  console.log(`\nF1: ${LEVELS.map((l, i) => `${l} ${f1[i].toFixed(3)}`).join(', ')}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
