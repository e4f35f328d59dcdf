// Layers for attention and the Transformer: forward on hand-checkable values, gradients of inputs
// and every parameter against finite differences, use in a Sequential model (training, spec,
// save/load), and the errors for bad configurations and inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Tensor, Rng, tensor, zeros, noGrad, Sequential, Dense, LSTM, GRU, SimpleRNN,
  LayerNormalization, MultiHeadAttention, PositionEmbedding, SinusoidalEncoding, TransformerEncoderBlock,
  TransformerDecoderBlock, Bidirectional, Reshape, Permute, buildModel, saveModel, loadModel,
  reverse, ShapeError, ConfigError, attachMask, attentionMapsOf, renderReport, reportFromData, inspectModel,
} from '../../src/index.js';
import type { Layer, ModelSpec } from '../../src/index.js';
import { gradCheck, randT, assertClose } from '../helpers/gradcheck.js';

function built<L extends Layer>(layer: L, shape: number[], seed = 1): L {
  layer.name = layer.type;
  layer.build(shape, { rng: new Rng(seed), runtimeRng: new Rng(seed + 1) });
  return layer;
}

/** Gradient check of a layer's forward w.r.t. its input and every parameter. */
function checkLayer(layer: Layer, x: Tensor, opts: { atol?: number; rtol?: number } = {}): void {
  gradCheck((xx) => layer.forward(xx), [x, ...layer.parameters()], opts);
}

test('LayerNormalization: hand-checkable forward, gradients, options', () => {
  const ln = built(new LayerNormalization({ epsilon: 1e-6 }), [2]);
  assertClose(ln.forward(tensor([[[1, 3], [5, 5]]])).data, [-1, 1, 0, 0], 1e-3);
  ln.ownParameters().get('gamma')!.data.set([2, 1]);
  ln.ownParameters().get('beta')!.data.set([0, 10]);
  assertClose(ln.forward(tensor([[[1, 3]]])).data, [-2, 11], 1e-3);
  const ln2 = built(new LayerNormalization(), [3, 4]);
  randT([4], 5).data.forEach((v, i) => { ln2.ownParameters().get('gamma')!.data[i] = 1 + v / 2; });
  checkLayer(ln2, randT([2, 3, 4], 1));
  assert.equal(built(new LayerNormalization({ center: false, scale: false }), [4]).paramCount(), 0);
  assert.throws(() => new LayerNormalization({ epsilon: -1 }), (e: unknown) =>
    e instanceof ConfigError && /layerNormalization.epsilon must be a positive number, received -1/.test(e.message));
  assert.throws(() => new LayerNormalization({ epsilom: 1 } as never), (e: unknown) =>
    e instanceof ConfigError && /layerNormalization\.epsilom: unknown key; did you mean "epsilon"\?/.test(e.message));
});

test('MultiHeadAttention: one head by hand, weights on request, gradients of everything', () => {
  // one head, d = 1, identity projections: scores x_t·x_s, output = Σ_s softmax_s · x_s
  const mha = built(new MultiHeadAttention({ numHeads: 1, useBias: false }), [2, 1]);
  for (const k of ['query', 'key', 'value', 'output']) mha.ownParameters().get(`${k}Weight`)!.data.set([1]);
  const r = mha.attend(tensor([[[1], [2]]]), tensor([[[1], [2]]]), tensor([[[1], [2]]]), { returnWeights: true });
  const w0 = [Math.exp(1) / (Math.exp(1) + Math.exp(2)), Math.exp(2) / (Math.exp(1) + Math.exp(2))];
  const w1 = [Math.exp(2) / (Math.exp(2) + Math.exp(4)), Math.exp(4) / (Math.exp(2) + Math.exp(4))];
  assertClose(r.weights!.data, [...w0, ...w1], 1e-6);
  assertClose(r.output.data, [w0[0] + 2 * w0[1], w1[0] + 2 * w1[1]], 1e-6);
  // causal: the first position sees only itself
  assert.equal(mha.attend(tensor([[[1], [2]]]), tensor([[[1], [2]]]), tensor([[[1], [2]]]), { causal: true }).output.data[0], 1);
  const m2 = built(new MultiHeadAttention({ numHeads: 2, keyDim: 3, valueDim: 2, outputDim: 5, causal: true }), [4, 4]);
  assert.deepEqual(m2.outputShape, [4, 5]);
  assert.deepEqual(m2.ownParameters().get('valueWeight')!.shape, [4, 4]);
  assert.deepEqual(m2.ownParameters().get('outputWeight')!.shape, [5, 4]);
  checkLayer(m2, randT([2, 4, 4], 3));
  // a padding mask attached to the input masks those keys
  const x = randT([2, 4, 4], 4);
  const keep = tensor([[1, 1, 1, 1], [1, 1, 0, 0]]);
  m2.keepWeights = true;
  m2.forward(attachMask(x, keep));
  const w = m2.lastWeights!.data;
  for (let h = 0; h < 2; h++) for (let t = 0; t < 4; t++) for (const s of [2, 3]) assert.equal(w[((1 * 2 + h) * 4 + t) * 4 + s], 0);
  gradCheck((xx) => m2.attend(xx, xx, xx, { keyMask: keep }).output, [x, ...m2.parameters()]);
});

