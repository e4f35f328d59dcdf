// Recurrent layers: shapes, parameter layouts, masks, variational dropout, stateful mode, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tensor, zeros, Sequential, SimpleRNN, LSTM, GRU, Dense, Embedding, Masking, Model, SGD,
  ShapeError, ConfigError, DataError, buildNetwork, parseSpec, embedding, forwardSequence,
} from '../../src/index.js';
import { assertClose, randT } from '../helpers/gradcheck.js';

test('SimpleRNN follows eq 110 on hand-checkable numbers (linear φ) and names its weights Whx, Whh, bias', () => {
  const net = new Sequential([new SimpleRNN({ units: 1, activation: 'linear', returnSequences: true, name: 'r' })], { inputShape: [3, 1] });
  net.setWeights({ r: { Whx: [[2]], Whh: [[0.5]], bias: [1] } });
  // h1 = 2·1 + 1 = 3; h2 = 0.5·3 + 2·2 + 1 = 6.5; h3 = 0.5·6.5 + 2·(−1) + 1 = 2.25
  assertClose(net.forward(tensor([[[1], [2], [-1]]])).data, [3, 6.5, 2.25], 1e-6);
  const w = net.getWeights().r;
  assert.deepEqual(Object.keys(w), ['Whx', 'Whh', 'bias']);
  const last = new Sequential([new SimpleRNN({ units: 1, activation: 'linear', name: 'r' })], { inputShape: [3, 1] });
  last.setWeights({ r: { Whx: [[2]], Whh: [[0.5]], bias: [1] } });
  assert.deepEqual(last.forward(tensor([[[1], [2], [-1]]])).shape, [1, 1]);
  assertClose(last.forward(tensor([[[1], [2], [-1]]])).data, [2.25], 1e-6);
});

test('parameter layouts: LSTM Wf/Wi/Wc/Wo [H, H + inputs] and bf/bi/bc/bo [H]; GRU Wz/Wr/Wh; Embedding weight [vocab, dim]', () => {
  const net = new Sequential([
    new LSTM({ units: 4, returnSequences: true, name: 'l' }),
    new GRU({ units: 3, name: 'g' }),
  ], { inputShape: [5, 2] });
  const w = net.getWeights();
  for (const k of ['Wf', 'Wi', 'Wc', 'Wo']) assert.deepEqual(w.l[k].shape, [4, 6]);
  for (const k of ['bf', 'bi', 'bc', 'bo']) assert.deepEqual(w.l[k].shape, [4]);
  assert.deepEqual(w.l.bf.toArray(), [1, 1, 1, 1]); // unit forget bias
  for (const k of ['Wz', 'Wr', 'Wh']) assert.deepEqual(w.g[k].shape, [3, 7]);
  assert.deepEqual(net.outputShape, [3]);
  assert.equal(net.paramCount(), 4 * (4 * 6 + 4) + 3 * (3 * 7 + 3));
  const e = new Sequential([new Embedding({ inputDim: 10, outputDim: 4, name: 'e' })], { inputShape: [7] });
  assert.deepEqual(e.getWeights().e.weight.shape, [10, 4]);
  assert.deepEqual(e.outputShape, [7, 4]);
});

test('the recurrent weight matrices start orthogonal', () => {
  const net = new Sequential([new SimpleRNN({ units: 5, name: 'r' })], { inputShape: [2, 3], seed: 9 });
  const W = net.getWeights().r.Whh.data;
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 5; j++) {
      let d = 0;
      for (let k = 0; k < 5; k++) d += W[i * 5 + k] * W[j * 5 + k];
      assert.ok(Math.abs(d - (i === j ? 1 : 0)) < 1e-5);
    }
  }
});

