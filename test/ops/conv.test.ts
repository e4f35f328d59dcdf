import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tensor, conv2d, conv1d, maxPool2d, avgPool2d, maxPool1d, avgPool1d, resolvePadding2D, resolvePadding1D,
  convGeometry, poolGeometry, Rng, ShapeError, ConfigError,
} from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { gradCheck, randT, assertClose } from '../helpers/gradcheck.js';

const x3 = () => tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);

test('conv2d forward on hand-checkable numbers (valid, bias, stride 2 with padding 1)', () => {
  // z[i][j] = x[i][j] − x[i+1][j+1] + 1 = −3 everywhere
  assert.deepEqual(conv2d(x3(), tensor([[[[1, 0], [0, -1]]]]), tensor([1])).toArray(), [[[[-3, -3], [-3, -3]]]]);
  // padded 5×5, 2×2 ones, stride 2: windows see {1}, {2, 3}, {4, 7}, {5, 6, 8, 9}
  assert.deepEqual(conv2d(x3(), tensor([[[[1, 1], [1, 1]]]]), null, { strides: 2, padding: 1 }).toArray(), [[[[1, 5], [11, 28]]]]);
  // different vertical and horizontal strides and explicit padding [top, bottom, left, right]
  const y = conv2d(x3(), tensor([[[[1]]]]), null, { strides: [2, 1], padding: [0, 0, 1, 0] });
  assert.deepEqual(y.toArray(), [[[[0, 1, 2, 3], [0, 7, 8, 9]]]]);
});

test('conv2d: each filter spans every input channel and filters give separate feature maps', () => {
  const x = tensor([[[[1, 2], [3, 4]], [[10, 20], [30, 40]]]]); // [1, 2, 2, 2]
  const w = tensor([
    [[[1, 0], [0, 0]], [[0, 0], [0, 1]]], // x[0,0,0] + x[1,1,1] = 1 + 40
    [[[0, 0], [0, 0]], [[1, 1], [1, 1]]], // sum of channel 1 = 100
  ]);
  assert.deepEqual(conv2d(x, w, tensor([0, -100])).toArray(), [[[[41]], [[0]]]]);
});

test("'same' padding follows TensorFlow: output ⌈size/stride⌉, the odd pixel at the bottom/right", () => {
  assert.deepEqual(resolvePadding2D('same', [6, 6], [3, 3], [1, 1], 't'), [1, 1, 1, 1]);
  assert.deepEqual(resolvePadding2D('same', [5, 5], [2, 2], [1, 1], 't'), [0, 1, 0, 1]);
  assert.deepEqual(resolvePadding2D('same', [7, 6], [3, 3], [2, 2], 't'), [1, 1, 0, 1]);
  assert.deepEqual(resolvePadding2D('same', [5, 5], [1, 1], [3, 3], 't'), [0, 0, 0, 0]);
  assert.deepEqual(resolvePadding2D(2, [5, 5], [3, 3], [1, 1], 't'), [2, 2, 2, 2]);
  assert.deepEqual(resolvePadding2D('valid', [5, 5], [3, 3], [1, 1], 't'), [0, 0, 0, 0]);
  assert.deepEqual(resolvePadding1D('same', 10, 4, 1, 't'), [1, 2]);
  for (const [h, k, s] of [[6, 3, 1], [7, 3, 2], [6, 3, 2], [28, 5, 3], [5, 5, 1]]) {
    const y = conv2d(randT([1, 1, h, h]), randT([1, 1, k, k]), null, { strides: s, padding: 'same' });
    assert.deepEqual(y.shape, [1, 1, Math.ceil(h / s), Math.ceil(h / s)], `h ${h} k ${k} s ${s}`);
  }
});

test('conv2d gradients match finite differences: stride 2, padding, 3 channels, bias', () => {
  gradCheck((x, w, b) => conv2d(x, w, b, { strides: 2, padding: 1 }), [randT([2, 3, 5, 6], 1), randT([4, 3, 3, 3], 2), randT([4], 3)]);
  gradCheck((x, w, b) => conv2d(x, w, b, { strides: [1, 2], padding: [2, 0, 1, 1] }), [randT([1, 2, 4, 5], 4), randT([3, 2, 2, 3], 5), randT([3], 6)]);
  gradCheck((x, w, b) => conv2d(x, w, b, { padding: 'same' }), [randT([2, 2, 4, 4], 7), randT([2, 2, 3, 3], 8), randT([2], 9)]);
  gradCheck((x, w) => conv2d(x, w), [randT([1, 1, 6, 6], 10), randT([2, 1, 3, 3], 11)]);
});

