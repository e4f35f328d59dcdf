// Backpropagation through time: truncated BPTT, gradient stopping at subsequence boundaries,
// gradient-norm clipping against exploding gradients, and the adding problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tensor, zeros, sum, Adam, Sequential, SimpleRNN, LSTM, GRU, Dense, Embedding, Model, SGD, fitTruncated,
  CharVocabulary, textWindows,
  ConfigError, NumericError, ShapeError,
} from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { assertClose, randT } from '../helpers/gradcheck.js';
import { SMALL, trainAdding } from '../../examples/adding-problem.js';

function pair(make: () => Sequential, loss = 'mse'): [Model, Model] {
  const m = () => new Model(make(), { loss, optimizer: new SGD({ learningRate: 0.05, momentum: 0.5 }) });
  return [m(), m()];
}

function sameWeights(a: Model, b: Model, tol: number): void {
  const wb = b.net.getWeights();
  for (const [l, ps] of Object.entries(a.net.getWeights())) for (const [k, t] of Object.entries(ps)) assertClose(t.data, wb[l][k].data, tol, `${l}.${k}`);
}

test('truncated BPTT with k ≥ T is full BPTT (targets at every step, and at the last step only)', () => {
  const x = randT([6, 5, 2], 1);
  const ySeq = randT([6, 5, 1], 2);
  const yLast = randT([6, 1], 3);
  for (const k of [5, 8]) {
    const [full, trunc] = pair(() => new Sequential([new LSTM({ units: 3, returnSequences: true }), new Dense({ units: 1 })], { inputShape: [5, 2], seed: 1 }));
    full.fit(x, ySeq, { epochs: 3, batchSize: 3, shuffle: false });
    trunc.fit(x, ySeq, { epochs: 1, batchSize: 3, shuffle: false }); // same first epoch…
    fitTruncated(trunc, x, ySeq, { epochs: 2, batchSize: 3, shuffle: false, truncation: k }); // …then truncated
    sameWeights(full, trunc, 1e-6);
    assertClose([trunc.history.epochs[2].loss], [full.history.epochs[2].loss], 1e-6, 'loss');
    const [fullL, truncL] = pair(() => new Sequential([new GRU({ units: 3 }), new Dense({ units: 1 })], { inputShape: [5, 2], seed: 2 }));
    fullL.fit(x, yLast, { epochs: 2, batchSize: 2, shuffle: false });
    fitTruncated(truncL, x, yLast, { epochs: 2, batchSize: 2, shuffle: false, truncation: k });
    sameWeights(fullL, truncL, 1e-6);
  }
});

test('truncated BPTT carries the state across subsequences but stops the gradient at the boundary', () => {
  const net = new Sequential([new SimpleRNN({ units: 3, returnSequences: true, stateful: true, name: 'r' })], { inputShape: [3, 2], seed: 5 });
  const layer = net.layers[0];
  const x1 = randT([1, 3, 2], 1);
  const x2 = randT([1, 3, 2], 2);
  x1.requiresGrad = true;
  x2.requiresGrad = true;
  layer.forward(x1);
  const out2 = layer.forward(x2);
  sum(out2).backward();
  assert.equal(x1.grad, null, 'no gradient reaches the previous subsequence');
  assert.ok(x2.grad && x2.grad.data.some((v) => v !== 0));
  // …while the state did carry: the same chunk from a zero state gives other outputs
  const fresh = new Sequential([new SimpleRNN({ units: 3, returnSequences: true, name: 'r' })], { inputShape: [3, 2], seed: 5 });
  assert.ok(fresh.forward(x2).data.some((v, i) => Math.abs(v - out2.data[i]) > 1e-4));
});

test('truncated BPTT with k < T trains on every subsequence and restores the layers afterwards', () => {
  const net = new Sequential([new LSTM({ units: 4, returnSequences: true }), new Dense({ units: 1 })], { inputShape: [12, 1], seed: 3 });
  const model = new Model(net, { loss: 'mse', optimizer: new Adam({ learningRate: 0.03 }) });
  // predict the previous input: needs one step of memory
  const x = randT([16, 12, 1], 4);
  const y = zeros([16, 12, 1]);
  for (let i = 0; i < 16; i++) for (let t = 1; t < 12; t++) y.data[i * 12 + t] = x.data[i * 12 + t - 1];
  const h = fitTruncated(model, x, y, { epochs: 30, batchSize: 8, truncation: 5 });
  assert.equal(h.epochs.length, 30);
  assert.equal(model.history.updates, 30 * 2 * 3); // 2 batches × ⌈12/5⌉ subsequences
  assert.ok(h.epochs[29].loss < h.epochs[0].loss * 0.5, `loss ${h.epochs[0].loss} → ${h.epochs[29].loss}`);
  assert.ok(h.epochs.every((e) => typeof e.gradNorm === 'number' && e.gradNorm > 0));
  const l = model.net.layers[0] as LSTM;
  assert.equal(l.stateful, false);
  assert.equal(l.getStates(), null);
});

