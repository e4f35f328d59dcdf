// A tensor the user holds never changes underneath them: outputs, gradients and weights taken
// out of a model keep their values while the model goes on training (buffer reuse inside the
// library must never hand a buffer the user can still see to another op), and two models trained
// interleaved give exactly what each gives alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conv2D, crossEntropy, Dense, Flatten, GRU, LSTM, MaxPool2D, Model, SGD, Sequential, SimpleRNN, Adam, tensor } from '../../src/index.js';
import {
  Add, captureTrace, DendriteError, Dropout, EarlyStopping, fitTruncated, GlobalAveragePooling1D, GraphNetwork, Input, keepTensor, Layer,
  LayerNormalization, MultiHeadAttention, tanh,
} from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { bufferPool } from '../../src/backend/buffer-pool.js';
import { randT } from '../helpers/gradcheck.js';

const copy = (t: Tensor) => Float32Array.from(t.data);

function mlp(seed: number): Model {
  const net = new Sequential([new Dense({ units: 12, activation: 'relu' }), new Dense({ units: 3, activation: 'softmax' })], { inputShape: [5], seed });
  return new Model(net, { loss: 'crossEntropy', optimizer: new Adam({ learningRate: 0.01 }), seed });
}

function cnn(seed: number): Model {
  const net = new Sequential([
    new Conv2D({ filters: 3, kernelSize: 3, activation: 'relu' }), new MaxPool2D({ poolSize: 2 }), new Flatten(),
    new Dense({ units: 2, activation: 'softmax' }),
  ], { inputShape: [1, 6, 6], seed });
  return new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.1, momentum: 0.9 }), seed });
}

function lstm(seed: number): Model {
  const net = new Sequential([new LSTM({ units: 4, returnSequences: false }), new Dense({ units: 2, activation: 'softmax' })], { inputShape: [3, 2], seed });
  return new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.1 }), seed });
}

const oneHot = (rows: number, classes: number) => tensor(Array.from({ length: rows * classes }, (_, i) => (i % classes === Math.floor(i / classes) % classes ? 1 : 0)), { shape: [rows, classes] });

for (const [name, make, xShape, classes] of [
  ['MLP (Adam)', mlp, [8, 5], 3], ['CNN (SGD momentum)', cnn, [8, 1, 6, 6], 2], ['LSTM', lstm, [8, 3, 2], 2],
] as const) {
  test(`${name}: predictions, losses, gradients and weights the user holds stay unchanged over 30 further steps`, () => {
    const model = make(3);
    const x = randT([...xShape], 11);
    const y = oneHot(xShape[0], classes);
    model.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false });
    // everything a user can take out of a trained model
    const held: [string, Tensor, Float32Array][] = [];
    const pred = model.predict(x);
    held.push(['prediction', pred, copy(pred)]);
    for (const [layer, ws] of Object.entries(model.net.getWeights())) {
      for (const [param, w] of Object.entries(ws)) held.push([`getWeights ${layer}.${param}`, w, copy(w)]);
    }
    // gradients of a backward pass the user ran by hand
    crossEntropy(model.net.forward(x), y).backward();
    model.net.parameters().forEach((p, i) => { if (p.grad) held.push([`gradient of parameter ${i}`, p.grad, copy(p.grad)]); });
    // the graph of a forward pass the user ran, and its backward
    const out = model.net.forward(x);
    const outCopy = copy(out);
    model.fit(x, y, { epochs: 15, batchSize: 4, shuffle: true });
    const pred2 = model.predict(x);
    assert.notDeepEqual(Array.from(pred2.data), Array.from(pred.data), 'the model went on learning');
    assert.ok(held.some(([w]) => w.startsWith('gradient')), 'gradients were held');
    for (const [what, t, was] of held) assert.deepEqual(t.data, was, `${what} changed underneath the user`);
    assert.deepEqual(out.data, outCopy, 'a forward output held by the user changed');
  });
}

test('two models trained interleaved, batch by batch, end bit-identical to each trained alone', () => {
  const x = randT([8, 5], 21);
  const y = oneHot(8, 3);
  const alone = [mlp(1), mlp(2)].map((m) => {
    for (let e = 0; e < 10; e++) m.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false });
    return m.predict(x).data;
  });
  const [a, b] = [mlp(1), mlp(2)];
  for (let e = 0; e < 10; e++) {
    a.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false });
    b.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false });
  }
  assert.deepEqual(a.predict(x).data, alone[0]);
  assert.deepEqual(b.predict(x).data, alone[1]);
});

test('fit ignores gradients left by an earlier backward() of the user: the same weights as without it', () => {
  const x = randT([8, 5], 31);
  const y = oneHot(8, 3);
  const [clean, stale] = [mlp(4), mlp(4)];
  crossEntropy(stale.net.forward(x), y).backward();
  assert.ok(stale.net.parameters().every((p) => p.grad !== null), 'the stale model holds gradients');
  for (const m of [clean, stale]) m.fit(x, y, { epochs: 3, batchSize: 4, shuffle: false });
  assert.deepEqual(stale.predict(x).data, clean.predict(x).data);
});

