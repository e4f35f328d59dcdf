// A tensor the user holds never changes underneath them: outputs, gradients and weights taken
// out of a model keep their values while the model goes on training (buffer reuse inside the
// library must never hand a buffer the user can still see to another op), and two models trained
// interleaved give exactly what each gives alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conv2D, crossEntropy, Dense, Flatten, LSTM, MaxPool2D, Model, SGD, Sequential, Adam, tensor } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
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