test('conv2d gradients when only some inputs need them (first layer, frozen filters)', () => {
  const x = randT([2, 2, 4, 4], 1);
  const w = randT([3, 2, 2, 2], 2);
  const b = randT([3], 3);
  gradCheck((bb) => conv2d(x, w, bb), [b]); // bias only: summed over batch and positions
  gradCheck((ww, bb) => conv2d(x, ww, bb), [w, b]); // x needs no gradient
  gradCheck((xx) => conv2d(xx, w, b), [x]);
});

test('conv1d: forward, padding and gradients', () => {
  assert.deepEqual(conv1d(tensor([[[1, 2, 3, 4]]]), tensor([[[1, -1]]])).toArray(), [[[-1, -1, -1]]]);
  // 'same' with kernel 3: [0,1,2,3,4,0] · [1,1,1]
  assert.deepEqual(conv1d(tensor([[[1, 2, 3, 4]]]), tensor([[[1, 1, 1]]]), tensor([0.5]), { padding: 'same' }).toArray(), [[[3.5, 6.5, 9.5, 7.5]]]);
  assert.deepEqual(conv1d(tensor([[[1, 2, 3, 4, 5]]]), tensor([[[1]]]), null, { strides: 2, padding: [1, 0] }).toArray(), [[[0, 2, 4]]]);
  gradCheck((x, w, b) => conv1d(x, w, b, { strides: 2, padding: 1 }), [randT([2, 3, 9], 1), randT([2, 3, 3], 2), randT([2], 3)]);
});

/** Distinct values spaced 0.1 apart, shuffled: no ties, and ±eps never changes a window's max. */
function distinct(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const order = new Rng(seed).permutation(n);
  return tensor(Array.from(order, (v) => (v - n / 2) * 0.1), { shape });
}

test('max and average pooling: forward on hand-checkable numbers', () => {
  const x = tensor([[[[1, 2, 5, 0], [4, 3, 6, 7], [0, 0, 1, 1], [-1, -2, 1, 9]]]]);
  assert.deepEqual(maxPool2d(x).toArray(), [[[[4, 7], [0, 9]]]]);
  assert.deepEqual(avgPool2d(x).toArray(), [[[[2.5, 4.5], [-0.75, 3]]]]);
  assert.deepEqual(maxPool2d(x, { poolSize: 3, strides: 1 }).toArray(), [[[[6, 7], [6, 9]]]]);
  assert.deepEqual(maxPool2d(x, { poolSize: [1, 4] }).toArray(), [[[[5], [7], [1], [9]]]]);
  assert.deepEqual(maxPool1d(tensor([[[1, 3, 2, 0, 5]]])).toArray(), [[[3, 2]]]);
  assert.deepEqual(avgPool1d(tensor([[[1, 3, 2, 0]]]), { poolSize: 2, strides: 1 }).toArray(), [[[2, 2.5, 1]]]);
});

test('max pooling passes the whole gradient to the max input only (eq 102–103)', () => {
  const x = tensor([[[[1, 2], [4, 3]]]], { requiresGrad: true });
  maxPool2d(x).backward(tensor([[[[5]]]]));
  assert.deepEqual(x.grad!.toArray(), [[[[0, 0], [5, 0]]]]);
});

test('pooling gradients match finite differences (no ties)', () => {
  gradCheck((x) => maxPool2d(x), [distinct([2, 3, 4, 6], 1)]);
  gradCheck((x) => maxPool2d(x, { poolSize: 3, strides: [2, 1] }), [distinct([1, 2, 7, 5], 2)]);
  gradCheck((x) => avgPool2d(x), [randT([2, 2, 4, 4], 3)]);
  gradCheck((x) => avgPool2d(x, { poolSize: [2, 3], strides: 1 }), [randT([1, 2, 4, 5], 4)]);
  gradCheck((x) => maxPool1d(x, { poolSize: 3, strides: 2 }), [distinct([2, 2, 9], 5)]);
  gradCheck((x) => avgPool1d(x), [randT([2, 2, 8], 6)]);
});

