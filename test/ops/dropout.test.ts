import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError, Dense, Dropout, Model, Rng, SGD, Sequential, ShapeError, buildNetwork, parseSpec,
  dropoutWithMask, sampleDropMask, sum, tensor,
} from '../../src/index.js';
import { assertClose, gradCheck, randT } from '../helpers/gradcheck.js';

test('dropout with a given mask: a·mask/ρ forward, δ·mask/ρ backward (Algorithm 2, corrected)', () => {
  const x = tensor([[1, 2, 3, 4]], { requiresGrad: true });
  const y = dropoutWithMask(x, Float32Array.from([1, 0, 1, 0]), 0.5);
  assert.deepEqual(y.toArray(), [[2, 0, 6, 0]]);
  sum(y).backward();
  assert.deepEqual(x.grad!.toArray(), [[2, 0, 2, 0]]);
});

test('dropout with a fixed mask: gradient matches finite differences', () => {
  const mask = sampleDropMask(12, 0.6, new Rng(3));
  assert.ok(mask.includes(0) && mask.includes(1));
  gradCheck((x) => dropoutWithMask(x, mask, 0.6), [randT([3, 4], 2)]);
});

test('dropout mask rate: the fraction kept is ρ within 4 standard deviations', () => {
  const rng = new Rng(11);
  for (const rho of [0.8, 0.5, 0.2]) {
    const n = 200_000;
    const m = sampleDropMask(n, rho, rng);
    let kept = 0;
    for (let i = 0; i < n; i++) {
      assert.ok(m[i] === 0 || m[i] === 1);
      kept += m[i];
    }
    const sd = Math.sqrt((rho * (1 - rho)) / n);
    assert.ok(Math.abs(kept / n - rho) < 4 * sd, `ρ = ${rho}: kept ${kept / n}`);
  }
});

function dropNet(keepProb: number, seed = 5): Sequential {
  return new Sequential([new Dropout({ keepProb, name: 'drop' })], { inputShape: [1000], seed });
}

test('Dropout layer: training draws a fresh mask per example and per iteration; kept values are scaled by 1/ρ', () => {
  const net = dropNet(0.8);
  const x = tensor(Array.from({ length: 2 }, () => new Array(1000).fill(1)));
  const a = net.forward(x).data;
  const maskA = Float32Array.from((net.layers[0] as Dropout).lastMask!);
  for (const v of a) assert.ok(v === 0 || Math.abs(v - 1.25) < 1e-6);
  // the two examples get different masks
  assert.notDeepEqual(Array.from(maskA.subarray(0, 1000)), Array.from(maskA.subarray(1000)));
  // the next iteration gets a new mask
  net.forward(x);
  assert.notDeepEqual(Array.from((net.layers[0] as Dropout).lastMask!), Array.from(maskA));
  // mean activation is preserved in expectation
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(mean - 1) < 0.05, `mean ${mean}`);
  // the same seed gives the same masks
  const again = dropNet(0.8).forward(x).data;
  assert.deepEqual(Array.from(again), Array.from(a));
});

test('Dropout layer: a mask read through lastMask never changes afterwards; one nobody read is drawn again in place', () => {
  const net = dropNet(0.5);
  const layer = net.layers[0] as Dropout;
  const x = tensor([new Array(1000).fill(1)]);
  net.forward(x);
  const held = layer.lastMask!;
  const was = Float32Array.from(held);
  for (let i = 0; i < 5; i++) net.forward(x);
  assert.deepEqual(held, was, 'the mask the user holds kept its values');
  assert.notEqual(layer.lastMask, held, 'a new array after the held one');
  // nobody reads the masks of the next passes: they are drawn into one array (peeked at without the getter)
  net.forward(x);
  const inner = () => (layer as unknown as { mask: Float32Array }).mask;
  const first = inner();
  const firstValues = Float32Array.from(first);
  net.forward(x);
  assert.equal(inner(), first, 'the unread mask array is reused');
  assert.notDeepEqual(Array.from(first), Array.from(firstValues), 'with a new draw');
});

test('Dropout layer: no gradient through dropped neurons; identity in inference mode, predict and evaluate', () => {
  const net = dropNet(0.5);
  const x = tensor([new Array(1000).fill(2)], { requiresGrad: true });
  sum(net.forward(x)).backward();
  const mask = (net.layers[0] as Dropout).lastMask!;
  for (let i = 0; i < 1000; i++) assert.equal(x.grad!.data[i], mask[i] * 2);
  net.eval();
  assert.deepEqual(Array.from(net.forward(tensor([new Array(1000).fill(2)])).data), new Array(1000).fill(2));
  assert.equal((net.layers[0] as Dropout).lastMask, null);
  net.train();
  const model = new Model(new Sequential([
    new Dropout({ keepProb: 0.5 }), new Dense({ units: 1, name: 'd', kernelInitializer: 'ones' }),
  ], { inputShape: [4] }), { loss: 'sse', optimizer: new SGD({ learningRate: 0.1 }) });
  const xi = tensor([[1, 2, 3, 4]]);
  for (let k = 0; k < 3; k++) assert.equal(model.predict(xi).item(), 10);
  assert.equal(model.evaluate(xi, tensor([[10]])).loss, 0);
  assert.equal(model.net.training, true, 'predict/evaluate restore training mode');
});

