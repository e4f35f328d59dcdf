import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKED, files, run, tmp } from './helpers.js';

/** A small classification CSV: class = which of three features is largest. */
function classification(dir: string): Record<string, string> {
  const rows = ['x1,x2,x3,kind'];
  let s = 11;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  for (let i = 0; i < 150; i++) {
    const v = [r(), r(), r()];
    rows.push(`${v.join(',')},${['low', 'mid', 'high'][v.indexOf(Math.max(...v))]}`);
  }
  return files(dir, {
    data: rows.join('\n') + '\n',
    spec: JSON.stringify({
      input: [3],
      layers: [{ type: 'dense', units: 8, activation: 'relu', kernelInitializer: 'heNormal' }, { type: 'dense', units: 3, activation: 'softmax' }],
      loss: 'crossEntropy', optimizer: { type: 'adam', learningRate: 0.05 },
      columns: { kind: { type: 'categorical', levels: ['low', 'mid', 'high'] } },
      train: { batchSize: 16, epochs: 40, seed: 2 },
    }),
  });
}

test('classification end to end: train, evaluate (confusion matrix), predict (levels and probabilities)', () => {
  const dir = tmp();
  const f = classification(dir);
  const out = join(dir, 'model');
  const t = run(['train', f.spec, '--data', f.data, '--target', 'kind', '--out', out, '--json']);
  assert.equal(t.status, 0, t.stderr);
  const ev = run(['evaluate', out, '--data', f.data]);
  assert.equal(ev.status, 0, ev.stderr);
  assert.match(ev.stdout, /accuracy (9\d|100)\.\d\d%/);
  assert.match(ev.stdout, /confusion matrix/);
  assert.match(ev.stdout, /low/);
  const evj = JSON.parse(run(['evaluate', out, '--data', f.data, '--json']).stdout);
  assert.equal(evj.confusion.length, 3);
  assert.ok(evj.accuracy > 0.9);
  const p = run(['predict', out, '--data', f.data, '--json', '--limit', '3']);
  assert.equal(p.status, 0, p.stderr);
  const preds = JSON.parse(p.stdout).predictions;
  assert.equal(preds.length, 3);
  assert.ok(['low', 'mid', 'high'].includes(preds[0].class));
  assert.equal(preds[0].probabilities.length, 3);
  assert.ok(Math.abs(preds[0].probabilities.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-5);
});

test('regression predictions come back in the original units', () => {
  const dir = tmp();
  const f = files(dir, {
    data: 'temp,power\n10,400\n20,440\n30,480\n15,420\n',
    spec: JSON.stringify({
      input: [1], layers: [{ type: 'dense', units: 1 }], loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.5 },
      columns: { temp: { normalize: 'range' }, power: { normalize: 'range' } }, train: { batchSize: 4, epochs: 400, seed: 1 },
    }),
  });
  const out = join(dir, 'm');
  assert.equal(run(['train', f.spec, '--data', f.data, '--target', 'power', '--out', out, '--quiet']).status, 0);
  const p = JSON.parse(run(['predict', out, '--data', f.data, '--json']).stdout).predictions;
  assert.ok(Math.abs(p[1].prediction[0] - 440) < 5, `prediction ${p[1].prediction[0]} MW`);
});

