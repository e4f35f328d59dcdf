// Training in a worker (worker_threads here; a Web Worker in the browser test): epochs and weights
// stream back, the result equals training on this thread, an abort stops between batches, and a
// failure in the worker becomes a rejection with the same error name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { Rng, buildModel, fitOptionsFromSpec, parseSpec, tensor, trainInWorker } from '../../src/index.js';
import type { EpochLog, ModelSpec, TrainJob } from '../../src/index.js';

const SPEC: ModelSpec = parseSpec({
  input: [2],
  layers: [{ type: 'dense', units: 8, activation: 'tanh' }, { type: 'dense', units: 2, activation: 'softmax' }],
  loss: 'crossEntropy', optimizer: { type: 'sgd', learningRate: 0.2 },
  train: { epochs: 6, batchSize: 10, seed: 3 },
});

function job(spec = SPEC): TrainJob {
  const rng = new Rng(8);
  const n = 60;
  const x = new Float32Array(2 * n);
  const y = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = rng.uniform(-1, 1);
    x[2 * i + 1] = rng.uniform(-1, 1);
    y[2 * i + (x[2 * i] > x[2 * i + 1] ? 0 : 1)] = 1;
  }
  return { spec, x: { data: x, shape: [n, 2] }, y: { data: y, shape: [n, 2] } };
}

function withWorker<T>(fn: (w: Worker) => Promise<T>): Promise<T> {
  const w = new Worker(new URL('../helpers/training-worker.js', import.meta.url));
  return fn(w).finally(() => w.terminate());
}

test('trainInWorker streams every epoch and ends with the weights of training on this thread', async () => {
  const j = job();
  const logs: EpochLog[] = [];
  const r = await withWorker((w) => trainInWorker(w, j, { onEpoch: (log, weights) => {
    logs.push(log);
    assert.ok(weights.dense_1?.weight instanceof Float32Array || Object.keys(weights).length === 2);
  } }));
  assert.equal(logs.length, 6);
  assert.equal(r.history.epochs.length, 6);
  assert.equal(r.history.stopped, 'maxEpochs');
  const local = buildModel(SPEC);
  local.fit(tensor(j.x.data, { shape: j.x.shape }), tensor(j.y.data, { shape: j.y.shape }), fitOptionsFromSpec(SPEC));
  const mine = local.net.getWeights();
  for (const [layer, params] of Object.entries(mine)) {
    for (const [name, t] of Object.entries(params)) assert.deepEqual(r.weights[layer][name], t.data, `${layer}.${name}`);
  }
  assert.deepEqual(r.history.epochs.map((e) => e.loss), local.history.epochs.map((e) => e.loss));
});

test('an AbortSignal stops the worker between batches; the result says so', async () => {
  const spec = parseSpec({ ...SPEC, train: { epochs: 100000, batchSize: 1, seed: 3 } });
  const stop = new AbortController();
  const r = await withWorker((w) => trainInWorker(w, job(spec), {
    signal: stop.signal,
    onEpoch: (log) => { if (log.epoch === 2) stop.abort(); },
  }));
  assert.equal(r.history.stopped, 'aborted');
  assert.ok(r.history.updates >= 120 && r.history.updates < 100000 * 60, `updates ${r.history.updates}`);
});

test('a job the worker cannot run rejects with the error it raised', async () => {
  const bad = { ...job(), spec: { ...SPEC, layers: [{ type: 'dense', units: 0 }] } as ModelSpec };
  await withWorker((w) => assert.rejects(trainInWorker(w, bad), (e: unknown) =>
    e instanceof Error && e.name === 'ConfigError' && /units/.test(e.message)));
});
