// The CLI explains itself: --help everywhere, --version, the spec reference; input inferred from
// the data; text targets as classes; regression metrics in the target's units; per-epoch lines
// without a terminal; JSON numbers without float64 noise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, files, run, tmp } from './helpers.js';
import { COMMANDS } from '../../src/cli/commands.js';
import { float32Shortest } from '../../src/cli/common.js';

test('--help on every command exits 0 with usage, options, an example and where the spec format is', () => {
  for (const name of Object.keys(COMMANDS)) {
    for (const flag of ['--help', '-h']) {
      const r = run([name, flag]);
      assert.equal(r.status, 0, `${name} ${flag}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: dendrite ${name} `));
      assert.match(r.stdout, /\nOptions:\n {2}--/);
      assert.match(r.stdout, new RegExp(`\\nExample:\\n {2}dendrite ${name}`));
      assert.match(r.stdout, /dendrite help spec/);
    }
  }
  assert.equal(run(['help', 'train']).stdout, run(['train', '--help']).stdout);
});

test('dendrite --version prints the package version; dendrite help spec prints the spec reference', () => {
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  for (const v of ['--version', '-v']) {
    const r = run([v]);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, `${version}\n`);
  }
  const s = run(['help', 'spec']);
  assert.equal(s.status, 0);
  assert.match(s.stdout, /Layer types: .*dense/);
  assert.match(s.stdout, /Optimizers: sgd, adam, adamw, rmsprop/);
});

test('float32 shortest round trip: no float64 noise', () => {
  assert.equal(float32Shortest(349.8342590332031), 349.83426);
  assert.equal(float32Shortest(0.1), 0.1);
  assert.equal(float32Shortest(Math.fround(1 / 3)), 0.33333334);
  assert.equal(float32Shortest(1e-30), 1e-30);
});

test('regression: input inferred from the data, per-epoch lines on stderr without a TTY, evaluate in the target\'s own units', () => {
  const dir = tmp();
  // t normalised to [0, 1] by range (2 … 8); the weights map x to (2x − 2) / 6 = x/3 − 1/3, so the
  // model predicts 2, 4, 6, 8 in t's units against targets 2, 4, 7, 8:
  // RMSE = √(1/4) = 0.5, MAE = 1/4, R² = 1 − 1 / 22.75
  const f = files(dir, {
    spec: JSON.stringify({ layers: [{ type: 'dense', units: 1, name: 'o' }], loss: 'mse', optimizer: { type: 'sgd', learningRate: 1e-30 },
      columns: { t: { normalize: 'range' } }, train: { epochs: 3, batchSize: 4, shuffle: false } }),
    data: 'x,t\n1,2\n2,4\n3,7\n4,8\n',
    weights: JSON.stringify({ o: { weight: [[1 / 3]], bias: [-1 / 3] } }),
  });
  const out = join(dir, 'm');
  const t = run(['train', f.spec, '--data', f.data, '--target', 't', '--weights', f.weights, '--out', out, '--backend', 'js']);
  assert.equal(t.status, 0, t.stderr);
  const epochLines = t.stderr.split('\n').filter((l) => /^epoch \d\/3 {2}loss /.test(l));
  assert.equal(epochLines.length, 3, t.stderr);
  assert.doesNotMatch(t.stderr, /\x1b/);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).spec.input, [1], 'input inferred');
  const quiet = run(['train', f.spec, '--data', f.data, '--target', 't', '--weights', f.weights, '--out', join(dir, 'q'), '--quiet', '--backend', 'js']);
  assert.equal(quiet.stderr, '');

  const e = run(['evaluate', out, '--data', f.data, '--target', 't', '--json', '--backend', 'js']);
  assert.equal(e.status, 0, e.stderr);
  const [g] = JSON.parse(e.stdout).regression;
  assert.equal(g.column, 't');
  assert.ok(Math.abs(g.rmse - 0.5) < 1e-5, String(g.rmse));
  assert.ok(Math.abs(g.mae - 0.25) < 1e-5, String(g.mae));
  assert.ok(Math.abs(g.r2 - (1 - 1 / 22.75)) < 1e-5, String(g.r2));
  const text = run(['evaluate', out, '--data', f.data, '--target', 't', '--backend', 'js']);
  assert.match(text.stdout, /t: RMSE 0\.500\d*, MAE 0\.250\d*, R² 0\.9560 \(in t's own units\)/);
  // JSON numbers at float32 precision: at most 9 significant digits
  for (const m of e.stdout.matchAll(/-?\d+\.\d+(e-?\d+)?/g)) assert.ok(m[0].replace(/^-?0\.0*|\.|e.*$/g, '').length <= 9, m[0]);
});

test('a text target under softmax + cross-entropy becomes classes; predict names them', () => {
  const dir = tmp();
  const rows = ['a,b,label', ...Array.from({ length: 12 }, (_, i) => `${i % 3 === 0 ? 1 : 0},${i % 3 === 1 ? 1 : 0},${['cat', 'dog', 'eel'][i % 3]}`)];
  const f = files(dir, {
    spec: JSON.stringify({ layers: [{ type: 'dense', units: 3, activation: 'softmax' }], loss: 'crossEntropy', optimizer: { type: 'adam', learningRate: 0.1 }, train: { epochs: 30, batchSize: 4 } }),
    data: rows.join('\n') + '\n',
  });
  const out = join(dir, 'm');
  const t = run(['train', f.spec, '--data', f.data, '--target', 'label', '--out', out, '--quiet', '--backend', 'js']);
  assert.equal(t.status, 0, t.stderr);
  const p = run(['predict', out, '--data', f.data, '--json', '--limit', '3', '--backend', 'js']);
  assert.equal(p.status, 0, p.stderr);
  const j = JSON.parse(p.stdout);
  assert.deepEqual(j.classes, ['cat', 'dog', 'eel']);
  assert.deepEqual(j.predictions.map((r: { class: string }) => r.class), ['cat', 'dog', 'eel']);
});
