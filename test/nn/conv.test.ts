import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tensor, Sequential, Conv2D, Conv1D, MaxPool2D, AvgPool2D, MaxPool1D, AvgPool1D, Flatten, Dense, Model, SGD,
  parseSpec, buildModel, buildNetwork, LAYER_FACTORIES, ShapeError, ConfigError, sum, mul,
} from '../../src/index.js';
import type { Layer, Tensor } from '../../src/index.js';
import { gradCheck, randT, assertClose } from '../helpers/gradcheck.js';

const isConfig = (re: RegExp) => (e: unknown) => e instanceof ConfigError && re.test(e.message);
const isShape = (re: RegExp) => (e: unknown) => e instanceof ShapeError && re.test(e.message);

test('Conv2D: output shape, parameter names/shapes/count, NCHW layout of weight [filters, channels, kh, kw]', () => {
  const net = new Sequential([new Conv2D({ filters: 4, kernelSize: [3, 2], strides: [2, 1], padding: 'same' })], { inputShape: [3, 7, 6] });
  const l = net.layers[0];
  assert.equal(l.name, 'conv2d_1');
  assert.deepEqual(l.outputShape, [4, 4, 6]);
  const w = net.getWeights().conv2d_1;
  assert.deepEqual(w.weight.shape, [4, 3, 3, 2]);
  assert.deepEqual(w.bias.shape, [4]);
  assert.equal(net.paramCount(), 4 * 3 * 3 * 2 + 4);
  const noBias = new Sequential([new Conv2D({ filters: 2, kernelSize: 3, useBias: false })], { inputShape: [1, 5, 5] });
  assert.deepEqual(Object.keys(noBias.getWeights().conv2d_1), ['weight']);
  // weight[f][c][i][j] multiplies x[c][oy + i][ox + j]
  const one = new Sequential([new Conv2D({ filters: 1, kernelSize: 2, name: 'c' })], { inputShape: [2, 2, 2] });
  one.setWeights({ c: { weight: [[[[0, 0], [0, 0]], [[0, 0], [1, 0]]]], bias: [0] } });
  assert.deepEqual(one.forward(tensor([[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]])).toArray(), [[[[7]]]]);
});

test('Conv2D initialisers use fans n_in = channels·kh·kw and n_out = filters·kh·kw', () => {
  const variance = (t: Tensor) => {
    let s = 0;
    for (const v of t.data) s += v * v;
    return s / t.size;
  };
  const he = new Sequential([new Conv2D({ filters: 64, kernelSize: 5, kernelInitializer: 'heNormal', biasInitializer: { type: 'constant', value: 0.1 } })], { inputShape: [8, 9, 9], seed: 3 });
  const hw = he.getWeights().conv2d_1;
  assert.ok(Math.abs(variance(hw.weight) / (2 / (8 * 25)) - 1) < 0.05, `He variance ${variance(hw.weight)}`);
  assert.deepEqual(Array.from(hw.bias.data), new Array(64).fill(0.1).map(Math.fround));
  const gl = new Sequential([new Conv2D({ filters: 16, kernelSize: 3 })], { inputShape: [4, 5, 5], seed: 4 });
  const gw = gl.getWeights().conv2d_1.weight;
  const limit = Math.sqrt(6 / (4 * 9 + 16 * 9)); // glorotUniform default
  assert.ok(gw.data.every((v) => Math.abs(v) <= limit));
  assert.ok(Math.abs(variance(gw) / (2 / (4 * 9 + 16 * 9)) - 1) < 0.15);
});

test('Conv2D layer gradients match finite differences (relu, logistic and per-filter prelu)', () => {
  for (const activation of ['logistic', 'tanh', 'prelu'] as const) {
    const net = new Sequential([new Conv2D({ filters: 3, kernelSize: 3, strides: 2, padding: 1, activation, preluInit: 0.3 })], { inputShape: [2, 5, 5], seed: 2 });
    const l = net.layers[0] as Conv2D;
    const params = [l.weight, l.bias!, ...(l.lambda ? [l.lambda] : [])];
    gradCheck((x) => net.forward(x), [randT([2, 2, 5, 5], 5), ...params]);
  }
  const relu = new Sequential([new Conv2D({ filters: 2, kernelSize: 2, activation: 'relu', biasInitializer: { type: 'constant', value: 0.3 } })], { inputShape: [1, 4, 4], seed: 1 });
  const rl = relu.layers[0] as Conv2D;
  // a small step so no z crosses relu's kink at 0
  gradCheck((x) => relu.forward(x), [randT([2, 1, 4, 4], 8, 0.2, 1), rl.weight, rl.bias!], { eps: 1e-3 });
});

