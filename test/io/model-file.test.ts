import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync, unlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelFileError, Preprocessor, buildModel, parseCsv, parseSpec, prepareTable, saveModel, loadModel, tensor } from '../../src/index.js';
import { CLI, ROOT, files, run, tmp } from '../cli/helpers.js';

const SPEC = parseSpec({
  input: [2],
  layers: [{ type: 'dense', units: 3, activation: 'tanh', name: 'h' }, { type: 'dense', units: 1, name: 'o' }],
  loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 }, train: { seed: 3 },
});

/** A small fitted preparation: range-normalised inputs a, b and target t. */
function preparation(): Preprocessor {
  return prepareTable(parseCsv('a,b,t\n1,2,3\n4,6,8\n', { file: 'mem.csv' }), { '*': { normalize: 'range' } }, { columns: ['t'] }).preprocessor;
}

function saved(): { dir: string; manifest: Record<string, unknown> } {
  const dir = join(tmp(), 'model');
  const model = buildModel(SPEC);
  const manifest = saveModel(dir, model, SPEC, { preprocessing: preparation() });
  return { dir, manifest: manifest as unknown as Record<string, unknown> };
}

test('save → load round trip keeps weights, spec, preprocessing and predictions', () => {
  const model = buildModel(SPEC);
  const dir = join(tmp(), 'm');
  const pre = preparation();
  saveModel(dir, model, SPEC, { preprocessing: pre });
  const l = loadModel(dir);
  const x = tensor([[0.1, 0.2], [0.3, -0.4]]);
  assert.deepEqual(l.model.predict(x).toArray(), model.predict(x).toArray());
  assert.ok(l.preprocessing instanceof Preprocessor);
  assert.deepEqual(l.preprocessing.toJSON(), pre.toJSON());
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  assert.equal(m.version, 2);
  assert.match(m.checksum.tensors, /^[0-9a-f]{64}$/);
  assert.equal(m.checksum.algorithm, 'sha256');
  assert.deepEqual(m.tensors.map((t: { name: string }) => t.name), ['h.weight', 'h.bias', 'o.weight', 'o.bias']);
  assert.deepEqual(m.tensors[0].shape, [3, 2]);
  assert.equal(statSync(join(dir, m.weightsFile)).size, 4 * (6 + 3 + 3 + 1));
  // saving again replaces the model and leaves no temporary or stale files
  saveModel(dir, buildModel({ ...SPEC, train: { seed: 9 } }), SPEC);
  const names = readdirSync(dir).sort();
  assert.equal(names.length, 2, names.join(', '));
  assert.ok(names.every((n) => !n.endsWith('.tmp')));
});

function expectModelFileError(dir: string, re: RegExp): void {
  const before = readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))] as const);
  assert.throws(() => loadModel(dir), (e: unknown) => e instanceof ModelFileError && re.test(e.message));
  const after = readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))] as const);
  assert.deepEqual(after, before, 'nothing was written or removed');
}

test('a missing weights file is a ModelFileError', () => {
  const { dir, manifest } = saved();
  unlinkSync(join(dir, manifest.weightsFile as string));
  expectModelFileError(dir, /weights-[0-9a-f]+\.bin: cannot read the file: the weights file is missing/);
});

test('a corrupt weights file fails the checksum', () => {
  const { dir, manifest } = saved();
  const p = join(dir, manifest.weightsFile as string);
  const b = readFileSync(p);
  b[5] ^= 0xff;
  writeFileSync(p, b);
  expectModelFileError(dir, /checksum mismatch/);
});

test('a truncated weights file is refused', () => {
  const { dir, manifest } = saved();
  const p = join(dir, manifest.weightsFile as string);
  writeFileSync(p, readFileSync(p).subarray(0, 10));
  expectModelFileError(dir, /has 10 bytes, expected 52/);
});

test('a shape mismatch between the weights and the spec is refused', () => {
  const { dir } = saved();
  const mp = join(dir, 'manifest.json');
  const m = JSON.parse(readFileSync(mp, 'utf8'));
  m.spec.layers[0].units = 4;
  writeFileSync(mp, JSON.stringify(m));
  expectModelFileError(dir, /h\.weight has shape \[3, 2\] in the weights file, the spec needs \[4, 2\]/);
});

