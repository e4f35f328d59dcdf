import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Activation, BatchNorm, ConfigError, Dense, Model, SGD, Sequential, ShapeError, batchNormInference, batchNormTrain,
  buildNetwork, parseSpec, tensor,
} from '../../src/index.js';
import { assertClose, gradCheck, randT } from '../helpers/gradcheck.js';

test('batch norm (training): per-feature batch statistics on hand-checkable numbers', () => {
  // feature 0: 1, 3 → μ 2, σ² 1; feature 1: 2, 2 → μ 2, σ² 0
  const { y, mean, variance } = batchNormTrain(tensor([[1, 2], [3, 2]]), tensor([2, 1]), tensor([0.5, -1]), 0);
  assert.deepEqual(Array.from(mean), [2, 2]);
  assert.deepEqual(Array.from(variance), [1, 0]);
  // ε = 0 with σ² = 0 would divide by zero; feature 0 only
  assertClose([y.data[0], y.data[2]], [2 * -1 + 0.5, 2 * 1 + 0.5], 1e-6, 'y');
  const r = batchNormTrain(tensor([[1, 2], [3, 2]]), null, null, 1e-3);
  assertClose(r.y.data, [-1 / Math.sqrt(1.001), 0, 1 / Math.sqrt(1.001), 0], 1e-6, 'x̂ with ε');
});

test('batch norm (training): per-channel statistics of NCHW images', () => {
  // channel 0 holds 0..3 and 4..7 over two images (μ 3.5), channel 1 is constant 1
  const x = tensor([[[[0, 1], [2, 3]], [[1, 1], [1, 1]]], [[[4, 5], [6, 7]], [[1, 1], [1, 1]]]]);
  const { mean, variance, y } = batchNormTrain(x, null, null, 1e-5);
  assertClose(Array.from(mean), [3.5, 1], 1e-12, 'μ');
  assertClose(Array.from(variance), [5.25, 0], 1e-12, 'σ²');
  assertClose([y.get(1, 0, 1, 1)], [3.5 / Math.sqrt(5.25 + 1e-5)], 1e-6, 'y');
  assert.equal(y.get(0, 1, 0, 0), 0);
});

test('batch norm (training mode) gradients match finite differences for [N, F] and [N, C, H, W]', () => {
  gradCheck((x, g, b) => batchNormTrain(x, g, b, 1e-3).y, [randT([5, 3], 1, -2, 2), randT([3], 2, 0.5, 1.5), randT([3], 3)], { eps: 1e-2, atol: 3e-3, rtol: 3e-2 });
  gradCheck((x, g, b) => batchNormTrain(x, g, b, 1e-3).y, [randT([2, 2, 3, 3], 4, -2, 2), randT([2], 5, 0.5, 1.5), randT([2], 6)], { eps: 1e-2, atol: 3e-3, rtol: 3e-2 });
  gradCheck((x) => batchNormTrain(x, null, null, 1e-3).y, [randT([4, 2], 7, -2, 2)], { eps: 1e-2, atol: 3e-3, rtol: 3e-2 });
  const m = tensor([0.1, -0.2]);
  const v = tensor([0.5, 2]);
  gradCheck((x, g, b) => batchNormInference(x, m, v, g, b, 1e-3), [randT([3, 2], 8), randT([2], 9), randT([2], 10)]);
});