test('MultiHeadAttention rejects bad options and inputs', () => {
  assert.throws(() => built(new MultiHeadAttention({ numHeads: 3 }), [4, 8]), (e: unknown) =>
    e instanceof ConfigError && /8 input features do not split into 3 heads; give keyDim/.test(e.message));
  assert.throws(() => new MultiHeadAttention({ numHeads: 0 }), (e: unknown) =>
    e instanceof ConfigError && /multiHeadAttention.numHeads must be an integer ≥ 1, received 0/.test(e.message));
  assert.throws(() => new MultiHeadAttention({ numHeads: 2, dropout: 1 }), (e: unknown) =>
    e instanceof ConfigError && /dropout must be a drop rate in \[0, 1\), received 1/.test(e.message));
  const m = built(new MultiHeadAttention({ numHeads: 2 }), [3, 4]);
  assert.throws(() => m.forward(zeros([2, 3, 5])), (e: unknown) =>
    e instanceof ShapeError && /multiHeadAttention expects query \[\*, T, 4\], received \[2, 3, 5\]/.test(e.message));
  assert.throws(() => m.attend(zeros([2, 3, 4]), zeros([2, 3, 4]), zeros([2, 3, 4]), { keyMask: zeros([2, 2]) }), (e: unknown) =>
    e instanceof ShapeError && /the key mask must be \[batch, S\] = \[2, 3\], received \[2, 2\]/.test(e.message));
});

test('position layers: learned embeddings and the sinusoidal table, shorter sequences, too-long ones', () => {
  const pe = built(new PositionEmbedding({ maxLength: 3 }), [3, 2]);
  pe.embeddings.data.set([1, 2, 3, 4, 5, 6]);
  assert.deepEqual(pe.forward(zeros([1, 2, 2])).toArray(), [[[1, 2], [3, 4]]]);
  checkLayer(pe, randT([2, 3, 2], 1));
  assert.throws(() => pe.forward(zeros([1, 4, 2])), (e: unknown) =>
    e instanceof ShapeError && /positions for sequences of up to 3 steps, received 4/.test(e.message));
  const se = built(new SinusoidalEncoding(), [3, 4]);
  const y = se.forward(zeros([1, 3, 4])).data;
  // t = 1: sin(1), cos(1), sin(1/100), cos(1/100)
  assertClose(y.subarray(4, 8), [Math.sin(1), Math.cos(1), Math.sin(0.01), Math.cos(0.01)], 1e-6);
  assert.equal(se.paramCount(), 0);
  gradCheck((xx) => se.forward(xx), [randT([2, 2, 4], 2)]);
});

test('TransformerEncoderBlock: gradients of input and all 16 parameters, post- and pre-norm', () => {
  for (const normFirst of [false, true]) {
    const b = built(new TransformerEncoderBlock({ numHeads: 2, ffDim: 6, activation: 'gelu', normFirst }), [3, 4]);
    assert.equal(b.parameters().length, 16);
    assert.equal(b.paramCount(), 4 * (16 + 4) + 2 * 8 + (6 * 4 + 6) + (4 * 6 + 4));
    checkLayer(b, randT([2, 3, 4], 7), { atol: 3e-3 });
  }
});

