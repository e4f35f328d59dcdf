import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, sse, mse, crossEntropy, softmaxCrossEntropy, binaryCrossEntropy, softmax, ShapeError, ConfigError } from '../../src/index.js';
import { gradCheck, randT, assertClose } from '../helpers/gradcheck.js';

test('losses: forward on hand-checkable values', () => {
  assertClose([sse(tensor([[0.4715]]), tensor([[0.94]])).item()], [0.5 * 0.4685 * 0.4685], 1e-6);
  assert.equal(mse(tensor([[1, 3]]), tensor([[0, 0]])).item(), 5);
  assertClose([crossEntropy(tensor([[0.5, 0.5]]), tensor([[1, 0]])).item()], [Math.LN2], 1e-6);
  assertClose([softmaxCrossEntropy(tensor([[0, 0]]), tensor([[1, 0]])).item()], [Math.LN2], 1e-6);
  assertClose([binaryCrossEntropy(tensor([[0.5]]), tensor([[1]])).item()], [Math.LN2], 1e-6);
  // reduction: sum vs mean over the batch
  const p = tensor([[1], [3]]);
  const t = tensor([[0], [0]]);
  assert.equal(sse(p, t, 'sum').item(), 5);
  assert.equal(sse(p, t, 'mean').item(), 2.5);
});

test('losses: gradients match finite differences', () => {
  const t = tensor([[1, 0, 0], [0, 0, 1]]);
  gradCheck((p) => sse(p, t), [randT([2, 3], 1)]);
  gradCheck((p) => mse(p, t), [randT([2, 3], 1)]);
  gradCheck((p) => crossEntropy(p, t), [randT([2, 3], 1, 0.2, 0.9)]);
  gradCheck((z) => softmaxCrossEntropy(z, t, 'sum'), [randT([2, 3], 1)]);
  gradCheck((p) => binaryCrossEntropy(p, t), [randT([2, 3], 1, 0.2, 0.8)]);
});

test('fused softmax cross-entropy: δ = P̂ − t, stable for huge logits', () => {
  const z = tensor([[1000, 0, -1000]], { requiresGrad: true });
  const l = softmaxCrossEntropy(z, tensor([[0, 1, 0]]), 'sum');
  assert.ok(Number.isFinite(l.item()));
  assertClose([l.item()], [1000], 1e-3);
  l.backward();
  assertClose(z.grad!.data, [1, -1, 0], 1e-6);
  const z2 = tensor([[1.5, -0.9, 0.6]], { requiresGrad: true });
  softmaxCrossEntropy(z2, tensor([[1, 0, 0]]), 'sum').backward();
  const p = softmax(tensor([[1.5, -0.9, 0.6]])).data;
  assertClose(z2.grad!.data, [p[0] - 1, p[1], p[2]], 1e-6);
});

test('losses reject size mismatch and unknown reduction', () => {
  assert.throws(() => sse(tensor([[1, 2]]), tensor([[1]])), ShapeError);
  assert.throws(() => sse(tensor([[1]]), tensor([[1]]), 'avg' as 'sum'), (e: unknown) => e instanceof ConfigError && /reduction must be 'sum' or 'mean'/.test(e.message));
});
