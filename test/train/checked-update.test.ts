// The update of a training step (checkedUpdate, fit's): without clipping, the gradient norm and
// the NaN/Inf check are the optimiser step's by-products (no separate pass over the gradients);
// with clipping, the separate norm as before; a non-finite gradient with a finite loss is the
// same NumericError as a non-finite loss, the gradients cleared and no optimiser state spoilt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Adam, Dense, Model, NumericError, SGD, Sequential, checkedUpdate, getBackend, tensor } from '../../src/index.js';
import type { Backend, Optimizer } from '../../src/index.js';
import { randT } from '../helpers/gradcheck.js';

/** Runs `f` counting the backend's sumSquares calls. */
function countingNorms(f: () => void): number {
  const be = getBackend() as Backend;
  const original = be.sumSquares;
  let calls = 0;
  be.sumSquares = (x) => {
    calls++;
    return original.call(be, x);
  };
  try {
    f();
  } finally {
    be.sumSquares = original;
  }
  return calls;
}

function model(optimizer: Optimizer = new SGD({ learningRate: 0.1 })): Model {
  const net = new Sequential([new Dense({ units: 4, activation: 'relu', name: 'h' }), new Dense({ units: 1, name: 'o' })], { inputShape: [3], seed: 2 });
  return new Model(net, { loss: 'mse', optimizer });
}

test('fit without clipping takes no separate gradient-norm pass, yet records the norm; with clipping it does', () => {
  const x = randT([8, 3], 1);
  const y = randT([8, 1], 2);
  // the norm of the first update, by hand from the gradients of the same loss
  const m0 = model();
  const { loss } = m0.lossOf(x, y);
  loss.backward();
  const byHand = Math.sqrt(m0.net.parameters().reduce((s, p) => s + getBackend().sumSquares(p.grad!.data), 0));
  const m = model();
  assert.equal(countingNorms(() => m.fit(x, y, { epochs: 1, batchSize: 8, shuffle: false })), 0);
  assert.ok(Math.abs(m.history.epochs[0].gradNorm! - byHand) <= 1e-6 * byHand, `${m.history.epochs[0].gradNorm} vs ${byHand}`);
  const clipped = model();
  assert.ok(countingNorms(() => clipped.fit(x, y, { epochs: 1, batchSize: 8, shuffle: false, clipNorm: 100 })) > 0);
  assert.ok(Math.abs(clipped.history.epochs[0].gradNorm! - byHand) <= 1e-6 * byHand);
});

test('a NaN gradient under a finite loss: NumericError naming the layer, gradients cleared, Adam state finite', () => {
  const m = model(new Adam({ learningRate: 0.01 }));
  const params = m.net.namedParameters();
  const grads = () => params.forEach(([, p]) => { p.grad = tensor(Array.from(p.data, () => 0.5), { shape: p.shape }); });
  grads();
  checkedUpdate(params, 1, {}, m.optimizer, () => null, 'restored');
  const state = m.optimizer.getState();
  grads();
  params[2][1].grad!.data[0] = Number.NaN; // o.weight
  assert.throws(() => checkedUpdate(params, 1.5, {}, m.optimizer, () => null, 'restored'),
    (e: unknown) => e instanceof NumericError && /training produced a non-finite value \(loss 1\.5\) first in layer o; the weights were restored/.test(e.message));
  assert.ok(params.every(([, p]) => p.grad === null), 'the gradients are cleared');
  const after = m.optimizer.getState();
  for (const [name, st] of Object.entries(after.params)) {
    for (const [k, v] of Object.entries(st)) assert.ok(v.every(Number.isFinite), `${name}.${k} stays finite`);
  }
  // the parameter with the NaN (and those after it) kept their state
  assert.deepEqual(after.params['o.weight'], state.params['o.weight']);
  assert.deepEqual(after.params['o.bias'], state.params['o.bias']);
  // a non-finite loss throws before any update
  grads();
  const w = params.map(([, p]) => p.data.slice());
  assert.throws(() => checkedUpdate(params, Number.POSITIVE_INFINITY, {}, m.optimizer, () => 'h', 'unchanged'),
    (e: unknown) => e instanceof NumericError && /\(loss Infinity\) first in layer h; the weights were left as before this update/.test(e.message));
  params.forEach(([, p], i) => assert.deepEqual(p.data, w[i]));
});
