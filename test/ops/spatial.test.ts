import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  tensor, Sequential, Conv2DTranspose, UpSampling2D, GlobalAveragePooling1D, GlobalAveragePooling2D, MaxPool2D, AvgPool2D, AvgPool1D,
  conv2dTranspose, upSample2d, globalAvgPool, pad2d, maxPool2d, avgPool2d, sum, mul, parseSpec, buildNetwork, ConfigError, ShapeError,
} from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { gradCheck, randT } from '../helpers/gradcheck.js';

const isConfig = (re: RegExp) => (e: unknown) => e instanceof ConfigError && re.test(e.message);
const isShape = (re: RegExp) => (e: unknown) => e instanceof ShapeError && re.test(e.message);
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

test('conv2dTranspose on hand-checkable values: stride scatters, overlaps add, padding crops, output padding extends', () => {
  // each input pixel places its value × the filter at stride 2
  assert.deepEqual(conv2dTranspose(tensor([[[[1, 2]]]]), tensor([[[[1, 10]]]]), null, { strides: 2 }).toArray(), [[[[1, 10, 2, 20]]]]);
  // stride 1, 1×2 filter over [1, 2]: overlapping contributions add: [1, 1+2·... ]
  assert.deepEqual(conv2dTranspose(tensor([[[[1, 2]]]]), tensor([[[[3, 4]]]])).toArray(), [[[[3, 4 + 6, 8]]]]);
  // padding 1 crops one row/column on each side of the 'valid' output, bias adds per output channel
  const full = conv2dTranspose(tensor([[[[1, 2], [3, 4]]]]), tensor([[[[1, 1], [1, 1]]]]), null).toArray();
  assert.deepEqual(full, [[[[1, 3, 2], [4, 10, 6], [3, 7, 4]]]]);
  assert.deepEqual(conv2dTranspose(tensor([[[[1, 2], [3, 4]]]]), tensor([[[[1, 1], [1, 1]]]]), tensor([0.5]), { padding: 1 }).toArray(), [[[[10.5]]]]);
  const op = conv2dTranspose(tensor([[[[1]]]]), tensor([[[[2]]]]), tensor([1]), { strides: 2, outputPadding: 1 });
  assert.deepEqual(op.toArray(), [[[[3, 1], [1, 1]]]], 'the output-padding row/column holds only the bias');
  // 'same' doubles the size at stride 2
  assert.deepEqual(conv2dTranspose(randT([1, 2, 3, 5], 1), randT([2, 4, 3, 3], 2), null, { strides: 2, padding: 'same' }).shape, [1, 4, 6, 10]);
  assert.deepEqual(conv2dTranspose(randT([1, 2, 3, 5], 1), randT([2, 4, 1, 1], 2), null, { strides: 2, padding: 'same' }).shape, [1, 4, 6, 10]);
  assert.throws(() => conv2dTranspose(randT([1, 2, 3, 3]), randT([3, 1, 2, 2])), isShape(/filters \[3, 1, 2, 2\] take 3 input channels but the images \[1, 2, 3, 3\] have 2/));
  assert.throws(() => conv2dTranspose(randT([1, 1, 3, 3]), randT([1, 1, 2, 2]), null, { strides: 2, outputPadding: 2 }), isConfig(/outputPadding must be smaller than the stride 2×2, received 2×2/));
});

test('conv2dTranspose gradients (x, w, bias) match finite differences', () => {
  gradCheck((x, w, b) => conv2dTranspose(x, w, b, { strides: 2, padding: 1, outputPadding: 1 }), [randT([2, 2, 3, 2], 1), randT([2, 3, 3, 3], 2), randT([3], 3)]);
  gradCheck((x, w) => conv2dTranspose(x, w, null, { strides: [1, 2], padding: 'same' }), [randT([1, 3, 2, 3], 4), randT([3, 2, 2, 3], 5)]);
});

