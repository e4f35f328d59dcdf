import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, ModelFileError, ShapeError, Tensor, loadModel, loadTfjsFile, loadTfjsUrl } from '../../src/index.js';
import { run, tmp } from '../cli/helpers.js';
import { assertClose, randomInput } from './helpers.js';

/** Saves a tfjs model as `model.save` does (model.json + the weights in two shards); returns the model.json path. */
async function save(model: tf.LayersModel, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  let art: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    art = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const wd = art!.weightData!;
  const bytes = new Uint8Array(Array.isArray(wd) ? tf.io.concatenateArrayBuffers(wd) : wd);
  const cut = 4 * Math.floor(bytes.length / 8);
  writeFileSync(join(dir, 'group1-shard1of2.bin'), bytes.subarray(0, cut));
  writeFileSync(join(dir, 'group1-shard2of2.bin'), bytes.subarray(cut));
  const json = {
    modelTopology: art!.modelTopology, format: art!.format, generatedBy: art!.generatedBy, convertedBy: art!.convertedBy,
    weightsManifest: [{ paths: ['./group1-shard1of2.bin', './group1-shard2of2.bin'], weights: art!.weightSpecs }],
  };
  const path = join(dir, 'model.json');
  writeFileSync(path, JSON.stringify(json));
  return path;
}

/** Random weights everywhere (moving variances positive), so every layout shows. */
function randomize(model: tf.LayersModel, seed: number): void {
  const ws = model.weights.map((w, i) => (w.name.includes('moving_variance')
    ? tf.randomUniform(w.shape as number[], 0.5, 1.5, 'float32', seed + i)
    : tf.randomNormal(w.shape as number[], 0, 0.5, 'float32', seed + i)));
  model.setWeights(ws);
}

