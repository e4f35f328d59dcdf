// fit(source, opts): training on data made batch by batch (a BatchSource) is the training on the
// same data given whole; bad sources and options that need the whole data are typed errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, Dense, LSTM, Model, SGD, Sequential, ShapeError, Tensor, gatherRows } from '../../src/index.js';
import type { BatchSource } from '../../src/index.js';
import { randT } from '../helpers/gradcheck.js';

function classifier(): Model {
  const net = new Sequential([new Dense({ units: 4, activation: 'tanh' }), new Dense({ units: 3, activation: 'softmax' })], { inputShape: [2], seed: 3 });
  return new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.3 }), seed: 5 });
}

/** 10 rows of 2 inputs and one-hot targets of 3 classes. */
function data(): { x: Tensor; y: Tensor } {
  const x = randT([10, 2], 1);
  const y = new Float32Array(30);
  for (let i = 0; i < 10; i++) y[i * 3 + (i % 3)] = 1;
  return { x, y: new Tensor(y, [10, 3]) };
}

/** The rows of x and y fit asks for, as a source; `asked` records them. */
function sourceOf(x: Tensor, y: Tensor, asked: number[][] = []): BatchSource {
  return {
    size: x.shape[0],
    batch: (rows) => {
      asked.push([...rows]);
      return { x: gatherRows(x, rows, 0, rows.length), y: gatherRows(y, rows, 0, rows.length) };
    },
  };
}

const weights = (m: Model): number[] => m.net.parameters().flatMap((p) => [...p.data]);

test('fit on a BatchSource trains exactly as fit on the same data given whole (shuffled or not)', () => {
  const { x, y } = data();
  for (const shuffle of [true, false]) {
    const whole = classifier();
    const hw = whole.fit(x, y, { epochs: 3, batchSize: 4, shuffle });
    const lazy = classifier();
    const asked: number[][] = [];
    const hl = lazy.fit(sourceOf(x, y, asked), { epochs: 3, batchSize: 4, shuffle });
    assert.deepEqual(weights(lazy), weights(whole), `shuffle ${shuffle}: bit-identical weights`);
    assert.deepEqual(hl.epochs.map((e) => [e.loss, e.accuracy]), hw.epochs.map((e) => [e.loss, e.accuracy]));
    assert.equal(hl.updates, 9);
    // batches of 4, 4 and 2 rows; every row once per epoch
    assert.deepEqual(asked.map((r) => r.length), [4, 4, 2, 4, 4, 2, 4, 4, 2]);
    for (let e = 0; e < 3; e++) assert.deepEqual(asked.slice(3 * e, 3 * e + 3).flat().sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    if (!shuffle) assert.deepEqual(asked[0], [0, 1, 2, 3]);
  }
});

test('fitAsync on a BatchSource with validationData gives fit\'s result', async () => {
  const { x, y } = data();
  const v = data();
  const a = classifier();
  const ha = await a.fitAsync(sourceOf(x, y), { epochs: 2, batchSize: 3, validationData: [v.x, v.y] });
  const b = classifier();
  const hb = b.fit(x, y, { epochs: 2, batchSize: 3, validationData: [v.x, v.y] });
  assert.deepEqual(weights(a), weights(b));
  assert.deepEqual(ha.epochs.map((e) => e.valLoss), hb.epochs.map((e) => e.valLoss));
});

test('a source that reuses its buffers (one-hot sequences built per batch) trains an LSTM as the data given whole', () => {
  // sequence j: symbols (j + t) mod 5, one-hot, targets the next symbol
  const [N, T, V] = [6, 4, 5];
  const oneHot = (rows: ArrayLike<number>, shift: number, out: Float32Array): Float32Array => {
    out.fill(0);
    for (let i = 0; i < rows.length; i++) for (let t = 0; t < T; t++) out[(i * T + t) * V + (rows[i] + t + shift) % V] = 1;
    return out;
  };
  const all = Array.from({ length: N }, (_, j) => j);
  const build = () => new Model(new Sequential([new LSTM({ units: 3, returnSequences: true }), new Dense({ units: V, activation: 'softmax' })],
    { inputShape: [T, V], seed: 2 }), { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.5 }), seed: 4 });
  const whole = build();
  whole.fit(new Tensor(oneHot(all, 0, new Float32Array(N * T * V)), [N, T, V]), new Tensor(oneHot(all, 1, new Float32Array(N * T * V)), [N, T, V]),
    { epochs: 2, batchSize: 4 });
  const bufs = new Map<number, [Float32Array, Float32Array]>();
  const lazy = build();
  lazy.fit({
    size: N,
    batch: (rows) => {
      const n = rows.length;
      if (!bufs.has(n)) bufs.set(n, [new Float32Array(n * T * V), new Float32Array(n * T * V)]);
      const [bx, by] = bufs.get(n)!;
      return { x: new Tensor(oneHot(rows, 0, bx), [n, T, V]), y: new Tensor(oneHot(rows, 1, by), [n, T, V]) };
    },
  }, { epochs: 2, batchSize: 4 });
  assert.deepEqual(weights(lazy), weights(whole));
});

test('a bad source, a batch of the wrong size and options that need the whole data are typed errors', () => {
  const { x, y } = data();
  const fails = (src: BatchSource, opts: object, type: typeof ConfigError | typeof ShapeError, re: RegExp) =>
    assert.throws(() => classifier().fit(src, { epochs: 1, batchSize: 4, ...opts }), (e: unknown) => e instanceof type && re.test(e.message), re.source);
  fails({ size: 0, batch: sourceOf(x, y).batch }, {}, ConfigError, /fit: a BatchSource's size must be a positive integer, received 0/);
  fails({ size: 2.5, batch: sourceOf(x, y).batch }, {}, ConfigError, /size must be a positive integer, received 2\.5/);
  fails({ size: 10, batch: () => null as unknown as { x: Tensor; y: Tensor } }, {}, ConfigError, /BatchSource\.batch must return \{x, y\}, received null/);
  fails({ size: 10, batch: () => ({ x, y }) }, {}, ShapeError, /fit: BatchSource\.batch was asked for 4 rows, but its x has shape \[10, 2\]/);
  fails({ size: 10, batch: (r) => ({ x: gatherRows(x, r, 0, r.length), y: [1, 2] as unknown as Tensor }) }, {}, ShapeError, /its y has a value that is not a Tensor/);
  fails(sourceOf(x, y), { validationSplit: 0.2 }, ConfigError, /fit\.validationSplit needs the whole training data; with a BatchSource, give validationData instead/);
  fails(sourceOf(x, y), { stopWhen: { loss: 0.1 } }, ConfigError, /fit\.stopWhen needs the whole training data/);
  // the targets of each batch are checked against the network as fit checks whole data
  fails({ size: 10, batch: (r) => ({ x: gatherRows(x, r, 0, r.length), y: gatherRows(x, r, 0, r.length) }) }, {}, ShapeError, /produces \[\*, 3\], but the targets are \[4, 2\]/);
});