test('BatchNorm layer: running statistics update in training, are used in inference, and save with the weights', () => {
  const net = new Sequential([new BatchNorm({ momentum: 0.5, name: 'bn' })], { inputShape: [2] });
  const bn = net.layers[0] as BatchNorm;
  const x = tensor([[1, 10], [3, 30]]); // μ = (2, 20), σ² = (1, 100)
  net.forward(x);
  assertClose(bn.movingMean.data, [1, 10], 1e-6, 'running mean after 1 step');
  assertClose(bn.movingVariance.data, [1, 50.5], 1e-5, 'running var after 1 step');
  net.forward(x);
  assertClose(bn.movingMean.data, [1.5, 15], 1e-6, 'running mean after 2 steps');
  const w = net.getWeights();
  assert.deepEqual(Object.keys(w.bn).sort(), ['beta', 'gamma', 'movingMean', 'movingVariance']);
  // inference: (x − running mean)/√(running var + ε)
  net.eval();
  const y = net.forward(tensor([[1.5, 15]]));
  assertClose(y.data, [0, 0], 1e-6, 'y at the running mean');
  const before = Array.from(bn.movingMean.data);
  net.forward(tensor([[100, 100]]));
  assert.deepEqual(Array.from(bn.movingMean.data), before, 'inference leaves the statistics alone');
  // restoring weights restores the statistics
  const other = new Sequential([new BatchNorm({ momentum: 0.5, name: 'bn' })], { inputShape: [2] });
  other.setWeights(w, true);
  assert.deepEqual(Array.from((other.layers[0] as BatchNorm).movingVariance.data), Array.from(bn.movingVariance.data));
  // the statistics are state, not trainable parameters
  assert.deepEqual(net.namedParameters().map(([n]) => n), ['bn.gamma', 'bn.beta']);
});

test('BatchNorm in a network trains (images and features) and is built from a spec', () => {
  const net = new Sequential([
    new Dense({ units: 8, name: 'h' }), new BatchNorm({ name: 'bn' }), new Activation({ activation: 'relu' }),
    new Dense({ units: 1, name: 'o' }),
  ], { inputShape: [3], seed: 4 });
  const model = new Model(net, { loss: 'mse', optimizer: new SGD({ learningRate: 0.05 }) });
  const xs = randT([64, 3], 1);
  const ys = tensor(Array.from({ length: 64 }, (_, i) => [xs.data[3 * i] * 2 - xs.data[3 * i + 2]]));
  const h = model.fit(xs, ys, { epochs: 40, batchSize: 16 });
  assert.ok(model.evaluate(xs, ys).loss < 0.3 * h.epochs[0].loss);
  const img = new Sequential([new BatchNorm({ name: 'bn' })], { inputShape: [2, 3, 3] });
  assert.deepEqual(img.forward(randT([4, 2, 3, 3], 2)).shape, [4, 2, 3, 3]);
  assert.deepEqual(img.getWeights().bn.gamma.shape, [2]);
  const spec = parseSpec({ input: [4], layers: [{ type: 'batchNormalization', momentum: 0.9, center: false }], loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 } });
  const bn = buildNetwork(spec).layers[0] as BatchNorm;
  assert.equal(bn.momentum, 0.9);
  assert.equal(bn.beta, null);
  assert.deepEqual(bn.config(), { type: 'batchNorm', name: 'batchNorm_1', momentum: 0.9, epsilon: 0.001, center: false, scale: true });
});

test('BatchNorm: bad options and shapes are clear errors', () => {
  assert.throws(() => new BatchNorm({ momentum: 1 }), (e: unknown) => e instanceof ConfigError && /batchNorm\.momentum must be a number in \[0, 1\), received 1/.test(e.message));
  assert.throws(() => new BatchNorm({ epsilon: 0, name: 'bn1' }), (e: unknown) => e instanceof ConfigError && /bn1\.epsilon must be a number > 0, received 0/.test(e.message));
  assert.throws(() => new BatchNorm({ center: 'yes' as unknown as boolean }), (e: unknown) => e instanceof ConfigError && /center must be true or false/.test(e.message));
  assert.throws(() => new Sequential([new BatchNorm({ name: 'bn' })], { inputShape: [2, 3] }),
    (e: unknown) => e instanceof ShapeError && /bn expects inputs \[N, F\] or \[N, C, H, W\], received \[N, 2, 3\]/.test(e.message));
  const net = new Sequential([new BatchNorm({ name: 'bn' })], { inputShape: [2] });
  assert.throws(() => net.forward(tensor([[1, 2, 3]])), (e: unknown) => e instanceof ShapeError && /bn expects input \[\*, 2\], received \[1, 3\]/.test(e.message));
  assert.throws(() => batchNormTrain(tensor([[1, 2]]), tensor([1, 2, 3]), null, 1e-3),
    (e: unknown) => e instanceof ShapeError && /gamma must have shape \[2\] \(one per channel\), received \[3\]/.test(e.message));
});