// --- the buffer pool (backend/buffer-pool.ts): what a step or a prediction gives back is never seen again

/** Runs `fn` with the pool keeping nothing (every release drops the buffer): the reference. */
async function withoutReuse<T>(fn: () => T | Promise<T>): Promise<T> {
  const cap = bufferPool.capBytes;
  bufferPool.clear();
  bufferPool.capBytes = 0;
  try {
    return await fn();
  } finally {
    bufferPool.capBytes = cap;
  }
}

const weightsOf = (m: Model) => Object.values(m.net.getWeights()).flatMap((ws) => Object.values(ws).flatMap((w) => Array.from(w.data)));

function residualGraph(seed: number): Model {
  const x = Input({ shape: [5] });
  const h = new Dense({ units: 8, activation: 'relu' }).apply(x);
  const f = new Dense({ units: 8 }).apply(h);
  const y = new Dense({ units: 3, activation: 'softmax' }).apply(new Add().apply([h, f]));
  return new Model(new GraphNetwork({ inputs: x, outputs: y, seed }), { loss: 'crossEntropy', optimizer: new Adam({ learningRate: 0.01 }), seed });
}

function regularised(seed: number): Model {
  const net = new Sequential([
    new Dense({ units: 8, activation: 'tanh' }), new Dropout({ rate: 0.3 }), new LayerNormalization(), new Dense({ units: 3, activation: 'softmax' }),
  ], { inputShape: [5], seed });
  return new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.1 }), seed });
}

function sequenceTagger(seed: number): Model {
  const net = new Sequential([new LSTM({ units: 4, returnSequences: true }), new Dense({ units: 2, activation: 'softmax' })], { inputShape: [6, 2], seed });
  return new Model(net, { loss: 'crossEntropy', optimizer: new Adam({ learningRate: 0.01 }), seed });
}

const seqTargets = (n: number, T: number) => tensor(Array.from({ length: n * T * 2 }, (_, i) => ((i >> 1) % 3 === 0 ? i % 2 : 1 - (i % 2))), { shape: [n, T, 2] });

/** Each run: a model trained some way, summed up as its weights and loss history. */
const runs: [string, () => number[] | Promise<number[]>][] = [
  ['a graph model (residual add)', () => {
    const m = residualGraph(5);
    m.fit(randT([12, 5], 41), oneHot(12, 3), { epochs: 4, batchSize: 4 });
    return [...weightsOf(m), ...m.history.epochs.map((e) => e.loss)];
  }],
  ['dropout and layer normalisation', () => {
    const m = regularised(6);
    m.fit(randT([12, 5], 42), oneHot(12, 3), { epochs: 4, batchSize: 4 });
    return [...weightsOf(m), ...m.history.epochs.map((e) => e.loss)];
  }],
  ['fitTruncated through an LSTM (the state carried between pieces)', () => {
    const m = sequenceTagger(7);
    fitTruncated(m, randT([4, 6, 2], 43), seqTargets(4, 6), { epochs: 3, batchSize: 2, truncation: 2 });
    return [...weightsOf(m), ...m.history.epochs.map((e) => e.loss)];
  }],
  ['GRU and simple RNN sequence taggers (recurrent dropout, an RNN over a GRU)', () => {
    const net = new Sequential([new GRU({ units: 4, returnSequences: true, recurrentDropout: 0.2 }), new SimpleRNN({ units: 3, returnSequences: true }),
      new Dense({ units: 2, activation: 'softmax' })], { inputShape: [6, 2], seed: 10 });
    const m = new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.2 }), seed: 10 });
    m.fit(randT([8, 6, 2], 48), seqTargets(8, 6), { epochs: 3, batchSize: 4 });
    return [...weightsOf(m), ...m.history.epochs.map((e) => e.loss)];
  }],
  ['early stopping restoring the best weights', () => {
    const m = mlp(8);
    const x = randT([12, 5], 44);
    m.fit(x, oneHot(12, 3), {
      epochs: 12, batchSize: 4, validationData: [randT([6, 5], 45), oneHot(6, 3)],
      callbacks: [new EarlyStopping({ patience: 1, restoreBestWeights: true })],
    });
    return [...weightsOf(m), ...m.history.epochs.map((e) => e.valLoss!), ...Array.from(m.predict(x).data)];
  }],
  ['two models through fitAsync at once', async () => {
    const [a, b] = [mlp(9), cnn(9)];
    await Promise.all([
      a.fitAsync(randT([8, 5], 46), oneHot(8, 3), { epochs: 3, batchSize: 2, yieldEveryMs: 0 }),
      b.fitAsync(randT([8, 1, 6, 6], 47), oneHot(8, 2), { epochs: 3, batchSize: 2, yieldEveryMs: 0 }),
    ]);
    return [...weightsOf(a), ...weightsOf(b)];
  }],
];

