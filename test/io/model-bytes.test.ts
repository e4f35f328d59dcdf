// Models as bytes, Blobs and URLs (the browser's storage forms; IndexedDB itself is exercised in
// the Chromium test): the same manifest and weights as a model directory, the checksum verified
// with WebCrypto, and every damaged input a ModelFileError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ConfigError, ModelFileError, SGD, buildModel, loadModel, loadModelFromBytes, loadModelFromIndexedDB, loadModelFromUrl,
  modelToBlob, modelToBytes, parseCsvFile, parseSpec, saveModel, tensor,
} from '../../src/index.js';
import { tmp } from '../cli/helpers.js';

const SPEC = parseSpec({
  input: [2],
  layers: [{ type: 'dense', units: 3, activation: 'tanh', name: 'h' }, { type: 'dense', units: 2, activation: 'softmax', name: 'o' }],
  loss: 'crossEntropy', optimizer: { type: 'sgd', learningRate: 0.1, momentum: 0.9 }, train: { seed: 3 },
});
const X = tensor([[0.1, 0.2], [0.3, -0.4], [-1, 2]]);
const Y = tensor([[1, 0], [0, 1], [0, 1]]);

function trained(): ReturnType<typeof buildModel> {
  const m = buildModel(SPEC);
  m.fit(X, Y, { epochs: 3, batchSize: 2 });
  return m;
}

test('bytes round trip: predictions, history and preprocessing; the parts equal a model directory', async () => {
  const model = trained();
  const bytes = await modelToBytes(model, SPEC);
  const l = await loadModelFromBytes(bytes);
  assert.deepEqual(l.model.predict(X).toArray(), model.predict(X).toArray());
  assert.equal(l.preprocessing, undefined);
  assert.equal(l.model.history.epochs.length, 3);
  // the same weights file and checksum as saveModel writes
  const dir = join(tmp(), 'm');
  const onDisk = saveModel(dir, model, SPEC);
  assert.equal(l.manifest.checksum.value, onDisk.checksum.value);
  assert.equal(l.manifest.weightsFile, onDisk.weightsFile);
  assert.deepEqual(l.manifest.tensors, onDisk.tensors);
  const w = readFileSync(join(dir, onDisk.weightsFile));
  assert.deepEqual(bytes.subarray(bytes.length - w.length), new Uint8Array(w));
  // a Blob and an ArrayBuffer load the same
  const fromBlob = await loadModelFromBytes(await modelToBlob(model, SPEC));
  assert.deepEqual(fromBlob.model.predict(X).toArray(), model.predict(X).toArray());
  const fromBuffer = await loadModelFromBytes(bytes.slice().buffer);
  assert.deepEqual(fromBuffer.model.predict(X).toArray(), model.predict(X).toArray());
});

test('a checkpoint in bytes resumes training exactly like one on disk', async () => {
  const a = trained();
  const { model: b } = await loadModelFromBytes(await modelToBytes(a, SPEC));
  assert.ok(b.optimizer instanceof SGD);
  a.fit(X, Y, { epochs: 2, batchSize: 2 });
  b.fit(X, Y, { epochs: 2, batchSize: 2 });
  assert.deepEqual(b.predict(X).toArray(), a.predict(X).toArray());
});

test('damaged bytes are ModelFileErrors: not a model, truncated, wrong checksum, bad manifest', async () => {
  const bytes = await modelToBytes(trained(), SPEC);
  const fails = (b: Uint8Array, re: RegExp) => assert.rejects(loadModelFromBytes(b, 'm.bin'),
    (e: unknown) => e instanceof ModelFileError && re.test(e.message));
  await fails(new TextEncoder().encode('{"format": "dendrite-model"}'), /^m\.bin: not a dendrite model file \(it does not start with DNDRMODL\)$/);
  await fails(bytes.subarray(0, 30), /^m\.bin: the manifest runs past the end \(30 bytes; truncated\)$/);
  await fails(bytes.subarray(0, bytes.length - 4), /^m\.bin: the weights have \d+ bytes, the manifest says \d+ \(truncated or corrupt\)$/);
  const flipped = bytes.slice();
  flipped[flipped.length - 1] ^= 1;
  await fails(flipped, /^m\.bin: checksum mismatch \(corrupt weights file\): expected sha256 [0-9a-f]{64}, computed [0-9a-f]{64}$/);
  const badJson = bytes.slice();
  badJson[12] = 0x5b; // '[' instead of '{'
  await fails(badJson, /^m\.bin: (corrupt manifest|not a dendrite model manifest)/);
  await assert.rejects(loadModelFromBytes('text' as unknown as Uint8Array), ConfigError);
});

test('loadModelFromUrl: a served model directory, a single model file, and HTTP errors', async () => {
  const model = trained();
  const dir = join(tmp(), 'served');
  saveModel(dir, model, SPEC);
  const packed = await modelToBytes(model, SPEC);
  const server = createServer((req, res) => {
    const name = decodeURIComponent(req.url!.split('/').pop()!);
    if (req.url === '/m.dendrite') return res.end(packed);
    if (req.url!.startsWith('/dir/') && readdirSync(dir).includes(name)) return res.end(readFileSync(join(dir, name)));
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    for (const url of [`${base}/dir/`, `${base}/dir/manifest.json`, `${base}/m.dendrite`]) {
      const { model: l } = await loadModelFromUrl(url);
      assert.deepEqual(l.predict(X).toArray(), model.predict(X).toArray(), url);
    }
    await assert.rejects(loadModelFromUrl(`${base}/nothing/`),
      (e: unknown) => e instanceof ModelFileError && e.message === `${base}/nothing/manifest.json: the server answered 404 Not Found`);
  } finally {
    server.close();
  }
});

test('IndexedDB outside a browser is a ConfigError that names the alternatives', async () => {
  await assert.rejects(loadModelFromIndexedDB('x'), (e: unknown) => e instanceof ConfigError &&
    /^IndexedDB is not available in this JavaScript runtime \(use modelToBytes \/ saveModel\(dir\) instead\)$/.test(e.message));
});

test('parseCsvFile reads a File/Blob and names it in errors', async () => {
  const t = await parseCsvFile(new File(['a,b\n1,2\n3,4\n'], 'plant.csv'));
  assert.deepEqual(t.columns, ['a', 'b']);
  await assert.rejects(parseCsvFile(new Blob(['a,b\n1,2,3\n'])), /<csv file>/);
});

test('loadModel (Node) reads the single-file form too: same predictions; damaged or foreign files are ModelFileErrors', async () => {
  const model = trained();
  const file = join(tmp(), 'm.dendrite');
  const bytes = await modelToBytes(model, SPEC);
  writeFileSync(file, bytes);
  assert.deepEqual(loadModel(file).model.predict(X).toArray(), model.predict(X).toArray());
  const fails = (b: Uint8Array, re: RegExp) => {
    writeFileSync(file, b);
    assert.throws(() => loadModel(file), (e: unknown) => e instanceof ModelFileError && re.test(e.message));
  };
  fails(new TextEncoder().encode('a,b\n1,2\n'), /m\.dendrite: not a dendrite model file \(it does not start with DNDRMODL\)$/);
  fails(bytes.subarray(0, bytes.length - 4), /m\.dendrite: weights file has \d+ bytes, the manifest says \d+ \(truncated or corrupt\)$/);
  const flipped = bytes.slice();
  flipped[flipped.length - 1] ^= 1;
  fails(flipped, /m\.dendrite: checksum mismatch \(corrupt weights file\)/);
});