test('embedding looks rows up; an index beyond the vocabulary is a DataError naming the layer, index and size', () => {
  assert.deepEqual(embedding(tensor([[2, 0]]), tensor([[0, 0], [1, 1], [2, 2]])).toArray(), [[[2, 2], [0, 0]]]);
  const net = new Sequential([new Embedding({ inputDim: 4, outputDim: 2, name: 'chars' })], { inputShape: [3] });
  assert.throws(() => net.forward(tensor([[1, 2, 3], [0, 7, 1]])), (e: unknown) =>
    e instanceof DataError && /chars: index 7 at position \[1, 1\] is outside the vocabulary of size 4/.test(e.message));
  assert.throws(() => net.forward(tensor([[1, -1, 0]])), (e: unknown) => e instanceof DataError && /index -1/.test(e.message));
  assert.throws(() => net.forward(tensor([[1, 0.5, 0]])), (e: unknown) => e instanceof DataError && /index 0\.5/.test(e.message));
});

test('input feature size not matching the layer is a ShapeError naming the layer', () => {
  const net = new Sequential([new LSTM({ units: 2, name: 'enc' })], { inputShape: [4, 3] });
  assert.throws(() => net.layers[0].forward(zeros([2, 4, 5])), (e: unknown) =>
    e instanceof ShapeError && /enc expects input \[\*, T, 3\].*received \[2, 4, 5\]/.test(e.message));
  assert.throws(() => net.layers[0].forward(zeros([2, 3])), (e: unknown) => e instanceof ShapeError && /enc expects input/.test(e.message));
  assert.throws(() => new Sequential([new GRU({ units: 2, name: 'g' })], { inputShape: [6] }), (e: unknown) =>
    e instanceof ShapeError && /g expects sequences \[T, features\], received input shape \[6\]/.test(e.message));
  // a dense layer at every step checks the feature size too
  const td = new Sequential([new SimpleRNN({ units: 2, returnSequences: true }), new Dense({ units: 1, name: 'out' })], { inputShape: [4, 3] });
  assert.throws(() => td.layers[1].forward(zeros([1, 4, 3])), (e: unknown) => e instanceof ShapeError && /out expects input \[\*, T, 2\]/.test(e.message));
});

test('bad options are ConfigErrors naming the layer and key', () => {
  assert.throws(() => new LSTM({ units: 0, name: 'l' }), (e: unknown) => e instanceof ConfigError && /l\.units must be an integer ≥ 1/.test(e.message));
  assert.throws(() => new GRU({ units: 2, dropout: 1 }), (e: unknown) => e instanceof ConfigError && /gru\.dropout must be a number in \[0, 1\), received 1/.test(e.message));
  assert.throws(() => new SimpleRNN({ units: 2, activation: 'softmax' as 'tanh' }), (e: unknown) => e instanceof ConfigError && /simpleRNN\.activation must be one of/.test(e.message));
  assert.throws(() => new Embedding({ inputDim: 0, outputDim: 2 }), (e: unknown) => e instanceof ConfigError && /embedding\.inputDim/.test(e.message));
});

test('a dense layer after a sequence output applies at every step', () => {
  const net = new Sequential([
    new SimpleRNN({ units: 2, activation: 'linear', returnSequences: true, name: 'r' }),
    new Dense({ units: 1, name: 'd' }),
  ], { inputShape: [3, 1] });
  net.setWeights({ r: { Whx: [[1], [2]], Whh: [[0, 0], [0, 0]], bias: [0, 0] }, d: { weight: [[1, 10]], bias: [0.5] } });
  assert.deepEqual(net.outputShape, [3, 1]);
  // h_t = [x_t, 2x_t] → y_t = x_t + 20x_t + 0.5
  assertClose(net.forward(tensor([[[1], [2], [3]]])).data, [21.5, 42.5, 63.5], 1e-5);
});

test('masked steps carry the state through: a padded sequence ends in the same state as the unpadded one', () => {
  for (const Layer of [SimpleRNN, LSTM, GRU]) {
    const full = new Sequential([new Masking(), new Layer({ units: 3 })], { inputShape: [5, 2], seed: 2 });
    const short = new Sequential([new Layer({ units: 3 })], { inputShape: [3, 2], seed: 2 });
    short.setWeights({ [short.layers[0].name]: full.getWeights()[full.layers[1].name] });
    const x3 = randT([1, 3, 2], 5);
    const x5 = zeros([1, 5, 2]);
    x5.data.set(x3.data); // post-padding with zeros
    assertClose(full.forward(x5).data, short.forward(x3).data, 1e-6, Layer.name);
  }
});