test('Conv2D prelu has one slope per filter: a = z for z > 0, λ_f·z otherwise', () => {
  const net = new Sequential([new Conv2D({ filters: 2, kernelSize: 1, activation: 'prelu', name: 'p' })], { inputShape: [1, 1, 2] });
  net.setWeights({ p: { weight: [[[[1]]], [[[-1]]]], bias: [0, 0], lambda: [0.5, 0.25] } });
  assert.deepEqual(net.getWeights().p.lambda.shape, [2]);
  assert.deepEqual(net.forward(tensor([[[[-2, 4]]]])).toArray(), [[[[-1, 4]], [[2, -1]]]]);
});

test('Conv1D: shapes, forward and gradients', () => {
  const net = new Sequential([new Conv1D({ filters: 2, kernelSize: 3, padding: 'same', name: 'c' })], { inputShape: [1, 5] });
  assert.deepEqual(net.layers[0].outputShape, [2, 5]);
  assert.deepEqual(net.getWeights().c.weight.shape, [2, 1, 3]);
  net.setWeights({ c: { weight: [[[1, 1, 1]], [[-1, 0, 1]]], bias: [0, 1] } });
  assert.deepEqual(net.forward(tensor([[[1, 2, 3, 4, 5]]])).toArray(), [[[3, 6, 9, 12, 9], [3, 3, 3, 3, -3]]]);
  const s2 = new Sequential([new Conv1D({ filters: 3, kernelSize: 4, strides: 2, activation: 'tanh' })], { inputShape: [2, 11], seed: 5 });
  assert.deepEqual(s2.layers[0].outputShape, [3, 4]);
  const l = s2.layers[0] as Conv1D;
  gradCheck((x) => s2.forward(x), [randT([2, 2, 11], 3), l.weight, l.bias!]);
});

test('pooling layers: shapes (default stride = pool size) and forward', () => {
  const net = new Sequential([new MaxPool2D(), new AvgPool2D({ poolSize: [1, 2], strides: 1 })], { inputShape: [2, 5, 6] });
  assert.deepEqual(net.layers.map((l) => l.outputShape), [[2, 2, 3], [2, 2, 2]]);
  assert.equal(net.paramCount(), 0);
  const x = tensor([[[[1, 5], [3, 2]]]]);
  const mp = new Sequential([new MaxPool2D({ poolSize: 2 })], { inputShape: [1, 2, 2] });
  assert.deepEqual(mp.forward(x).toArray(), [[[[5]]]]);
  const ap = new Sequential([new AvgPool2D({ poolSize: 2 })], { inputShape: [1, 2, 2] });
  assert.deepEqual(ap.forward(x).toArray(), [[[[2.75]]]]);
  const seq = new Sequential([new MaxPool1D({ poolSize: 2 }), new AvgPool1D({ poolSize: 2, strides: 1 })], { inputShape: [1, 7] });
  assert.deepEqual(seq.layers.map((l) => l.outputShape), [[1, 3], [1, 2]]);
  assert.deepEqual(seq.forward(tensor([[[1, 4, 2, 2, 9, 0, 7]]])).toArray(), [[[3, 5.5]]]);
});

test('Flatten: [C, H, W] → [C·H·W] in row-major order; gradients pass through', () => {
  const net = new Sequential([new Flatten()], { inputShape: [2, 2, 2] });
  assert.deepEqual(net.layers[0].outputShape, [8]);
  assert.deepEqual(net.forward(tensor([[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]])).toArray(), [[1, 2, 3, 4, 5, 6, 7, 8]]);
  gradCheck((x) => net.forward(x), [randT([3, 2, 2, 2], 1)]);
});