test('fitTruncated rejects a truncation length < 1, a model without recurrent layers and mismatched targets', () => {
  const [, model] = pair(() => new Sequential([new SimpleRNN({ units: 2 }), new Dense({ units: 1 })], { inputShape: [4, 1] }));
  const x = randT([2, 4, 1]);
  const y = randT([2, 1]);
  for (const k of [0, -3, 2.5]) {
    assert.throws(() => fitTruncated(model, x, y, { epochs: 1, truncation: k }), (e: unknown) =>
      e instanceof ConfigError && new RegExp(`fitTruncated\\.truncation must be an integer ≥ 1, received ${k}`).test(e.message));
  }
  const dense = new Model(new Sequential([new Dense({ units: 1 })], { inputShape: [3] }), { loss: 'mse', optimizer: new SGD({ learningRate: 0.1 }) });
  assert.throws(() => fitTruncated(dense, randT([2, 3]), randT([2, 1]), { epochs: 1 }), (e: unknown) => e instanceof ConfigError && /no recurrent layer/.test(e.message));
  assert.throws(() => fitTruncated(model, x, randT([2, 4, 1]), { epochs: 1 }), (e: unknown) =>
    e instanceof ShapeError && /targets must be \[2, 1\] \(one per sequence\)/.test(e.message));
});

/** A linear RNN whose recurrent weights are 1.5·I: its gradient grows like 1.5^T (exploding). */
function exploding(): { model: Model; x: Tensor; y: Tensor } {
  const net = new Sequential([new SimpleRNN({ units: 4, activation: 'linear', name: 'r' }), new Dense({ units: 1, name: 'd' })], { inputShape: [30, 1], seed: 1 });
  const whh = zeros([4, 4]);
  for (let i = 0; i < 4; i++) whh.data[i * 5] = 1.5;
  net.setWeights({ r: { Whh: whh } });
  const model = new Model(net, { loss: 'mse', optimizer: new SGD({ learningRate: 0.01 }) });
  return { model, x: randT([8, 30, 1], 2, 0, 1), y: randT([8, 1], 3) };
}

test('exploding gradients: without clipping training blows up; gradient-norm clipping keeps it finite and the history records the norm', () => {
  const a = exploding();
  assert.throws(() => a.model.fit(a.x, a.y, { epochs: 5, batchSize: 8 }), (e: unknown) => e instanceof NumericError);
  const b = exploding();
  const h = b.model.fit(b.x, b.y, { epochs: 5, batchSize: 8, clipNorm: 1 });
  assert.ok(h.epochs.every((e) => Number.isFinite(e.loss)), 'finite losses');
  assert.ok(h.epochs[0].gradNorm! > 1e3, `the unclipped norm is recorded: ${h.epochs[0].gradNorm}`);
  assert.ok(h.epochs[4].loss < h.epochs[0].loss, 'and it learns');
  const c = exploding();
  const ht = fitTruncated(c.model, c.x, c.y, { epochs: 3, batchSize: 8, truncation: 10, clipNorm: 1 });
  assert.ok(ht.epochs.every((e) => Number.isFinite(e.loss) && e.gradNorm! > 1));
});

test('the adding problem at T = 50: the LSTM learns it (MSE well below 0.167), the simple RNN does not', () => {
  const lstm = trainAdding('lstm', SMALL);
  const rnn = trainAdding('simpleRNN', SMALL);
  assert.equal(SMALL.steps, 50);
  assert.ok(lstm.testMse < 0.05, `LSTM test MSE ${lstm.testMse}`);
  assert.ok(rnn.testMse > 0.12, `simple RNN test MSE ${rnn.testMse}`);
});

test('a sequence output with a mask-free batch: the loss sums over steps and "mean" averages over examples × steps', () => {
  const net = new Sequential([new SimpleRNN({ units: 1, activation: 'linear', returnSequences: true, name: 'r' })], { inputShape: [2, 1] });
  net.setWeights({ r: { Whx: [[1]], Whh: [[0]], bias: [0] } });
  const x = tensor([[[1], [2]], [[3], [4]]]);
  const y = zeros([2, 2, 1]);
  const sse = new Model(net, { loss: 'sse', optimizer: new SGD({ learningRate: 0.1 }) });
  assert.equal(sse.lossOf(x, y).loss.item(), 0.5 * (1 + 4 + 9 + 16));
  const mse = new Model(net, { loss: 'mse', optimizer: new SGD({ learningRate: 0.1 }) });
  assert.equal(mse.lossOf(x, y).loss.item(), (1 + 4 + 9 + 16) / 4);
});

test('truncated BPTT on a character model (embedding → LSTM → softmax at every step, fused cross-entropy)', () => {
  const text = 'the cat sat on the mat. the cat sat on the hat. '.repeat(4);
  const vocab = CharVocabulary.fromText(text);
  const { x, y } = textWindows(vocab.encode(text), 24, 6);
  const net = new Sequential([
    new Embedding({ inputDim: vocab.size, outputDim: 8 }),
    new LSTM({ units: 16, returnSequences: true }),
    new Dense({ units: vocab.size, activation: 'softmax' }),
  ], { inputShape: [24], seed: 1 });
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new Adam({ learningRate: 0.02 }) });
  assert.ok(model.fused);
  const h = fitTruncated(model, x, vocab.oneHot(y), { epochs: 8, batchSize: 8, truncation: 8, clipNorm: 5 });
  assert.ok(h.epochs[7].loss < h.epochs[0].loss * 0.7, `${h.epochs[0].loss} → ${h.epochs[7].loss}`);
  assert.ok(h.epochs[0].loss < Math.log(vocab.size) + 0.2, 'cross-entropy per character, averaged over examples × steps');
});