test('Dropout with ρ = 1 (or rate 0) is the identity; TF.js rate = 1 − ρ is accepted', () => {
  const net = dropNet(1);
  const x = randT([2, 1000], 1);
  assert.deepEqual(Array.from(net.forward(x).data), Array.from(x.data));
  assert.equal(new Dropout({ rate: 0.2 }).keepProb, 0.8);
  assert.equal(new Dropout({ rate: 0 }).keepProb, 1);
  const spec = parseSpec({ input: [4], layers: [{ type: 'dropout', rate: 0.5 }, { type: 'dense', units: 2 }], loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 } });
  const built = buildNetwork(spec);
  assert.equal((built.layers[0] as Dropout).keepProb, 0.5);
  assert.deepEqual(built.layers[0].config(), { type: 'dropout', name: 'dropout_1', keepProb: 0.5 });
});

test('Dropout: ρ outside (0, 1] and other bad options are ConfigErrors naming the layer', () => {
  const bad = (opts: object, re: RegExp) => assert.throws(() => new Dropout(opts), (e: unknown) => e instanceof ConfigError && re.test(e.message));
  bad({ keepProb: 0 }, /dropout\.keepProb: the keep probability ρ must be in \(0, 1\], received 0/);
  bad({ keepProb: 1.5 }, /ρ must be in \(0, 1\], received 1\.5/);
  bad({ keepProb: -0.2 }, /ρ must be in \(0, 1\], received -0\.2/);
  bad({ keepProb: Number.NaN }, /ρ must be in \(0, 1\], received null/);
  bad({ keepProb: '0.5', name: 'drop_in' }, /drop_in\.keepProb: the keep probability ρ must be in \(0, 1\], received "0\.5"/);
  bad({ rate: 1 }, /rate \(the drop probability, 1 − ρ\) must be in \[0, 1\) so that the keep probability ρ is in \(0, 1\], received 1/);
  bad({ rate: -0.1 }, /rate .* received -0\.1/);
  bad({ keepProb: 0.5, rate: 0.5 }, /give either keepProb \(ρ\) or rate \(= 1 − ρ\), not both/);
  bad({}, /needs keepProb \(ρ/);
  assert.throws(() => dropoutWithMask(tensor([1, 2]), Float32Array.from([1]), 0.5), (e: unknown) => e instanceof ShapeError && /mask has 1 elements but the input \[2\] has 2/.test(e.message));
  assert.throws(() => sampleDropMask(3, 2, new Rng(1)), (e: unknown) => e instanceof ConfigError && /sampleDropMask: the keep probability ρ must be in \(0, 1\], received 2/.test(e.message));
  assert.throws(
    () => buildNetwork(parseSpec({ input: [2], layers: [{ type: 'dropout', keepProb: 0 }], loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 } })),
    (e: unknown) => e instanceof ConfigError && /layers\[0\] \(dropout\)\.keepProb: the keep probability ρ must be in \(0, 1\], received 0/.test(e.message),
  );
});

test('training with dropout is deterministic for a seed and still fits', () => {
  const run = () => {
    const net = new Sequential([
      new Dense({ units: 16, activation: 'relu', name: 'h' }), new Dropout({ keepProb: 0.8 }),
      new Dense({ units: 1, name: 'o' }),
    ], { inputShape: [2], seed: 3 });
    const model = new Model(net, { loss: 'mse', optimizer: new SGD({ learningRate: 0.05 }), seed: 2 });
    const xs = randT([64, 2], 9);
    const ys = tensor(Array.from({ length: 64 }, (_, i) => [xs.data[2 * i] - xs.data[2 * i + 1]]));
    const h = model.fit(xs, ys, { epochs: 60, batchSize: 8 });
    return { h, w: net.getWeights().o.weight.toFlatArray(), final: model.evaluate(xs, ys).loss };
  };
  const a = run();
  const b = run();
  assert.deepEqual(a.w, b.w);
  assert.ok(a.final < 0.5 * a.h.epochs[0].loss, `loss ${a.h.epochs[0].loss} → ${a.final}`);
  assertClose([a.final], [b.final], 0);
});
