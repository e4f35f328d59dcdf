import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Input, Dense, Add, Multiply, Concatenate, Flatten, Conv2D, GraphNetwork, Model, Adam, SGD, Layer, Module, Rng,
  tensor, sum, mul, relu, ShapeError, ConfigError, graphSpec, parseSpec, buildModel, saveModel, loadModel,
  traceModel, renderReport, inspectModel, reportFromData, NumericError, gatherRows, forwardSequence, fitTruncated,
} from '../../src/index.js';
import type { BuildContext, Tensor } from '../../src/index.js';
import { gradCheck, randT } from '../helpers/gradcheck.js';

const isShape = (re: RegExp) => (e: unknown) => e instanceof ShapeError && re.test(e.message);
const isConfig = (re: RegExp) => (e: unknown) => e instanceof ConfigError && re.test(e.message);

/** A residual block: d1 → (d2 of d1) + d1 → softmax. */
function residual(seed = 3): GraphNetwork {
  const x = Input({ shape: [4], name: 'x' });
  const h = new Dense({ units: 8, activation: 'relu', name: 'h' }).apply(x);
  const f = new Dense({ units: 8, name: 'f' }).apply(h);
  const r = new Add({ name: 'skip' }).apply([h, f]);
  const y = new Dense({ units: 2, activation: 'softmax', name: 'out' }).apply(r);
  return new GraphNetwork({ inputs: x, outputs: y, seed });
}

function quadrants(n: number, seed = 5): [Tensor, Tensor] {
  const rng = new Rng(seed);
  const xs: number[][] = [];
  const ys: number[][] = [];
  for (let i = 0; i < n; i++) {
    const v = [0, 0, 0, 0].map(() => rng.uniform(-1, 1));
    const c = v[0] * v[1] > 0 ? 1 : 0;
    xs.push(v);
    ys.push([1 - c, c]);
  }
  return [tensor(xs), tensor(ys)];
}

test('merge layers on hand-checkable values: Add, Multiply, Concatenate (last axis and channels)', () => {
  const a = Input({ shape: [2], name: 'a' });
  const b = Input({ shape: [2], name: 'b' });
  const add = new Add().apply([a, b]);
  const mulOut = new Multiply().apply([a, b]);
  const cat = new Concatenate().apply([a, b]);
  const net = new GraphNetwork({ inputs: [a, b], outputs: [add, mulOut, cat] });
  const [s, p, c] = net.forwardMany([tensor([[1, 2]]), tensor([[3, 5]])]);
  assert.deepEqual(s.toArray(), [[4, 7]]);
  assert.deepEqual(p.toArray(), [[3, 10]]);
  assert.deepEqual(c.toArray(), [[1, 2, 3, 5]]);
  const m1 = Input({ shape: [1, 1, 2] });
  const m2 = Input({ shape: [2, 1, 2] });
  const ch = new Concatenate({ axis: 0 }).apply([m1, m2]);
  assert.deepEqual(ch.shape, [3, 1, 2]);
  const y = new GraphNetwork({ inputs: [m1, m2], outputs: ch }).forwardMany([tensor([[[[1, 2]]]]), tensor([[[[3, 4]], [[5, 6]]]])])[0];
  assert.deepEqual(y.toArray(), [[[[1, 2]], [[3, 4]], [[5, 6]]]]);
});

test('merge layers: gradients match finite differences', () => {
  const a = Input({ shape: [3] });
  const b = Input({ shape: [3] });
  const c = Input({ shape: [2] });
  const add = new Add();
  const m = new Multiply();
  const cat = new Concatenate();
  add.apply([a, b]);
  m.apply([a, b]);
  cat.apply([a, c]);
  gradCheck((x, y) => add.forwardMany([x, y]), [randT([2, 3], 1), randT([2, 3], 2)]);
  gradCheck((x, y) => m.forwardMany([x, y]), [randT([2, 3], 3), randT([2, 3], 4)]);
  gradCheck((x, y) => cat.forwardMany([x, y]), [randT([2, 3], 5), randT([2, 2], 6)]);
});

