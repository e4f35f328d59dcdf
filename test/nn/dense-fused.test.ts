// Dense runs an elementwise activation fused into its product (the affineAct kernel) except while
// tracing, where it keeps z as its own tensor for inspection: both paths must agree, forward and
// backward, for flat inputs and for sequences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dense, Sequential, sum, tensor } from '../../src/index.js';
import type { ActivationLike, Tensor } from '../../src/index.js';
import { assertClose, gradCheck, randT } from '../helpers/gradcheck.js';

/** Output and parameter gradients of `layer` on x, traced (composed path) or not (fused). */
function run(layer: Dense, x: Tensor, tracing: boolean): { out: Float32Array; grads: Float32Array[] } {
  layer.tracing = tracing;
  for (const p of layer.parameters()) p.grad = null;
  const out = layer.forward(x);
  sum(out).backward();
  layer.tracing = false;
  return { out: Float32Array.from(out.data), grads: layer.parameters().map((p) => Float32Array.from(p.grad!.data)) };
}

test('dense: the fused forward on hand-checkable numbers', () => {
  const net = new Sequential([new Dense({ units: 2, activation: 'relu' })], { inputShape: [2] });
  net.setWeights({ dense_1: { weight: [[1, 2], [-3, -4]], bias: [0.5, 0] } });
  assert.deepEqual(net.forward(tensor([[1, 1]])).toArray(), [[3.5, 0]]);
  net.setTracing(true);
  assert.deepEqual(net.forward(tensor([[1, 1]])).toArray(), [[3.5, 0]]);
  assert.deepEqual(net.layers[0].record!.z!.toArray(), [[3.5, -7]]);
});

test('dense: fused and traced paths agree on outputs and gradients, flat and per step', () => {
  const acts: ActivationLike[] = ['relu', 'logistic', 'tanh', 'gelu', 'softplus', 'linear', { type: 'leakyRelu', alpha: 0.2 }, 'prelu', 'softmax'];
  for (const activation of acts) {
    for (const input of [[6], [3, 6]]) {
      const layer = new Dense({ units: 5, activation });
      new Sequential([layer], { inputShape: input, seed: 3 });
      const x = randT([4, ...input], 9);
      const fused = run(layer, x, false);
      const traced = run(layer, x, true);
      const what = `${JSON.stringify(activation)} on [4, ${input.join(', ')}]`;
      assertClose(fused.out, traced.out, 1e-5, `${what}: output`);
      fused.grads.forEach((g, i) => assertClose(g, traced.grads[i], 1e-4, `${what}: gradient ${i}`));
    }
  }
});

test('dense: the fused forward passes a finite-difference check (input, weight and bias)', () => {
  for (const activation of ['tanh', 'gelu', 'logistic', 'softplus'] as const) {
    const layer = new Dense({ units: 3, activation });
    new Sequential([layer], { inputShape: [4], seed: 2 });
    // the check perturbs the layer's own parameters in place; f reads them through the layer
    gradCheck((x) => layer.forward(x), [randT([2, 4], 4), layer.weight, layer.bias!]);
  }
});