test('a newer format version is refused', () => {
  const { dir } = saved();
  const mp = join(dir, 'manifest.json');
  const m = JSON.parse(readFileSync(mp, 'utf8'));
  m.version = 3;
  writeFileSync(mp, JSON.stringify(m));
  expectModelFileError(dir, /format version 3 is newer than this dendrite supports \(2\)/);
});

test('a missing or corrupt manifest is refused', () => {
  const { dir } = saved();
  writeFileSync(join(dir, 'manifest.json'), '{"format": "dendrite-model", "version": 1,');
  expectModelFileError(dir, /corrupt manifest/);
  const empty = tmp();
  expectModelFileError(empty, /manifest\.json.* is missing/);
  assert.throws(() => loadModel(join(empty, 'nope')), (e: unknown) => e instanceof ModelFileError && /does not exist/.test(e.message));
});

test('the CLI reports a bad model directory as a ModelFileError without a stack trace', () => {
  const { dir, manifest } = saved();
  unlinkSync(join(dir, manifest.weightsFile as string));
  const r = run(['evaluate', dir, '--data', join(ROOT, 'examples/worked/data.csv'), '--target', 'electrical_output']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^ModelFileError: .*is missing/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

/** A CSV of a noisy function, big enough that an epoch takes a noticeable time. */
function trainingData(dir: string): { data: string; spec: string } {
  const rows = ['a,b,c,t'];
  let s = 7;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  for (let i = 0; i < 3000; i++) {
    const a = r(); const b = r(); const c = r();
    rows.push(`${a},${b},${c},${Math.sin(3 * a) + b * c}`);
  }
  return files(dir, {
    data: rows.join('\n') + '\n',
    spec: JSON.stringify({
      input: [3],
      layers: [{ type: 'dense', units: 32, activation: 'tanh' }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 32, activation: 'relu' }, { type: 'dense', units: 1 }],
      loss: 'mse', optimizer: { type: 'adam', learningRate: 0.001 },
      train: { batchSize: 4, epochs: 4, shuffle: true, seed: 5 },
    }),
  }) as { data: string; spec: string };
}

test('a run killed mid-epoch (SIGKILL) and resumed ends with exactly the weights of an uninterrupted run', async () => {
  const dir = tmp();
  const f = trainingData(dir);
  const full = join(dir, 'full');
  const r = run(['train', f.spec, '--data', f.data, '--target', 't', '--out', full, '--json', '--backend', 'js']);
  assert.equal(r.status, 0, r.stderr);
  const ckpt = join(dir, 'ckpt');
  const child = spawn(process.execPath, [CLI, 'train', f.spec, '--data', f.data, '--target', 't', '--out', join(dir, 'killed'), '--checkpoint', ckpt, '--quiet', '--backend', 'js'], { stdio: 'ignore' });
  // wait until the checkpoint of epoch 1 exists, then kill in the middle of epoch 2
  const epochOf = (): number => {
    try {
      return JSON.parse(readFileSync(join(ckpt, 'manifest.json'), 'utf8')).training.epoch;
    } catch {
      return 0;
    }
  };
  const t0 = Date.now();
  while (epochOf() < 1) {
    assert.ok(Date.now() - t0 < 60000, 'checkpoint did not appear');
    await new Promise((res) => setTimeout(res, 10));
  }
  await new Promise((res) => setTimeout(res, 20));
  child.kill('SIGKILL');
  await new Promise((res) => child.on('exit', res));
  assert.ok(!existsSync(join(dir, 'killed', 'manifest.json')), 'the killed run did not finish');
  const killedAt = epochOf();
  assert.ok(killedAt >= 1 && killedAt < 4, `killed after epoch ${killedAt}`);
  const resumed = join(dir, 'resumed');
  const r2 = run(['train', f.spec, '--data', f.data, '--target', 't', '--resume', ckpt, '--out', resumed, '--json', '--backend', 'js']);
  assert.equal(r2.status, 0, r2.stderr);
  assert.equal(JSON.parse(r2.stdout).epochs, 4);
  const weights = (d: string) => {
    const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
    return readFileSync(join(d, m.weightsFile));
  };
  assert.ok(weights(resumed).equals(weights(full)), 'resumed weights equal the uninterrupted run bit for bit');
});