test('a residual block trains (graph model with Add) and its summary shows the connections', () => {
  const net = residual();
  const [x, y] = quadrants(200);
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new Adam({ learningRate: 0.01 }) });
  assert.ok(model.fused, 'softmax output of a graph fuses with cross-entropy');
  const h = model.fit(x, y, { epochs: 40, batchSize: 20 });
  assert.ok(h.epochs[39].loss < 0.5 * h.epochs[0].loss, `loss ${h.epochs[0].loss} → ${h.epochs[39].loss}`);
  assert.ok(model.evaluate(x, y).accuracy! > 0.9);
  const s = net.summary();
  assert.match(s, /connected to/);
  assert.match(s, /skip +add +\[N, 8\] +0 +h, f/);
  assert.match(s, /x +input +\[N, 4\]/);
});

test('a two-input model trains: fit, evaluate and predict take one tensor per input', () => {
  const a = Input({ shape: [2], name: 'a' });
  const b = Input({ shape: [2], name: 'b' });
  const ha = new Dense({ units: 8, activation: 'tanh' }).apply(a);
  const hb = new Dense({ units: 8, activation: 'tanh' }).apply(b);
  const out = new Dense({ units: 2, activation: 'softmax' }).apply(new Concatenate().apply([ha, hb]));
  const net = new GraphNetwork({ inputs: [a, b], outputs: out, seed: 2 });
  const [x] = quadrants(200, 9);
  const y = tensor((x.toArray() as number[][]).map((r) => (r[0] + r[1] > 0 ? [0, 1] : [1, 0])));
  const xa = tensor((x.toArray() as number[][]).map((r) => [r[0], r[2]]));
  const xb = tensor((x.toArray() as number[][]).map((r) => [r[1], r[3]]));
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new Adam({ learningRate: 0.02 }) });
  const h = model.fit([xa, xb], y, { epochs: 40, batchSize: 20, validationSplit: 0.2 });
  assert.ok(h.epochs[39].loss < 0.6 * h.epochs[0].loss);
  assert.ok(model.evaluate([xa, xb], y).accuracy! > 0.85);
  assert.deepEqual(model.predict([xa, xb]).shape, [200, 2]);
  assert.throws(() => model.predict(xa), isShape(/has 2 inputs \(a, b\), received 1 batches/));
  const t = traceModel(model, [gatherRows(xa, null, 0, 3), gatherRows(xb, null, 0, 3)], gatherRows(y, null, 0, 3));
  assert.deepEqual(t.layers.map((l) => l.type), ['dense', 'dense', 'concatenate', 'dense']);
  assert.equal((t.layers[0].delta as number[][]).length, 3);
  assert.equal((t.layers[2].a as number[][])[0].length, 16);
  assert.throws(() => model.predict([xa, tensor([[1, 2, 3]])]), isShape(/input "b" expects \[\*, 2\], received \[1, 3\]/));
});

test('several outputs: one target per output, the loss is their sum', () => {
  const x = Input({ shape: [3] });
  const h = new Dense({ units: 4, activation: 'tanh' }).apply(x);
  const o1 = new Dense({ units: 1, name: 'o1' }).apply(h);
  const o2 = new Dense({ units: 2, name: 'o2' }).apply(h);
  const model = new Model(new GraphNetwork({ inputs: x, outputs: [o1, o2] }), { loss: 'mse', optimizer: new SGD({ learningRate: 0.1 }) });
  const xs = randT([8, 3], 1);
  const y1 = randT([8, 1], 2);
  const y2 = randT([8, 2], 3);
  const total = model.evaluate(xs, [y1, y2]).loss;
  const [p1, p2] = model.predictAll(xs);
  const mse = (p: Tensor, t: Tensor) => p.toFlatArray().reduce((s, v, i) => s + (v - t.data[i]) ** 2, 0) / p.size;
  assert.ok(Math.abs(total - (mse(p1, y1) + mse(p2, y2))) < 1e-5);
  const hist = model.fit(xs, [y1, y2], { epochs: 30, batchSize: 8 });
  assert.ok(hist.epochs[29].loss < hist.epochs[0].loss);
  assert.throws(() => model.fit(xs, y1, { epochs: 1 }), isShape(/has 2 outputs \(o1, o2\), received 1 target tensors/));
});

