// A model saves itself: every layer type, optimiser (state included) and preprocessing survives
// save → load (and toJSON → fromJSON) with bit-identical predictions and identical continued
// training; a hand-written spec that disagrees with the model is refused, naming layer and field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Activation, Adam, AdamW, Add, AvgPool1D, Bidirectional, Concatenate, Conv2DTranspose, GlobalAveragePooling1D, GlobalAveragePooling2D, GraphNetwork, Input,
  LayerNormalization, MultiHeadAttention, Multiply, Permute, PositionEmbedding, Reshape, SinusoidalEncoding, StepDecay, TransformerDecoderBlock,
  TransformerEncoderBlock, UpSampling2D, ReduceLROnPlateau, AvgPool2D, BatchNorm, ConfigError, Conv1D, Conv2D, Dense, Dropout, Embedding, Flatten, GRU, LSTM, Layer,
  Masking, MaxPool1D, MaxPool2D, Model, Preprocessor, RMSProp, SGD, Sequential, SimpleRNN, Tensor, loadModel, mul, parseCsv, prepareTable,
  registerLayer, saveModel, tensor,
} from '../../src/index.js';
import type { Optimizer } from '../../src/index.js';
import { Rng } from '../../src/tensor/rng.js';
import { tmp } from '../cli/helpers.js';

function rand(shape: number[], seed: number, ints = 0): Tensor {
  const r = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const d = Float32Array.from({ length: n }, () => (ints ? Math.floor(r.next() * ints) : r.uniform(-1, 1)));
  return tensor(d, { shape });
}

interface Case { name: string; net: () => Sequential; opt: () => Optimizer; loss: string; x: Tensor; y: Tensor }