test('pooling and flatten layers pass gradients like their ops (conv → pool → flatten → dense)', () => {
  const net = new Sequential([
    new Conv2D({ filters: 2, kernelSize: 3, activation: 'tanh' }),
    new AvgPool2D({ poolSize: 2 }),
    new Flatten(),
    new Dense({ units: 2 }),
  ], { inputShape: [1, 6, 6], seed: 9 });
  gradCheck((x) => net.forward(x), [randT([2, 1, 6, 6], 2), ...net.parameters()]);
});

test('trace: z, a and δ of conv and pooling layers in the layer\'s own shape; flatten records a', () => {
  const net = new Sequential([
    new Conv2D({ filters: 2, kernelSize: 3, activation: 'relu', biasInitializer: { type: 'constant', value: 0.1 } }),
    new MaxPool2D(),
    new Flatten(),
    new Dense({ units: 1 }),
  ], { inputShape: [1, 6, 6], seed: 3 });
  net.setTracing(true);
  const out = net.forward(randT([3, 1, 6, 6], 4));
  sum(mul(out, out)).backward();
  const [conv, pool, flat] = net.layers.map((l) => l.record!);
  assert.deepEqual(conv.z!.shape, [3, 2, 4, 4]);
  assert.deepEqual(conv.a.shape, [3, 2, 4, 4]);
  assert.deepEqual(conv.z!.grad!.shape, [3, 2, 4, 4]);
  assert.deepEqual(pool.z!.shape, [3, 2, 2, 2]);
  assert.deepEqual(pool.z!.grad!.shape, [3, 2, 2, 2]);
  assert.equal(flat.z, undefined);
  assert.deepEqual(flat.a.shape, [3, 8]);
  // δ of a conv neuron = δ of the pooling neuron it fed when it was the max, else 0 (times relu')
  const zc = conv.z!.data;
  const dc = conv.z!.grad!.data;
  const ac = conv.a.data;
  const dp = pool.z!.grad!.data;
  for (let b = 0; b < 3; b++) for (let f = 0; f < 2; f++) for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) {
    const idx = [0, 1].flatMap((u) => [0, 1].map((v) => ((b * 2 + f) * 4 + 2 * i + u) * 4 + 2 * j + v));
    const win = idx.map((k) => ac[k]);
    const at = idx[win.indexOf(Math.max(...win))];
    for (const k of idx) {
      const want = k === at && zc[k] > 0 ? dp[((b * 2 + f) * 2 + i) * 2 + j] : 0;
      assertClose([dc[k]], [want], 1e-6, `δ[${k}]`);
    }
  }
});

