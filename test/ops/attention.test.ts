// The ops under attention and the Transformer: gelu, batched matmul, permute/transpose, softmax
// along any axis with an additive mask, layer normalisation and scaled dot-product attention —
// forward on hand-checkable numbers and gradients against finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tensor, zeros, gelu, matmul, permute, transpose, softmax, layerNorm, scaledDotProductAttention,
  causalMask, paddingMask, reverse, ShapeError, ConfigError,
} from '../../src/index.js';
import { gradCheck, randT, assertClose } from '../helpers/gradcheck.js';

test('gelu: x·Φ(x) on hand-checkable values, tails and gradient', () => {
  // Φ(1) = 0.8413447, Φ(−1) = 0.1586553, Φ(2) = 0.9772499
  assertClose(gelu(tensor([0, 1, -1, 2, -30, 30])).data, [0, 0.8413447, -0.1586553, 1.9544997, 0, 30], 1e-6);
  assert.ok(Object.is(gelu(tensor([-Infinity])).data[0], -0));
  gradCheck((x) => gelu(x), [randT([3, 5], 3, -3, 3)], { eps: 1e-2 });
});

test('batched matmul: hand-checkable batches, broadcasting of either operand', () => {
  const a = tensor([[[1, 2]], [[3, 4]]]); // [2, 1, 2]
  const b = tensor([[[1], [1]], [[2], [0]]]); // [2, 2, 1]
  assert.deepEqual(matmul(a, b).toArray(), [[[3]], [[6]]]);
  // one matrix for the whole batch
  assert.deepEqual(matmul(a, tensor([[1], [10]])).toArray(), [[[21]], [[43]]]);
  assert.deepEqual(matmul(tensor([[1, 1]]), b).toArray(), [[[2]], [[2]]]);
  assert.deepEqual(matmul(zeros([2, 1, 3, 4]), zeros([5, 4, 6])).shape, [2, 5, 3, 6]);
  assert.deepEqual(matmul(a, a, { transB: true }).toArray(), [[[5]], [[25]]]);
});

test('batched matmul gradients, every transposition, with and without broadcasting', () => {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const sa = (lead: number[]) => [...lead, ...(transA ? [4, 3] : [3, 4])];
      const sb = (lead: number[]) => [...lead, ...(transB ? [5, 4] : [4, 5])];
      gradCheck((x, y) => matmul(x, y, { transA, transB }), [randT(sa([2, 2]), 1), randT(sb([2, 2]), 2)]);
      gradCheck((x, y) => matmul(x, y, { transA, transB }), [randT(sa([2, 1]), 3), randT(sb([3]), 4)]);
      gradCheck((x, y) => matmul(x, y, { transA, transB }), [randT(sa([3]), 5), randT(sb([]), 6)]);
    }
  }
});

test('matmul with a factor alpha: forward and gradients, 2-D and batched', () => {
  assert.equal(matmul(tensor([[1, 2]]), tensor([[3], [4]]), { alpha: 0.5 }).item(), 5.5);
  gradCheck((x, y) => matmul(x, y, { alpha: -1.5 }), [randT([3, 4], 1), randT([4, 2], 2)]);
  gradCheck((x, y) => matmul(x, y, { transB: true, alpha: 0.25 }), [randT([2, 3, 4], 3), randT([2, 5, 4], 4)]);
  gradCheck((x, y) => matmul(x, y, { transA: true, alpha: 2 }), [randT([2, 4, 3], 5), randT([2, 4, 2], 6)]);
});

test('batched matmul rejects bad shapes with ShapeErrors naming both', () => {
  assert.throws(() => matmul(zeros([2, 3, 4]), zeros([2, 5, 6])), (e: unknown) =>
    e instanceof ShapeError && /inner dimensions differ: \[2, 3, 4\] · \[2, 5, 6\]/.test(e.message));
  assert.throws(() => matmul(zeros([2, 3, 4]), zeros([3, 4, 6])), (e: unknown) =>
    e instanceof ShapeError && /matmul cannot broadcast \[2\] with \[3\]/.test(e.message));
  assert.throws(() => matmul(zeros([4]), zeros([4, 1])), (e: unknown) =>
    e instanceof ShapeError && /rank ≥ 2.*\[4\] and \[4, 1\]/.test(e.message));
});

test('permute and transpose: forward, inverse gradient, bad axes', () => {
  const x = tensor([[[1, 2, 3], [4, 5, 6]]]); // [1, 2, 3]
  assert.deepEqual(permute(x, [2, 0, 1]).toArray(), [[[1, 4]], [[2, 5]], [[3, 6]]]);
  assert.deepEqual(transpose(x).toArray(), [[[1, 4], [2, 5], [3, 6]]]);
  assert.deepEqual(transpose(x, 0, -1).shape, [3, 2, 1]);
  gradCheck((t) => permute(t, [1, 3, 0, 2]), [randT([2, 3, 2, 4], 1)]);
  gradCheck((t) => transpose(t, 0, 1), [randT([3, 2, 2], 2)]);
  assert.throws(() => permute(x, [0, 0, 1]), (e: unknown) =>
    e instanceof ShapeError && /permutation of the 3 axes of \[1, 2, 3\], received \[0, 0, 1\]/.test(e.message));
  assert.throws(() => transpose(x, 0, 3), ShapeError);
});