test('conv and pooling ops reject bad shapes with a ShapeError', () => {
  const is = (re: RegExp) => (e: unknown) => e instanceof ShapeError && re.test(e.message);
  assert.throws(() => conv2d(randT([3, 6, 6]), randT([1, 3, 3, 3])), is(/conv2d expects images x \[batch, channels, height, width\], received \[3, 6, 6\]/));
  assert.throws(() => conv2d(randT([1, 3, 6, 6]), randT([3, 3, 3])), is(/conv2d expects filters w \[filters, channels, height, width\], received \[3, 3, 3\]/));
  assert.throws(() => conv2d(randT([1, 3, 6, 6]), randT([2, 1, 3, 3])), is(/filters \[2, 1, 3, 3\] have depth 1 but the images \[1, 3, 6, 6\] have 3 channels/));
  assert.throws(() => conv2d(randT([1, 1, 6, 6]), randT([2, 1, 3, 3]), randT([3])), is(/conv2d expects bias \[2\], received \[3\]/));
  assert.throws(() => conv1d(randT([1, 2, 6]), randT([2, 1, 3])), is(/conv1d: filters \[2, 1, 3\] have depth 1 but the sequences \[1, 2, 6\] have 2 channels/));
  assert.throws(() => maxPool2d(randT([2, 4, 4])), is(/maxPool2d expects images x \[batch, channels, height, width\], received \[2, 4, 4\]/));
  assert.throws(() => avgPool1d(randT([2, 4])), is(/avgPool1d expects sequences x \[batch, channels, length\], received \[2, 4\]/));
});

test('conv and pooling ops reject bad configurations with a ConfigError', () => {
  const is = (re: RegExp) => (e: unknown) => e instanceof ConfigError && re.test(e.message);
  assert.throws(() => conv2d(randT([1, 1, 4, 4]), randT([1, 1, 5, 5])),
    is(/conv2d: kernel 5×5 is larger than the input 4×4; expected a kernel of at most 4×4, received 5×5/));
  assert.throws(() => conv2d(randT([1, 1, 4, 4]), randT([1, 1, 7, 3]), null, { padding: 1 }),
    is(/kernel 7×3 is larger than the input 4×4 padded by \[top 1, bottom 1, left 1, right 1\] to 6×6; expected a kernel of at most 6×6, received 7×3/));
  assert.throws(() => conv2d(randT([1, 1, 4, 4]), randT([1, 1, 3, 3]), null, { strides: 0 }), is(/conv2d strides must be an integer ≥ 1 or a pair \[vertical, horizontal\] of them, received 0/));
  assert.throws(() => conv2d(randT([1, 1, 4, 4]), randT([1, 1, 3, 3]), null, { strides: [1, -2] }), is(/received \[1,-2\]/));
  assert.throws(() => conv2d(randT([1, 1, 4, 4]), randT([1, 1, 3, 3]), null, { padding: -1 }), is(/conv2d\.padding must be "valid", "same", an integer ≥ 0 or \[top, bottom, left, right\] integers ≥ 0, received -1/));
  assert.throws(() => conv2d(randT([1, 1, 4, 4]), randT([1, 1, 3, 3]), null, { padding: 'full' as 'same' }), is(/received "full"/));
  assert.throws(() => conv1d(randT([1, 1, 4]), randT([1, 1, 7]), null, { padding: 1 }), is(/conv1d: kernel width 7 is larger than the input length 4 padded to 6; expected a kernel of at most 6, received 7/));
  assert.throws(() => conv1d(randT([1, 1, 4]), randT([1, 1, 2]), null, { strides: 1.5 }), is(/conv1d strides must be an integer ≥ 1, received 1.5/));
  assert.throws(() => maxPool2d(randT([1, 1, 4, 4]), { poolSize: 0 }), is(/maxPool2d poolSize must be an integer ≥ 1 or a pair \[vertical, horizontal\] of them, received 0/));
  assert.throws(() => avgPool2d(randT([1, 1, 4, 4]), { poolSize: 2, strides: 0 }), is(/avgPool2d strides must be an integer ≥ 1/));
  assert.throws(() => maxPool2d(randT([1, 1, 4, 4]), { poolSize: [5, 1] }), is(/maxPool2d: pool window 5×1 is larger than the input 4×4; expected a window of at most 4×4, received 5×1/));
  assert.throws(() => maxPool1d(randT([1, 1, 4]), { poolSize: 0 }), is(/maxPool1d poolSize must be an integer ≥ 1, received 0/));
  assert.throws(() => maxPool1d(randT([1, 1, 4]), { poolSize: 5 }), is(/maxPool1d: pool window 5 is larger than the input length 4/));
});

test('geometry helpers give the output sizes ⌊(size + padding − window) / stride⌋ + 1', () => {
  const g = convGeometry(64, [1, 28, 28], 16, [5, 5], [1, 1], [0, 0, 0, 0], 'c');
  assert.deepEqual([g.oh, g.ow], [24, 24]);
  const g2 = convGeometry(1, [3, 7, 9], 2, [3, 2], [2, 3], [1, 0, 2, 2], 'c');
  assert.deepEqual([g2.oh, g2.ow], [3, 4]);
  const p = poolGeometry(64, [16, 24, 24], [2, 2], [2, 2], 'p');
  assert.deepEqual([p.oh, p.ow], [12, 12]);
  assertClose([poolGeometry(1, [1, 7, 7], [3, 3], [2, 2], 'p').oh], [3], 0);
});