test('TransformerDecoderBlock is causal: later tokens never change earlier outputs', () => {
  const d = built(new TransformerDecoderBlock({ numHeads: 2, ffDim: 8 }), [4, 4]);
  const x = randT([1, 4, 4], 1);
  const y1 = d.forward(x).data.slice();
  x.data[3 * 4 + 1] += 1; // change the last token
  const y2 = d.forward(x).data;
  assertClose(y2.subarray(0, 12), y1.subarray(0, 12), 0);
  assert.ok(Math.abs(y2[13] - y1[13]) > 1e-4);
  const enc = built(new TransformerEncoderBlock({ numHeads: 2, ffDim: 8 }), [4, 4]);
  const e1 = enc.forward(x).data[0];
  x.data[3 * 4 + 1] -= 1;
  assert.notEqual(enc.forward(x).data[0], e1); // the encoder sees the whole sequence
  assert.throws(() => new TransformerDecoderBlock({ numHeads: 2, ffDim: 4, causal: false } as never), (e: unknown) =>
    e instanceof ConfigError && /always causal/.test(e.message));
  assert.throws(() => new TransformerEncoderBlock({ numHeads: 2, ffDim: 4, activation: 'tanh' as never }), (e: unknown) =>
    e instanceof ConfigError && /activation must be "relu" or "gelu", received "tanh"/.test(e.message));
});

test('Bidirectional: the backward twin reads the sequence reversed; gradients; merge modes; errors', () => {
  const bi = built(new Bidirectional({ layer: new GRU({ units: 3, returnSequences: true }) }), [4, 2]);
  assert.deepEqual(bi.outputShape, [4, 6]);
  const x = randT([2, 4, 2], 1);
  const y = bi.forward(x);
  const f = bi.forwardLayer.forward(x);
  const b = reverse(bi.backwardLayer.forward(reverse(x, 1)), 1);
  for (let i = 0; i < 8; i++) {
    assertClose(y.data.subarray(i * 6, i * 6 + 3), f.data.subarray(i * 3, i * 3 + 3), 0);
    assertClose(y.data.subarray(i * 6 + 3, i * 6 + 6), b.data.subarray(i * 3, i * 3 + 3), 0);
  }
  checkLayer(bi, randT([2, 3, 2], 2));
  const sumLast = built(new Bidirectional({ layer: new LSTM({ units: 2 }), mergeMode: 'sum' }), [3, 2]);
  assert.deepEqual(sumLast.outputShape, [2]);
  const keys = [...sumLast.ownParameters().keys()];
  assert.equal(keys.length, 2 * sumLast.forwardLayer.ownParameters().size);
  assert.ok(keys.includes('forward.Wf') && keys.includes('backward.Wf'), keys.join(', '));
  checkLayer(sumLast, randT([2, 3, 2], 3));
  // end padding is start padding for the backward twin, which holds its zero state through it
  const rnn = built(new Bidirectional({ layer: new SimpleRNN({ units: 2 }) }), [3, 1]);
  const padded = rnn.forward(attachMask(tensor([[[1], [2], [0]]]), tensor([[1, 1, 0]]))).data;
  const short = noGrad(() => {
    const twin = new Sequential([new Bidirectional({ layer: new SimpleRNN({ units: 2 }) })], { inputShape: [2, 1] });
    twin.setWeights({ bidirectional_1: Object.fromEntries([...rnn.ownParameters()]) });
    return twin.forward(tensor([[[1], [2]]])).data;
  });
  assertClose(padded, short, 1e-6);
  assert.throws(() => new Bidirectional({ layer: new Dense({ units: 2 }) as never }), (e: unknown) =>
    e instanceof ConfigError && /layer must be a SimpleRNN, LSTM or GRU layer, received dense/.test(e.message));
  assert.throws(() => buildModel({ ...SPEC, layers: [{ type: 'bidirectional', layer: { type: 'dense', units: 2 } }] }), (e: unknown) =>
    e instanceof ConfigError && /layer must be a simpleRNN, lstm or gru layer spec, received \{"type":"dense","units":2\}/.test(e.message));
  assert.throws(() => new Bidirectional({ layer: new LSTM({ units: 2, stateful: true }) }), (e: unknown) =>
    e instanceof ConfigError && /stateful recurrent layer cannot run backwards/.test(e.message));
});

test('Reshape and Permute layers', () => {
  const r = built(new Reshape({ targetShape: [2, -1] }), [6]);
  assert.deepEqual(r.outputShape, [2, 3]);
  assert.deepEqual(r.forward(tensor([[1, 2, 3, 4, 5, 6]])).toArray(), [[[1, 2, 3], [4, 5, 6]]]);
  const p = built(new Permute({ dims: [2, 1] }), [2, 3]);
  assert.deepEqual(p.forward(tensor([[[1, 2, 3], [4, 5, 6]]])).toArray(), [[[1, 4], [2, 5], [3, 6]]]);
  gradCheck((xx) => p.forward(xx), [randT([2, 2, 3], 1)]);
  assert.throws(() => built(new Reshape({ targetShape: [4, -1] }), [6]), (e: unknown) =>
    e instanceof ShapeError && /cannot reshape \[6\] \(6 elements\) into \[4, -1\]/.test(e.message));
  assert.throws(() => new Permute({ dims: [0, 1] }), (e: unknown) =>
    e instanceof ConfigError && /permute.dims must be a permutation of 1…n/.test(e.message));
});

