import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, Conv2D, Dense, Flatten, MaxPool2D, Model, SGD, Sequential, SimpleRNN, tensor, traceModel, formatTrace, captureTrace, activationDerivative, Rng } from '../../src/index.js';
import type { NestedArray } from '../../src/index.js';
import { workedModel, x, y } from '../lecture/fixtures.js';
import { assertClose } from '../helpers/gradcheck.js';

const flat = (v: NestedArray | null | undefined): number[] => (v === null || v === undefined ? [] : (Array.isArray(v) ? v.flatMap((e) => flat(e)) : [v as number]));
const d2x = () => tensor([[0.84, 0.58]]);
const d2y = () => tensor([[0.13]]);

test('traceModel on d2 reproduces Table 5, eq 38–43 and Table 6', () => {
  const t = traceModel(workedModel(), d2x(), d2y());
  assert.deepEqual(t.layers.map((l) => l.name), ['h1', 'h2', 'out']);
  const [h1, h2, out] = t.layers;
  // Table 5: z and ∂a/∂z per neuron 3..8
  assertClose(flat(h1.z), [-0.0042, -0.1898, 0.1208], 1e-5, 'z3..5');
  assertClose(flat(h2.z), [0.207122, 0.23546], 1e-5, 'z6..7');
  assertClose(flat(out.z), [-0.113108], 1e-5, 'z8');
  assertClose(flat(h1.dadz), [0.25, 0.2478, 0.2491], 5e-5, '∂a/∂z 3..5');
  assertClose(flat(h2.dadz), [0.2473, 0.2466], 5e-5, '∂a/∂z 6..7');
  assertClose(flat(out.dadz), [0.2492], 5e-5, '∂a/∂z 8');
  // eq 38–43
  assertClose(flat(out.delta), [0.0852], 5e-5, 'δ8');
  assertClose(flat(h2.delta), [0.0025, -0.0105], 5e-5, 'δ6, δ7');
  assertClose(flat(h1.delta), [-0.0006, -0.0003, 0.0003], 5e-5, 'δ3..5');
  // Table 6
  assertClose(flat(out.grad.bias), [0.0852], 5e-5, '∂E/∂w8,0');
  assertClose(flat(out.grad.weight), [0.04699632, 0.04759272], 5e-5, '∂E/∂w8,6..7');
  assertClose(flat(h2.grad.weight), [0.0012475, 0.00113175, 0.0013255, -0.0052395, -0.00475335, -0.0055671], 5e-5, '∂E/∂w6,k w7,k');
  assertClose(flat(h1.grad.weight), [-0.000504, -0.000348, -0.000252, -0.000174, 0.000252, 0.000174], 5e-5, '∂E/∂w3..5,k');
  // indexing [example][neuron]
  assert.equal((h1.z as number[][]).length, 1);
  assert.equal((h1.z as number[][])[0].length, 3);
  assert.ok(Math.abs(t.loss - 0.5 * 0.3418 ** 2) < 1e-4, `loss ${t.loss}`);
});

test('traceModel over four rows: z/a/δ per example, gradients summed over the rows (Table 7)', () => {
  const model = workedModel();
  const t = traceModel(model, x(), y());
  const h2 = t.layers[1];
  assert.equal((h2.delta as number[][]).length, 4);
  // Δw7,5 summed over the four examples (exact value, LECTURE-NOTES.md)
  assertClose([(h2.grad.weight as number[][])[1][2]], [0.0015244827], 1e-7, 'Δw7,5');
  assertClose([t.loss], [0.17921847], 5e-5, '½SSE of Table 4');
});

test('traceModel leaves the model as it was: gradients, tracing, mode, weights', () => {
  const model = workedModel();
  const before = model.net.getWeights();
  traceModel(model, x(), y());
  for (const p of model.net.parameters()) assert.equal(p.grad, null);
  for (const l of model.net.layers) {
    assert.equal(l.tracing, false);
    assert.equal(l.record, null);
  }
  assert.equal(model.net.training, true);
  const after = model.net.getWeights();
  for (const [ln, ps] of Object.entries(before)) for (const [k, v] of Object.entries(ps)) assert.deepEqual(after[ln][k].data, v.data);
  // training afterwards matches a fresh model's training exactly
  const fresh = workedModel();
  model.fit(x(), y(), { epochs: 3, batchSize: 4, shuffle: true });
  fresh.fit(x(), y(), { epochs: 3, batchSize: 4, shuffle: true });
  assert.deepEqual(model.net.layers[0].ownParameters().get('weight')!.data, fresh.net.layers[0].ownParameters().get('weight')!.data);
});

