// Model directories from strangers: every defect of issue 10 in the loader has a test here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ConfigError, ModelFileError, NumericError, buildModel, parseSpec, saveModel, loadModel, tensor, tensorTableDigest, parseManifest, decodeModel,
} from '../../src/index.js';
import type { StoredTensor } from '../../src/index.js';
import { tmp } from '../cli/helpers.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const SPEC = parseSpec({
  input: [2],
  layers: [{ type: 'dense', units: 3, activation: 'tanh', name: 'h' }, { type: 'dense', units: 1, name: 'o' }],
  loss: 'mse', optimizer: { type: 'adam', learningRate: 0.01 }, train: { seed: 3 },
});

/** A saved model (a checkpoint with Adam state after one epoch when `checkpoint`). */
function saved(checkpoint = false): string {
  const dir = join(tmp(), 'model');
  const model = buildModel(SPEC);
  if (checkpoint) model.fit(tensor([[0, 1], [1, 0], [1, 1]]), tensor([[1], [1], [0]]), { epochs: 1, batchSize: 2 });
  saveModel(dir, model, SPEC, { checkpoint });
  return dir;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Edits manifest.json; with `rehash` the tensor table's checksum is recomputed (a deliberate edit). */
function edit(dir: string, fn: (m: Json) => void, rehash = false): void {
  const p = join(dir, 'manifest.json');
  const m = JSON.parse(readFileSync(p, 'utf8'));
  fn(m);
  if (rehash) m.checksum.tensors = tensorTableDigest(m.tensors as StoredTensor[], sha256);
  writeFileSync(p, JSON.stringify(m));
}

/** Rewrites the weights file through `fn`, renaming it and fixing the checksum as a saver would. */
function editWeights(dir: string, fn: (b: Buffer) => void): void {
  const p = join(dir, 'manifest.json');
  const m = JSON.parse(readFileSync(p, 'utf8'));
  const b = readFileSync(join(dir, m.weightsFile));
  fn(b);
  unlinkSync(join(dir, m.weightsFile));
  m.checksum.value = sha256(b);
  m.weightsFile = `weights-${m.checksum.value.slice(0, 16)}.bin`;
  writeFileSync(join(dir, m.weightsFile), b);
  writeFileSync(p, JSON.stringify(m));
}

function refused(dir: string, re: RegExp): void {
  assert.throws(() => loadModel(dir), (e: unknown) => {
    assert.ok(e instanceof ModelFileError, `expected a ModelFileError, received ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

test('weightsFile cannot name a path outside the model directory', () => {
  const dir = saved();
  const sibling = saved();
  const own = JSON.parse(readFileSync(join(sibling, 'manifest.json'), 'utf8')).weightsFile;
  for (const name of ['/etc/passwd', '../../../../dev/zero', `../../${sibling.split('/').slice(-2).join('/')}/${own}`, 'sub/weights-0123456789abcdef.bin', '..', '']) {
    edit(dir, (m) => { m.weightsFile = name; });
    refused(dir, /field "weightsFile" must be a file name of the form weights-<16 hex digits>\.bin/);
  }
});

test('the weights file must be a regular file: no symlink, directory or FIFO (and no hang)', () => {
  const dir = saved();
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const w = join(dir, m.weightsFile);
  const outside = join(tmp(), 'outside.bin');
  renameSync(w, outside);
  symlinkSync(outside, w);
  refused(dir, /weights file is a symbolic link/);
  unlinkSync(w);
  mkdirSync(w);
  refused(dir, /weights file is a directory, not a regular file/);
  execFileSync('rmdir', [w]);
  execFileSync('mkfifo', [w]);
  const t0 = Date.now();
  refused(dir, /weights file is a FIFO \(named pipe\), not a regular file/);
  assert.ok(Date.now() - t0 < 2000);
  unlinkSync(w);
  execFileSync('mkfifo', [join(dir, 'manifest.json.fifo')]);
  renameSync(join(dir, 'manifest.json'), join(dir, 'm.json'));
  renameSync(join(dir, 'manifest.json.fifo'), join(dir, 'manifest.json'));
  refused(dir, /manifest\.json.* is a FIFO/);
});

test('a tiny directory cannot make the loader build a huge network', () => {
  for (const change of [
    (m: Json) => { m.spec.layers[0].units = 50000; m.spec.input = [50000]; },
    (m: Json) => { m.spec.input = [1e9]; },
  ]) {
    const dir = saved();
    edit(dir, change);
    const t0 = Date.now();
    refused(dir, /field "spec" describes a network that needs more than .* values, but the weights file holds 13/);
    assert.ok(Date.now() - t0 < 2000, `refused in ${Date.now() - t0} ms`);
  }
});

test('malformed manifest fields are ModelFileErrors naming the field', () => {
  const cases: [(m: Json) => void, RegExp][] = [
    [(m) => { m.training = 5; }, /field "training" must be an object, received 5/],
    [(m) => { m.tensors[0] = null; }, /field "tensors\[0\]" must be an object, received null/],
    [(m) => { m.tensors = { 0: 1 }; }, /field "tensors" must be a list/],
    [(m) => { m.tensors[1].shape = [-3]; }, /field "tensors\[1\]\.shape\[0\]" must be an integer/],
    [(m) => { m.tensors[1].dtype = 'float64'; }, /field "tensors\[1\]\.dtype" must be "float32"/],
    [(m) => { m.byteLength = '52'; }, /field "byteLength" must be an integer/],
    [(m) => { m.checksum = null; }, /field "checksum" must be an object/],
    [(m) => { m.version = 'one'; }, /field "version" must be an integer in \[1, 2\]/],
    [(m) => { m.history = { epochs: [{}], stopped: 'maxEpochs', updates: 1 }; }, /field "history\.epochs\[0\]\.epoch" must be an integer in \[1, 1\]/],
    [(m) => { m.history = { epochs: [], stopped: 'toString', updates: 0 }; }, /field "history\.stopped" must be one of/],
  ];
  for (const [change, re] of cases) {
    const dir = saved();
    edit(dir, change);
    refused(dir, re);
  }
});

test('the tensor table is covered by a checksum: pointing a tensor elsewhere is detected', () => {
  // h.bias [3] and o.weight [1, 3] have the same size: swapping their offsets overlaps nothing
  const dir = saved();
  edit(dir, (m) => { [m.tensors[1].offset, m.tensors[2].offset] = [m.tensors[2].offset, m.tensors[1].offset]; });
  refused(dir, /field "tensors" does not match "checksum\.tensors"/);
  // and even with a recomputed table checksum, overlapping tensors are refused
  const dir2 = saved();
  edit(dir2, (m) => { m.tensors[1].offset = 0; }, true);
  refused(dir2, /field "tensors" must be non-overlapping \(h\.bias overlaps h\.weight\)/);
});

test('non-finite weights and stray tensors are refused', () => {
  const dir = saved();
  editWeights(dir, (b) => b.writeFloatLE(NaN, 8));
  refused(dir, /tensor h\.weight holds a non-finite value \(NaN\) at index 2/);
});

test('checkpoint state is validated before use (optimizer buffers, RNG, history)', () => {
  const good = saved(true);
  const { model } = loadModel(good);
  assert.equal(model.optimizer.iterations, 2);
  const cases: [(m: Json) => void, RegExp, boolean?][] = [
    [(m) => { m.training.rng.shuffle = null; }, /field "training\.rng\.shuffle" must be an object, received null/],
    [(m) => { m.training.rng.runtime.s = [0, 0, 0, 0]; }, /field "training\.rng\.runtime\.s" must be four unsigned 32-bit integers, not all 0/],
    [(m) => { m.training.optimizer.iterations = -1; }, /field "training\.optimizer\.iterations" must be an integer/],
    [(m) => { m.training.optimizer.type = 'sgd'; }, /"training\.optimizer\.type" is "sgd" but the spec's optimizer is "adam"/],
    [(m) => { m.training.epoch = 7; }, /field "training\.epoch" must be the number of epochs in the history \(1\)/],
    [(m) => { m.tensors.find((t: Json) => t.name === 'optimizer/h.bias/m').name = 'optimizer/h.bias/velocity'; }, /adam keeps the buffers m, v, not "velocity"/, true],
    [(m) => { m.tensors.find((t: Json) => t.name === 'optimizer/h.bias/m').name = 'optimizer/nope.bias/m'; }, /optimiser state for an unknown parameter/, true],
    [(m) => { m.tensors = m.tensors.filter((t: Json) => t.name !== 'optimizer/h.bias/v'); }, /the optimiser state of h\.bias lacks optimizer\/h\.bias\/v/, true],
  ];
  for (const [change, re, rehash] of cases) {
    const dir = saved(true);
    edit(dir, change, rehash);
    refused(dir, re);
  }
  // a negative second moment would turn the first update into NaN weights
  const dir = saved(true);
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const v = m.tensors.find((t: Json) => t.name === 'optimizer/h.weight/v');
  editWeights(dir, (b) => b.writeFloatLE(-1, v.offset));
  refused(dir, /tensor optimizer\/h\.weight\/v holds a negative value; v is a running square/);
});

test('parseManifest and decodeModel work on bytes alone (no file system)', () => {
  const dir = saved();
  const text = readFileSync(join(dir, 'manifest.json'), 'utf8');
  const m = parseManifest(JSON.parse(text), 'in-memory manifest');
  const w = readFileSync(join(dir, m.weightsFile));
  const { model } = decodeModel(m, new Uint8Array(w), { file: 'in-memory manifest', weightsFile: 'in-memory weights', sha256 });
  assert.deepEqual(model.net.getWeights(), loadModel(dir).model.net.getWeights());
  assert.throws(() => decodeModel(m, new Uint8Array(w.length), { file: 'm', weightsFile: 'zeros', sha256 }), /zeros: checksum mismatch/);
});

test('prototype names are not layer, optimiser or loss types', () => {
  const base = { input: [2], layers: [{ type: 'dense', units: 1 }], loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 } };
  assert.throws(() => parseSpec({ ...base, layers: [{ type: 'constructor' }] }), (e: unknown) => e instanceof ConfigError && /layers\[0\]\.type.* "constructor"/.test(e.message));
  assert.throws(() => parseSpec({ ...base, optimizer: { type: 'toString', learningRate: 0.1 } }), (e: unknown) => e instanceof ConfigError && /optimizer\.type.* "toString"/.test(e.message));
  assert.throws(() => buildModel(parseSpec({ ...base, loss: 'constructor' })), (e: unknown) => e instanceof ConfigError && /loss.* "constructor"/.test(e.message));
  assert.throws(() => buildModel(parseSpec({ ...base, layers: [{ type: 'simpleRNN', units: 1, activation: '__proto__' }], input: [2, 2] })), ConfigError);
  assert.equal(readdirSync(tmp()).length, 0);
});

test('an optimiser state that overflows the weights on the last update is a NumericError, not Inf weights', () => {
  const dir = saved(true);
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const at = (name: string) => m.tensors.find((t: Json) => t.name === `optimizer/h.weight/${name}`).offset;
  // a huge first moment over a zero second moment: lr·m/(√v + ε) overflows float32
  editWeights(dir, (b) => { b.writeFloatLE(3.4e38, at('m')); b.writeFloatLE(0, at('v')); });
  const { model } = loadModel(dir);
  const before = model.net.getWeights();
  // the first input is 0, so the gradient of h.weight[0] is 0 and √v + ε = ε
  assert.throws(() => model.fit(tensor([[0, 1], [0, 0.5]]), tensor([[1], [0]]), { epochs: 1, batchSize: 2 }),
    (e: unknown) => e instanceof NumericError && /the last update of epoch 2 made h\.weight non-finite .*restored to those at the start of the epoch/.test(e.message));
  assert.deepEqual(model.net.getWeights(), before);
});

test('setWeights (strict) looks layer and parameter names up as own properties', () => {
  const net = buildModel(parseSpec({ input: [2], layers: [{ type: 'dense', units: 1, name: 'constructor' }], loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 } })).net;
  assert.throws(() => net.setWeights({}, true), (e: unknown) => e instanceof ConfigError && /weights lack layer "constructor"/.test(e.message));
  assert.throws(() => net.setWeights({ constructor: { weight: [[1, 2]] } } as never, true), (e: unknown) => e instanceof ConfigError && /weights for layer constructor lack "bias"/.test(e.message));
});
