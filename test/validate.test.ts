import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, Dense, EarlyStopping, LSTM, Model, SGD, Sequential, initVariance, tensor } from '../src/index.js';
import * as api from '../src/index.js';
import { checkInt, checkKeys, checkNumber, closest } from '../src/validate.js';

const isConfig = (re: RegExp) => (e: unknown) => e instanceof ConfigError && re.test(e.message);

test('closest valid key: typos, snake_case, shortened names; nothing for unrelated words', () => {
  assert.equal(closest('epoch', ['epochs', 'batchSize']), 'epochs');
  assert.equal(closest('validation_split', ['validationSplit', 'seed']), 'validationSplit');
  assert.equal(closest('activaton', ['activation', 'units']), 'activation');
  assert.equal(closest('restoreBest', ['restoreBestWeights', 'patience']), 'restoreBestWeights');
  assert.equal(closest('kind', ['columns', 'bins', 'type']), null);
  assert.equal(closest('zzz', ['epochs']), null);
});

test('checkKeys, checkInt and checkNumber name the key, the expectation and what was received', () => {
  assert.throws(() => checkKeys({ epoch: 1 }, ['epochs', 'seed'], 'train'), isConfig(/^train\.epoch: unknown key; did you mean "epochs"\? \(valid keys: epochs, seed\)$/));
  assert.throws(() => checkInt(2.5, 'train.epochs'), isConfig(/^train\.epochs must be an integer ≥ 1, received 2\.5$/));
  assert.throws(() => checkInt('3', 'x', 0, 9), isConfig(/^x must be an integer in \[0, 9\], received "3"$/));
  assert.throws(() => checkNumber(1, 'p', { min: 0, max: 1, minExclusive: true, maxExclusive: true }), isConfig(/^p must be a number in \(0, 1\), received 1$/));
  assert.throws(() => checkNumber(Number.NaN, 'q'), isConfig(/^q must be a number, received NaN$/));
});

test('layer, optimiser, fit and callback options reject unknown keys with the closest one (JavaScript callers too)', () => {
  assert.throws(() => new Dense({ units: 3, activaton: 'relu' } as never), isConfig(/^dense\.activaton: unknown key; did you mean "activation"\?/));
  assert.throws(() => new LSTM({ units: 3, return_sequences: true } as never), isConfig(/^lstm\.return_sequences: unknown key; did you mean "returnSequences"\?/));
  assert.throws(() => new EarlyStopping({ patience: 2, min_delta: 0.1 } as never), isConfig(/earlyStopping\.min_delta: unknown key; did you mean "minDelta"\?/));
  const model = new Model(new Sequential([new Dense({ units: 1 })], { inputShape: [1] }), { loss: 'mse', optimizer: new SGD({ learningRate: 0.1 }) });
  assert.throws(() => model.fit(tensor([[1]]), tensor([[1]]), { epoch: 3 } as never), isConfig(/^fit\.epoch: unknown key; did you mean "epochs"\?/));
  assert.throws(() => new Dense({ units: 1, kernelInitializer: { type: 'randomNormal', stdev: 1 } } as never), isConfig(/dense\.kernelInitializer\.stdev: unknown key; did you mean "stddev"\?/));
});

test('initVariance takes an initialiser name or spec object, like every other initialiser argument', () => {
  assert.equal(initVariance('heNormal', 100, 1), 0.02);
  assert.equal(initVariance({ type: 'heNormal' }, 100, 1), 0.02);
  assert.throws(() => initVariance('heNormall' as never, 1, 1), isConfig(/initVariance must be one of .*received "heNormall"; did you mean "heNormal"\?/));
});

test('validators are internal: not exported from the package', () => {
  for (const name of ['checkInt', 'checkKeys', 'checkUnitInterval', 'checkPositive', 'checkInitializer', 'positiveInt']) {
    assert.equal(name in api, false, name);
  }
});

test('typed accessors: toArray1D/2D/3D need no cast and check the rank', () => {
  const m: number[][] = tensor([[1, 2], [3, 4]]).toArray2D();
  assert.deepEqual(m, [[1, 2], [3, 4]]);
  const v: number[] = tensor([1, 2]).toArray1D();
  assert.deepEqual(v, [1, 2]);
  assert.deepEqual(tensor([[[1]]]).toArray3D(), [[[1]]]);
  assert.throws(() => tensor([1, 2]).toArray2D(), (e: unknown) => e instanceof api.ShapeError && /toArray2D\(\) needs a tensor of rank 2, received shape \[2\]/.test(e.message));
});

test('internal helpers are not exported: be, record', () => {
  for (const name of ['be', 'record']) assert.equal(name in api, false, name);
});

test('a second backward() through a released graph is an error offering retainGraph; with retainGraph gradients add up', () => {
  const w = tensor([[2]], { requiresGrad: true });
  const loss = api.sum(api.mul(w, w));
  loss.backward();
  assert.deepEqual(w.grad!.toArray2D(), [[4]]);
  assert.throws(() => loss.backward(), (e: unknown) => e instanceof api.DendriteError && /already released: call the first backward\(\{ retainGraph: true \}\)/.test(e.message));
  assert.deepEqual(w.grad!.toArray2D(), [[4]], 'gradients untouched by the refused call');
  // a new loss built on a released intermediate is refused too
  const w2 = tensor([[3]], { requiresGrad: true });
  const h = api.mul(w2, w2);
  api.sum(h).backward();
  assert.throws(() => api.sum(api.mul(h, h)).backward(), (e: unknown) => e instanceof api.DendriteError && /retainGraph/.test(e.message));
  const w3 = tensor([[3]], { requiresGrad: true });
  const l3 = api.sum(api.mul(w3, w3));
  l3.backward({ retainGraph: true });
  l3.backward();
  assert.deepEqual(w3.grad!.toArray2D(), [[12]]);
});