const SPEC: ModelSpec = {
  input: [6],
  layers: [
    { type: 'embedding', inputDim: 5, outputDim: 8 },
    { type: 'positionEmbedding' },
    { type: 'sinusoidalEncoding' },
    { type: 'transformerDecoderBlock', numHeads: 2, ffDim: 16, activation: 'gelu', normFirst: true },
    { type: 'transformerEncoderBlock', numHeads: 2, ffDim: 8 },
    { type: 'bidirectional', layer: { type: 'gru', units: 4, returnSequences: true } },
    { type: 'multiHeadAttention', numHeads: 1, keyDim: 4 },
    { type: 'layerNormalization' },
    { type: 'dense', units: 5, activation: 'softmax' },
  ],
  loss: 'crossEntropy',
  optimizer: { type: 'adam', learningRate: 0.01 },
};

const GPT: ModelSpec = {
  ...SPEC,
  layers: [
    { type: 'embedding', inputDim: 5, outputDim: 8 },
    { type: 'positionEmbedding' },
    { type: 'transformerDecoderBlock', numHeads: 2, ffDim: 16, activation: 'gelu', normFirst: true },
    { type: 'layerNormalization' },
    { type: 'dense', units: 5, activation: 'softmax' },
  ],
};

test('a decoder-only Transformer in Sequential learns; every new layer saves and loads from its spec', () => {
  const model = buildModel(GPT, 3);
  // next-token prediction on a repeating pattern 0 1 2 3 4 0 1 …
  const xs: number[] = [];
  const ys: number[] = [];
  for (let s = 0; s < 10; s++) for (let t = 0; t < 6; t++) {
    xs.push((s + t) % 5);
    for (let k = 0; k < 5; k++) ys.push(k === (s + t + 1) % 5 ? 1 : 0);
  }
  const x = new Tensor(Float32Array.from(xs), [10, 6]);
  const y = new Tensor(Float32Array.from(ys), [10, 6, 5]);
  const h = model.fit(x, y, { epochs: 15, batchSize: 5 });
  const first = h.epochs[0].loss;
  const last = h.epochs[h.epochs.length - 1].loss;
  assert.ok(last < 0.25 * first, `loss ${first} → ${last}`);
  const all = buildModel(SPEC, 4);
  all.fit(x, y, { epochs: 1, batchSize: 5 });
  const dir = mkdtempSync(join(tmpdir(), 'dendrite-attn-'));
  try {
    saveModel(dir, all, SPEC);
    const again = loadModel(dir).model;
    assertClose(again.predict(x).data, all.predict(x).data, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.match(all.net.summary(), /transformerDecoderBlock_1\s+transformerDecoderBlock\s+\[N, 6, 8\]\s+\d+/);
  // the report from data shows head 0 of the three attention layers; trace and dynamics cover every layer
  assert.deepEqual(reportFromData(all, x, y).attention?.map((m) => m.layer),
    ['transformerDecoderBlock_1', 'transformerEncoderBlock_1', 'multiHeadAttention_1']);
  assert.equal(inspectModel(all, x, y).layers.length, SPEC.layers.length);
});

test('attentionMapsOf reads one head per attention layer; the report shows them as heatmaps', () => {
  const model = buildModel(GPT, 5);
  const x = new Tensor(Float32Array.of(0, 1, 2, 3, 4, 0), [1, 6]);
  const maps = attentionMapsOf(model, x, 1, [...'abcdea']);
  assert.equal(maps.length, 1);
  assert.equal(maps[0].layer, 'transformerDecoderBlock_1');
  assert.equal(maps[0].weights.length, 6);
  maps[0].weights.forEach((row, t) => {
    assertClose([row.reduce((a, b) => a + b, 0)], [1], 1e-5);
    for (let s = t + 1; s < 6; s++) assert.equal(row[s], 0); // causal
  });
  assert.equal(model.net.layers[2].record, null); // tracing undone
  const html = renderReport({ model, attention: maps });
  assert.match(html, /<section id="attention"><h2>Attention weights<\/h2>/);
  assert.match(html, /transformerDecoderBlock_1, head 1/);
  assert.throws(() => attentionMapsOf(model, x, 2), (e: unknown) =>
    e instanceof ConfigError && /transformerDecoderBlock_1 has heads 0…1, received head 2/.test(e.message));
});
