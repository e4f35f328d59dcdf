import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, Dense, Model, SGD, Sequential, TrainingDiagnostics, checkRisingLoss, diagnose, formatWarning, tensor, Rng } from '../../src/index.js';
import type { DiagnosticWarning, DiagnosticsRecord } from '../../src/index.js';
import { INIT_EXPERIMENTS, experimentData, experimentModel } from '../../examples/init-experiment.js';
import { workedModel, x, y } from '../lecture/fixtures.js';

const fitWorked = (act: 'relu' | 'logistic', lr: number, epochs: number, d?: TrainingDiagnostics) => {
  const model = workedModel(act, lr);
  const diag = d ?? new TrainingDiagnostics(model, x(), y());
  const h = model.fit(x(), y(), { epochs, batchSize: 4, shuffle: false, stopWhen: { loss: 1e-4 }, callbacks: [diag] });
  return { model, diag, h };
};

test('the lecture\'s Neuron 4 is a dead ReLU in the ReLU worked example', () => {
  const d = diagnose(workedModel('relu'), x(), y());
  const h1 = d.layers[0];
  assert.deepEqual(h1.deadUnits, [1], 'unit 1 of h1 = Neuron 4');
  const w = d.warnings.find((v) => v.kind === 'deadRelu' && v.layer === 'h1');
  assert.ok(w);
  assert.match(w!.message, /dead ReLUs: 1 of 3 units in h1 \(index 1\) are inactive \(z ≤ 0\) for all 4 sampled examples/);
  assert.match(w!.advice, /leaky ReLU.*0\.1.*He initialisation/);
  assert.deepEqual(w!.units, [1], 'the warning names the neuron concerned');
  assert.match(formatWarning(w!, 1), /^warning \(epoch 1\): dead ReLUs: .*\. What usually helps: use leaky ReLU/);
  // …and stays dead through training: its weights never change
  const { model, h } = fitWorked('relu', 0.1, 50);
  const dead = h.epochs.map((e) => (e.diagnostics as DiagnosticsRecord).layers[0].deadUnits);
  assert.ok(dead.every((u) => u!.includes(1)));
  const w4 = Array.from(model.net.layers[0].ownParameters().get('weight')!.data.subarray(2, 4));
  assert.deepEqual(w4.map((v) => Math.round(v * 1e6) / 1e6), [0.09, -0.13]);
});

test('the α = 0.2 ReLU instability of Figure 21 is reported as a rising loss; α = 0.1 is not', () => {
  const unstable = fitWorked('relu', 0.2, 500);
  const rising = unstable.diag.summary().find((w) => w.kind === 'risingLoss');
  assert.ok(rising, 'rising loss seen with α = 0.2');
  assert.ok(rising!.firstEpoch > 100 && rising!.firstEpoch < 250, `first seen at epoch ${rising!.firstEpoch}`);
  assert.match(rising!.message, /the training loss went up in \d+ of the last 10 epochs with learning rate 0\.2, by \d+(\.\d)?% of its lowest value in total \(largest rise \+\d+(\.\d)?%: [\d.]+ → [\d.]+ at epoch \d+\); the updates are probably too large/);
  assert.doesNotMatch(rising!.message + rising!.advice, /lecture|Figure|α/);
  assert.match(rising!.advice, /lower the learning rate/);
  const stable = fitWorked('relu', 0.1, 500);
  assert.equal(stable.diag.summary().find((w) => w.kind === 'risingLoss'), undefined);
});

test('diagnostics are kept in the history and do not change training', () => {
  const a = fitWorked('relu', 0.1, 30);
  const model = workedModel('relu', 0.1);
  model.fit(x(), y(), { epochs: 30, batchSize: 4, shuffle: true });
  const b = workedModel('relu', 0.1);
  b.fit(x(), y(), { epochs: 30, batchSize: 4, shuffle: true, callbacks: [new TrainingDiagnostics(b, x(), y(), { sampleSize: 3 })] });
  assert.deepEqual(b.net.getWeights().h1.weight.data, model.net.getWeights().h1.weight.data);
  const rec = a.h.epochs[4].diagnostics as DiagnosticsRecord;
  assert.equal(rec.epoch, 5);
  assert.equal(rec.examples, 4);
  assert.equal(rec.layers.length, 3);
  for (const l of rec.layers) assert.ok(l.gradNorm > 0 && l.deltaRms! > 0, `${l.name} has gradient norms`);
  assert.equal(typeof rec.deltaRatio, 'number');
  assert.equal(a.diag.records.length, 30);
});

test('vanishing gradients with N(0, 0.01²) weights, exploding with N(0, 0.2²), none with Xavier or ReLU + He', () => {
  const { x: xs, y: ys } = experimentData();
  const kinds = (name: string) => diagnose(experimentModel(INIT_EXPERIMENTS.find((e) => e.name === name)!), xs, ys).warnings.map((w) => w.kind);
  const small = diagnose(experimentModel(INIT_EXPERIMENTS[0]), xs, ys);
  const v = small.warnings.find((w) => w.kind === 'vanishingGradients')!;
  assert.ok(v, 'vanishing');
  assert.match(v.message, /vanishing gradients: the RMS of δ falls from [\d.e-]+ in out to [\d.e-]+ in hl1 going backwards \(ratio [\d.e-]+ < 0\.01\)/);
  assert.ok(small.deltaRatio! < 1e-4, `δ ratio first/last ${small.deltaRatio}`);
  assert.equal(v.layer, 'hl1');
  assert.equal(v.comparedWith, 'out');
  assert.equal(v.units, undefined, 'the whole layer is concerned');
  const big = diagnose(experimentModel(INIT_EXPERIMENTS[1]), xs, ys).warnings.find((w) => w.kind === 'explodingGradients');
  assert.ok(big, 'exploding');
  assert.match(big!.message, /exploding gradients: the RMS of δ grows from [\d.e-]+ in hl5 to [\d.e-]+ in hl1 going backwards \(ratio [\d.]+ > 10\)/);
  assert.match(big!.advice, /clip gradients \(clipNorm\)/);
  assert.deepEqual(kinds('xavier'), []);
  // with only two input features, some ReLUs of the deeper layers are off for all 100 examples
  // from the start (zero biases): reported, but no gradient problem
  assert.deepEqual([...new Set(kinds('relu-he'))], ['deadRelu']);
});

