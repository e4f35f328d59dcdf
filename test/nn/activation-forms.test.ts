// Every entry point that takes an activation, an initialiser or a loss accepts the same forms — a
// name (with its options beside it) or a spec object {type, …} — and rejects a bad form with a
// ConfigError naming the layer (or spec place) and key, with the closest valid key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Activation, ConfigError, Conv1D, Conv2D, Conv2DTranspose, Dense, Model, Rng, SGD, Sequential, SimpleRNN,
  Tensor, TransformerEncoderBlock, applyActivation, buildModel, exportOnnx, exportPytorch, initVariance, initialize, parseSpec, readOnnx, tensor,
} from '../../src/index.js';
import type { Layer } from '../../src/index.js';

const rng = new Rng(3);
const rand = (shape: number[]): number[] => Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-2, 2));

/** Output and config of a one-layer network built with `layer` for `input`, on a fixed batch. */
function run(make: () => Layer, input: number[]): { out: number[]; config: Record<string, unknown> } {
  const layer = make();
  const net = new Sequential([layer], { inputShape: input, seed: 5 });
  const x = new Tensor(Float32Array.from(rand([2, ...input])), [2, ...input]);
  return { out: Array.from(net.forward(x).data), config: layer.config() };
}

const LEAKY = { activation: 'leakyRelu', alpha: 0.2 } as const;
const LEAKY_SPEC = { activation: { type: 'leakyRelu', alpha: 0.2 } } as const;

const ENTRY_POINTS: [string, (o: object) => Layer, number[]][] = [
  ['dense', (o) => new Dense({ units: 3, name: 'd', ...o }), [4]],
  ['conv2d', (o) => new Conv2D({ filters: 2, kernelSize: 2, name: 'c', ...o }), [1, 3, 3]],
  ['conv1d', (o) => new Conv1D({ filters: 2, kernelSize: 2, name: 'c', ...o }), [2, 5]],
  ['conv2dTranspose', (o) => new Conv2DTranspose({ filters: 2, kernelSize: 2, name: 'c', ...o }), [1, 2, 2]],
  ['activation', (o) => new Activation({ name: 'a', ...o }), [4]],
  ['simpleRNN', (o) => new SimpleRNN({ units: 2, name: 'r', ...o }), [3, 2]],
];

test('activation: a name with its options beside it and a spec object give the same layer at every entry point', () => {
  for (const [what, make, input] of ENTRY_POINTS) {
    rngReset();
    const a = run(() => make(LEAKY), input);
    rngReset();
    const b = run(() => make(LEAKY_SPEC), input);
    assert.deepEqual(b.out, a.out, `${what}: outputs`);
    assert.deepEqual(b.config, a.config, `${what}: config (the flat form)`);
    assert.equal(b.config.activation, 'leakyRelu', what);
    assert.equal(b.config.alpha, 0.2, what);
  }
  // the transformer blocks' feed-forward activation
  rngReset();
  const t1 = run(() => new TransformerEncoderBlock({ numHeads: 1, ffDim: 4, activation: 'gelu', name: 't' }), [3, 2]);
  rngReset();
  const t2 = run(() => new TransformerEncoderBlock({ numHeads: 1, ffDim: 4, activation: { type: 'gelu' }, name: 't' }), [3, 2]);
  assert.deepEqual(t2.out, t1.out, 'transformer: outputs');
  assert.deepEqual(t2.config, t1.config, 'transformer: config');
  assert.throws(() => new TransformerEncoderBlock({ numHeads: 1, ffDim: 4, activation: { type: 'gelu', alhpa: 1 } as never, name: 'tb' }),
    (e: unknown) => e instanceof ConfigError && /^tb\.activation\.alhpa: unknown key; did you mean "alpha"\?/.test(e.message));
  // a bare spec object without options, and the threshold's θ
  assert.deepEqual(run(() => new Dense({ units: 2, activation: { type: 'tanh' }, name: 'd' }), [2]).config.activation, 'tanh');
  assert.deepEqual(Array.from(applyActivation({ type: 'threshold', theta: 0.5 }, tensor([0.2, 0.7])).data), [0, 1]);
  assert.deepEqual(Array.from(applyActivation('leakyRelu', tensor([-1, 2]), { alpha: 0.2 }).data).map((v) => Math.fround(v)), [Math.fround(-0.2), 2]);
});

