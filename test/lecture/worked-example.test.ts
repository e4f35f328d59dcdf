import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sum, sub, square } from '../../src/index.js';
import { workedModel, workedNet, x, y } from './fixtures.js';
import { assertClose } from '../helpers/gradcheck.js';

test('Table 4: predictions, errors and ½SSE of the initial network', () => {
  const net = workedNet();
  const pred = net.forward(x()).data;
  assertClose(pred, [0.4715, 0.4718, 0.4717, 0.4716], 5e-5, 'prediction');
  const t = y().data;
  assertClose(Array.from(pred, (p, i) => t[i] - p), [0.4685, -0.3418, 0.0983, -0.1116], 5e-5, 'error');
  const half = 0.5 * sum(square(sub(y(), net.forward(x())))).item();
  assertClose([half], [0.17921847], 5e-5, '½SSE');
});

test('Table 5, eq 38–43 and Table 6: z, ∂a/∂z, δ and ∂E/∂w for d2', () => {
  const model = workedModel();
  const net = model.net;
  net.setTracing(true);
  const xd2 = x().data.subarray(2, 4);
  const { loss } = model.lossOf(
    new (x().constructor as any)(Float32Array.from(xd2), [1, 2]),
    new (y().constructor as any)(Float32Array.from([0.13]), [1, 1]),
  );
  loss.backward();
  const [h1, h2, out] = net.layers.map((l) => l.record!);
  // Table 5: z per neuron 3..8
  assertClose(h1.z!.data, [-0.0042, -0.1898, 0.1208], 1e-5, 'z3..5');
  assertClose(h2.z!.data, [0.207122, 0.23546], 1e-5, 'z6..7');
  assertClose(out.z!.data, [-0.113108], 1e-5, 'z8');
  const dadz = (a: Float32Array) => Array.from(a, (v) => v * (1 - v));
  assertClose(dadz(h1.a.data), [0.25, 0.2478, 0.2491], 5e-5, '∂a/∂z 3..5');
  assertClose(dadz(h2.a.data), [0.2473, 0.2466], 5e-5, '∂a/∂z 6..7');
  assertClose(dadz(out.a.data), [0.2492], 5e-5, '∂a/∂z 8');
  // eq 38–43: δ8 = 0.0852, δ6 = 0.0025, δ7 = −0.0105, δ3 = −0.0006, δ4 = −0.0003, δ5 = 0.0003
  assertClose(out.z!.grad!.data, [0.0852], 5e-5, 'δ8');
  assertClose(h2.z!.grad!.data, [0.0025, -0.0105], 5e-5, 'δ6, δ7');
  assertClose(h1.z!.grad!.data, [-0.0006, -0.0003, 0.0003], 5e-5, 'δ3..5');
  // Table 6 (exact products of exact δs and activations, printed precision)
  const g = (l: number, p: string) => (net.layers[l].ownParameters().get(p)!.grad!).data;
  assertClose(g(2, 'bias'), [0.0852], 5e-5, '∂E/∂w8,0');
  assertClose(g(2, 'weight'), [0.04699632, 0.04759272], 5e-5, '∂E/∂w8,6..7');
  assertClose(g(1, 'bias'), [0.0025, -0.0105], 5e-5, '∂E/∂w6,0 w7,0');
  assertClose(g(1, 'weight'), [0.0012475, 0.00113175, 0.0013255, -0.0052395, -0.00475335, -0.0055671], 5e-5, '∂E/∂w6,k w7,k');
  assertClose(g(0, 'weight'), [-0.000504, -0.000348, -0.000252, -0.000174, 0.000252, 0.000174], 5e-5, '∂E/∂w3..5,k');
});

test('Table 7 and eq 45: Δw7,5 summed over the batch and the updated w7,5', () => {
  const model = workedModel();
  const { loss } = model.lossOf(x(), y());
  loss.backward();
  const gw = model.net.layers[1].ownParameters().get('weight')!.grad!.data;
  // exact value 0.0015244827 (the book's 0.00153726 used rounded δs; LECTURE-NOTES.md)
  assertClose([gw[5]], [0.0015244827], 1e-7, 'Δw7,5');
  model.optimizer.step(model.net.namedParameters());
  const w = model.net.layers[1].ownParameters().get('weight')!.data;
  assertClose([w[5]], [-0.09 - 0.2 * 0.0015244827], 1e-7, 'w7,5');
});

test('Table 8: after one batch update with α = 0.2 the predictions are 0.4738 0.4741 0.4740 0.4739', () => {
  const model = workedModel();
  const h = model.fit(x(), y(), { epochs: 1, batchSize: 4, shuffle: false, stopWhen: { loss: 1e-4 } });
  assertClose(model.predict(x()).data, [0.4738, 0.4741, 0.4740, 0.4739], 5e-5, 'prediction');
  // exact ½SSE 0.1789671 (the book's 0.17896823 came from errors rounded to 4 decimals)
  assertClose([h.epochs[0].loss], [0.1789671], 2e-6, '½SSE');
  assert.equal(h.updates, 1);
});

test('training the worked example by batch gradient descent converges (½SSE < 0.0001)', () => {
  const model = workedModel();
  const h = model.fit(x(), y(), { epochs: 20000, batchSize: 4, shuffle: false, stopWhen: { loss: 1e-4 } });
  assert.equal(h.stopped, 'converged');
  assert.ok(h.epochs.length > 3000 && h.epochs.length < 15000, `converged after ${h.epochs.length} updates (lecture: 7656 with its unrounded weights)`);
  const pred = model.predict(x()).data;
  assertClose(pred, [0.9266, 0.1342, 0.5700, 0.3608], 0.03, 'Table 9 predictions');
});

test('ReLU network: converges after exactly 412 updates with α = 0.1', () => {
  const model = workedModel('relu', 0.1);
  const h = model.fit(x(), y(), { epochs: 5000, batchSize: 4, shuffle: false, stopWhen: { loss: 1e-4 } });
  assert.equal(h.stopped, 'converged');
  assert.equal(h.updates, 412);
});