test('a shared layer receives the sum of the gradients of both calls', () => {
  const a = Input({ shape: [3], name: 'a' });
  const b = Input({ shape: [3], name: 'b' });
  const shared = new Dense({ units: 2, activation: 'tanh', name: 'shared' });
  const out = new Add().apply([shared.apply(a), shared.apply(b)]);
  const net = new GraphNetwork({ inputs: [a, b], outputs: out, seed: 4 });
  assert.equal(net.layers.filter((l) => l === shared).length, 1);
  assert.equal(net.paramCount(), 8);
  assert.match(net.summary(), /shared#1 +dense +\[N, 2\] +0 +b/);
  const xa = randT([4, 3], 1);
  const xb = randT([4, 3], 2);
  sum(net.forwardMany([xa, xb])[0]).backward();
  const both = shared.weight.grad!.toFlatArray();
  const one = (x: Tensor): number[] => {
    shared.zeroGrad();
    sum(shared.forward(x)).backward();
    return shared.weight.grad!.toFlatArray();
  };
  const ga = one(xa);
  const gb = one(xb);
  both.forEach((g, i) => assert.ok(Math.abs(g - (ga[i] + gb[i])) < 1e-5, `${g} vs ${ga[i]} + ${gb[i]}`));
});

test('two graph models can share layers: the second keeps their weights and names (an encoder inside a classifier)', () => {
  const x = Input({ shape: [3], name: 'x' });
  const enc = new Dense({ units: 2, activation: 'tanh' });
  const code = enc.apply(new Dense({ units: 4, activation: 'relu' }).apply(x));
  const encoder = new GraphNetwork({ inputs: x, outputs: code, seed: 1 });
  const w = enc.weight.toFlatArray();
  const names = encoder.namedParameters().map(([n]) => n);
  const y = new Dense({ units: 1, name: 'head' }).apply(code);
  const full = new GraphNetwork({ inputs: x, outputs: y, seed: 99 });
  assert.deepEqual(enc.weight.toFlatArray(), w, 'not re-initialised by the second model');
  assert.deepEqual(encoder.namedParameters().map(([n]) => n), names, 'names unchanged');
  assert.equal(full.paramCount(), encoder.paramCount() + 3);
  const xs = randT([2, 3], 3);
  assert.deepEqual(full.layer(enc.name).forward(full.layers[0].forward(xs)).toFlatArray(), encoder.forward(xs).toFlatArray());
});

test('save → load gives identical predictions (shared layer, two inputs, checkpoint) and the spec keeps the graph', () => {
  const a = Input({ shape: [3], name: 'a' });
  const b = Input({ shape: [3], name: 'b' });
  const shared = new Dense({ units: 4, activation: 'relu', name: 'enc' });
  const m = new Multiply({ name: 'gate' }).apply([shared.apply(a), shared.apply(b)]);
  const y = new Dense({ units: 2, activation: 'softmax', name: 'cls' }).apply(new Concatenate({ name: 'cat' }).apply([m, shared.apply(a)]));
  const net = new GraphNetwork({ inputs: [a, b], outputs: y, seed: 7 });
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new Adam({ learningRate: 0.01 }) });
  const xa = randT([10, 3], 1);
  const xb = randT([10, 3], 2);
  const t = tensor(Array.from({ length: 10 }, (_, i) => (i % 2 ? [0, 1] : [1, 0])));
  model.fit([xa, xb], t, { epochs: 3, batchSize: 5 });
  const spec = { ...graphSpec(net), loss: 'crossEntropy', optimizer: { type: 'adam', learningRate: 0.01 } };
  assert.deepEqual(spec.layers.find((l) => l.name === 'enc')!.inbound, [['a'], ['b'], ['a']]);
  assert.deepEqual(spec.layers.find((l) => l.name === 'cat')!.inbound, ['gate', 'enc#2']);
  const dir = mkdtempSync(join(tmpdir(), 'dd-graph-'));
  try {
    saveModel(dir, model, spec, { checkpoint: true });
    const { model: back } = loadModel(dir);
    assert.ok(back.net instanceof GraphNetwork);
    assert.deepEqual(back.predict([xa, xb]).toFlatArray(), model.predict([xa, xb]).toFlatArray());
    // resumed training continues identically
    model.fit([xa, xb], t, { epochs: 1, batchSize: 5 });
    back.fit([xa, xb], t, { epochs: 1, batchSize: 5 });
    assert.deepEqual(back.predict([xa, xb]).toFlatArray(), model.predict([xa, xb]).toFlatArray());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a Sequential spec stays valid next to the graph form; a graph spec builds in any layer order', () => {
  const seq = parseSpec({ input: [2], layers: [{ type: 'dense', units: 1 }], loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 } });
  assert.equal(buildModel(seq).net instanceof GraphNetwork, false);
  const g = parseSpec({
    inputs: [{ name: 'x', shape: [2] }],
    layers: [
      { type: 'add', name: 'sum', inbound: ['x', 'lin'] },
      { type: 'dense', name: 'lin', units: 2, inbound: ['x'] },
    ],
    outputs: ['sum'], loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 },
  });
  assert.deepEqual(g.input, [2]);
  const net = buildModel(g).net as GraphNetwork;
  assert.deepEqual(net.layers.map((l) => l.name), ['lin', 'sum']);
  net.setWeights({ lin: { weight: [[1, 0], [0, 2]], bias: [0, 1] } });
  assert.deepEqual(net.forward(tensor([[1, 1]])).toArray(), [[2, 4]]);
});