function rngReset(): void {
  // the inputs of both forms must be the same draw
  (rng as unknown as { setState(s: unknown): void }).setState(new Rng(3).getState());
}

test('activation: bad forms are ConfigErrors naming the layer and key, with the closest valid one', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => new Dense({ units: 2, name: 'dense_1', activation: { type: 'leakyRelu', alhpa: 0.2 } as never }), /^dense_1\.activation\.alhpa: unknown key; did you mean "alpha"\?/],
    [() => new Conv2D({ filters: 1, kernelSize: 1, name: 'conv_1', activation: { type: 'reluu' } as never }), /^conv_1\.activation\.type must be one of linear, .*received "reluu"; did you mean "relu"\?/],
    [() => new Activation({ name: 'act', activation: { alpha: 0.2 } as never }), /^act\.activation\.type must be one of .*received nothing/],
    [() => new Dense({ units: 2, name: 'd', activation: { type: 'leakyRelu', alpha: 0.2 }, alpha: 0.3 }), /^d: alpha is given twice, in activation\.alpha \(0\.2\) and beside it \(0\.3\); give it once$/],
    [() => new Dense({ units: 2, name: 'd', activation: { type: 'leakyRelu', alpha: 'big' } as never }), /^d\.alpha must be a number, received "big"$/],
    [() => new SimpleRNN({ units: 2, name: 'rnn', activation: { type: 'leakyRelu', slope: 0.1 } as never }), /^rnn\.activation\.slope: unknown key/],
    [() => new SimpleRNN({ units: 2, name: 'rnn', activation: { type: 'prelu' } as never }), /^rnn\.activation must be one of tanh, .*received "prelu"/],
    [() => new Dense({ units: 2, name: 'd', activation: 7 as never }), /^d\.activation must be one of .*received 7$/],
  ];
  for (const [make, re] of cases) {
    assert.throws(make, (e: unknown) => e instanceof ConfigError && re.test(e.message), String(re));
  }
});

test('initialisers: a name or a spec object in every layer option, initVariance and initialize', () => {
  for (const [what, make, input] of ENTRY_POINTS.filter(([w]) => w !== 'activation')) {
    rngReset();
    const a = run(() => make({ kernelInitializer: 'heNormal', biasInitializer: 'zeros' }), input);
    rngReset();
    const b = run(() => make({ kernelInitializer: { type: 'heNormal' }, biasInitializer: { type: 'constant', value: 0 } }), input);
    assert.deepEqual(b.out, a.out, `${what}: outputs`);
  }
  assert.equal(initVariance('heNormal', 8, 2), initVariance({ type: 'heNormal' }, 8, 2));
  assert.deepEqual(Array.from(initialize({ type: 'constant', value: 0.5 }, [2], 1, 1, new Rng(1)).data), [0.5, 0.5]);
  assert.deepEqual(Array.from(initialize('ones', [2], 1, 1, new Rng(1)).data), [1, 1]);
  assert.throws(() => new Dense({ units: 2, name: 'd', kernelInitializer: { type: 'randomNormal', stdev: 1 } as never }),
    (e: unknown) => e instanceof ConfigError && /^d\.kernelInitializer\.stdev: unknown key; did you mean "stddev"\?/.test(e.message));
  assert.throws(() => initVariance({ type: 'heNormall' } as never, 1, 1),
    (e: unknown) => e instanceof ConfigError && /^initVariance\.type must be one of .*did you mean "heNormal"\?/.test(e.message));
});