test('reverse along an axis: forward, gradient, bad axis', () => {
  assert.deepEqual(reverse(tensor([[1, 2, 3], [4, 5, 6]]), 1).toArray(), [[3, 2, 1], [6, 5, 4]]);
  assert.deepEqual(reverse(tensor([[1, 2], [3, 4]]), 0).toArray(), [[3, 4], [1, 2]]);
  gradCheck((t) => reverse(t, 1), [randT([2, 3, 2], 1)]);
  assert.throws(() => reverse(zeros([2]), 1), (e: unknown) =>
    e instanceof ShapeError && /reverse: axis 1 does not exist in \[2\]/.test(e.message));
});

test('softmax along any axis and with an additive mask', () => {
  const e = Math.E;
  assertClose(softmax(tensor([[0, 1], [0, 0]]), { axis: 0 }).data, [0.5, e / (e + 1), 0.5, 1 / (e + 1)], 1e-6);
  assert.deepEqual(softmax(tensor([[1, 2, 3]]), { mask: tensor([0, -Infinity, -Infinity]) }).toArray(), [[1, 0, 0]]);
  const m = causalMask(3);
  const p = softmax(zeros([2, 3, 3]), { mask: m });
  assertClose(p.data.subarray(0, 9), [1, 0, 0, 0.5, 0.5, 0, 1 / 3, 1 / 3, 1 / 3], 1e-6);
  gradCheck((z) => softmax(z, { axis: 1 }), [randT([2, 3, 4], 1)]);
  gradCheck((z) => softmax(z, { mask: tensor([[0, -1e9, 0, 0]]) }), [randT([3, 4], 2)]);
  assert.throws(() => softmax(zeros([2, 3]), { axis: 2 }), (e: unknown) =>
    e instanceof ShapeError && /softmax: axis 2 does not exist in \[2, 3\]/.test(e.message));
  assert.throws(() => softmax(zeros([2, 3]), { mask: zeros([4, 2, 3]) }), ShapeError);
});

test('layerNorm: hand-checkable rows, scale and shift, gradients of x, γ and β', () => {
  assertClose(layerNorm(tensor([[1, 3]]), null, null, 0).data, [-1, 1], 1e-6);
  assertClose(layerNorm(tensor([[2, 2]]), null, null).data, [0, 0], 1e-6); // a constant row: ε keeps it finite
  // [0, 3, 6]: μ 3, σ² 6 → x̂ = [−1.2247, 0, 1.2247]; γ = [1, 2, 3], β = [0, 1, 0]
  const y = layerNorm(tensor([[0, 3, 6]]), tensor([1, 2, 3]), tensor([0, 1, 0]), 0);
  assertClose(y.data, [-1.2247449, 1, 3.6742346], 1e-5);
  gradCheck((x, g, b) => layerNorm(x, g, b), [randT([4, 5], 1), randT([5], 2), randT([5], 3)]);
  gradCheck((x) => layerNorm(x, null, null), [randT([2, 3, 4], 4)]);
  assert.throws(() => layerNorm(zeros([2, 3]), zeros([4]), null), (e: unknown) =>
    e instanceof ShapeError && /layerNorm expects gamma \[3\] for input \[2, 3\], received \[4\]/.test(e.message));
});

test('scaled dot-product attention: hand-checkable weights, masks, gradients', () => {
  const q = tensor([[[1, 0]]]);
  const k = tensor([[[1, 0], [0, 1]]]);
  const v = tensor([[[1], [2]]]);
  const e = Math.E;
  const r = scaledDotProductAttention(q, k, v, { scale: 1 });
  assertClose(r.weights.data, [e / (e + 1), 1 / (e + 1)], 1e-6);
  assertClose(r.output.data, [(e + 2) / (e + 1)], 1e-6);
  // a padded second key: all weight on the first
  assertClose(scaledDotProductAttention(q, k, v, { mask: paddingMask(tensor([[1, 0]])) }).output.data, [1], 1e-6);
  assert.deepEqual(causalMask(2, 3).toArray(), [[0, 0, -Infinity], [0, 0, 0]]);
  gradCheck((a, b, c) => scaledDotProductAttention(a, b, c, { mask: causalMask(3) }).output,
    [randT([2, 2, 3, 4], 1), randT([2, 2, 3, 4], 2), randT([2, 2, 3, 5], 3)]);
  assert.throws(() => scaledDotProductAttention(zeros([1, 2, 3]), zeros([1, 2, 4]), zeros([1, 2, 1])), ShapeError);
  assert.throws(() => scaledDotProductAttention(q, k, v, { keepProb: 0.5 }), (e2: unknown) =>
    e2 instanceof ConfigError && /needs a generator/.test(e2.message));
});
