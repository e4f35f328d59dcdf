import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sigmoidCrossEntropy, binaryCrossEntropy, logistic, tensor, ShapeError } from '../../src/index.js';
import { gradCheck, randT } from '../helpers/gradcheck.js';

test('sigmoidCrossEntropy: hand values, equal to binaryCrossEntropy of the sigmoid, stable for large logits, gradient σ(z) − t', () => {
  assert.ok(Math.abs(sigmoidCrossEntropy(tensor([[0]]), tensor([[1]])).item() - Math.LN2) < 1e-7);
  // two examples, mean over the batch: [ln(1 + e^−2), ln(1 + e^3)] / 2
  const v = sigmoidCrossEntropy(tensor([[2], [3]]), tensor([[1], [0]])).item();
  assert.ok(Math.abs(v - (Math.log1p(Math.exp(-2)) + Math.log1p(Math.exp(3))) / 2) < 1e-6);
  const z = randT([4, 3], 1, -3, 3);
  const t = tensor(Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? 1 : 0)), { shape: [4, 3] });
  assert.ok(Math.abs(sigmoidCrossEntropy(z, t, 'sum').item() - binaryCrossEntropy(logistic(z), t, 'sum').item()) < 1e-4);
  assert.ok(Math.abs(sigmoidCrossEntropy(tensor([[200]]), tensor([[0]])).item() - 200) < 1e-4, 'no overflow');
  gradCheck((x) => sigmoidCrossEntropy(x, t, 'mean'), [z]);
  assert.throws(() => sigmoidCrossEntropy(tensor([[1, 2]]), tensor([[1]])), (e: unknown) => e instanceof ShapeError && /sigmoidCrossEntropy: prediction \[1, 2\] and target \[1, 1\] differ in size/.test((e as Error).message));
});