test('bad graphs: a cycle, an unconnected input, an unknown reference, merge shape mismatch, reuse with another shape', () => {
  const base = { loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 } };
  const cyc = parseSpec({
    ...base, inputs: [{ name: 'x', shape: [2] }], outputs: ['c'],
    layers: [
      { type: 'dense', name: 'a', units: 2, inbound: ['c'] },
      { type: 'add', name: 'b', inbound: ['x', 'a'] },
      { type: 'dense', name: 'c', units: 2, inbound: ['b'] },
    ],
  });
  assert.throws(() => buildModel(cyc), isConfig(/the graph has a cycle: c → b → a → c/));
  const unknown = parseSpec({ ...base, inputs: [{ name: 'x', shape: [2] }], outputs: ['a'], layers: [{ type: 'dense', name: 'a', units: 2, inbound: ['y'] }] });
  assert.throws(() => buildModel(unknown), isConfig(/layer "a" refers to "y", which is neither an input nor a layer call; known: x, a/));
  assert.throws(() => parseSpec({ ...base, inputs: [{ name: 'x', shape: [2] }], outputs: ['a'], layers: [{ type: 'dense', name: 'a', units: 2 }] }), isConfig(/"layers\[0\].inbound" must list/));

  const x = Input({ shape: [2], name: 'x' });
  const unused = Input({ shape: [3], name: 'unused' });
  const y = new Dense({ units: 1 }).apply(x);
  assert.throws(() => new GraphNetwork({ inputs: [x, unused], outputs: y }), isConfig(/input "unused" is not connected to the outputs/));
  assert.throws(() => new GraphNetwork({ inputs: [unused], outputs: y }), isConfig(/the outputs depend on input "x", which is not among the graph's inputs \(unused\)/));

  const d4 = new Dense({ units: 4, name: 'four' }).apply(x);
  const d5 = new Dense({ units: 5, name: 'five' }).apply(x);
  assert.throws(() => new Add({ name: 'sum' }).apply([d4, d5]), isShape(/^sum needs inputs of the same shape: four gives \[N, 4\], five gives \[N, 5\]$/));
  const m23 = Input({ shape: [2, 3], name: 'm23' });
  const m33 = Input({ shape: [3, 3], name: 'm33' });
  assert.throws(() => new Concatenate({ name: 'cat' }).apply([m23, m33]), isShape(/cat joins along axis -1, so the other axes must agree: input "m23" gives \[N, 2, 3\], input "m33" gives \[N, 3, 3\]/));
  assert.deepEqual(new Concatenate({ axis: 0 }).apply([m23, m33]).shape, [5, 3]);

  const shared = new Dense({ units: 3, name: 'shared' });
  shared.apply(x);
  assert.throws(() => shared.apply(unused), isShape(/shared is reused with an incompatible input: it was built for \[\*, 2\] and now receives \[\*, 3\] from input "unused"/));
  assert.throws(() => new Dense({ units: 1, name: 'd' }).apply([x, unused]), isShape(/d takes one input, received 2/));
  assert.throws(() => Input({ shape: [0] }), isShape(/shape must be a non-empty list of positive integers/));
});

test('trainable: false freezes a layer (in code and in the spec); gradients still reach the layers before it', () => {
  const net = residual(5);
  net.layer('f').trainable = false;
  const f0 = net.layer('f').ownParameters().get('weight')!.toFlatArray();
  const h0 = net.layer('h').ownParameters().get('weight')!.toFlatArray();
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new Adam({ learningRate: 0.01 }) });
  const [x, y] = quadrants(40);
  model.fit(x, y, { epochs: 2, batchSize: 10 });
  assert.deepEqual(net.layer('f').ownParameters().get('weight')!.toFlatArray(), f0);
  assert.notDeepEqual(net.layer('h').ownParameters().get('weight')!.toFlatArray(), h0);
  assert.match(net.summary(), /total params: 130 \(72 frozen\)/);
  const spec = { ...graphSpec(net), ...{ loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 } } };
  assert.equal(spec.layers[1].trainable, false);
  const again = buildModel(parseSpec(spec)).net;
  assert.equal(again.layer('f').trainable, false);
  assert.equal(again.layer('f').ownParameters().get('weight')!.requiresGrad, false);
  assert.throws(() => buildModel(parseSpec({ input: [2], layers: [{ type: 'dense', units: 1, trainable: 'no' }], loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 } })), isConfig(/"trainable" must be true or false/));
});