const CASES: Case[] = [
  {
    name: 'dense, activation, dropout, batch norm; adam; cross-entropy',
    net: () => new Sequential([
      new Dense({ units: 6, activation: 'prelu', name: 'h' }),
      new Activation({ activation: 'leakyRelu', alpha: 0.2 }),
      new Dropout({ rate: 0.3 }),
      new BatchNorm({ momentum: 0.9 }),
      new Dense({ units: 3, activation: 'softmax' }),
    ], { inputShape: [4], seed: 5 }),
    opt: () => new Adam({ learningRate: 0.01 }), loss: 'crossEntropy',
    x: rand([8, 4], 1), y: tensor(Array.from({ length: 8 }, (_, i) => [0, 1, 2].map((k) => (k === i % 3 ? 1 : 0)))),
  },
  {
    name: 'conv2d, max/avg pool 2-D, flatten; sgd with Nesterov momentum; mse',
    net: () => new Sequential([
      new Conv2D({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' }),
      new MaxPool2D({ poolSize: 2 }),
      new Conv2D({ filters: 2, kernelSize: 2, activation: 'tanh', useBias: false }),
      new AvgPool2D({ poolSize: 1 }),
      new Flatten(),
      new Dense({ units: 2 }),
    ], { inputShape: [1, 6, 6], seed: 2 }),
    opt: () => new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true }), loss: 'mse',
    x: rand([4, 1, 6, 6], 2), y: rand([4, 2], 3),
  },
  {
    name: 'conv1d, max/avg pool 1-D; rmsprop; sse',
    net: () => new Sequential([
      new Conv1D({ filters: 3, kernelSize: 3, activation: 'logistic' }),
      new MaxPool1D({ poolSize: 2 }),
      new AvgPool1D({ poolSize: 2 }),
      new Flatten(),
      new Dense({ units: 1 }),
    ], { inputShape: [2, 10], seed: 4 }),
    opt: () => new RMSProp({ learningRate: 0.01, momentum: 0.5, centered: true }), loss: 'sse',
    x: rand([5, 2, 10], 4), y: rand([5, 1], 5),
  },
  {
    name: 'embedding, simple RNN, LSTM, GRU; adam; mse',
    net: () => new Sequential([
      new Embedding({ inputDim: 5, outputDim: 3 }),
      new SimpleRNN({ units: 4, returnSequences: true, activation: 'relu' }),
      new LSTM({ units: 3, returnSequences: true, dropout: 0.2 }),
      new GRU({ units: 2 }),
      new Dense({ units: 1 }),
    ], { inputShape: [6], seed: 6 }),
    opt: () => new Adam({ learningRate: 0.02 }), loss: 'mse',
    x: rand([4, 6], 6, 5), y: rand([4, 1], 7),
  },
  {
    name: 'masking and a sequence output; sgd; mse',
    net: () => new Sequential([new Masking(), new LSTM({ units: 3, returnSequences: true }), new Dense({ units: 2 })], { inputShape: [4, 2], seed: 8 }),
    opt: () => new SGD({ learningRate: 0.1 }), loss: 'mse',
    x: rand([3, 4, 2], 8), y: rand([3, 4, 2], 9),
  },
  {
    name: 'conv2d transpose, up-sampling, global average pooling 2-D; adamw with a step-decay schedule; mse',
    net: () => new Sequential([
      new Conv2DTranspose({ filters: 2, kernelSize: 2, strides: 2, padding: 'same', activation: 'relu' }),
      new UpSampling2D({ size: 2 }),
      new GlobalAveragePooling2D(),
      new Dense({ units: 1 }),
    ], { inputShape: [1, 3, 3], seed: 10 }),
    opt: () => {
      const o = new AdamW({ learningRate: 0.01, weightDecay: 0.05 });
      o.schedule = new StepDecay({ every: 3, factor: 0.5 });
      return o;
    },
    loss: 'mse',
    x: rand([4, 1, 3, 3], 10), y: rand([4, 1], 11),
  },
  {
    name: 'position embeddings, layer norm, attention, transformer blocks, bidirectional GRU, reshape, permute, global average pooling 1-D; adam; mse',
    net: () => new Sequential([
      new Embedding({ inputDim: 6, outputDim: 4 }),
      new PositionEmbedding({ maxLength: 5 }),
      new SinusoidalEncoding({ maxLength: 5 }),
      new LayerNormalization({ epsilon: 1e-5 }),
      new MultiHeadAttention({ numHeads: 2, keyDim: 2, causal: true }),
      new TransformerEncoderBlock({ numHeads: 2, ffDim: 6, dropout: 0.1 }),
      new TransformerDecoderBlock({ numHeads: 1, ffDim: 4, activation: 'gelu' }),
      new Bidirectional({ layer: new GRU({ units: 2, returnSequences: true }), mergeMode: 'concat' }),
      new Reshape({ targetShape: [2, 8] }),
      new Permute({ dims: [2, 1] }),
      new GlobalAveragePooling1D(),
      new Dense({ units: 1 }),
    ], { inputShape: [4], seed: 12 }),
    opt: () => new Adam({ learningRate: 0.01 }), loss: 'mse',
    x: rand([3, 4], 12, 6), y: rand([3, 1], 13),
  },
  {
    name: 'a graph: add, multiply, concatenate, a shared layer called twice, a frozen layer; sgd; mse',
    net: () => {
      const x = Input({ shape: [4], name: 'x' });
      const h1 = new Dense({ units: 3, activation: 'tanh', name: 'h1' }).apply(x);
      const frozen = new Dense({ units: 3, name: 'frozen' });
      frozen.trainable = false;
      const h2 = frozen.apply(x);
      const shared = new Dense({ units: 3, name: 'shared' });
      const s1 = shared.apply(h1);
      const s2 = shared.apply(h2);
      const sum = new Add({ name: 'sum' }).apply([s1, s2]);
      const prod = new Multiply({ name: 'prod' }).apply([h1, sum]);
      const both = new Concatenate({ name: 'both' }).apply([sum, prod]);
      return new GraphNetwork({ inputs: x, outputs: new Dense({ units: 1, name: 'out' }).apply(both), seed: 14 });
    },
    opt: () => new SGD({ learningRate: 0.05, momentum: 0.5 }), loss: 'mse',
    x: rand([5, 4], 14), y: rand([5, 1], 15),
  },
];

function weightsOf(m: Model): number[][] {
  return m.net.parameters().map((p) => Array.from(p.data));
}