test('inspect prints layer dynamics with predicted var(z); --json has the documented keys', () => {
  const r = run(['inspect', WORKED.spec, '--weights', WORKED.weights, '--data', WORKED.data, '--target', 'electrical_output', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  const l = j.layers[0];
  for (const k of ['name', 'weight', 'z', 'a', 'delta', 'predictedVarZ']) assert.ok(k in l, `layer has ${k}`);
  for (const k of ['mean', 'var', 'p5', 'p50', 'p95']) assert.ok(k in l.z, `z has ${k}`);
});

test('inspect without data is a ConfigError', () => {
  const r = run(['inspect', WORKED.spec]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^ConfigError: inspect needs data/m);
});

test('a report path in a directory that does not exist fails before training', () => {
  const r = run(['train', WORKED.spec, '--data', WORKED.data, '--target', 'electrical_output', '--report', '/nonexistent-dir/r.html', '--out', join(tmp(), 'm')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^ConfigError: report path \/nonexistent-dir\/r\.html: directory \/nonexistent-dir does not exist/m);
});

test('train --report and report MODEL write self-contained HTML; an empty history is reported as such', () => {
  const dir = tmp();
  const out = join(dir, 'm');
  const html = join(dir, 'r.html');
  assert.equal(run(['train', WORKED.relu, '--data', WORKED.data, '--target', 'electrical_output', '--weights', WORKED.weights, '--out', out, '--report', html, '--quiet']).status, 0);
  const page = readFileSync(html, 'utf8');
  assert.match(page, /<svg/);
  assert.doesNotMatch(page, /<script[^>]+src=|<link[^>]+href="http/);
  // a model that was never trained
  const f = files(dir, { s: readFileSync(WORKED.spec, 'utf8').replace('"epochs": 20000', '"epochs": 1') });
  const untrained = join(dir, 'u');
  const t = run(['train', f.s, '--data', WORKED.data, '--target', 'electrical_output', '--out', untrained, '--epochs', '1', '--quiet']);
  assert.equal(t.status, 0, t.stderr);
  const manifest = join(untrained, 'manifest.json');
  const m = JSON.parse(readFileSync(manifest, 'utf8'));
  m.history = { epochs: [], stopped: 'maxEpochs', updates: 0 };
  if (m.training) m.training.epoch = 0; // every save is a checkpoint: its epoch counts the history
  files(untrained, { 'manifest.json': JSON.stringify(m) });
  const r2 = run(['report', untrained, '--out', join(dir, 'u.html')]);
  assert.equal(r2.status, 0, r2.stderr);
  assert.match(readFileSync(join(dir, 'u.html'), 'utf8'), /no training history|has not been trained|empty/i);
});

test('images whose size does not match the model are a ShapeError', () => {
  const dir = tmp();
  const cols = Array.from({ length: 36 }, (_, i) => `p${i}`);
  const row = (c: number) => [...cols.map((_, i) => ((i * 7 + c) % 5) / 5), c].join(',');
  const f = files(dir, {
    data: `${cols.join(',')},label\n${row(0)}\n${row(1)}\n`,
    spec: JSON.stringify({
      input: [1, 6, 6],
      layers: [{ type: 'conv2d', filters: 2, kernelSize: 3, activation: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 1, activation: 'logistic' }],
      loss: 'binaryCrossEntropy', optimizer: { type: 'sgd', learningRate: 0.1 }, train: { epochs: 1, batchSize: 2 },
    }),
  });
  const out = join(dir, 'm');
  const t = run(['train', f.spec, '--data', f.data, '--target', 'label', '--out', out, '--quiet']);
  assert.equal(t.status, 0, t.stderr);
  const tr = run(['trace', out, '--data', f.data, '--target', 'label', '--json']);
  assert.equal(tr.status, 0, tr.stderr);
  // trace reports z, a and δ of a conv layer in its own shape: [example][filter][row][column]
  const z = JSON.parse(tr.stdout).layers[0].z;
  assert.deepEqual([z.length, z[0].length, z[0][0].length, z[0][0][0].length], [2, 2, 4, 4]);
  const r = run(['predict', out, '--data', 'digits', '--limit', '1']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^ShapeError: bundled digits: images are \[1, 28, 28\] \(784 values\) but the model expects input \[1, 6, 6\]/m);
});

test('spec train.validationSplit and train.earlyStopping reach fit(); bad values are ConfigErrors', () => {
  const dir = tmp();
  const f = classification(dir);
  const spec = JSON.parse(readFileSync(f.spec, 'utf8'));
  spec.train = { ...spec.train, epochs: 300, validationSplit: 0.3, earlyStopping: { patience: 3 } };
  const g = files(dir, {
    es: JSON.stringify(spec),
    badSplit: JSON.stringify({ ...spec, train: { ...spec.train, validationSplit: 1.5 } }),
    badPatience: JSON.stringify({ ...spec, train: { ...spec.train, earlyStopping: { patience: -1 } } }),
  });
  const r = run(['train', g.es, '--data', f.data, '--target', 'kind', '--out', join(dir, 'es-model'), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.stopped, 'earlyStopping');
  assert.ok(j.epochs < 300);
  assert.ok(typeof j.history[0].valLoss === 'number');
  const b1 = run(['train', g.badSplit, '--data', f.data, '--target', 'kind', '--out', join(dir, 'b1')]);
  assert.equal(b1.status, 1);
  assert.match(b1.stderr, /^ConfigError: .*validationSplit/m);
  const b2 = run(['train', g.badPatience, '--data', f.data, '--target', 'kind', '--out', join(dir, 'b2')]);
  assert.equal(b2.status, 1);
  assert.match(b2.stderr, /^ConfigError: .*patience/m);
});

test('summary prints layers, output shapes, parameter counts, loss and optimiser (Model.summary)', () => {
  const r = run(['summary', WORKED.spec]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /h1\s+dense\s+\[N, 3\]\s+9/);
  assert.match(r.stdout, /out\s+dense\s+\[N, 1\]\s+3/);
  assert.match(r.stdout, /total params: 20/);
  assert.match(r.stdout, /loss: sse \(sum over the batch\)/);
  assert.match(r.stdout, /optimizer: sgd \(learningRate 0\.2/);
});

test('an LSTM spec with per-step targets and "truncation" trains by truncated BPTT; trace shows h, c and gates per step', () => {
  const dir = tmp();
  const T = 12;
  const xs = Array.from({ length: T }, (_, t) => `x${t}`);
  const ys = Array.from({ length: T }, (_, t) => `y${t}`);
  let s = 5;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  const rows = [[...xs, ...ys].join(',')];
  for (let i = 0; i < 32; i++) {
    const x = Array.from({ length: T }, r);
    let acc = 0;
    rows.push([...x, ...x.map((v) => (acc += v) / 6)].map((v) => v.toFixed(4)).join(','));
  }
  const f = files(dir, {
    data: rows.join('\n') + '\n',
    spec: JSON.stringify({
      input: [T, 1], layers: [{ type: 'lstm', units: 6, returnSequences: true }, { type: 'dense', units: 1 }],
      loss: 'mse', optimizer: { type: 'adam', learningRate: 0.02 }, train: { batchSize: 16, epochs: 5, truncation: 4, seed: 1 },
    }),
  });
  const out = join(dir, 'm');
  const t = run(['train', f.spec, '--data', f.data, '--target', ys.join(','), '--out', out, '--json']);
  assert.equal(t.status, 0, t.stderr);
  const j = JSON.parse(t.stdout);
  assert.equal(j.updates, 5 * 2 * 3, 'epochs × batches × subsequences of length 4');
  const tr = JSON.parse(run(['trace', out, '--data', f.data, '--target', ys.join(','), '--json']).stdout);
  assert.deepEqual(Object.keys(tr.layers[0].extra).sort(), ['c', 'gates', 'h']);
  assert.deepEqual(Object.keys(tr.layers[0].grad).sort(), ['Wc', 'Wf', 'Wi', 'Wo', 'bc', 'bf', 'bi', 'bo']);
});

test('images whose channel count does not match the model are a ShapeError', () => {
  const dir = tmp();
  const f = files(dir, {
    spec: JSON.stringify({
      input: [4, 14, 14],
      layers: [{ type: 'conv2d', filters: 2, kernelSize: 3 }, { type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }],
      loss: 'crossEntropy', optimizer: { type: 'sgd', learningRate: 0.1 }, train: { epochs: 1 },
    }),
  });
  const r = run(['train', f.spec, '--data', 'digits', '--out', join(dir, 'm')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^ShapeError: bundled digits: images have 1 channel\(s\) but the model expects 4/m);
});

test('an IDX directory: train reads the train files, evaluate the t10k files (each only its own part)', () => {
  const dir = tmp();
  const idx = (type: number, dims: number[], body: Uint8Array): Uint8Array =>
    Uint8Array.from([0, 0, type, dims.length, ...dims.flatMap((d) => [d >>> 24, (d >>> 16) & 255, (d >>> 8) & 255, d & 255]), ...body]);
  // 6 training images of 2×2 (class = brightest pixel), 4 test images
  const train = Uint8Array.from([255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 255, 200, 10, 0, 0, 0, 220, 5, 0]);
  const test = Uint8Array.from([250, 0, 0, 0, 0, 250, 0, 0, 0, 0, 250, 0, 0, 0, 0, 250]);
  for (const [name, bytes] of [['train-images-idx3-ubyte', idx(0x08, [6, 2, 2], train)], ['train-labels-idx1-ubyte', idx(0x08, [6], Uint8Array.from([0, 1, 2, 3, 0, 1]))],
    ['t10k-images-idx3-ubyte', idx(0x08, [4, 2, 2], test)], ['t10k-labels-idx1-ubyte', idx(0x08, [4], Uint8Array.from([0, 1, 2, 3]))]] as const) {
    writeFileSync(join(dir, name), bytes);
  }
  const f = files(dir, {
    spec: JSON.stringify({
      input: [4], layers: [{ type: 'dense', units: 10, activation: 'softmax' }],
      loss: 'crossEntropy', optimizer: { type: 'sgd', learningRate: 1 }, train: { epochs: 3, batchSize: 2, seed: 1 },
    }),
  });
  const out = join(dir, 'm');
  const t = run(['train', f.spec, '--data', dir, '--out', out, '--json']);
  assert.equal(t.status, 0, t.stderr);
  assert.equal(JSON.parse(t.stdout).updates, 9, '3 epochs of the 6 training images in batches of 2');
  const ev = run(['evaluate', out, '--data', dir, '--json']);
  assert.equal(ev.status, 0, ev.stderr);
  const counted = (JSON.parse(ev.stdout).confusion as number[][]).flat().reduce((a, b) => a + b, 0);
  assert.equal(counted, 4, 'the 4 test images are evaluated');
});
