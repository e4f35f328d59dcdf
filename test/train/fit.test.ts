// fit(): validation split, callback hooks, gradient clipping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, Dense, Model, SGD, Sequential, splitForValidation, tensor } from '../../src/index.js';
import type { Callback, TrainingControl } from '../../src/index.js';
import { assertClose, randT } from '../helpers/gradcheck.js';

function linearModel(lr = 1): Model {
  const net = new Sequential([new Dense({ units: 1, name: 'o', kernelInitializer: 'zeros' })], { inputShape: [2] });
  return new Model(net, { loss: 'sse', optimizer: new SGD({ learningRate: lr }) });
}
const weightsOf = (m: Model) => [...m.net.getWeights().o.weight.toFlatArray(), ...m.net.getWeights().o.bias.toFlatArray()];

test('validationSplit holds out the LAST rows (before shuffling) and validates on them', () => {
  const x = randT([10, 2], 1);
  const y = randT([10, 1], 2);
  const model = linearModel(0.01);
  let samples = -1;
  const seen: number[] = [];
  const cb: Callback = {
    onTrainBegin: (c) => { samples = c.samples; },
    onEpochEnd: (log) => { seen.push(log.valLoss as number); },
  };
  const h = model.fit(x, y, { epochs: 2, batchSize: 3, validationSplit: 0.3, callbacks: [cb] });
  assert.equal(samples, 7);
  // the validation loss reported is that of rows 7..9 with the epoch's final weights
  const xv = tensor(Array.from(x.data.subarray(14)), { shape: [3, 2] });
  const yv = tensor(Array.from(y.data.subarray(7)), { shape: [3, 1] });
  assertClose([h.epochs[1].valLoss as number], [model.evaluate(xv, yv).loss], 1e-7, 'valLoss');
  assert.equal(seen.length, 2);
  // Keras's rounding: ⌊10 × 0.75⌋ = 7 rows train, 3 validate
  const [xt, yt, [xs, ys]] = splitForValidation(x, y, 0.25);
  assert.deepEqual([xt.shape, yt.shape, xs.shape, ys.shape], [[7, 2], [7, 1], [3, 2], [3, 1]]);
  assert.deepEqual(splitForValidation(x, y, 0.2)[2][0].shape, [2, 2]);
});

test('a validation split outside (0, 1) or leaving an empty set is a ConfigError', () => {
  const x = randT([3, 2], 1);
  const y = randT([3, 1], 2);
  const bad = (opts: object, re: RegExp) => assert.throws(() => linearModel().fit(x, y, { epochs: 1, ...opts }), (e: unknown) => e instanceof ConfigError && re.test(e.message));
  bad({ validationSplit: 0 }, /fit: validationSplit must be a fraction in \(0, 1\), received 0/);
  bad({ validationSplit: 1 }, /validationSplit must be a fraction in \(0, 1\), received 1/);
  bad({ validationSplit: -0.2 }, /validationSplit must be a fraction in \(0, 1\), received -0\.2/);
  bad({ validationSplit: 1.5 }, /received 1\.5/);
  bad({ validationSplit: '0.2' }, /received "0\.2"/);
  bad({ validationSplit: 0.9 }, /validationSplit 0\.9 of 3 rows leaves 0 for training and 3 for validation; both sets need at least one row/);
  assert.throws(() => linearModel().fit(randT([1, 2], 1), randT([1, 1], 1), { epochs: 1, validationSplit: 0.5 }),
    (e: unknown) => e instanceof ConfigError && /of 1 rows leaves 0 for training and 1 for validation/.test(e.message));
  bad({ validationSplit: 0.3, validationData: [x, y] }, /give either validationData or validationSplit, not both/);
});

test('callbacks: hooks run in order with the training plan, and can stop training after a batch', () => {
  const calls: string[] = [];
  let control: TrainingControl | null = null;
  const model = linearModel(0.01);
  const cb: Callback = {
    onTrainBegin: (c) => { control = c; calls.push(`train ${c.epochs} ${c.batchesPerEpoch} ${c.samples}`); },
    onEpochBegin: (e) => calls.push(`epoch ${e}`),
    onBatchBegin: (b) => calls.push(`b${b}`),
    onBatchEnd: (b, _l, c) => { calls.push(`e${b}`); if (calls.length > 9) c.stop(); },
    onEpochEnd: (log) => calls.push(`end ${log.epoch}`),
    onTrainEnd: (h) => calls.push(`done ${h.stopped}`),
  };
  model.fit(randT([5, 2], 1), randT([5, 1], 2), { epochs: 4, batchSize: 2, shuffle: false, callbacks: [cb] });
  assert.equal(control!.model, model);
  assert.deepEqual(calls, ['train 4 3 5', 'epoch 1', 'b0', 'e0', 'b1', 'e1', 'b2', 'e2', 'end 1', 'epoch 2', 'b0', 'e0', 'end 2', 'done callback']);
});

test('gradient clipping by value clips every element; by global norm rescales all gradients', () => {
  // one example x = (1, 2), target 10, weights 0: ∂E/∂w = −(t − a)·x = (−10, −20), ∂E/∂b = −10; norm 10·√6
  const x = tensor([[1, 2]]);
  const y = tensor([[10]]);
  const step = (opts: object) => {
    const m = linearModel(1);
    m.fit(x, y, { epochs: 1, batchSize: 1, shuffle: false, ...opts });
    return { w: weightsOf(m), norm: m.history.epochs[0].gradNorm as number };
  };
  assertClose(step({}).w, [10, 20, 10], 1e-5, 'no clipping');
  assertClose(step({ clipValue: 3 }).w, [3, 3, 3], 1e-6, 'clipValue');
  const n = 10 * Math.sqrt(6);
  const r = step({ clipNorm: 1 });
  assertClose(r.w, [10 / n, 20 / n, 10 / n], 1e-6, 'clipNorm');
  assertClose([r.norm], [n], 1e-4, 'the history records the norm before clipping');
  assertClose(step({ clipNorm: 100 }).w, [10, 20, 10], 1e-5, 'norm below the limit is untouched');
  // both: value first, then the global norm of the clipped gradient (3, 3, 3) → norm 3√3
  const c = 3 * Math.sqrt(3);
  assertClose(step({ clipValue: 3, clipNorm: 1 }).w, [3 / c, 3 / c, 3 / c], 1e-6, 'both');
  assert.throws(() => step({ clipNorm: 0 }), (e: unknown) => e instanceof ConfigError && /fit\.clipNorm must be a number > 0, received 0/.test(e.message));
  assert.throws(() => step({ clipValue: -1 }), (e: unknown) => e instanceof ConfigError && /fit\.clipValue must be a number > 0, received -1/.test(e.message));
});
