// Model.predict runs a network made of Dense layers alone as one chain of kernels on raw buffers
// (Dense.forwardChain): the same values as the layers' forward passes, bit for bit; the layers'
// forward wherever a layer is anything else; never a stale weight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dense, Dropout, Model, SGD, Sequential, ShapeError, mul, noGrad, tensor } from '../../src/index.js';
import type { ActivationLike, Tensor } from '../../src/index.js';
import { randT } from '../helpers/gradcheck.js';

function model(net: Sequential): Model {
  return new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.5 }), seed: 1 });
}

const forward = (net: Sequential, x: Tensor) => Float32Array.from(noGrad(() => net.forward(x)).data);

test('predict through the chain on hand-checkable numbers (relu, then softmax)', () => {
  const net = new Sequential([new Dense({ units: 2, activation: 'relu' }), new Dense({ units: 2, activation: 'softmax' })], { inputShape: [2] });
  // h = relu([1, 1]·W1ᵀ + b1) = relu([3.5, −7]) = [3.5, 0]; z = [3.5, 7]; p = softmax(z)
  net.setWeights({ dense_1: { weight: [[1, 2], [-3, -4]], bias: [0.5, 0] }, dense_2: { weight: [[1, 1], [2, -1]], bias: [0, 0] } });
  const p = model(net).predict(tensor([[1, 1]]));
  assert.deepEqual(p.shape, [1, 2]);
  const e = Math.exp(3.5);
  assert.ok(Math.abs(p.data[0] - 1 / (1 + e)) < 1e-7 && Math.abs(p.data[1] - e / (1 + e)) < 1e-7, `${[...p.data]}`);
});

test('the chain gives the layers\' forward bit for bit: activations, no bias, one row, several, none', () => {
  const acts: ActivationLike[][] = [
    ['relu', 'tanh', { type: 'leakyRelu', alpha: 0.2 }, 'softmax'], ['logistic', 'linear'], ['gelu'], ['softmax', 'relu'],
  ];
  acts.forEach((as, s) => {
    const net = new Sequential(as.map((activation, i) => new Dense({ units: 3 + i, activation, useBias: i !== 1 })), { inputShape: [7], seed: s });
    const m = model(net);
    for (const rows of [1, 6, 0]) {
      const x = randT([rows, 7], 10 + rows);
      const chain = noGrad(() => Dense.forwardChain(net.layers, x));
      assert.ok(chain, `${as.join(', ')}: the chain ran`);
      assert.deepEqual(chain.data, forward(net, x), `${as.join(', ')}, ${rows} rows`);
      assert.deepEqual(m.predict(x).data, forward(net, x), `${as.join(', ')}, predict, ${rows} rows`);
    }
    assert.deepEqual(m.predict(randT([9, 7], 3), { batchSize: 4 }).data, forward(net, randT([9, 7], 3)), 'in batches');
  });
});

test('the chain declines what it cannot run as kernels alone, and predict takes the layers\' forward', () => {
  const x = randT([2, 4], 5);
  const dense = () => new Dense({ units: 3, activation: 'relu' });
  const declines = (net: Sequential, xx = x) => noGrad(() => Dense.forwardChain(net.layers, xx)) === null;
  // recording gradients
  const plain = new Sequential([dense(), dense()], { inputShape: [4] });
  assert.equal(Dense.forwardChain(plain.layers, x), null);
  // another layer, PReLU, threshold, a sequence input, the wrong width
  assert.ok(declines(new Sequential([dense(), new Dropout({ rate: 0.5 }), dense()], { inputShape: [4] })));
  assert.ok(declines(new Sequential([new Dense({ units: 3, activation: 'prelu' })], { inputShape: [4] })));
  assert.ok(declines(new Sequential([new Dense({ units: 3, activation: 'threshold' })], { inputShape: [4] })));
  assert.ok(declines(new Sequential([dense()], { inputShape: [2, 4] }), randT([1, 2, 4], 6)));
  assert.ok(declines(plain, randT([2, 5], 7)));
  assert.throws(() => model(plain).predict(randT([2, 5], 7)),
    (e: unknown) => e instanceof ShapeError && e.message === 'dense_1 expects input [*, 4], received [2, 5]');
  // a subclass, and a forward replaced on the instance: their own forward runs
  class Doubled extends Dense {
    override forward(xx: Tensor): Tensor {
      return mul(super.forward(xx), 2);
    }
  }
  const sub = new Sequential([new Doubled({ units: 3, activation: 'relu' })], { inputShape: [4] });
  assert.ok(declines(sub));
  assert.deepEqual(model(sub).predict(x).data, forward(sub, x));
  const patched = new Sequential([dense()], { inputShape: [4] });
  const layer = patched.layers[0] as Dense;
  const own = layer.forward.bind(layer);
  layer.forward = (xx: Tensor) => mul(own(xx), -1);
  assert.ok(declines(patched));
  assert.ok(model(patched).predict(x).data.every((v) => v <= 0), 'the replaced forward ran');
  // tracing: predict records z and a as the layers' forward does
  plain.setTracing(true);
  assert.ok(declines(plain));
  model(plain).predict(x);
  assert.deepEqual(plain.layers[1].record!.a!.shape, [2, 3]);
});

test('predict never serves a stale weight: after setWeights, a write into a weight, and training', () => {
  const net = new Sequential([new Dense({ units: 5, activation: 'relu' }), new Dense({ units: 3, activation: 'softmax' })], { inputShape: [4], seed: 3 });
  const m = model(net);
  // 300 rows: the native backend multiplies by its packed copy of each weight from 256 rows on
  const x = randT([300, 4], 8);
  const before = Float32Array.from(m.predict(x).data);
  const d1 = net.layers[0] as Dense;
  // through setWeights
  net.setWeights({ dense_1: { weight: Array.from({ length: 5 }, (_, j) => [j, -1, 0.5, 2]) } });
  const afterSet = Float32Array.from(m.predict(x).data);
  assert.notDeepEqual(afterSet, before);
  assert.deepEqual(afterSet, forward(net, x));
  // a write straight into the weight's storage, and into the bias
  d1.weight.data[0] += 1;
  d1.bias!.data[4] -= 3;
  const afterWrite = Float32Array.from(m.predict(x).data);
  assert.notDeepEqual(afterWrite, afterSet);
  assert.deepEqual(afterWrite, forward(net, x));
  // training steps
  const y = tensor(Array.from({ length: 300 }, (_, i) => [0, 1, 2].map((c) => (c === i % 3 ? 1 : 0))));
  m.fit(x, y, { epochs: 2, batchSize: 100, shuffle: false });
  const afterFit = m.predict(x).data;
  assert.notDeepEqual(afterFit, afterWrite);
  assert.deepEqual(afterFit, forward(net, x));
});