test('padding steps contribute no loss and no gradient', () => {
  const make = () => new Sequential([new Masking(), new LSTM({ units: 2, returnSequences: true, name: 'l' }), new Dense({ units: 1, name: 'd' })], { inputShape: [4, 1], seed: 1 });
  const a = new Model(make(), { loss: 'sse', optimizer: new SGD({ learningRate: 0.1 }) });
  const x = tensor([[[1], [2], [0], [0]]]);
  const y1 = tensor([[[0.5], [0.1], [9], [9]]]);
  const y2 = tensor([[[0.5], [0.1], [-3], [4]]]);
  const l1 = a.lossOf(x, y1).loss;
  const l2 = a.lossOf(x, y2).loss;
  assert.equal(l1.item(), l2.item());
  l1.backward();
  const g1 = a.net.namedParameters().map(([, p]) => Float32Array.from(p.grad!.data));
  a.net.zeroGrad();
  l2.backward();
  a.net.namedParameters().forEach(([, p], i) => assertClose(p.grad!.data, g1[i], 0));
});

test('an embedding with maskZero masks index 0 (padding)', () => {
  const net = new Sequential([new Embedding({ inputDim: 5, outputDim: 3, maskZero: true }), new GRU({ units: 2 })], { inputShape: [4], seed: 3 });
  const padded = net.forward(tensor([[3, 1, 0, 0]]));
  const short = forwardSequence(net, tensor([[3, 1]])); // any length: layer by layer
  assertClose(padded.data, short.data, 1e-6);
});

test('variational dropout: one mask per sequence, the same at every time-step (inputs and recurrent connections)', () => {
  // Whh = 0 and a constant input: every step sees the same masked input, so h_t is the same for all t
  const net = new Sequential([new SimpleRNN({ units: 6, dropout: 0.5, returnSequences: true, name: 'r' })], { inputShape: [5, 4], seed: 7 });
  net.setWeights({ r: { Whh: zeros([6, 6]) } });
  net.train();
  const x = tensor(Array.from({ length: 3 * 5 * 4 }, (_, i) => 0.3 + (Math.floor(i / 20) + (i % 4)) * 0.1), { shape: [3, 5, 4] });
  const out = net.forward(x);
  const layer = net.layers[0] as SimpleRNN;
  const m = layer.lastMasks.input!;
  assert.equal(m.length, 3 * 4);
  assert.ok(m.some((v) => v === 0) && m.some((v) => v === 2), 'the mask drops some inputs and scales the rest by 1/(1 − rate)');
  for (let b = 0; b < 3; b++) {
    for (let t = 1; t < 5; t++) assertClose(out.data.subarray((b * 5 + t) * 6, (b * 5 + t + 1) * 6), out.data.subarray(b * 30, b * 30 + 6), 1e-6);
  }
  // recurrent mask: linear RNN with Whh = I, Whx = 0, bias 1 → h_t = m ⊙ h_{t−1} + 1 per unit, with one m for all t
  const rec = new Sequential([new SimpleRNN({ units: 8, activation: 'linear', recurrentDropout: 0.5, returnSequences: true, name: 'r' })], { inputShape: [4, 1], seed: 2 });
  const eye = zeros([8, 8]);
  for (let i = 0; i < 8; i++) eye.data[i * 8 + i] = 1;
  rec.setWeights({ r: { Whh: eye, Whx: zeros([8, 1]), bias: tensor(Array(8).fill(1)) } });
  rec.train();
  const h = rec.forward(zeros([1, 4, 1])).data;
  const rm = (rec.layers[0] as SimpleRNN).lastMasks.recurrent!;
  for (let u = 0; u < 8; u++) {
    let want = 0;
    for (let t = 0; t < 4; t++) {
      want = rm[u] * want + 1;
      assert.ok(Math.abs(h[t * 8 + u] - want) < 1e-5, `unit ${u} step ${t}: ${h[t * 8 + u]} vs ${want}`);
    }
  }
  // inference: no dropout
  rec.eval();
  assertClose(rec.forward(zeros([1, 4, 1])).data.subarray(0, 8), Array(8).fill(1), 1e-6);
});