test('bad configurations are ConfigErrors naming the layer, the expected and the received value', () => {
  const build = (l: Layer, input: number[]) => new Sequential([l], { inputShape: input });
  assert.throws(() => build(new Conv2D({ filters: 2, kernelSize: 7 }), [1, 6, 6]),
    isConfig(/conv2d_1: kernel 7×7 is larger than the input 6×6; expected a kernel of at most 6×6, received 7×7/));
  assert.throws(() => build(new Conv2D({ filters: 2, kernelSize: [9, 3], padding: 1, name: 'edges' }), [1, 6, 6]),
    isConfig(/edges: kernel 9×3 is larger than the input 6×6 padded by \[top 1, bottom 1, left 1, right 1\] to 8×8; expected a kernel of at most 8×8, received 9×3/));
  assert.throws(() => new Conv2D({ filters: 2, kernelSize: 3, strides: 0, name: 'c1' }),
    isConfig(/c1\.strides must be an integer ≥ 1 or a pair \[vertical, horizontal\] of them, received 0/));
  assert.throws(() => new Conv2D({ filters: 2, kernelSize: 3, strides: [1, -1] }), isConfig(/conv2d\.strides .* received \[1,-1\]/));
  assert.throws(() => new Conv2D({ filters: 2, kernelSize: 3, strides: 1.5 }), isConfig(/conv2d\.strides .* received 1\.5/));
  assert.throws(() => new Conv2D({ filters: 0, kernelSize: 3 }), isConfig(/conv2d\.filters must be an integer ≥ 1, received 0/));
  assert.throws(() => new Conv2D({ filters: 1, kernelSize: 0 }), isConfig(/conv2d\.kernelSize must be an integer ≥ 1 or a pair/));
  assert.throws(() => new Conv2D({ filters: 1, kernelSize: 3, padding: 'full' as 'same' }),
    isConfig(/conv2d\.padding must be "valid", "same", an integer ≥ 0 or \[top, bottom, left, right\] integers ≥ 0, received "full"/));
  assert.throws(() => new Conv2D({ filters: 1, kernelSize: 3, activation: 'softmax' }), isConfig(/conv2d\.activation: softmax is not supported on feature maps/));
  assert.throws(() => new Conv2D({ filters: 1, kernelSize: 3, dataFormat: 'channelsLast' as 'channelsFirst' }), isConfig(/only "channelsFirst" \(NCHW\) is supported, received "channelsLast"/));
  assert.throws(() => new Conv2D({ filters: 1, kernelSize: 3, stride: 2 } as never), isConfig(/conv2d\.stride: unknown key; did you mean "strides"\? \(valid keys: .*strides/));
  assert.throws(() => new Conv1D({ filters: 1, kernelSize: 3, strides: 0 }), isConfig(/conv1d\.strides must be an integer ≥ 1, received 0/));
  assert.throws(() => build(new Conv1D({ filters: 1, kernelSize: 6, name: 's' }), [2, 5]),
    isConfig(/s: kernel width 6 is larger than the input length 5; expected a kernel of at most 5, received 6/));
  assert.throws(() => new MaxPool2D({ poolSize: 0 }), isConfig(/maxPool2d\.poolSize must be an integer ≥ 1 or a pair \[vertical, horizontal\] of them, received 0/));
  assert.throws(() => new AvgPool2D({ poolSize: 2, strides: 0, name: 'p' }), isConfig(/p\.strides must be an integer ≥ 1/));
  assert.throws(() => new MaxPool1D({ poolSize: 0 }), isConfig(/maxPool1d\.poolSize must be an integer ≥ 1, received 0/));
  assert.throws(() => new MaxPool2D({ padding: 'full' as 'same' }), isConfig(/maxPool2d\.padding must be "valid" \(windows inside the input\) or "same", received "full"/));
  assert.throws(() => build(new MaxPool2D({ poolSize: 3 }), [1, 2, 5]),
    isConfig(/maxPool2d_1: pool window 3×3 is larger than the input 2×5; expected a window of at most 2×5, received 3×3/));
  assert.throws(() => build(new AvgPool1D({ poolSize: 4 }), [1, 3]), isConfig(/avgPool1d_1: pool window 4 is larger than the input length 3/));
});

test('images whose channel count or size does not match are ShapeErrors naming the layer', () => {
  const net = new Sequential([new Conv2D({ filters: 2, kernelSize: 3, name: 'c' }), new MaxPool2D({ name: 'p' })], { inputShape: [3, 6, 6] });
  const conv = net.layers[0];
  assert.throws(() => conv.forward(randT([2, 1, 6, 6])), isShape(/c expects images \[\*, 3, 6, 6\], received \[2, 1, 6, 6\] \(channel count 1 instead of 3\)/));
  assert.throws(() => conv.forward(randT([2, 3, 5, 6])), isShape(/c expects images \[\*, 3, 6, 6\], received \[2, 3, 5, 6\] \(size 5×6 instead of 6×6\)/));
  assert.throws(() => net.layers[1].forward(randT([1, 3, 4, 4])), isShape(/p expects input \[\*, 2, 4, 4\], received \[1, 3, 4, 4\]/));
  assert.throws(() => net.forward(randT([2, 1, 6, 6])), isShape(/c expects input \[\*, 3, 6, 6\], received \[2, 1, 6, 6\]/));
  assert.throws(() => new Sequential([new Conv2D({ filters: 1, kernelSize: 3 })], { inputShape: [28, 28] }),
    isShape(/conv2d_1 expects images \[channels, height, width\], received input shape \[28, 28\]/));
  assert.throws(() => new Sequential([new Conv1D({ filters: 1, kernelSize: 3 })], { inputShape: [1, 8, 8] }),
    isShape(/conv1d_1 expects sequences \[channels, length\], received input shape \[1, 8, 8\]/));
  const c1 = new Sequential([new Conv1D({ filters: 1, kernelSize: 3, name: 's' })], { inputShape: [2, 8] });
  assert.throws(() => c1.layers[0].forward(randT([1, 1, 8])), isShape(/s expects sequences \[\*, 2, 8\], received \[1, 1, 8\] \(channel count 1 instead of 2\)/));
  assert.throws(() => new Sequential([new Conv2D({ filters: 1, kernelSize: 3 }), new Dense({ units: 2 })], { inputShape: [1, 5, 5] }),
    isShape(/dense_1 expects a flat input .*received \[1, 3, 3\] \(add a flatten layer first\)/));
});

test('spec: TF.js layer types and keys (with the maxPooling2d/averagePooling2d aliases) build the same network', () => {
  const spec = parseSpec({
    input: [1, 8, 8],
    layers: [
      { type: 'conv2d', filters: 4, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu', kernelInitializer: 'heNormal', name: 'c1' },
      { type: 'maxPooling2d', poolSize: 2 },
      { type: 'conv2d', filters: 6, kernelSize: [3, 3], padding: 'valid', activation: 'relu', biasInitializer: { type: 'constant', value: 0.01 } },
      { type: 'averagePooling2d', poolSize: [2, 2], strides: 1 },
      { type: 'flatten' },
      { type: 'dense', units: 3, activation: 'softmax' },
    ],
    loss: 'crossEntropy',
    optimizer: { type: 'sgd', learningRate: 0.1 },
  });
  const model = buildModel(spec);
  assert.deepEqual(model.net.layers.map((l) => [l.name, l.type, l.outputShape]), [
    ['c1', 'conv2d', [4, 8, 8]], ['maxPool2d_1', 'maxPool2d', [4, 4, 4]], ['conv2d_1', 'conv2d', [6, 2, 2]],
    ['avgPool2d_1', 'avgPool2d', [6, 1, 1]], ['flatten_1', 'flatten', [6]], ['dense_1', 'dense', [3]],
  ]);
  for (const t of ['conv2d', 'conv1d', 'maxPool2d', 'avgPool2d', 'maxPooling2d', 'averagePooling2d', 'maxPool1d', 'avgPool1d', 'flatten']) {
    assert.ok(t in LAYER_FACTORIES, t);
  }
  // each layer's config() is a spec that rebuilds the same layer (what saved models store)
  const again = buildNetwork({ ...spec, layers: model.net.layers.map((l) => l.config() as { type: string }) });
  again.setWeights(model.net.getWeights(), true);
  const x = randT([2, 1, 8, 8], 1);
  assert.deepEqual(again.forward(x).toArray(), model.net.forward(x).toArray());
  const seq = buildNetwork(parseSpec({
    input: [2, 12], loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 },
    layers: [{ type: 'conv1d', filters: 3, kernelSize: 3, strides: 1, padding: 'same' }, { type: 'maxPool1d', poolSize: 3 }, { type: 'flatten' }],
  }));
  assert.deepEqual(seq.outputShape, [12]);
  assert.throws(() => buildNetwork(parseSpec({
    input: [1, 4, 4], loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 },
    layers: [{ type: 'conv2d', filters: 1, kernelSize: 3, strides: 0 }],
  })), isConfig(/layers\[0\] \(conv2d\)\.strides must be an integer ≥ 1/));
});

test('Model.fit trains through conv layers (one SGD step lowers the loss)', () => {
  const net = new Sequential([
    new Conv2D({ filters: 2, kernelSize: 3, activation: 'relu', kernelInitializer: 'heNormal' }),
    new MaxPool2D(), new Flatten(), new Dense({ units: 2, activation: 'softmax' }),
  ], { inputShape: [1, 6, 6], seed: 2 });
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.05 }) });
  const x = randT([4, 1, 6, 6], 3, 0, 1);
  const y = tensor([[1, 0], [0, 1], [1, 0], [0, 1]]);
  const before = model.evaluate(x, y).loss;
  model.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false });
  assert.ok(model.evaluate(x, y).loss < before);
});