test('softmax + cross-entropy keeps the fused path: δ of the output is P̂ − t per example', () => {
  const net = new Sequential([
    new Dense({ units: 3, activation: 'relu', name: 'h' }),
    new Dense({ units: 3, activation: 'softmax', name: 'out' }),
  ], { inputShape: [2], seed: 3 });
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.1 }) });
  const xs = tensor([[0.04, 0.81], [0.84, 0.58]]);
  const ys = tensor([[0, 0, 1], [1, 0, 0]]);
  const t = traceModel(model, xs, ys);
  const out = t.layers[1];
  const p = flat(out.a);
  const tv = [0, 0, 1, 1, 0, 0];
  assertClose(flat(out.delta), p.map((v, i) => v - tv[i]), 1e-6, 'δ = P̂ − t');
  assert.equal(out.dadz, undefined, 'no elementwise ∂a/∂z for softmax');
  // probabilities sum to 1 per example
  assertClose([p[0] + p[1] + p[2], p[3] + p[4] + p[5]], [1, 1], 1e-6, 'Σ P̂');
  // gradients are those of the loss summed over rows (mean loss × N)
  const raw = captureTrace(model, xs, ys);
  assert.equal(raw.scale, 2);
});

test('ReLU worked example: δs of eq 50 for d2 and ∂a/∂z of Table 12', () => {
  const t = traceModel(workedModel('relu'), d2x(), d2y());
  assertClose(flat(t.layers[0].dadz), [0, 0, 1], 0, '∂a/∂z 3..5');
  // printed to 4 decimals from already rounded factors (δ7 = −0.0657 × −0.50 = 0.03285 → 0.0329)
  assertClose(flat(t.layers[2].delta), [-0.0657], 1e-4, 'δ8');
  assertClose(flat(t.layers[1].delta), [-0.0079, 0.0329], 1e-4, 'δ6, δ7');
  assertClose(flat(t.layers[0].delta), [0, 0, -0.0034], 1e-4, 'δ3..5');
});

test('formatTrace prints Table 5 and Table 6 rows with the lecture neuron numbers', () => {
  const s = formatTrace(traceModel(workedModel(), d2x(), d2y()));
  assert.match(s, /layer h1 \(dense, logistic\): z, a, ∂a\/∂z, δ = ∂E\/∂z/);
  // exact values; the lecture prints them rounded (δ3 = −0.00055 → −0.0006)
  assert.match(s, /d1\s+3\s+-0\.004200\s+0\.498950\s+0\.249999\s+-0\.000550/);
  assert.match(s, /d1\s+8\s+-0\.11310\d\s/);
  assert.match(s, /w8,6\s+0\.120000\s+0\.085166\s+0\.551596\s+0\.046977/);
  assert.match(s, /w7,5\s+-0\.090000\s+-0\.010500\s+0\.530163\s+-0\.005566/);
  assert.match(s, /w3,0\s+0\.100000\s+-0\.000550\s+1\s+-0\.000550\nw3,1\s+-0\.200000\s+-0\.000550\s+0\.840000\s+-0\.000462/);
  assert.match(s, /w8,0\s+0\.100000\s+0\.085166\s+1\s+0\.085166\nw8,6/);
  const lines = s.split('\n');
  const i = lines.findIndex((l) => l.startsWith('layer h2'));
  assert.equal(lines[i + 1].length, lines[i + 2].length, 'columns are aligned');
});

test('activationDerivative: ReLU has derivative 0 at z = 0; leaky ReLU its slope', () => {
  assert.deepEqual(Array.from(activationDerivative('relu', [-1, 0, 2], [0, 0, 2])!), [0, 0, 1]);
  assertClose(activationDerivative('leakyRelu', [-1, 2], [-0.1, 2], 0.1)!, [0.1, 1], 1e-7, 'leaky');
  assert.equal(activationDerivative('softmax', [1], [1]), null);
});

test('tracing without data is a ConfigError', () => {
  const model = workedModel();
  assert.throws(() => traceModel(model, undefined as never, y()), (e: Error) => e instanceof ConfigError && /tracing a model needs data: pass the inputs x and the targets y/.test(e.message));
  assert.throws(() => traceModel(model, tensor(new Float32Array(0), { shape: [0, 2] }), tensor(new Float32Array(0), { shape: [0, 1] })), (e: Error) => e instanceof ConfigError && /at least one example/.test(e.message));
});

