import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, ShapeError, affine, affineAct, noGrad, sum, tensor, unaryOp } from '../../src/index.js';
import type { UnaryOp } from '../../src/index.js';
import { assertClose, gradCheck, randT } from '../helpers/gradcheck.js';

test('affineAct = φ(x·Wᵀ + b) on hand-checkable numbers', () => {
  // x = [1, 1]; neurons [1, 2] and [-3, -4]; b = [0.5, 0]: z = [3.5, -7]
  const x = tensor([[1, 1]]);
  const w = tensor([[1, 2], [-3, -4]]);
  const b = tensor([0.5, 0]);
  assert.deepEqual(affineAct(x, w, b, 'relu').toArray(), [[3.5, 0]]);
  assert.deepEqual(affineAct(x, w, b, 'linear').toArray(), [[3.5, -7]]);
  assertClose(affineAct(x, w, b, 'leakyRelu', 0.1).data, [3.5, -0.7], 1e-6);
  assertClose(affineAct(x, w, null, 'logistic').data, [1 / (1 + Math.exp(-3)), 1 / (1 + Math.exp(7))], 1e-6);
  assertClose(affineAct(x, w, b, 'tanh').data, [Math.tanh(3.5), Math.tanh(-7)], 1e-6);
  // two rows
  assert.deepEqual(affineAct(tensor([[1, 0], [0, 1]]), w, b, 'relu').toArray(), [[1.5, 0], [2.5, 0]]);
});

test('affineAct gives the values and gradients of unaryOp(affine(x, W, b))', () => {
  for (const op of ['relu', 'logistic', 'tanh', 'gelu', 'softplus', 'leakyRelu', 'linear'] as UnaryOp[]) {
    const p = op === 'leakyRelu' ? 0.2 : 0;
    const fused = [randT([5, 7], 1), randT([4, 7], 2), randT([4], 3)];
    const composed = fused.map((t) => tensor(Float32Array.from(t.data), { shape: t.shape, requiresGrad: true }));
    for (const t of fused) t.requiresGrad = true;
    const a1 = affineAct(fused[0], fused[1], fused[2], op, p);
    const a2 = unaryOp(op, affine(composed[0], composed[1], composed[2]), p);
    assertClose(a1.data, a2.data, 1e-5, `${op} forward`);
    sum(a1).backward();
    sum(a2).backward();
    fused.forEach((t, i) => assertClose(t.grad!.data, composed[i].grad!.data, 1e-4, `${op} gradient of input ${i}`));
  }
});

test('affineAct gradients match finite differences (z away from the rectifiers\' kink)', () => {
  const x = randT([3, 4], 11);
  const w = randT([5, 4], 12);
  const b = randT([5], 13);
  // the check perturbs inputs by 0.01: every z stays on its side of 0
  const z = noGrad(() => affine(x, w, b));
  assert.ok(Math.min(...Array.from(z.data, Math.abs)) > 0.06, 'test data: a z lies near 0');
  for (const op of ['relu', 'leakyRelu', 'logistic', 'tanh', 'gelu', 'softplus', 'linear'] as UnaryOp[]) {
    const p = op === 'leakyRelu' ? 0.3 : 0;
    gradCheck((xx, ww, bb) => affineAct(xx, ww, bb, op, p), [x, w, b]);
    gradCheck((xx, ww) => affineAct(xx, ww, null, op, p), [x, w]);
  }
  // a negative leaky slope: the derivative needs z (a > 0 no longer says z > 0)
  gradCheck((xx, ww, bb) => affineAct(xx, ww, bb, 'leakyRelu', -0.5), [x, w, b]);
});

test('affineAct rejects bad shapes with ShapeErrors, and the threshold step has no gradient', () => {
  assert.throws(() => affineAct(randT([3, 5]), randT([2, 4]), null, 'relu'), (e: unknown) =>
    e instanceof ShapeError && e.message === 'affineAct expects x [*, 4] for weight [2, 4], received [3, 5]');
  assert.throws(() => affineAct(randT([3, 4]), randT([2, 4]), randT([3]), 'relu'), (e: unknown) =>
    e instanceof ShapeError && e.message === 'affineAct expects bias [2], received [3]');
  const w = randT([2, 4]);
  w.requiresGrad = true;
  const a = affineAct(randT([3, 4]), w, null, 'threshold', 0);
  assert.throws(() => sum(a).backward(), (e: unknown) => e instanceof ConfigError && /the threshold activation has no gradient/.test(e.message));
});