for (const [what, run] of runs) {
  test(`${what}: training with buffer reuse is bit-identical to training without it`, async () => {
    const reference = await withoutReuse(run);
    await run(); // warm the free lists
    assert.deepEqual(await run(), reference);
  });
}

test('predictions the user holds stay unchanged over further predictions (one batch and several)', () => {
  const model = mlp(12);
  const x = randT([10, 5], 51);
  const held = [model.predict(x), model.predict(x, { batchSize: 3 }), model.predictAll(randT([4, 5], 52))[0]];
  const was = held.map(copy);
  for (let i = 0; i < 5; i++) {
    model.predict(randT([10, 5], 60 + i));
    model.predict(randT([10, 5], 70 + i), { batchSize: 4 });
    model.evaluate(x, oneHot(10, 3));
  }
  held.forEach((t, i) => assert.deepEqual(t.data, was[i], `prediction ${i}`));
  // (to float32 rounding: a GEMM's sums may be ordered differently for another batch size)
  held[1].data.forEach((v, i) => assert.ok(Math.abs(v - held[0].data[i]) < 1e-6, 'batched and whole predictions agree'));
});

test('z and a traced during fit (setTracing, captureTrace in a callback) stay readable and unchanged', () => {
  const model = mlp(13);
  const x = randT([8, 5], 53);
  const y = oneHot(8, 3);
  const net = model.net as Sequential;
  net.setTracing(true);
  const held: [Tensor, Float32Array][] = [];
  const hold = (t: Tensor | null | undefined) => { if (t) held.push([t, copy(t)]); };
  const traces: ReturnType<typeof captureTrace>[] = [];
  model.fit(x, y, {
    epochs: 3, batchSize: 4, callbacks: [{
      onBatchEnd: () => net.layers.forEach((l) => { hold(l.record?.z); hold(l.record?.a); hold(l.record?.z?.grad); }),
      onEpochEnd: () => { traces.push(captureTrace(model, x, y)); },
    }],
  });
  net.setTracing(false);
  for (const t of traces) for (const l of t.layers) { hold(l.z); hold(l.a); hold(l.delta); hold(l.input); }
  model.fit(x, y, { epochs: 3, batchSize: 4 });
  assert.ok(held.length > 30);
  for (const [t, was] of held) assert.deepEqual(t.data, was);
});

/** A layer that keeps its last output, with keepTensor (as the library's own layers do) or without. */
class KeepsOutput extends Layer {
  readonly type = 'keepsOutput';
  last: Tensor | null = null;
  constructor(private readonly keep: boolean) {
    super(undefined);
  }
  protected init(inputShape: readonly number[]): readonly number[] {
    return inputShape;
  }
  forward(x: Tensor): Tensor {
    const out = tanh(x);
    this.last = this.keep ? keepTensor(out) : out;
    return out;
  }
  config(): Record<string, unknown> {
    return { type: this.type };
  }
}

test('a value a layer keeps from a training step: valid with keepTensor, a DendriteError to read without (never another op\'s values)', () => {
  for (const keep of [true, false]) {
    const layer = new KeepsOutput(keep);
    const net = new Sequential([new Dense({ units: 4 }), layer, new Dense({ units: 3, activation: 'softmax' })], { inputShape: [5], seed: 2 });
    const model = new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.1 }) });
    const x = randT([8, 5], 54);
    model.fit(x, oneHot(8, 3), { epochs: 1, batchSize: 4 });
    const last = layer.last!;
    if (keep) {
      const was = copy(last);
      model.fit(x, oneHot(8, 3), { epochs: 2, batchSize: 4 });
      assert.deepEqual(last.data, was);
    } else {
      assert.equal(last.isReleased, true);
      assert.throws(() => last.data, (e: unknown) => e instanceof DendriteError && /read after the step/.test(e.message));
    }
  }
});

test('attention weights kept during fit (keepWeights) stay unchanged over further steps', () => {
  const attention = new MultiHeadAttention({ numHeads: 2 });
  attention.keepWeights = true;
  const net = new Sequential([attention, new GlobalAveragePooling1D(), new Dense({ units: 2, activation: 'softmax' })], { inputShape: [3, 4], seed: 3 });
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.1 }) });
  const x = randT([4, 3, 4], 55);
  model.fit(x, oneHot(4, 2), { epochs: 1, batchSize: 2 });
  const w = attention.lastWeights!;
  const was = copy(w);
  model.fit(x, oneHot(4, 2), { epochs: 3, batchSize: 2 });
  assert.notEqual(attention.lastWeights, w);
  assert.deepEqual(w.data, was);
});