/** A PyTorch-style custom layer: a sub-layer and ops in forward. */
class GatedResidual extends Layer {
  readonly type = 'gatedResidual';
  readonly inner = new Dense({ units: 3, name: 'inner' });
  protected init(inputShape: readonly number[], ctx: BuildContext): readonly number[] {
    this.inner.name = `${this.name}.inner`;
    this.inner.build(inputShape, ctx);
    if (!this.children.includes(this.inner)) this.children.push(this.inner);
    return inputShape;
  }
  forward(x: Tensor): Tensor {
    return this.traced(undefined, relu(mul(x, this.inner.forward(x))));
  }
  config(): Record<string, unknown> {
    return { type: this.type };
  }
}

test('custom modules compose with graph models: a custom layer inside a graph, a graph inside a custom module', () => {
  const x = Input({ shape: [3] });
  const g = new GatedResidual('gated');
  const out = new Add().apply([x, g.apply(x)]);
  const net = new GraphNetwork({ inputs: x, outputs: out, seed: 2 });
  assert.equal(net.paramCount(), 12);
  assert.deepEqual(net.namedParameters().map(([n]) => n), ['gated.inner.weight', 'gated.inner.bias']);
  gradCheck((v) => net.forward(v), [randT([2, 3], 8)]);
  class Twice extends Module {
    constructor(readonly body: GraphNetwork) {
      super('twice');
      this.children.push(body);
    }
    forward(v: Tensor): Tensor {
      return this.body.forward(this.body.forward(v));
    }
  }
  const t = new Twice(net);
  assert.equal(t.parameters().length, 2);
  const v = randT([2, 3], 9);
  sum(t.forward(v)).backward();
  assert.ok(t.parameters().every((p) => p.grad !== null));
});