test('traceModel works on any model, including a lone softmax layer with no parameters', () => {
  const model = new Model(new Sequential([new api.Activation({ activation: 'softmax' })], { inputShape: [3] }),
    { loss: 'crossEntropy', reduction: 'sum', optimizer: new SGD({ learningRate: 0.1 }) });
  const x = tensor([[1, 2, 3], [0, 0, 0]]);
  const y = tensor([[0, 0, 1], [1, 0, 0]]);
  const t = api.traceModel(model, x, y);
  const a = t.layers[0].a as number[][];
  const delta = t.layers[0].delta as number[][];
  // δ = P̂ − t for softmax + cross-entropy
  delta.forEach((row, i) => row.forEach((d, j) => assert.ok(Math.abs(d - (a[i][j] - y.toArray2D()[i][j])) < 1e-6)));
  assert.ok(Math.abs(a[1][0] - 1 / 3) < 1e-6);
});

test('a loss is accepted as a name or a spec object, like initialisers', () => {
  const net = () => new Sequential([new Dense({ units: 1 })], { inputShape: [1] });
  const a = new Model(net(), { loss: 'mse', reduction: 'sum', optimizer: new SGD({ learningRate: 0.1 }) });
  const b = new Model(net(), { loss: { type: 'mse', reduction: 'sum' }, optimizer: new SGD({ learningRate: 0.1 }) });
  assert.equal(b.loss.name, a.loss.name);
  assert.equal(b.loss.reduction, 'sum');
  assert.throws(() => new Model(net(), { loss: { type: 'mse2' }, optimizer: new SGD({ learningRate: 0.1 }) }), (e: unknown) => e instanceof ConfigError);
});

test('the graph, attention and spatial layers and adamw reject unknown keys with the closest one', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => new api.LayerNormalization({ epsilion: 1e-5 } as never), /^layerNormalization\.epsilion: unknown key; did you mean "epsilon"\?/],
    [() => new api.Add({ nmae: 'skip' } as never), /^add\.nmae: unknown key; did you mean "name"\?/],
    [() => new api.Concatenate({ axes: 1 } as never), /^concatenate\.axes: unknown key; did you mean "axis"\?/],
    [() => new api.MultiHeadAttention({ numHeads: 2, key_dim: 2 } as never), /^multiHeadAttention\.key_dim: unknown key; did you mean "keyDim"\?/],
    [() => new api.TransformerEncoderBlock({ numHeads: 2, ff_dim: 4 } as never), /^transformerBlock\.ff_dim: unknown key; did you mean "ffDim"\?/],
    [() => new api.UpSampling2D({ sizes: 2 } as never), /^upSampling2d\.sizes: unknown key; did you mean "size"\?/],
    [() => new api.Reshape({ target_shape: [2] } as never), /^reshape\.target_shape: unknown key; did you mean "targetShape"\?/],
    [() => new api.Conv2DTranspose({ filters: 1, kernelSize: 2, output_padding: 1 } as never), /^conv2dTranspose\.output_padding: unknown key; did you mean "outputPadding"\?/],
    [() => new api.AdamW({ weight_decay: 0.1 } as never), /^adamw\.weight_decay: unknown key; did you mean "weightDecay"\?/],
  ];
  for (const [make, re] of cases) assert.throws(make, isConfig(re), re.source);
});

test('a spec accepts the graph form, an optimizer schedule and train.reduceLROnPlateau, and names typos in them', () => {
  const graph = {
    inputs: [{ name: 'x', shape: [2] }],
    layers: [
      { type: 'dense', units: 2, name: 'a', inbound: ['x'], trainable: false },
      { type: 'dense', units: 2, name: 'b', inbound: ['x'] },
      { type: 'add', name: 'sum', inbound: ['a', 'b'] },
    ],
    outputs: ['sum'],
    loss: 'mse',
    optimizer: { type: 'adamw', learningRate: 0.01, schedule: { type: 'stepDecay', every: 2 } },
    train: { epochs: 1, reduceLROnPlateau: { patience: 1 } },
  };
  const spec = api.parseSpec(graph);
  const model = api.buildModel(spec);
  assert.ok(model.net instanceof api.GraphNetwork);
  assert.equal(model.net.layers[0].trainable, false);
  assert.ok(model.optimizer.schedule);
  assert.deepEqual(model.toSpec().outputs, ['sum']);
  assert.throws(() => api.parseSpec({ ...graph, output: ['sum'] }), isConfig(/spec: output: unknown key; did you mean "outputs"\?/));
  assert.throws(() => api.parseSpec({ ...graph, train: { reduceLrOnPlateau: {} } }), isConfig(/train\.reduceLrOnPlateau: unknown key; did you mean "reduceLROnPlateau"\?/));
  assert.throws(() => api.buildModel(api.parseSpec({ ...graph, layers: [...graph.layers.slice(0, 2), { type: 'add', name: 'sum', inbound: ['a', 'b'], nmae: 'x' }] })), isConfig(/layers\[2\] \(add "sum"\)\.nmae: unknown key; did you mean "name"\?/));
});
