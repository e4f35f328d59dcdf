/**
 * The lecture's worked example ("A Worked Example", Tables 3–9): the 2-3-2-1 network of logistic
 * neurons with the initial weights of LECTURE-NOTES.md, trained by batch gradient descent
 * (α = 0.2, per-example gradients summed) on the four range-normalised power-plant examples until
 * ½SSE < 0.0001. Prints the forward pass (like Table 4), z, a, ∂a/∂z and δ for d2 and the
 * ∂E/∂w of every weight (like Tables 5 and 6), then trains and prints the result (like Table 9).
 * `relu` as argument runs the ReLU version instead (Tables 11–13, α = 0.1: 412 updates).
 *
 *   npx tsc -p . && node dist/examples/worked-example.js [relu]
 */
import { Dense, Model, SGD, Sequential, fmtNum, formatTrace, tensor, textTable, traceModel } from '../src/index.js';
import type { ActivationName } from '../src/index.js';

// Rows are neurons, column 0 is the bias weight w[0] (the lecture's W).
const W1 = [[0.10, -0.20, 0.11], [-0.19, 0.09, -0.13], [0.04, 0.11, -0.02]];
const W2 = [[0.15, -0.04, 0.10, 0.06], [0.12, 0.20, 0.14, -0.09]];
const W3 = [[0.10, 0.12, -0.50]];
const X = [[0.04, 0.81], [0.84, 0.58], [0.50, 0.07], [0.53, 1.00]];
const Y = [[0.94], [0.13], [0.57], [0.36]];

const split = (rows: number[][]) => ({ weight: rows.map((r) => r.slice(1)), bias: rows.map((r) => r[0]) });

function workedModel(activation: ActivationName, learningRate: number): Model {
  const net = new Sequential([
    new Dense({ units: 3, activation, name: 'h1' }),
    new Dense({ units: 2, activation, name: 'h2' }),
    new Dense({ units: 1, activation, name: 'out' }),
  ], { inputShape: [2] });
  net.setWeights({ h1: split(W1), h2: split(W2), out: split(W3) });
  return new Model(net, { loss: 'sse', optimizer: new SGD({ learningRate }) });
}

/** Targets, predictions, errors and squared errors per example, and the lecture's "SSE" (½Σ). */
function errorTable(model: Model): string {
  const pred = model.predict(tensor(X)).data;
  const cols = Y.map((t, i) => {
    const e = t[0] - pred[i];
    return [t[0], pred[i], e, e * e];
  });
  const rows = ['target', 'prediction', 'error', 'error²'].map((name, r) => [name, ...cols.map((c) => fmtNum(c[r], r === 3 ? 8 : 4))]);
  const half = cols.reduce((s, c) => s + c[3], 0) / 2;
  return `${textTable(['', 'd1', 'd2', 'd3', 'd4'], rows)}\n½SSE (the lecture's "SSE"): ${fmtNum(half, 8)}`;
}

function main(): void {
  const relu = process.argv.includes('relu');
  const activation: ActivationName = relu ? 'relu' : 'logistic';
  const lr = relu ? 0.1 : 0.2;
  const model = workedModel(activation, lr);
  console.log(model.net.summary());
  console.log(`\nForward pass of the initial network (${relu ? 'Table 11' : 'Table 4'}):\n${errorTable(model)}`);
  console.log(`\nz, a, ∂a/∂z, δ and ∂E/∂w for d2 (${relu ? 'Table 12, eq 50' : 'Tables 5 and 6'}):\n`);
  console.log(formatTrace(traceModel(model, tensor([X[1]]), tensor([Y[1]])), { digits: 8 }));
  const t0 = performance.now();
  const h = model.fit(tensor(X), tensor(Y), { epochs: 20000, batchSize: 4, shuffle: false, stopWhen: { loss: 0.0001 } });
  const ms = performance.now() - t0;
  console.log(`\nBatch gradient descent, α = ${lr}: ${h.stopped} after ${h.updates} updates (${ms.toFixed(0)} ms)`);
  console.log(`½SSE after the first update: ${fmtNum(h.epochs[0].loss, 8)}${relu ? '' : ' (Table 8)'}`);
  console.log(`\nAfter training (${relu ? 'Table 13' : 'Table 9'}):\n${errorTable(model)}`);
}

main();