test('conv2dTranspose matches PyTorch ConvTranspose2d: forward and every gradient (fixture from test/fixtures/torch/make_conv_transpose.py)', () => {
  const fx = JSON.parse(readFileSync(new URL('../../../test/fixtures/torch/conv_transpose2d.json', import.meta.url), 'utf8')) as {
    cases: { name: string; stride: number[]; padding: number; outputPadding: number[]; xShape: number[]; wShape: number[]; yShape: number[];
      x: number[]; weight: number[]; bias: number[]; y: number[]; gy: number[]; dx: number[]; dweight: number[]; dbias: number[] }[];
  };
  assert.ok(fx.cases.length >= 4);
  for (const c of fx.cases) {
    const x = tensor(c.x, { shape: c.xShape, requiresGrad: true });
    const w = tensor(c.weight, { shape: c.wShape, requiresGrad: true });
    const b = tensor(c.bias, { requiresGrad: true });
    const y = conv2dTranspose(x, w, b, { strides: c.stride as [number, number], padding: c.padding, outputPadding: c.outputPadding as [number, number] });
    assert.deepEqual(y.shape, c.yShape, c.name);
    close(y.data, c.y, 1e-5, `${c.name} y`);
    sum(mul(y, tensor(c.gy, { shape: c.yShape }))).backward();
    close(x.grad!.data, c.dx, 1e-5, `${c.name} dx`);
    close(w.grad!.data, c.dweight, 1e-5, `${c.name} dweight`);
    close(b.grad!.data, c.dbias, 1e-5, `${c.name} dbias`);
  }
});

test('upSample2d, globalAvgPool and pad2d: hand-checkable values and gradients', () => {
  assert.deepEqual(upSample2d(tensor([[[[1, 2]]]]), 2).toArray(), [[[[1, 1, 2, 2], [1, 1, 2, 2]]]]);
  assert.deepEqual(upSample2d(tensor([[[[1], [2]]]]), [1, 3]).toArray(), [[[[1, 1, 1], [2, 2, 2]]]]);
  assert.deepEqual(globalAvgPool(tensor([[[[1, 2], [3, 6]], [[0, 0], [0, 4]]]])).toArray(), [[3, 1]]);
  assert.deepEqual(globalAvgPool(tensor([[[1, 2, 3]]])).toArray(), [[2]]);
  assert.deepEqual(pad2d(tensor([[[[1]]]]), [1, 0, 0, 1]).toArray(), [[[[0, 0], [1, 0]]]]);
  assert.deepEqual(pad2d(tensor([[[[1]]]]), [0, 1, 0, 0], -1).toArray(), [[[[1], [-1]]]]);
  gradCheck((x) => upSample2d(x, [2, 3]), [randT([2, 2, 2, 3], 1)]);
  gradCheck((x) => globalAvgPool(x), [randT([2, 3, 2, 3], 2)]);
  gradCheck((x) => pad2d(x, [1, 2, 0, 1], 0.5), [randT([1, 2, 2, 3], 3)]);
});

test("'same' pooling: border windows use only the values inside; gradients", () => {
  const x = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
  assert.deepEqual(maxPool2d(x, { poolSize: 2, padding: 'same' }).toArray(), [[[[5, 6], [8, 9]]]]);
  assert.deepEqual(avgPool2d(x, { poolSize: 2, padding: 'same' }).toArray(), [[[[3, 4.5], [7.5, 9]]]]);
  assert.deepEqual(maxPool2d(tensor([[[[-5, -6], [-7, -8]]]]), { poolSize: 3, strides: 1, padding: 'same' }).toArray(), [[[[-5, -5], [-5, -5]]]], 'padding never wins a max');
  const avg3 = avgPool2d(x, { poolSize: 3, strides: 1, padding: 'same' }).toArray() as number[][][][];
  assert.equal(avg3[0][0][0][0], (1 + 2 + 4 + 5) / 4);
  assert.equal(avg3[0][0][1][1], 5);
  const distinct = tensor(Array.from({ length: 2 * 25 }, (_, i) => ((i * 7919) % 50) / 10), { shape: [1, 2, 5, 5] });
  gradCheck((v) => maxPool2d(v, { poolSize: 2, padding: 'same' }), [distinct], { eps: 1e-3 });
  gradCheck((v) => avgPool2d(v, { poolSize: 3, strides: 2, padding: 'same' }), [randT([2, 1, 5, 4], 4)]);
  const l1 = new Sequential([new AvgPool1D({ poolSize: 2, padding: 'same' })], { inputShape: [1, 5] });
  assert.deepEqual(l1.outputShape, [1, 3]);
  assert.deepEqual(l1.forward(tensor([[[1, 2, 3, 4, 5]]])).toArray(), [[[1.5, 3.5, 5]]]);
  assert.throws(() => new MaxPool2D({ padding: 'full' as 'same' }), isConfig(/padding must be "valid" \(windows inside the input\) or "same", received "full"/));
});