/** [N, ...spatial, C] → [N, C, ...spatial]. */
function channelsFirst(x: Tensor): Tensor {
  const [n, ...rest] = x.shape;
  const C = rest[rest.length - 1];
  const area = rest.slice(0, -1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(x.size);
  for (let b = 0; b < n; b++) for (let s = 0; s < area; s++) for (let c = 0; c < C; c++) out[(b * C + c) * area + s] = x.data[(b * area + s) * C + c];
  return new Tensor(out, [n, C, ...rest.slice(0, -1)]);
}

const L = tf.layers;
const MODELS: Record<string, { make: () => tf.Sequential; input: number[]; classes?: number; images?: boolean }> = {
  'dense, dropout, batch norm, activations': {
    input: [6],
    make: () => tf.sequential({ layers: [
      L.dense({ inputShape: [6], units: 5, activation: 'relu' }), L.dropout({ rate: 0.3 }), L.dense({ units: 4, activation: 'tanh', useBias: false }),
      L.batchNormalization({ epsilon: 0.01 }), L.leakyReLU({ alpha: 0.2 }), L.dense({ units: 4, activation: 'sigmoid' }), L.dense({ units: 3, activation: 'softmax' })] }),
  },
  'conv 2-D (same/valid, strides), batch norm, pooling, flatten': {
    input: [9, 8, 2], images: true,
    make: () => tf.sequential({ layers: [
      L.conv2d({ inputShape: [9, 8, 2], filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      L.batchNormalization(), L.maxPooling2d({ poolSize: 2, strides: 1 }), L.conv2d({ filters: 4, kernelSize: [2, 1] }),
      L.averagePooling2d({ poolSize: [1, 2] }), L.flatten(), L.batchNormalization(), L.dense({ units: 3 })] }),
  },
  // (no batch norm here: tfjs 4.22 applies axis-1 statistics along the wrong axis in inference)
  'conv 2-D channels-first (no transposition)': {
    input: [2, 7, 6],
    make: () => tf.sequential({ layers: [
      L.conv2d({ inputShape: [2, 7, 6], filters: 3, kernelSize: 2, dataFormat: 'channelsFirst', activation: 'relu' }),
      L.maxPooling2d({ poolSize: 2, dataFormat: 'channelsFirst' }), L.conv2d({ filters: 2, kernelSize: 2, strides: 2, padding: 'same', dataFormat: 'channelsFirst' }),
      L.flatten({ dataFormat: 'channelsFirst' }), L.dense({ units: 2 })] }),
  },
  'conv 1-D and pooling 1-D': {
    input: [17, 3], images: true,
    make: () => tf.sequential({ layers: [
      L.conv1d({ inputShape: [17, 3], filters: 4, kernelSize: 4, strides: 2, padding: 'same', activation: 'tanh' }),
      L.maxPooling1d({ poolSize: 2 }), L.conv1d({ filters: 2, kernelSize: 2 }), L.averagePooling1d({ poolSize: 2, strides: 1 }),
      L.flatten(), L.dense({ units: 2, activation: 'softmax' })] }),
  },
  'embedding, LSTM, GRU': {
    input: [7], classes: 12,
    make: () => tf.sequential({ layers: [
      L.embedding({ inputDim: 12, outputDim: 5, inputLength: 7 }), L.lstm({ units: 6, returnSequences: true, recurrentActivation: 'sigmoid' }),
      L.gru({ units: 4, recurrentActivation: 'sigmoid' }), L.dense({ units: 2 })] }),
  },
  'masking, simple RNN and a dense layer per step': {
    input: [5, 3],
    make: () => tf.sequential({ layers: [
      L.masking({ inputShape: [5, 3], maskValue: 0.25 }), L.simpleRNN({ units: 4, returnSequences: true }), L.dense({ units: 2, activation: 'relu' }),
      L.lstm({ units: 3, returnSequences: true, recurrentActivation: 'sigmoid' }), L.gru({ units: 2, returnSequences: true, recurrentActivation: 'sigmoid' })] }),
  },
};

test('TF.js import: models built and saved by @tensorflow/tfjs predict the same in dendrite (dense, conv, pooling, LSTM, GRU, batch norm, embedding)', async () => {
  const root = tmp();
  let i = 0;
  for (const [name, m] of Object.entries(MODELS)) {
    const model = m.make();
    randomize(model, 100 + 10 * i);
    const path = await save(model, join(root, `m${i++}`));
    const x = randomInput(m.input, 3, i, m.classes);
    // padding for the masking layer: the last two steps of the first sequence
    if (name.startsWith('masking')) x.data.fill(0.25, 3 * m.input[1], 5 * m.input[1]);
    const want = (model.predict(tf.tensor(x.data, [...x.shape])) as tf.Tensor);
    const { model: d } = loadTfjsFile(path);
    const got = d.predict(m.images ? channelsFirst(x) : x);
    assert.deepEqual(got.shape, want.shape, name);
    assertClose(got.data, want.dataSync(), name);
  }
});

test('TF.js import from a URL (fetch), as in a browser', async () => {
  const root = tmp();
  const model = MODELS['embedding, LSTM, GRU'].make();
  randomize(model, 7);
  await save(model, join(root, 'web'));
  const server = createServer((req, res) => {
    try {
      res.end(readFileSync(join(root, 'web', req.url!.replace(/^\/models\//, ''))));
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models`;
  try {
    const { model: d } = await loadTfjsUrl(`${base}/model.json`);
    const x = randomInput([7], 2, 4, 12);
    assertClose(d.predict(x).data, (model.predict(tf.tensor(x.data, [...x.shape])) as tf.Tensor).dataSync(), 'from a URL');
    await assert.rejects(loadTfjsUrl(`${base}/missing.json`), (e: Error) => e instanceof ModelFileError && /missing\.json: HTTP 404/.test(e.message));
  } finally {
    server.close();
  }
});

test('TF.js import bad input: truncated/corrupt model.json and shards, shape mismatches, unsupported layers and settings', async () => {
  const root = tmp();
  const model = tf.sequential({ layers: [L.dense({ inputShape: [4], units: 3, activation: 'relu' }), L.dense({ units: 2 })] });
  const path = await save(model, join(root, 'm'));
  const text = readFileSync(path, 'utf8');
  const json = JSON.parse(text);
  const write = (t: string) => writeFileSync(path, t);
  const fails = (cls: typeof ModelFileError | typeof ShapeError | typeof ConfigError, re: RegExp) => assert.throws(() => loadTfjsFile(path), (e: Error) => e instanceof cls && re.test(e.message), re.source);
  write(text.slice(0, 200));
  fails(ModelFileError, /model\.json: corrupt or truncated JSON at byte offset 200:/);
  write(text.replace('{', '{,'));
  fails(ModelFileError, /model\.json: corrupt or truncated JSON at byte offset 1:/);
  // a shard shorter than the manifest says
  write(text);
  const shard2 = join(root, 'm', 'group1-shard2of2.bin');
  const full = readFileSync(shard2);
  writeFileSync(shard2, full.subarray(0, full.length - 4));
  fails(ModelFileError, /model\.json: the weight shards are truncated: dense_Dense\d+\/bias \[2\] needs bytes 84–92, the shards hold 88 \(byte offset 88\)/);
  writeFileSync(shard2, full);
  // a manifest shape that does not fit the layer
  const bad = structuredClone(json);
  bad.weightsManifest[0].weights[0].shape = [3, 4];
  write(JSON.stringify(bad));
  fails(ShapeError, /tfjs import: weight dense_Dense\d+\/kernel has shape \[3, 4\], layer dense_Dense\d+ needs \[4, 3\]/);
  const escape = structuredClone(json);
  escape.weightsManifest[0].paths[0] = '../../etc/passwd';
  write(JSON.stringify(escape));
  fails(ModelFileError, /weight shard path "\.\.\/\.\.\/etc\/passwd" leaves the model's directory/);
  // unsupported: an unknown layer class, tfjs' default hardSigmoid gates, an activation dendrite lacks
  const other = structuredClone(json);
  other.modelTopology.config.layers[1].class_name = 'Conv2DTranspose';
  write(JSON.stringify(other));
  fails(ConfigError, /layer dense_Dense\d+ is a Conv2DTranspose, which dendrite cannot import; supported classes: InputLayer, Dense, Activation/);
  const elu = structuredClone(json);
  elu.modelTopology.config.layers[0].config.activation = 'elu';
  write(JSON.stringify(elu));
  fails(ConfigError, /layer dense_Dense\d+: activation "elu" has no dendrite equivalent; supported: linear, relu, sigmoid, tanh, softmax/);
  const hard = await save(tf.sequential({ layers: [L.lstm({ inputShape: [3, 2], units: 2 })] }), join(root, 'hard'));
  assert.throws(() => loadTfjsFile(hard), (e: Error) => e instanceof ConfigError && /recurrent_activation "hard_?[sS]igmoid" is not supported \(expected "sigmoid"/.test(e.message));
  assert.throws(() => loadTfjsFile(join(root, 'none.json')), (e: Error) => e instanceof ModelFileError && /none\.json: cannot read the tfjs model\.json \(ENOENT\)/.test(e.message));
});

test('dendrite import --tfjs model.json OUT writes a dendrite model that predicts like the TF.js one', async () => {
  const root = tmp();
  const model = MODELS['conv 2-D (same/valid, strides), batch norm, pooling, flatten'].make();
  randomize(model, 3);
  const path = await save(model, join(root, 'tfjs'));
  const r = run(['import', '--tfjs', path, join(root, 'd')]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /wrote .*d from .*model\.json \(8 layers, input \[N, 2, 9, 8\]\)/);
  const x = randomInput([9, 8, 2], 2, 5);
  const { model: d } = loadModel(join(root, 'd'));
  assertClose(d.predict(channelsFirst(x)).data, (model.predict(tf.tensor(x.data, [...x.shape])) as tf.Tensor).dataSync(), 'CLI import');
  const e = run(['import', '--tfjs', path, '--pytorch', root, join(root, 'e')]);
  assert.equal(e.status, 1);
  assert.match(e.stderr, /ConfigError: import: say what to read: --pytorch DIR or --tfjs MODEL\.json \(one of them\)/);
});
