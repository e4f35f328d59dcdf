// fitAsync: the same computation as fit (bit-identical weights), turns of the event loop between
// batches, progress after every batch, and a stop on an AbortSignal that keeps the weights of the
// last completed batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, Dense, Dropout, Model, Rng, SGD, Sequential, tensor } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

function data(): [Tensor, Tensor] {
  const rng = new Rng(4);
  const xs: number[][] = [];
  const ys: number[][] = [];
  for (let i = 0; i < 50; i++) {
    const a = rng.uniform(-1, 1);
    const b = rng.uniform(-1, 1);
    xs.push([a, b, a * b]);
    ys.push(a * b > 0 ? [1, 0] : [0, 1]);
  }
  return [tensor(xs), tensor(ys)];
}

/** A classifier with dropout (so the seeded generators matter) and shuffled batches of 8 (7 per epoch). */
function model(): Model {
  const net = new Sequential([
    new Dense({ units: 6, activation: 'tanh' }), new Dropout({ keepProb: 0.8 }),
    new Dense({ units: 2, activation: 'softmax' }),
  ], { inputShape: [3], seed: 9 });
  return new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.3, momentum: 0.5 }), seed: 2 });
}

function weights(m: Model): Float32Array[] {
  return m.net.namedParameters().map(([, p]) => Float32Array.from(p.data));
}

test('fitAsync gives bit-identical weights and history to fit for the same seed', async () => {
  const [x, y] = data();
  const a = model();
  const ha = a.fit(x, y, { epochs: 4, batchSize: 8 });
  const b = model();
  const hb = await b.fitAsync(x, y, { epochs: 4, batchSize: 8, yieldEveryMs: 0 });
  assert.deepEqual(weights(b), weights(a));
  assert.equal(hb.updates, 28);
  assert.deepEqual(hb.epochs.map((e) => [e.loss, e.accuracy]), ha.epochs.map((e) => [e.loss, e.accuracy]));
  assert.equal(hb.stopped, 'maxEpochs');
});

test('fitAsync lets timers and messages run while it trains, and reports progress after every batch', async () => {
  const [x, y] = data();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  const seen: number[] = [];
  try {
    await model().fitAsync(x, y, {
      epochs: 3, batchSize: 8, yieldEveryMs: 0,
      onProgress: (p) => {
        seen.push(p.fraction);
        assert.equal(p.batches, 7);
        assert.ok(Number.isFinite(p.loss));
      },
    });
  } finally {
    clearInterval(timer);
  }
  assert.ok(ticks >= 2, `the event loop ran timers ${ticks} times during training`);
  assert.equal(seen.length, 21);
  assert.equal(seen[seen.length - 1], 1);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1]);
});

test('an aborted fitAsync keeps the weights of the last completed batch and says so', async () => {
  const [x, y] = data();
  const stop = new AbortController();
  const m = model();
  const h = await m.fitAsync(x, y, {
    epochs: 5, batchSize: 8, signal: stop.signal, yieldEveryMs: 0,
    onProgress: (p) => { if (p.epoch === 2 && p.batch === 3) stop.abort(); },
  });
  assert.equal(h.stopped, 'aborted');
  assert.equal(h.updates, 10);
  assert.equal(h.epochs.length, 1, 'the epoch cut short is not logged');
  // the same 10 updates, synchronously: a callback stops after batch 3 of epoch 2
  const ref = model();
  ref.fit(x, y, {
    epochs: 5, batchSize: 8,
    callbacks: [{ onBatchEnd: (b, _l, c) => { if (ref.history.updates === 10 && b === 2) c.stop(); } }],
  });
  assert.equal(ref.history.updates, 10);
  assert.deepEqual(weights(m), weights(ref));

  // a signal aborted before the start trains nothing
  const fresh = model();
  const before = weights(fresh);
  const h2 = await fresh.fitAsync(x, y, { epochs: 2, signal: AbortSignal.abort() });
  assert.equal(h2.stopped, 'aborted');
  assert.equal(h2.updates, 0);
  assert.deepEqual(weights(fresh), before);
});

test('fitAsync rejects a bad yieldEveryMs with a ConfigError, and fit options as fit does', async () => {
  const [x, y] = data();
  await assert.rejects(model().fitAsync(x, y, { epochs: 1, yieldEveryMs: -1 }),
    (e: unknown) => e instanceof ConfigError && e.message === 'fitAsync: yieldEveryMs must be a number ≥ 0, received -1');
  await assert.rejects(model().fitAsync(x, y, { epochs: 0 }),
    (e: unknown) => e instanceof ConfigError && /^fit\.epochs must be an integer ≥ 1, received 0$/.test(e.message));
});

test('fitAsync waits for a promise returned by onProgress: one update at a time, the same run as fit', async () => {
  const [x, y] = data();
  const a = model();
  a.fit(x, y, { epochs: 2, batchSize: 8 });
  const b = model();
  let resume: (() => void) | null = null;
  const seen: number[] = [];
  const run = b.fitAsync(x, y, {
    epochs: 2, batchSize: 8, yieldEveryMs: 0,
    onProgress: () => new Promise<void>((r) => { seen.push(b.history.updates); resume = r; }),
  });
  for (let k = 1; k <= 14; k++) {
    while (!resume) await new Promise((r) => setTimeout(r, 0));
    assert.equal(b.history.updates, k, 'training waits after every batch');
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(b.history.updates, k, 'and applies no further update while the promise is pending');
    const go: () => void = resume;
    resume = null;
    go();
  }
  await run;
  assert.deepEqual(seen, Array.from({ length: 14 }, (_, i) => i + 1));
  assert.deepEqual(weights(b), weights(a));
});