for (const c of CASES) {
  test(`round trip: ${c.name}`, () => {
    const model = new Model(c.net(), { loss: c.loss, optimizer: c.opt(), seed: 3 });
    model.fit(c.x, c.y, { epochs: 2, batchSize: 2 });
    const dir = join(tmp(), 'm');
    saveModel(dir, model); // nothing else needed
    const { model: loaded } = loadModel(dir);
    const viaJson = Model.fromJSON(JSON.parse(JSON.stringify(model)), model.weightsBuffer());
    for (const again of [loaded, viaJson]) {
      assert.deepEqual(Array.from(again.predict(c.x).data), Array.from(model.predict(c.x).data), 'bit-identical predictions');
      assert.deepEqual(again.toSpec(), model.toSpec());
    }
    // continued training: same updates (optimiser state, shuffling and dropout generators restored)
    model.fit(c.x, c.y, { epochs: 2, batchSize: 2 });
    loaded.fit(c.x, c.y, { epochs: 2, batchSize: 2 });
    viaJson.fit(c.x, c.y, { epochs: 2, batchSize: 2 });
    assert.deepEqual(weightsOf(loaded), weightsOf(model), 'identical continued training after loadModel');
    assert.deepEqual(weightsOf(viaJson), weightsOf(model), 'identical continued training after fromJSON');
    assert.deepEqual(loaded.history.epochs.map((e) => e.loss), model.history.epochs.map((e) => e.loss));
    assert.equal(loaded.net.constructor, model.net.constructor, 'a graph loads as a graph');
  });
}

test('preprocessing set on the model is saved and loaded as a typed Preprocessor', () => {
  const table = parseCsv('temp,city,power\n10,a,100\n20,b,150\n30,a,210\n', { file: 'plant.csv' });
  const { x, y, preprocessor } = prepareTable(table, { temp: { normalize: 'range' }, city: { type: 'categorical' } }, { columns: ['power'] });
  const model = new Model(new Sequential([new Dense({ units: 1 })], { inputShape: [x.shape[1]] }), { loss: 'mse', optimizer: new SGD({ learningRate: 0.1 }) });
  model.preprocessing = preprocessor;
  model.fit(x, y, { epochs: 1 });
  const dir = join(tmp(), 'pre');
  saveModel(dir, model);
  const { preprocessing, model: again } = loadModel(dir);
  assert.ok(preprocessing instanceof Preprocessor);
  assert.equal(again.preprocessing, preprocessing);
  const t = preprocessing.transform(table);
  assert.deepEqual(Array.from(t.x.data), Array.from(x.data));
  assert.deepEqual(preprocessing.inverseTargets(again.predict(t.x)).toArray(), preprocessor.inverseTargets(model.predict(x)).toArray());
});

test('a custom layer registers its name and round-trips like a built-in one', () => {
  class Scale extends Layer {
    readonly type = 'testScale';
    factor: Tensor | null = null;
    constructor(readonly opts: { name?: string; init?: number } = {}) { super(opts.name); }
    protected init(shape: readonly number[]): readonly number[] {
      this.factor = this.addParam('factor', tensor(new Float32Array(shape[0]).fill(this.opts.init ?? 1), { shape: [shape[0]] }));
      return shape;
    }
    forward(x: Tensor): Tensor { return this.traced(undefined, mul(x, this.factor!)); }
    config(): Record<string, unknown> { return { type: this.type, name: this.name, init: this.opts.init }; }
  }
  registerLayer('testScale', (s) => new Scale(s as { name?: string; init?: number }));
  assert.throws(() => registerLayer('testScale', () => new Scale()), (e: unknown) => e instanceof ConfigError && /already registered/.test(e.message));
  const model = new Model(new Sequential([new Scale({ init: 2 }), new Dense({ units: 1 })], { inputShape: [3] }), { loss: 'mse', optimizer: new SGD({ learningRate: 0.1 }) });
  const x = rand([4, 3], 11);
  model.fit(x, rand([4, 1], 12), { epochs: 2 });
  const dir = join(tmp(), 'custom');
  saveModel(dir, model);
  const { model: again } = loadModel(dir);
  assert.ok(again.net.layers[0] instanceof Scale);
  assert.deepEqual(Array.from(again.predict(x).data), Array.from(model.predict(x).data));
});

function handSpec(act: string, units: number) {
  return { input: [2], layers: [{ type: 'dense', units, activation: act, name: 'h' }, { type: 'dense', units: 1, name: 'o' }], loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 } };
}

