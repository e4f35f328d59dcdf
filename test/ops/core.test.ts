import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tensor, matmul, affine, add, sub, mul, div, exp, log, sum, mean, logistic, tanh, relu, leakyRelu,
  identity, prelu, softmax, threshold, reshape, concat, slice, transpose, neg, square, sqrt,
  ShapeError, ConfigError,
} from '../../src/index.js';
import { gradCheck, randT, assertClose } from '../helpers/gradcheck.js';

test('matmul forward on hand-checkable numbers, all transpositions', () => {
  const a = tensor([[1, 2], [3, 4]]);
  const b = tensor([[5, 6], [7, 8]]);
  assert.deepEqual(matmul(a, b).toArray(), [[19, 22], [43, 50]]);
  assert.deepEqual(matmul(a, b, { transA: true }).toArray(), [[26, 30], [38, 44]]);
  assert.deepEqual(matmul(a, b, { transB: true }).toArray(), [[17, 23], [39, 53]]);
  assert.deepEqual(matmul(a, b, { transA: true, transB: true }).toArray(), [[23, 31], [34, 46]]);
});

test('matmul gradients match finite differences for every transposition', () => {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const a = randT(transA ? [4, 3] : [3, 4], 1);
      const b = randT(transB ? [5, 4] : [4, 5], 2);
      gradCheck((x, y) => matmul(x, y, { transA, transB }), [a, b]);
    }
  }
});

test('matmul rejects mismatched inner dimensions with a ShapeError', () => {
  assert.throws(() => matmul(tensor([[1, 2]]), tensor([[1, 2]])), (e: unknown) =>
    e instanceof ShapeError && /inner dimensions differ: \[1, 2\] · \[1, 2\]/.test(e.message));
});

test('affine = x·Wᵀ + b, forward and gradients', () => {
  assert.deepEqual(affine(tensor([[1, 1]]), tensor([[1, 2], [3, 4]]), tensor([0.5, 0])).toArray(), [[3.5, 7]]);
  gradCheck((x, w, b) => affine(x, w, b), [randT([3, 4], 1), randT([2, 4], 2), randT([2], 3)]);
  assert.throws(() => affine(randT([3, 5]), randT([2, 4]), null), ShapeError);
});

test('broadcasting arithmetic: forward and gradients', () => {
  assert.deepEqual(add(tensor([[1, 2], [3, 4]]), tensor([10, 20])).toArray(), [[11, 22], [13, 24]]);
  assert.deepEqual(sub(tensor([5]), 2).toArray(), [3]);
  assert.deepEqual(mul(tensor([[1], [2]]), tensor([3, 4])).toArray(), [[3, 4], [6, 8]]);
  assert.deepEqual(div(tensor([1, 2]), 4).toArray(), [0.25, 0.5]);
  const a = randT([3, 4], 1);
  const b = randT([4], 2);
  const c = randT([3, 1], 3, 0.5, 1.5);
  gradCheck((x, y) => add(x, y), [a, b]);
  gradCheck((x, y) => sub(x, y), [a, c]);
  gradCheck((x, y) => mul(x, y), [a, b]);
  gradCheck((x, y) => div(x, y), [a, c]);
  assert.throws(() => add(randT([3, 4]), randT([3])), (e: unknown) => e instanceof ShapeError && /add cannot broadcast \[3, 4\] with \[3\]/.test(e.message));
});

test('unary ops: forward and gradients', () => {
  assertClose(exp(tensor([0, 1])).data, [1, Math.E], 1e-6);
  assertClose(log(tensor([1, Math.E])).data, [0, 1], 1e-6);
  assert.deepEqual(neg(tensor([2])).toArray(), [-2]);
  assert.deepEqual(square(tensor([3])).toArray(), [9]);
  assert.deepEqual(sqrt(tensor([9])).toArray(), [3]);
  gradCheck((x) => exp(x), [randT([5], 1)]);
  gradCheck((x) => log(x), [randT([5], 1, 0.5, 2)]);
  gradCheck((x) => square(x), [randT([5], 1)]);
  gradCheck((x) => sqrt(x), [randT([5], 1, 0.5, 2)]);
});