test('saturated logistic units: large weights push |z| into the flat part of the logistic', () => {
  const net = new Sequential([
    new Dense({ units: 8, activation: 'logistic', kernelInitializer: { type: 'randomNormal', stddev: 8 }, name: 'h' }),
    new Dense({ units: 1, activation: 'logistic', name: 'out' }),
  ], { inputShape: [4], seed: 2 });
  const model = new Model(net, { loss: 'sse', optimizer: new SGD({ learningRate: 0.1 }) });
  const rng = new Rng(3);
  const xs = tensor(Array.from({ length: 32 }, () => [0, 0, 0, 0].map(() => rng.normal(0, 1))));
  const ys = tensor(Array.from({ length: 32 }, () => [rng.next()]));
  const d = diagnose(model, xs, ys);
  const w = d.warnings.find((v: DiagnosticWarning) => v.kind === 'saturated' && v.layer === 'h');
  assert.ok(w, JSON.stringify(d.warnings));
  assert.ok(d.layers[0].saturatedFraction! > 0.5, `saturated fraction ${d.layers[0].saturatedFraction}`);
  assert.match(w!.message, /saturated logistic units: \d+% of the activations in h have ∂a\/∂z below 5\.0% of its maximum/);
  assert.match(w!.advice, /Xavier/);
  // the units concerned: those saturated for more than 25% of the examples, from the per-unit fractions
  const per = d.layers[0].unitSaturation!;
  assert.equal(per.length, 8);
  assert.ok(Math.abs(per.reduce((a, b) => a + b, 0) / 8 - d.layers[0].saturatedFraction!) < 1e-12, 'the per-unit fractions average to the layer\'s');
  assert.deepEqual(w!.units, per.flatMap((v, u) => (v > 0.25 ? [u] : [])));
  assert.ok(w!.units!.length > 0);
});

test('checkRisingLoss: several rises in the window warn, a steady fall does not', () => {
  assert.equal(checkRisingLoss([5, 4, 3, 2, 1]), null);
  const w = checkRisingLoss([1, 0.9, 1.0, 0.8, 1.2, 0.7, 0.9], { learningRate: 0.2 });
  assert.ok(w);
  assert.equal(w!.value, 3);
  assert.match(w!.message, /went up in 3 of the last 6 epochs with learning rate 0\.2, by 100% of its lowest value in total \(largest rise \+50%: 0\.800000 → 1\.200000 at epoch 5\)/);
  // small wobbles are not a sustained rise: three rises of about 1% each
  assert.equal(checkRisingLoss([100, 101, 99, 100, 98, 99, 97]), null);
  // a single +2.4% epoch is not either
  assert.equal(checkRisingLoss([10, 9, 8, 8.192, 7, 6]), null);
});

test('a rising loss is reported once per fit(), not every time it flickers back', () => {
  const seen: number[] = [];
  const model = workedModel('relu', 0.2);
  const diag = new TrainingDiagnostics(model, x(), y(), { onWarning: (w, epoch) => { if (w.kind === 'risingLoss') seen.push(epoch); } });
  model.fit(x(), y(), { epochs: 500, batchSize: 4, shuffle: false, callbacks: [diag] });
  assert.ok(diag.records.filter((r) => r.warnings.some((w) => w.kind === 'risingLoss')).length > 1, 'the condition holds at several checks');
  assert.equal(seen.length, 1, `reported at epochs ${seen.join(', ')}`);
});

test('bad diagnostics input: no data, bad options', () => {
  const model = workedModel('relu');
  assert.throws(() => new TrainingDiagnostics(model, undefined as never, y()), (e: Error) => e instanceof ConfigError && /training diagnostics needs data/.test(e.message));
  assert.throws(() => diagnose(model, x(), undefined as never), (e: Error) => e instanceof ConfigError && /diagnosing a model needs data/.test(e.message));
  assert.throws(() => diagnose(model, x(), y(), { sampleSize: 0 }), (e: Error) => e instanceof ConfigError && /diagnostics: sampleSize must be a positive integer, received 0/.test(e.message));
});

test('onWarning is told once when a warning appears, not every epoch', () => {
  const model = workedModel('relu', 0.1);
  const seen: string[] = [];
  const d = new TrainingDiagnostics(model, x(), y(), { onWarning: (w, e) => seen.push(`${e}:${w.kind}:${w.layer}`) });
  model.fit(x(), y(), { epochs: 20, batchSize: 4, shuffle: false, callbacks: [d] });
  assert.equal(seen.filter((s) => s.endsWith('deadRelu:h1')).length, 1);
  assert.equal(seen[0], '1:deadRelu:h1');
});
