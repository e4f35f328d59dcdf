// "Vanishing Gradients and ReLUs": the worked example network with ReLU neurons (Tables 11–13, eq 50, Figures 21–22).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor } from '../../src/index.js';
import { workedModel, workedNet, x, y } from './fixtures.js';
import { assertClose } from '../helpers/gradcheck.js';

test('Table 11: ReLU predictions, errors, ∂E/∂a8 and ½SSE of the initial network', () => {
  const net = workedNet('relu');
  const pred = net.forward(x()).data;
  assertClose(pred, [0.0405, 0.0643, 0.0621, 0.0512], 5e-5, 'prediction');
  const t = y().data;
  const err = Array.from(pred, (p, i) => t[i] - p);
  assertClose(err, [0.8995, 0.0657, 0.5079, 0.3088], 5e-5, 'error');
  assertClose(err.map((e) => -e), [-0.8995, -0.0657, -0.5079, -0.3088], 5e-5, '∂E/∂a8');
  // the printed "SSE" 0.58336829 is ½Σ(t − a)² (LECTURE-NOTES.md)
  const model = workedModel('relu');
  assertClose([model.evaluate(x(), y()).loss], [0.58336829], 5e-5, '½SSE');
});

test('Table 12 and eq 50: z, ∂a/∂z and δ of every neuron for d2 (dead neurons 3 and 4 get δ = 0)', () => {
  const model = workedModel('relu');
  const net = model.net;
  net.setTracing(true);
  const { loss } = model.lossOf(tensor([[0.84, 0.58]]), tensor([[0.13]]));
  loss.backward();
  const [h1, h2, out] = net.layers.map((l) => l.record!);
  assertClose(h1.z!.data, [-0.0042, -0.1898, 0.1208], 1e-6, 'z3..5');
  assertClose(h2.z!.data, [0.157248, 0.109128], 1e-6, 'z6, z7');
  // exact z8 = 0.06430577; the book's 0.064314 used a6, a7 rounded to 4 decimals (0.1572, 0.1091)
  assertClose(out.z!.data, [0.064314], 1e-5, 'z8');
  // ∂a/∂z of a ReLU: 1 where z > 0, else 0 (the lecture's choice at z = 0)
  const dadz = (z: Float32Array) => Array.from(z, (v) => (v > 0 ? 1 : 0));
  assert.deepEqual([...dadz(h1.z!.data), ...dadz(h2.z!.data), ...dadz(out.z!.data)], [0, 0, 1, 1, 1, 1]);
  // eq 50, printed to 4 decimals
  assertClose(out.z!.grad!.data, [-0.0657], 5e-5, 'δ8');
  // exact δ7 = 0.0328471; the book's 0.0329 is −0.0657 × −0.50 = 0.03285 rounded up
  assertClose(h2.z!.grad!.data, [-0.0079, 0.0329], 1e-4, 'δ6, δ7');
  assertClose(h2.z!.grad!.data, [0.12 * out.z!.grad!.data[0], -0.5 * out.z!.grad!.data[0]], 1e-8, 'δ6, δ7 = δ8·w8,6, δ8·w8,7');
  assertClose(h1.z!.grad!.data, [0, 0, -0.0034], 5e-5, 'δ3..5');
  assert.equal(h1.z!.grad!.data[0], 0);
  assert.equal(h1.z!.grad!.data[1], 0);
});

function trainRelu(lr: number) {
  const model = workedModel('relu', lr);
  const h = model.fit(x(), y(), { epochs: 5000, batchSize: 4, shuffle: false, stopWhen: { loss: 1e-4 } });
  return { model, h, losses: h.epochs.map((e) => e.loss) };
}

test('Figures 21–22: the learning curves of α = 0.2 (unstable after ~150 epochs) and α = 0.1 (smooth, 412 updates)', () => {
  const fast = trainRelu(0.2);
  const slow = trainRelu(0.1);
  // α = 0.1: converges after exactly 412 updates and the ½SSE never rises (Figure 22)
  assert.equal(slow.h.stopped, 'converged');
  assert.equal(slow.h.updates, 412);
  assert.equal(slow.losses.length, 412);
  for (let i = 1; i < slow.losses.length; i++) assert.ok(slow.losses[i] <= slow.losses[i - 1], `α = 0.1 curve rises at epoch ${i + 1}`);
  // α = 0.2: converges too (the lecture's 424 depends on digits of the weights the book rounded
  // away; here 429), but after a smooth start the ½SSE rises and falls dramatically (Figure 21)
  assert.equal(fast.h.stopped, 'converged');
  assert.ok(fast.h.updates > 412 && fast.h.updates < 450, `α = 0.2 took ${fast.h.updates} updates`);
  const rises: number[] = [];
  const jumps: number[] = [];
  for (let i = 1; i < fast.losses.length; i++) {
    if (fast.losses[i] > fast.losses[i - 1]) rises.push(i + 1);
    if (fast.losses[i] > 1.5 * fast.losses[i - 1]) jumps.push(i + 1);
  }
  assert.ok(rises[0] > 150, `first rise at epoch ${rises[0]}: the curve should be smooth for the first ~150 epochs`);
  assert.ok(rises.length > 30, `only ${rises.length} rises`);
  assert.ok(jumps.length >= 10, `only ${jumps.length} rises by more than 50%`);
  // Table 13's shape: after convergence every prediction is within 0.02 of its target
  const pred = fast.model.predict(x()).data;
  assertClose(pred, [0.94, 0.13, 0.57, 0.36], 0.02, 'converged predictions');
});