test('layers: Conv2DTranspose (weight [channels, filters, kh, kw]), UpSampling2D, GlobalAveragePooling1D/2D, same pooling: shapes, spec, errors', () => {
  const net = buildNetwork(parseSpec({
    input: [2, 7, 7],
    layers: [
      { type: 'conv2dTranspose', filters: 4, kernelSize: 4, strides: 2, padding: 'same', activation: 'relu', name: 'up' },
      { type: 'maxPool2d', poolSize: 3, strides: 2, padding: 'same' },
      { type: 'upSampling2d', size: 2 },
      { type: 'globalAveragePooling2d' },
    ],
    loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 },
  }));
  assert.deepEqual(net.layers.map((l) => l.outputShape), [[4, 14, 14], [4, 7, 7], [4, 14, 14], [4]]);
  assert.deepEqual(net.getWeights().up.weight.shape, [2, 4, 4, 4]);
  assert.equal(net.paramCount(), 2 * 4 * 16 + 4);
  assert.deepEqual(net.forward(randT([3, 2, 7, 7], 1)).shape, [3, 4]);
  const t = new Sequential([new Conv2DTranspose({ filters: 1, kernelSize: 2, name: 't' })], { inputShape: [1, 1, 2] });
  t.setWeights({ t: { weight: [[[[1, 2], [3, 4]]]], bias: [1] } });
  assert.deepEqual(t.forward(tensor([[[[1, 10]]]])).toArray(), [[[[2, 13, 21], [4, 35, 41]]]]);
  gradCheck((x) => t.forward(x), [randT([2, 1, 1, 2], 5)]);
  const seq = new Sequential([new GlobalAveragePooling1D({ dataFormat: 'channelsLast' })], { inputShape: [3, 2] });
  assert.deepEqual(seq.outputShape, [2]);
  assert.deepEqual(seq.forward(tensor([[[1, 2], [3, 4], [5, 0]]])).toArray(), [[3, 2]]);
  assert.deepEqual(new Sequential([new GlobalAveragePooling1D()], { inputShape: [3, 2] }).outputShape, [3]);
  assert.throws(() => new Conv2DTranspose({ filters: 2, kernelSize: 3, strides: 2, outputPadding: 2 }), isConfig(/outputPadding must be smaller than the stride 2×2/));
  assert.throws(() => new Conv2DTranspose({ filters: 2, kernelSize: 3, padding: 'full' as 'same' }), isConfig(/padding must be "valid", "same" or an integer ≥ 0, received "full"/));
  assert.throws(() => new Conv2DTranspose({ filters: 2, kernelSize: 3, dilation: 2 } as never), isConfig(/conv2dTranspose\.dilation: unknown key/));
  assert.throws(() => new Sequential([new UpSampling2D()], { inputShape: [4] }), isShape(/expects images \[channels, height, width\], received input shape \[4\]/));
  assert.throws(() => new UpSampling2D({ interpolation: 'bilinear' as 'nearest' }), isConfig(/only "nearest" is supported/));
  assert.throws(() => new Sequential([new GlobalAveragePooling2D()], { inputShape: [4, 4] }), isShape(/expects feature maps/));
  const avg = new Sequential([new AvgPool2D({ padding: 'same' })], { inputShape: [1, 3, 3] });
  assert.deepEqual(avg.outputShape, [1, 2, 2]);
  const y: Tensor = avg.forward(tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]));
  assert.deepEqual(y.toArray(), [[[[3, 4.5], [7.5, 9]]]]);
});