test('trace and the report show the graph: every layer call, merges included, with connections', () => {
  const net = residual(6);
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new Adam() });
  const [x, y] = quadrants(4);
  const t = traceModel(model, x, y);
  assert.deepEqual(t.layers.map((l) => l.name), ['h', 'f', 'skip', 'out']);
  const skip = t.layers[2];
  const h = t.layers[0].a as number[][];
  const f = t.layers[1].a as number[][];
  (skip.a as number[][]).forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - (h[i][j] + f[i][j])) < 1e-6)));
  assert.ok(t.layers[3].delta, 'δ of the softmax layer');
  const html = renderReport({ model });
  assert.match(html, /<th>connected to<\/th>/);
  assert.match(html, /<td>skip<\/td><td>add<\/td><td><\/td><td>\[N, 8\]<\/td><td>0<\/td><td>h, f<\/td>/);
  const withFig = renderReport({ model, figures: [{ title: 'Samples <1>', note: 'grid', svg: '<svg class="probe"></svg>' }] });
  assert.match(withFig, /<section id="figures"><h2>Figures<\/h2><h3>Samples &lt;1&gt;<\/h3><p>grid<\/p><div class="dd-plots"><svg class="probe"><\/svg><\/div><\/section>/);
  assert.ok(withFig.indexOf('id="figures"') > withFig.indexOf('id="history"'));
});

test('a non-finite value in a graph stops fit with a NumericError naming the first layer call where it appeared', () => {
  const net = residual(8);
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.1 }) });
  net.setWeights({ f: { weight: Array.from({ length: 8 }, () => new Array(8).fill(3e38)) } });
  const [x, y] = quadrants(8);
  assert.throws(() => model.fit(x, y, { epochs: 1, batchSize: 8 }), (e: unknown) => e instanceof NumericError && e.where === 'f');
});

test('truncated BPTT refuses a graph model instead of running its layers as a stack', () => {
  const model = new Model(residual(), { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.1 }) });
  const [x, y] = quadrants(4);
  assert.throws(() => forwardSequence(model.net, x), isConfig(/graph is a graph model: truncated backpropagation through time and step-by-step sequences run on Sequential networks only/));
  assert.throws(() => fitTruncated(model, x, y, { epochs: 1 }), ConfigError);
});

test('a CNN graph (conv → residual conv → dense) runs forward and backward', () => {
  const x = Input({ shape: [1, 6, 6] });
  const c = new Conv2D({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x);
  const r = new Add().apply([c, new Conv2D({ filters: 2, kernelSize: 3, padding: 'same' }).apply(c)]);
  const y = new Dense({ units: 3, activation: 'softmax' }).apply(new Flatten().apply(r));
  const model = new Model(new GraphNetwork({ inputs: x, outputs: y }), { loss: 'crossEntropy', optimizer: new Adam() });
  const xs = randT([6, 1, 6, 6], 1);
  const ys = tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  const h = model.fit(xs, ys, { epochs: 2, batchSize: 3 });
  assert.equal(h.epochs.length, 2);
  // inspect and the full report work on a graph: dynamics per layer, feature maps of every conv/merge
  const dyn = inspectModel(model, xs, ys);
  assert.equal(dyn.layers.length, model.net.layers.length);
  const rep = reportFromData(model, xs, ys);
  assert.deepEqual(rep.featureMaps!.map((m) => m.layer), ['input', 'conv2d_1', 'conv2d_2', 'add_1']);
  assert.match(renderReport(rep), /<section id="cnn">/);
});
