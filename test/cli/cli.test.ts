import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKED, files, run, tmp } from './helpers.js';

test('train --json on the ReLU worked example converges after exactly 412 updates and saves the model', () => {
  const out = join(tmp(), 'm');
  const r = run(['train', WORKED.relu, '--data', WORKED.data, '--target', 'electrical_output', '--weights', WORKED.weights, '--out', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.stopped, 'converged');
  assert.equal(j.epochs, 412);
  assert.ok(j.loss < 1e-4);
  assert.equal(j.history.length, 412);
  for (const k of ['epoch', 'loss', 'seconds']) assert.ok(k in j.history[0], `history entry has ${k}`);
  assert.ok(existsSync(join(out, 'manifest.json')));
});

test('trace --json reproduces the lecture numbers for d2 (Table 5, eq 38–43)', () => {
  const dir = tmp();
  const { d2 } = files(dir, { d2: 'ambient_temperature,relative_humidity,electrical_output\n0.84,0.58,0.13\n' });
  const r = run(['trace', WORKED.spec, '--weights', WORKED.weights, '--data', d2, '--target', 'electrical_output', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const t = JSON.parse(r.stdout);
  const [h1, h2, out] = t.layers;
  assert.deepEqual(t.layers.map((l: { name: string }) => l.name), ['h1', 'h2', 'out']);
  const close = (a: number, b: number, tol: number) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
  close(h1.z[0][0], -0.0042, 1e-5);
  close(h2.z[0][1], 0.23546, 1e-5);
  close(out.z[0][0], -0.113108, 1e-5);
  close(out.delta[0][0], 0.0852, 5e-5);
  close(h2.delta[0][0], 0.0025, 5e-5);
  close(h2.delta[0][1], -0.0105, 5e-5);
  close(h1.delta[0][0], -0.0006, 5e-5);
  close(h2.grad.weight[1][2], -0.0055671, 5e-5);
  close(out.grad.bias[0], 0.0852, 5e-5);
  close(t.loss, 0.5 * 0.3418 * 0.3418, 1e-4);
});

test('trace prints aligned tables', () => {
  const r = run(['trace', WORKED.spec, '--weights', WORKED.weights, '--data', WORKED.data, '--target', 'electrical_output']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /layer h1 \(dense, logistic\)/);
  assert.match(r.stdout, /w7,5\s+-0\.090000\s+0\.001524/);
});

const SPEC = (patch: Record<string, unknown>) => JSON.stringify({
  input: [2],
  layers: [{ type: 'dense', units: 2, activation: 'logistic', name: 'h1' }, { type: 'dense', units: 1, activation: 'logistic', name: 'out' }],
  loss: 'sse',
  optimizer: { type: 'sgd', learningRate: 0.2 },
  train: { batchSize: 4, epochs: 2, shuffle: false, seed: 1 },
  ...patch,
});

function expectError(args: string[], type: string, message: RegExp): void {
  const r = run(args);
  assert.notEqual(r.status, 0, `expected failure, got stdout ${r.stdout}`);
  assert.match(r.stderr, new RegExp(`^${type}: `, 'm'));
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('bad specs fail with a ConfigError naming the key', () => {
  const dir = tmp();
  const f = files(dir, {
    malformed: '{"input": [2], "layers": [',
    act: SPEC({ layers: [{ type: 'dense', units: 1, activation: 'sigmoidal' }] }),
    loss: SPEC({ loss: 'hinge' }),
    init: SPEC({ layers: [{ type: 'dense', units: 1, kernelInitializer: { type: 'magic' } }] }),
    layer: SPEC({ layers: [{ type: 'capsule', units: 1 }] }),
    lr: SPEC({ optimizer: { type: 'sgd', learningRate: 0 } }),
    bs: SPEC({ train: { batchSize: 0 } }),
  });
  const common = ['--data', WORKED.data, '--target', 'electrical_output', '--out', join(dir, 'o')];
  expectError(['train', f.malformed, ...common], 'ConfigError', /malformed JSON/);
  expectError(['train', f.act, ...common], 'ConfigError', /layers\[0\] \(dense\)\.activation must be one of linear, .*, received "sigmoidal"; did you mean "sigmoid"\?/);
  expectError(['train', f.loss, ...common], 'ConfigError', /loss must be one of sse, mse, crossEntropy, binaryCrossEntropy, .*received "hinge"/);
  expectError(['train', f.init, ...common], 'ConfigError', /layers\[0\] \(dense\)\.kernelInitializer\.type must be one of randomUniform, .*received "magic"/);
  expectError(['train', f.layer, ...common], 'ConfigError', /layers\[0\]\.type must be one of .*dense.*, received "capsule"/);
  expectError(['train', f.lr, ...common], 'ConfigError', /optimizer\.learningRate must be a number > 0, received 0/);
  expectError(['train', f.bs, ...common], 'ConfigError', /train\.batchSize must be an integer ≥ 1, received 0/);
});

test('typos in a spec are ConfigErrors naming the key, where it is and the closest valid key', () => {
  const dir = tmp();
  const f = files(dir, {
    epoch: SPEC({ train: { epoch: 50 } }),
    split: SPEC({ train: { epochs: 5, validation_split: 0.2 } }),
    unit: SPEC({ layers: [{ type: 'dense', unit: 5 }] }),
    colums: SPEC({ colums: { a: { normalize: 'range' } } }),
    activaton: SPEC({ layers: [{ type: 'dense', units: 1, activaton: 'relu' }] }),
  });
  const common = ['--data', WORKED.data, '--target', 'electrical_output', '--out', join(dir, 'o')];
  expectError(['train', f.epoch, ...common], 'ConfigError', /epoch: train\.epoch: unknown key; did you mean "epochs"\? \(valid keys: batchSize, epochs/);
  expectError(['train', f.split, ...common], 'ConfigError', /train\.validation_split: unknown key; did you mean "validationSplit"\?/);
  expectError(['train', f.unit, ...common], 'ConfigError', /layers\[0\] \(dense\)\.unit: unknown key; did you mean "units"\?/);
  expectError(['train', f.colums, ...common], 'ConfigError', /colums: colums: unknown key; did you mean "columns"\?/);
  expectError(['train', f.activaton, ...common], 'ConfigError', /layers\[0\] \(dense\)\.activaton: unknown key; did you mean "activation"\?/);
  assert.equal(existsSync(join(dir, 'o')), false, 'nothing written');
});

test('bad CSV data fails with a DataError naming file, line and column', () => {
  const dir = tmp();
  const f = files(dir, {
    spec: SPEC({}),
    missing: 'a,b,t\n0.1,0.2,1\n0.3,,0\n',
    text: 'a,b,t\n0.1,0.2,1\n0.3,abc,0\n',
    ragged: 'a,b,t\n0.1,0.2,1\n0.3,0.4\n',
  });
  const out = ['--out', join(dir, 'o')];
  expectError(['train', f.spec, '--data', f.missing, '--target', 't', ...out], 'DataError', /missing, line 3, column 2 \("b"\)/);
  expectError(['train', f.spec, '--data', f.text, '--target', 't', ...out], 'DataError', /text, line 3, column 2 \("b"\).*abc/);
  expectError(['train', f.spec, '--data', f.ragged, '--target', 't', ...out], 'DataError', /ragged.*line 3/);
  expectError(['train', f.spec, '--data', f.missing, '--target', 'power', ...out], 'DataError', /unknown target column "power"; the columns are: a, b, t/);
});

test('a weights file whose shapes do not match the spec is a ShapeError', () => {
  const dir = tmp();
  const f = files(dir, { spec: SPEC({}), w: JSON.stringify({ h1: { weight: [[1, 2, 3], [4, 5, 6]] } }) });
  expectError(['train', f.spec, '--data', WORKED.data, '--target', 'electrical_output', '--weights', f.w, '--out', join(dir, 'o')],
    'ShapeError', /weights for h1\.weight: expected shape \[2, 2\], received \[2, 3\]/);
});

test('NaN during training: NumericError naming the layer, last good weights saved, non-zero exit', () => {
  const dir = tmp();
  const f = files(dir, {
    spec: SPEC({ layers: [{ type: 'dense', units: 2, activation: 'linear', name: 'h1' }, { type: 'dense', units: 1, activation: 'linear', name: 'out' }],
      optimizer: { type: 'sgd', learningRate: 1e6 }, train: { batchSize: 4, epochs: 50, shuffle: false } }),
  });
  const out = join(dir, 'o');
  const r = run(['train', f.spec, '--data', WORKED.data, '--target', 'electrical_output', '--out', out]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /^NumericError: training produced a non-finite value .* first in layer (h1|out)/m);
  // the failed run does not write --out: its last good weights go to a new, clearly named place
  assert.ok(r.stderr.includes(`the last good weights were saved to ${out}.last-good; ${out} was left as it was`), r.stderr);
  assert.ok(!existsSync(join(out, 'manifest.json')));
  const m = JSON.parse(readFileSync(join(`${out}.last-good`, 'manifest.json'), 'utf8'));
  assert.ok(m.tensors.length > 0);
  const ev = run(['predict', `${out}.last-good`, '--data', WORKED.data, '--json']);
  assert.equal(ev.status, 0, ev.stderr);
  for (const p of JSON.parse(ev.stdout).predictions) assert.ok(p.prediction.every(Number.isFinite), 'saved weights are finite');
});

test('unknown command and unknown option exit non-zero with usage', () => {
  const r = run(['frobnicate']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
  const r2 = run(['train', WORKED.spec, '--colour', 'red']);
  assert.notEqual(r2.status, 0);
  assert.match(r2.stderr, /ConfigError: train: unknown option --colour/);
});