test('a hand-written spec that disagrees with the model is a ConfigError naming layer and field; nothing is written', () => {
  const model = new Model(new Sequential([new Dense({ units: 16, activation: 'relu', name: 'h' }), new Dense({ units: 1, name: 'o' })], { inputShape: [2] }),
    { loss: 'mse', optimizer: new SGD({ learningRate: 0.1 }) });
  const cases: [ReturnType<typeof handSpec>, RegExp][] = [
    [handSpec('tanh', 16), /layers\[0\] \(dense "h"\): activation is "tanh" in the spec, but the model has "relu"/],
    [handSpec('relu', 8), /layers\[0\] \(dense "h"\): units is 8 in the spec, but the model has 16/],
    [{ ...handSpec('relu', 16), loss: 'sse' }, /"loss" is "sse", but the model's is "mse"/],
    [{ ...handSpec('relu', 16), optimizer: { type: 'sgd', learningRate: 0.5 } }, /optimizer: learningRate is 0\.5 in the spec, but the model has 0\.1/],
    [{ ...handSpec('relu', 16), input: [3] }, /"input" is \[3\], but the model's input is \[2\]/],
  ];
  for (const [spec, re] of cases) {
    const dir = join(tmp(), 'never');
    assert.throws(() => saveModel(dir, model, spec), (e: unknown) => e instanceof ConfigError && re.test(e.message), re.source);
    assert.equal(existsSync(dir), false, 'nothing written');
  }
  // the matching spec is accepted, and its extra sections are kept
  const dir = join(tmp(), 'ok');
  saveModel(dir, model, { ...handSpec('relu', 16), train: { epochs: 7 } });
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  assert.equal(m.spec.train.epochs, 7);
  assert.equal(m.spec.layers[0].activation, 'relu');
});

test('model files stay small: per-epoch diagnostics are summarised in the manifest (numbers per epoch, the last record kept)', async () => {
  const { TrainingDiagnostics } = await import('../../src/index.js');
  const model = new Model(new Sequential([new Dense({ units: 4, activation: 'relu' }), new Dense({ units: 1 })], { inputShape: [2] }),
    { loss: 'mse', optimizer: new SGD({ learningRate: 0.05 }) });
  const x = rand([16, 2], 21);
  const y = rand([16, 1], 22);
  model.fit(x, y, { epochs: 60, batchSize: 4, callbacks: [new TrainingDiagnostics(model, x, y)] });
  const full = JSON.stringify(model.history).length;
  const dir = join(tmp(), 'small');
  saveModel(dir, model);
  const text = readFileSync(join(dir, 'manifest.json'), 'utf8');
  const m = JSON.parse(text);
  assert.equal(m.history.epochs.length, 60);
  assert.equal(m.history.epochs[0].diagnostics, undefined, 'no per-epoch diagnostics record');
  assert.equal(typeof m.history.epochs[0].loss, 'number');
  assert.ok(m.history.epochs[59].diagnostics, 'the last record is kept');
  assert.ok(text.length < full / 4, `manifest ${text.length} bytes vs ${full} bytes of full history`);
  assert.ok(text.length < 20_000, `manifest is ${text.length} bytes`);
});

test('a spec gives the starting rate: it matches a model whose rate ReduceLROnPlateau lowered, and the lowered rate is saved', () => {
  const spec = { input: [2], layers: [{ type: 'dense', units: 1, name: 'o' }], loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 } };
  const model = new Model(new Sequential([new Dense({ units: 1, name: 'o' })], { inputShape: [2] }), { loss: 'mse', optimizer: new SGD({ learningRate: 0.1 }) });
  // minDelta 10: no epoch improves enough, so the rate halves after every epoch but the first
  model.fit(rand([4, 2], 20), rand([4, 1], 21), { epochs: 3, callbacks: [new ReduceLROnPlateau({ monitor: 'loss', patience: 1, minDelta: 10 })] });
  assert.ok(model.optimizer.learningRate < 0.1);
  const dir = join(tmp(), 'plateau');
  saveModel(dir, model, spec);
  assert.equal(loadModel(dir).model.optimizer.learningRate, model.optimizer.learningRate);
  assert.throws(() => saveModel(join(tmp(), 'x'), model, { ...spec, optimizer: { type: 'sgd', learningRate: 0.3 } }), (e: unknown) => e instanceof ConfigError && /learningRate is 0\.3 in the spec, but the model has 0\.1/.test(e.message));
});