test('sum and mean: forward and gradients', () => {
  const x = tensor([[1, 2], [3, 4]]);
  assert.equal(sum(x).item(), 10);
  assert.deepEqual(sum(x, 0).toArray(), [4, 6]);
  assert.deepEqual(sum(x, 1, true).toArray(), [[3], [7]]);
  assert.equal(mean(x).item(), 2.5);
  assert.deepEqual(mean(x, -1).toArray(), [1.5, 3.5]);
  gradCheck((a) => sum(a, 1), [randT([3, 4], 1)]);
  gradCheck((a) => mean(a, 0), [randT([3, 4], 1)]);
  gradCheck((a) => mean(a), [randT([3, 4], 1)]);
});

test('activations: forward values', () => {
  assertClose(logistic(tensor([0, -0.0042])).data, [0.5, 0.49895], 1e-5);
  assertClose(tanh(tensor([0, 1])).data, [0, Math.tanh(1)], 1e-6);
  assert.deepEqual(relu(tensor([-1, 0, 2])).toArray(), [0, 0, 2]);
  assertClose(leakyRelu(tensor([-1, 2])).data, [-0.01, 2], 1e-7);
  assertClose(leakyRelu(tensor([-1]), 0.2).data, [-0.2], 1e-7);
  assert.deepEqual(identity(tensor([3])).toArray(), [3]);
  assert.deepEqual(threshold(tensor([0.2, 0.5, 0.7]), 0.5).toArray(), [0, 1, 1]);
  assertClose(prelu(tensor([[-2, 3]]), tensor([0.25, 0.5])).data, [-0.5, 3], 1e-7);
  // Table 15: softmax of [1.5, -0.9, 0.6]
  assertClose(softmax(tensor([[1.5, -0.9, 0.6]])).data, [0.667874356, 0.060588195, 0.27153745], 1e-6);
});

test('ReLU derivative is 0 at z = 0 (the lecture convention)', () => {
  const z = tensor([0, 1, -1], { requiresGrad: true });
  sum(relu(z)).backward();
  assert.deepEqual(z.grad!.toArray(), [0, 1, 0]);
});

test('activations: gradients match finite differences (PReLU λ included)', () => {
  // keep clear of the kinks at 0
  const z = tensor([[-0.8, 0.3, 0.9], [0.4, -0.5, -0.2]]);
  gradCheck((x) => logistic(x), [z]);
  gradCheck((x) => tanh(x), [z]);
  gradCheck((x) => relu(x), [z]);
  gradCheck((x) => leakyRelu(x, 0.1), [z]);
  gradCheck((x) => identity(x), [z]);
  gradCheck((x, l) => prelu(x, l), [z, tensor([0.1, 0.2, 0.3])]);
  gradCheck((x) => softmax(x), [z]);
});

test('training through a threshold unit raises a clear ConfigError', () => {
  const z = tensor([0.2, 0.7], { requiresGrad: true });
  assert.throws(() => sum(threshold(z, 0.5)).backward(), (e: unknown) =>
    e instanceof ConfigError && /threshold activation has no gradient/.test(e.message));
});

test('shape ops: reshape, concat, slice, transpose with gradients', () => {
  assert.deepEqual(reshape(tensor([1, 2, 3, 4]), [2, -1]).shape, [2, 2]);
  assert.deepEqual(concat([tensor([[1]]), tensor([[2, 3]])], 1).toArray(), [[1, 2, 3]]);
  assert.deepEqual(slice(tensor([[1, 2, 3]]), 1, 1, 3).toArray(), [[2, 3]]);
  assert.deepEqual(transpose(tensor([[1, 2]])).toArray(), [[1], [2]]);
  gradCheck((a, b) => concat([a, b], 1), [randT([2, 3], 1), randT([2, 2], 2)]);
  gradCheck((a) => slice(a, 1, 1, 3), [randT([2, 4], 1)]);
  gradCheck((a) => transpose(a), [randT([2, 3], 1)]);
  assert.throws(() => reshape(tensor([1, 2, 3]), [2, -1]), ShapeError);
});

test('gradients accumulate across uses of the same tensor', () => {
  const x = tensor([2], { requiresGrad: true });
  sum(add(mul(x, x), x)).backward(); // d(x² + x)/dx = 2x + 1
  assert.deepEqual(x.grad!.toArray(), [5]);
});