test('losses: a name (reduction beside it), a spec object or a Loss, in models and spec files', () => {
  const net = () => new Sequential([new Dense({ units: 1, activation: 'logistic' })], { inputShape: [2], seed: 1 });
  const a = new Model(net(), { loss: 'sse', reduction: 'mean', optimizer: new SGD({ learningRate: 0.1 }) });
  const b = new Model(net(), { loss: { type: 'sse', reduction: 'mean' }, optimizer: new SGD({ learningRate: 0.1 }) });
  assert.equal(b.loss.name, 'sse');
  assert.equal(b.loss.reduction, a.loss.reduction);
  assert.equal(new Model(net(), { loss: b.loss, optimizer: new SGD({ learningRate: 0.1 }) }).loss, b.loss);
  assert.throws(() => new Model(net(), { loss: { type: 'sse', reductoin: 'sum' } as never, optimizer: new SGD({ learningRate: 0.1 }) }),
    (e: unknown) => e instanceof ConfigError && /^loss\.reductoin: unknown key; did you mean "reduction"\?/.test(e.message));
  assert.throws(() => new Model(net(), { loss: { type: 'crossEntropi' }, optimizer: new SGD({ learningRate: 0.1 }) }),
    (e: unknown) => e instanceof ConfigError && /^loss\.type must be one of .*did you mean "crossEntropy"\?/.test(e.message));
  assert.throws(() => new Model(net(), { loss: { type: 'sse', reduction: 'sum' }, reduction: 'mean', optimizer: new SGD({ learningRate: 0.1 }) }),
    (e: unknown) => e instanceof ConfigError && /reduction is given twice/.test(e.message));
});

test('spec files: activation, initialiser and loss objects load, train and save back in the flat form', () => {
  const spec = parseSpec({
    input: [3],
    layers: [
      { type: 'dense', name: 'h', units: 4, activation: { type: 'leakyRelu', alpha: 0.2 }, kernelInitializer: { type: 'heNormal' } },
      { type: 'activation', name: 'g', activation: { type: 'gelu' } },
      { type: 'dense', name: 'out', units: 2, activation: { type: 'softmax' } },
    ],
    loss: { type: 'crossEntropy', reduction: 'sum' },
    optimizer: { type: 'sgd', learningRate: 0.1 },
  }, 'spec.json');
  assert.equal(spec.loss, 'crossEntropy');
  assert.equal(spec.reduction, 'sum');
  const model = buildModel(spec);
  assert.equal(model.loss.reduction, 'sum');
  const saved = model.toSpec();
  assert.deepEqual(saved.layers[0], { type: 'dense', name: 'h', units: 4, activation: 'leakyRelu', alpha: 0.2, kernelInitializer: { type: 'heNormal' } });
  const again = buildModel(parseSpec(JSON.parse(JSON.stringify(saved)), 'saved'));
  again.net.setWeights(model.net.getWeights());
  const x = tensor([[1, -2, 0.5]]);
  assert.deepEqual(Array.from(again.predict(x).data), Array.from(model.predict(x).data));
  // the exporters read the activation's options whichever form it was given in
  assert.match(exportPytorch(model)['model.py'], /F\.leaky_relu\(x, 0\.2\)/);
  assert.ok(readOnnx(exportOnnx(model)).ops.includes('LeakyRelu'));
  assert.throws(() => buildModel(parseSpec({ input: [2], layers: [{ type: 'dense', units: 1, activation: { type: 'relu', alpah: 1 } }], loss: 'sse', optimizer: { type: 'sgd' } }, 'bad.json')),
    (e: unknown) => e instanceof ConfigError && /^layers\[0\] \(dense\)\.activation\.alpah: unknown key; did you mean "alpha"\?/.test(e.message));
  assert.throws(() => parseSpec({ input: [2], layers: [{ type: 'dense', units: 1 }], loss: { type: 'sse', reductin: 'sum' }, optimizer: { type: 'sgd' } }, 'bad.json'),
    (e: unknown) => e instanceof ConfigError && /^bad\.json: loss\.reductin: unknown key; did you mean "reduction"\?/.test(e.message));
});
