import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, conv2d, conv1d, unaryOp, sum, mul, ConfigError, Conv2D, Sequential } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { gradCheck, randT, assertClose } from '../helpers/gradcheck.js';

// conv2d/conv1d with the activation applied in the convolution's kernel (Backend.conv2dAct):
// the same values as the activation op over the plain convolution, and gradients from the output.

const image = () => tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
const filter = () => tensor([[[[1, 0], [0, -1]]]]); // x[i][j] − x[i+1][j+1] = −4 everywhere

test('conv2d with an activation: forward on hand-checkable numbers', () => {
  // z = −4 + b: b = 5 gives 1 (kept by ReLU), b = 3 gives −1 (cut to 0, or α·z when leaky)
  assert.deepEqual(conv2d(image(), filter(), tensor([5]), { activation: 'relu' }).toArray(), [[[[1, 1], [1, 1]]]]);
  assert.deepEqual(conv2d(image(), filter(), tensor([3]), { activation: 'relu' }).toArray(), [[[[0, 0], [0, 0]]]]);
  assertClose(conv2d(image(), filter(), tensor([3]), { activation: 'leakyRelu', alpha: 0.5 }).data, [-0.5, -0.5, -0.5, -0.5], 1e-7);
  assertClose(conv2d(image(), filter(), tensor([3]), { activation: 'leakyRelu' }).data, [-0.01, -0.01, -0.01, -0.01], 1e-7);
  assertClose(conv2d(image(), filter(), tensor([4]), { activation: 'tanh' }).data, [0, 0, 0, 0], 1e-7);
  assertClose(conv2d(image(), filter(), tensor([4]), { activation: 'logistic' }).data, [0.5, 0.5, 0.5, 0.5], 1e-7);
  assert.deepEqual(conv2d(image(), filter(), tensor([3]), { activation: 'linear' }).toArray(), [[[[-1, -1], [-1, -1]]]]);
  // 1-D: [1, 2, 3, 4] with [1, −1] and bias 1.5 gives z = 0.5 everywhere
  assert.deepEqual(conv1d(tensor([[[1, 2, 3, 4]]]), tensor([[[1, -1]]]), tensor([1.5]), { activation: 'relu' }).toArray(), [[[0.5, 0.5, 0.5]]]);
});

test('conv2d with an activation equals the activation op over the plain convolution', () => {
  const x = randT([3, 4, 9, 8], 1);
  const w = randT([6, 4, 3, 3], 2);
  const b = randT([6], 3);
  const opts = { strides: [2, 1] as [number, number], padding: 1 };
  const z = conv2d(x, w, b, opts);
  for (const [act, alpha] of [['relu', 0], ['leakyRelu', 0.2], ['tanh', 0], ['logistic', 0]] as const) {
    const fused = conv2d(x, w, b, { ...opts, activation: act, alpha });
    const composed = unaryOp(act, z, alpha);
    assert.deepEqual(fused.shape, composed.shape);
    // the same kernels: equal up to the last bits of the transcendental functions
    assertClose(fused.data, composed.data, act === 'relu' || act === 'leakyRelu' ? 0 : 1e-6, act);
  }
});

test('conv2d with an activation: gradients match finite differences', () => {
  // values kept away from the ReLU kink so that ±eps never crosses it
  const away = (t: Tensor): Tensor => {
    for (let i = 0; i < t.size; i++) t.data[i] += t.data[i] >= 0 ? 0.3 : -0.3;
    return t;
  };
  for (const activation of ['relu', 'leakyRelu', 'tanh', 'logistic'] as const) {
    const w = randT([3, 2, 2, 2], 5);
    gradCheck((x, ww, b) => conv2d(x, ww, b, { activation, alpha: 0.1, strides: 2, padding: 1 }),
      [randT([2, 2, 5, 4], 4), w, randT([3], 6)], { eps: activation === 'relu' || activation === 'leakyRelu' ? 1e-3 : 1e-2 });
    gradCheck((x, ww) => conv1d(x, ww, null, { activation }), [randT([2, 2, 6], 7), away(randT([2, 2, 3], 8))], { eps: 1e-3 });
  }
});

test('conv2d with an activation: only the gradients asked for (first layer, frozen filters)', () => {
  const x = randT([2, 2, 4, 4], 1);
  const w = randT([3, 2, 2, 2], 2);
  const b = randT([3], 3);
  gradCheck((bb) => conv2d(x, w, bb, { activation: 'tanh' }), [b]);
  gradCheck((ww, bb) => conv2d(x, ww, bb, { activation: 'tanh' }), [w, b]);
  gradCheck((xx) => conv2d(xx, w, b, { activation: 'logistic' }), [x]);
});

test('conv2d rejects an activation it cannot apply from its output, and a negative leaky slope', () => {
  const bad = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof ConfigError && re.test(e.message));
  bad(() => conv2d(image(), filter(), null, { activation: 'gelu' as 'relu' }),
    /^conv2d\.activation must be one of "linear", "logistic", "tanh", "relu", "leakyRelu" \(an activation whose derivative follows from its output\), received "gelu"$/);
  bad(() => conv2d(image(), filter(), null, { activation: 'leakyRelu', alpha: -0.1 }),
    /^conv2d\.alpha must be a finite number ≥ 0 for a fused leaky ReLU, received -0\.1$/);
  bad(() => conv1d(tensor([[[1, 2, 3]]]), tensor([[[1]]]), null, { activation: 'prelu' as 'relu' }), /^conv1d\.activation must be one of/);
});

test('Conv2D applies its activation in the convolution when not tracing, and traces z, a and δ as before', () => {
  for (const activation of ['relu', 'sigmoid', 'tanh', { type: 'leakyRelu', alpha: 0.2 }, 'prelu', 'gelu'] as const) {
    const run = (tracing: boolean) => {
      const net = new Sequential([new Conv2D({ filters: 3, kernelSize: 3, activation, name: 'c' })], { inputShape: [2, 6, 6], seed: 4 });
      const l = net.layers[0] as Conv2D;
      l.tracing = tracing;
      const a = net.forward(randT([2, 2, 6, 6], 9));
      sum(mul(a, randT(a.shape as number[], 10))).backward();
      return { a, dw: l.weight.grad!, db: l.bias!.grad!, record: l.record };
    };
    const fast = run(false);
    const traced = run(true);
    const what = JSON.stringify(activation);
    assertClose(fast.a.data, traced.a.data, 1e-6, `a ${what}`);
    assertClose(fast.dw.data, traced.dw.data, 1e-5, `∂E/∂W ${what}`);
    assertClose(fast.db.data, traced.db.data, 1e-5, `∂E/∂b ${what}`);
    assert.equal(fast.record, null);
    const rec = traced.record!;
    assert.ok(rec.z && rec.z !== rec.a && rec.z.grad, `the trace keeps z and δ apart from a (${what})`);
  }
});