test('stateful mode carries h and c between calls until resetStates(); a changed batch size is a ShapeError', () => {
  const whole = new Sequential([new LSTM({ units: 3, returnSequences: true, name: 'l' })], { inputShape: [6, 2], seed: 4 });
  const chunked = new Sequential([new LSTM({ units: 3, returnSequences: true, stateful: true, name: 'l' })], { inputShape: [3, 2], seed: 4 });
  const x = randT([2, 6, 2], 8);
  const full = whole.forward(x).data;
  const a = chunked.layers[0].forward(tensor(Array.from(x.data).filter((_, i) => Math.floor(i / 2) % 6 < 3), { shape: [2, 3, 2] })).data;
  const b = chunked.layers[0].forward(tensor(Array.from(x.data).filter((_, i) => Math.floor(i / 2) % 6 >= 3), { shape: [2, 3, 2] })).data;
  for (let s = 0; s < 2; s++) {
    assertClose(a.subarray(s * 9, s * 9 + 9), full.subarray(s * 18, s * 18 + 9), 1e-6, 'first chunk');
    assertClose(b.subarray(s * 9, s * 9 + 9), full.subarray(s * 18 + 9, s * 18 + 18), 1e-6, 'second chunk');
  }
  const l = chunked.layers[0] as LSTM;
  assert.throws(() => l.forward(randT([3, 3, 2])), (e: unknown) =>
    e instanceof ShapeError && /l is stateful and carries the state of a batch of 2 sequences, but received a batch of 3/.test(e.message));
  l.resetStates();
  assert.equal(l.getStates(), null);
  l.forward(randT([3, 3, 2])); // any batch size after a reset
  assert.deepEqual(l.getStates()!.c!.shape, [3, 3]);
  // stateful training through fit() with a last partial batch changes the batch size
  const m = new Model(new Sequential([new SimpleRNN({ units: 2, stateful: true, name: 's' }), new Dense({ units: 1 })], { inputShape: [3, 1] }),
    { loss: 'mse', optimizer: new SGD({ learningRate: 0.01 }) });
  assert.throws(() => m.fit(randT([5, 3, 1]), randT([5, 1]), { epochs: 1, batchSize: 2, shuffle: false }), (e: unknown) =>
    e instanceof ShapeError && /s is stateful.*batch of 2 sequences, but received a batch of 1/.test(e.message));
});

test('spec: "simpleRNN" | "lstm" | "gru" | "embedding" | "masking" layers with returnSequences; dense applies at every step', () => {
  const spec = parseSpec({
    input: [10, 3],
    layers: [
      { type: 'masking' },
      { type: 'lstm', units: 8, returnSequences: true, name: 'l1' },
      { type: 'gru', units: 6, returnSequences: true },
      { type: 'simpleRNN', units: 4, returnSequences: true },
      { type: 'dense', units: 2, activation: 'softmax' },
    ],
    loss: 'crossEntropy',
    optimizer: { type: 'sgd', learningRate: 0.1 },
  });
  const net = buildNetwork(spec);
  assert.deepEqual(net.outputShape, [10, 2]);
  assert.deepEqual(net.layers.map((l) => l.type), ['masking', 'lstm', 'gru', 'simpleRNN', 'dense']);
  assert.deepEqual(net.layers[1].config().returnSequences, true);
  const e = buildNetwork(parseSpec({ input: [5], layers: [{ type: 'embedding', inputDim: 20, outputDim: 4 }, { type: 'lstm', units: 3 }], loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 } }));
  assert.deepEqual(e.outputShape, [3]);
  assert.throws(() => buildNetwork(parseSpec({ input: [5, 2], layers: [{ type: 'lstm', units: -1 }], loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 } })),
    (err: unknown) => err instanceof ConfigError && /layers\[0\] \(lstm\).*units must be an integer ≥ 1/.test(err.message));
});