test('conv layers are traced in their own shape [example][channel][row][col]', () => {
  const net = new Sequential([
    new Conv2D({ filters: 2, kernelSize: 3, activation: 'prelu', name: 'conv' }),
    new MaxPool2D({ poolSize: 2, name: 'pool' }),
    new Flatten({ name: 'flat' }),
    new Dense({ units: 2, activation: 'softmax', name: 'out' }),
  ], { inputShape: [1, 6, 6], seed: 4 });
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.1 }) });
  const rng = new Rng(5);
  const xs = tensor(Array.from({ length: 3 * 36 }, () => rng.normal(0, 1)), { shape: [3, 1, 6, 6] });
  const t = traceModel(model, xs, tensor([[1, 0], [0, 1], [1, 0]]));
  const conv = t.layers[0];
  const z = conv.z as number[][][][];
  assert.deepEqual([z.length, z[0].length, z[0][0].length, z[0][0][0].length], [3, 2, 4, 4]);
  assert.deepEqual([(conv.delta as number[][][][])[0].length, (conv.dadz as number[][][][])[0].length], [2, 2]);
  const w = conv.grad.weight as number[][][][];
  assert.deepEqual([w.length, w[0].length, w[0][0].length, w[0][0][0].length], [2, 1, 3, 3]);
  // PReLU slope per filter: ∂a/∂z is 1 or λ = 0.25
  assert.ok(flat(conv.dadz).every((v) => v === 1 || Math.abs(v - 0.25) < 1e-7));
  // δ of the conv layer = (δ routed back through the max-pool) × ∂a/∂z
  assert.equal(t.layers[1].type, 'maxPool2d');
  assert.equal(t.layers[2].z, null);
  const s = formatTrace(t);
  assert.match(s, /layer conv \(conv2d, prelu\): z, a, ∂a\/∂z, δ = ∂E\/∂z\nexample\s+unit\s+z\s+a\s+∂a\/∂z\s+δ\nd1\s+\(0,0,0\)/);
  assert.match(s, /weight\[1,0,2,2\]/);
});

test('recurrent layers add their per-step hidden states as extra', () => {
  const net = new Sequential([
    new SimpleRNN({ units: 3, activation: 'tanh', name: 'rnn' }),
    new Dense({ units: 1, name: 'out' }),
  ], { inputShape: [4, 2], seed: 6 });
  const model = new Model(net, { loss: 'mse', optimizer: new SGD({ learningRate: 0.1 }) });
  const rng = new Rng(2);
  const xs = tensor(Array.from({ length: 2 * 8 }, () => rng.normal(0, 1)), { shape: [2, 4, 2] });
  const t = traceModel(model, xs, tensor([[0.5], [-0.5]]));
  const r = t.layers[0];
  assert.ok(r.extra && r.extra.h, `extra keys: ${Object.keys(r.extra ?? {})}`);
  assert.equal((r.extra.h as number[][]).length, 2, 'per example');
  assert.ok(Object.keys(r.grad).length >= 2);
  assert.match(formatTrace(t), /rnn h \[2,/);
});

test('layers declare their activation (Layer.activationOf): dense, conv, activation and simpleRNN report it; pooling does not', () => {
  const rnn = new SimpleRNN({ units: 2, returnSequences: true, activation: 'leakyRelu', alpha: 0.3, name: 'r' });
  const net = new Sequential([rnn, new Dense({ units: 1, activation: { type: 'logistic' }, name: 'out' })], { inputShape: [3, 2], seed: 1 });
  const model = new Model(net, { loss: 'mse', optimizer: new SGD({ learningRate: 0.1 }) });
  const t = traceModel(model, tensor([[[1, -2], [0, 1], [-1, 0]]]), tensor([[[1], [0], [1]]]));
  assert.equal(t.layers[0].activation, 'leakyRelu');
  const z = (t.layers[0].z as number[][][]).flat(2);
  const d = (t.layers[0].dadz as number[][][]).flat(2);
  assert.deepEqual(d.map((v) => Math.fround(v)), z.map((v) => Math.fround(v > 0 ? 1 : 0.3)));
  assert.equal(t.layers[1].activation, 'logistic');
  assert.equal(new MaxPool2D({ poolSize: 2 }).activationOf(), null);
  assert.equal(new Conv2D({ filters: 1, kernelSize: 1, activation: 'gelu' }).activationOf()?.name, 'gelu');
});
