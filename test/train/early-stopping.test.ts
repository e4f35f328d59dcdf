import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Adam, ConfigError, Dense, EarlyStopping, Model, Rng, SGD, Sequential, describeTraining, tensor } from '../../src/index.js';
import type { Callback, EpochLog, TrainingControl, WeightMap } from '../../src/index.js';

/** Few noisy training points, many clean validation points: a big network overfits. */
function overfitting() {
  const rng = new Rng(3);
  const make = (n: number, noise: number) => {
    const xs: number[][] = [];
    const ys: number[][] = [];
    for (let i = 0; i < n; i++) {
      const v = rng.uniform(-1, 1);
      xs.push([v]);
      ys.push([Math.sin(3 * v) + noise * rng.normal()]);
    }
    return [tensor(xs), tensor(ys)] as const;
  };
  const [xt, yt] = make(12, 0.3);
  const [xv, yv] = make(50, 0);
  const net = new Sequential([
    new Dense({ units: 32, activation: 'tanh', name: 'h1' }),
    new Dense({ units: 32, activation: 'tanh', name: 'h2' }),
    new Dense({ units: 1, name: 'o' }),
  ], { inputShape: [1], seed: 1 });
  const model = new Model(net, { loss: 'mse', optimizer: new Adam({ learningRate: 0.01 }) });
  return { model, xt, yt, xv, yv };
}

const flat = (w: WeightMap) => Object.entries(w).flatMap(([l, ps]) => Object.entries(ps).flatMap(([p, t]) => [`${l}.${p}`, ...t.toFlatArray()]));

test('early stopping on an overfitting network stops after p epochs without improvement and restores the best epoch\'s weights', () => {
  const { model, xt, yt, xv, yv } = overfitting();
  const snapshots = new Map<number, WeightMap>();
  const capture: Callback = { onEpochEnd: (log) => { snapshots.set(log.epoch, model.net.getWeights()); } };
  const es = new EarlyStopping({ patience: 20 });
  const h = model.fit(xt, yt, { epochs: 1000, batchSize: 12, validationData: [xv, yv], callbacks: [capture, es] });
  assert.equal(h.stopped, 'earlyStopping');
  const val = h.epochs.map((e) => e.valLoss as number);
  // the best epoch is the last one with the lowest validation loss (ties count as improvements)
  const min = Math.min(...val);
  const best = val.lastIndexOf(min) + 1;
  assert.equal(es.bestEpoch, best);
  assert.equal(es.best, min);
  assert.ok(best > 20 && best < h.epochs.length, `best epoch ${best} of ${h.epochs.length}`);
  // the summary line names the restored epoch and its losses, not the last epoch's
  assert.equal(h.restoredEpoch, best);
  const b = h.epochs[best - 1];
  assert.equal(describeTraining(h),
    `stopped: earlyStopping after ${h.epochs.length} epochs (${h.updates} updates); restored the weights of epoch ${best}: loss ${b.loss.toPrecision(6)}, val_loss ${b.valLoss!.toPrecision(6)}`);
  // it overfitted: validation loss rose after the best epoch while training went on
  assert.ok(val[val.length - 1] > min * 1.05);
  assert.equal(es.stoppedEpoch, best + 20);
  assert.equal(h.epochs.length, best + 20);
  // the weights now are exactly those captured at the best epoch (not the last)
  assert.deepEqual(flat(model.net.getWeights()), flat(snapshots.get(best)!));
  assert.notDeepEqual(flat(model.net.getWeights()), flat(snapshots.get(h.epochs.length)!));
  assert.equal(model.evaluate(xv, yv).loss, min);
  assert.equal(h.epochs[h.epochs.length - 1].bestEpoch, best);
});

test('early stopping works with a validation split', () => {
  const { model, xt, yt, xv, yv } = overfitting();
  const x = tensor([...(xt.toArray() as number[][]), ...(xv.toArray() as number[][])]);
  const y = tensor([...(yt.toArray() as number[][]), ...(yv.toArray() as number[][])]);
  const es = new EarlyStopping({ patience: 5 });
  const h = model.fit(x, y, { epochs: 300, batchSize: 16, validationSplit: 0.5, callbacks: [es] });
  assert.ok(h.epochs.every((e) => typeof e.valLoss === 'number'));
  assert.equal(model.evaluate(tensor(x.toFlatArray().slice(31), { shape: [31, 1] }), tensor(y.toFlatArray().slice(31), { shape: [31, 1] })).loss, es.best);
});

/** Feeds a scripted sequence of validation losses to an EarlyStopping callback (Algorithm 1 step by step). */
function script(es: EarlyStopping, values: number[]): { stoppedAt: number | null; bestEpochs: (number | null)[] } {
  const net = new Sequential([new Dense({ units: 1, name: 'o' })], { inputShape: [1] });
  const model = new Model(net, { loss: 'mse', optimizer: new SGD({ learningRate: 0.1 }) });
  let stopped: number | null = null;
  let epoch = 0;
  const control: TrainingControl = { stop: () => { stopped ??= epoch; }, model, epochs: values.length, batchesPerEpoch: 1, samples: 1 };
  es.onTrainBegin(control);
  const bestEpochs: (number | null)[] = [];
  for (const v of values) {
    epoch++;
    // the weights of epoch k are all k, so restoring shows which epoch was kept
    net.setWeights({ o: { weight: [[epoch]], bias: [epoch] } });
    const log: EpochLog = { epoch, loss: 1, seconds: 0, valLoss: v };
    es.onEpochEnd(log, control);
    bestEpochs.push(es.bestEpoch);
    if (stopped !== null) break;
  }
  es.onTrainEnd(model.history);
  assert.equal(net.getWeights().o.weight.item(), es.bestEpoch ?? epoch, 'restored weights are the best epoch\'s');
  return { stoppedAt: stopped, bestEpochs };
}

test('Algorithm 1: a loss ≤ the best resets the patience count; p non-improving epochs in a row stop training', () => {
  // 5, 4, 4 (tie: improvement), 6, 7 → stops at epoch 5 with p = 2
  const r = script(new EarlyStopping({ patience: 2 }), [5, 4, 4, 6, 7, 3]);
  assert.equal(r.stoppedAt, 5);
  assert.deepEqual(r.bestEpochs, [1, 2, 3, 3, 3]);
  // a new best resets the count
  assert.equal(script(new EarlyStopping({ patience: 2 }), [5, 6, 4, 6, 3, 9, 9]).stoppedAt, 7);
  // p = 0 stops at the first epoch that does not improve
  assert.equal(script(new EarlyStopping({ patience: 0 }), [3, 2, 2, 2.5]).stoppedAt, 4);
  // never stops while improving; restores the last (best) epoch at the end
  assert.equal(script(new EarlyStopping({ patience: 1 }), [5, 4, 3, 2]).stoppedAt, null);
});

test('minDelta, startEpoch, accuracy monitors and restoreBestWeights: false', () => {
  // with minDelta 0.5 a drop from 4 to 3.8 is not an improvement
  const r = script(new EarlyStopping({ patience: 2, minDelta: 0.5 }), [5, 4, 3.8, 3.7, 1]);
  assert.equal(r.stoppedAt, 4);
  assert.deepEqual(r.bestEpochs, [1, 2, 2, 2]);
  // epochs before startEpoch are a warm-up: neither best nor counted
  const w = script(new EarlyStopping({ patience: 1, startEpoch: 3 }), [1, 1, 5, 4, 6]);
  assert.deepEqual(w.bestEpochs, [null, null, 3, 4, 4]);
  assert.equal(w.stoppedAt, 5);
  // accuracies are maximised
  const acc = new EarlyStopping({ patience: 1, monitor: 'valAccuracy' });
  const net = new Sequential([new Dense({ units: 1, name: 'o' })], { inputShape: [1] });
  const model = new Model(net, { loss: 'mse', optimizer: new SGD({ learningRate: 0.1 }) });
  let stopped = false;
  const control: TrainingControl = { stop: () => { stopped = true; }, model, epochs: 3, batchesPerEpoch: 1, samples: 1 };
  acc.onTrainBegin(control);
  for (const [i, a] of [0.5, 0.7, 0.6].entries()) acc.onEpochEnd({ epoch: i + 1, loss: 1, seconds: 0, valAccuracy: a }, control);
  assert.equal(acc.bestEpoch, 2);
  assert.equal(acc.best, 0.7);
  assert.ok(stopped);
  // without restoring, the last weights stay
  const keep = new EarlyStopping({ patience: 1, restoreBestWeights: false });
  const before = net.getWeights().o.weight.item();
  keep.onTrainBegin(control);
  keep.onEpochEnd({ epoch: 1, loss: 1, seconds: 0, valLoss: 1 }, control);
  net.setWeights({ o: { weight: [[before + 1]] } });
  keep.onEpochEnd({ epoch: 2, loss: 1, seconds: 0, valLoss: 2 }, control);
  keep.onTrainEnd(model.history);
  assert.equal(net.getWeights().o.weight.item(), Math.fround(before + 1));
});

test('early stopping: patience < 0 and other bad options are ConfigErrors; monitoring a missing validation loss says how to fix it', () => {
  const bad = (opts: unknown, re: RegExp) => assert.throws(() => new EarlyStopping(opts as { patience: number }), (e: unknown) => e instanceof ConfigError && re.test(e.message));
  bad({ patience: -1 }, /earlyStopping\.patience must be an integer ≥ 0, received -1/);
  bad({ patience: 2.5 }, /earlyStopping\.patience must be an integer ≥ 0, received 2\.5/);
  bad({}, /earlyStopping\.patience must be an integer ≥ 0, received nothing/);
  bad(undefined, /earlyStopping must be an object, received nothing/);
  bad({ patience: 1, restoreBest: true }, /earlyStopping\.restoreBest: unknown key; did you mean "restoreBestWeights"\?/);
  bad({ patience: 1, minDelta: -0.1 }, /earlyStopping\.minDelta must be a number ≥ 0, received -0\.1/);
  bad({ patience: 1, startEpoch: 0 }, /earlyStopping\.startEpoch must be an integer ≥ 1, received 0/);
  bad({ patience: 1, monitor: 'val_loss' }, /earlyStopping\.monitor must be one of valLoss, loss, valAccuracy, accuracy, received "val_loss"; did you mean "valLoss"\?/);
  const { model, xt, yt } = overfitting();
  assert.throws(() => model.fit(xt, yt, { epochs: 3, callbacks: [new EarlyStopping({ patience: 1 })] }),
    (e: unknown) => e instanceof ConfigError && /earlyStopping monitors "valLoss", which epoch 1 did not report \(give fit\(\) validationData or a validationSplit\)/.test(e.message));
  // monitoring the training loss needs no validation data
  const h = model.fit(xt, yt, { epochs: 3, callbacks: [new EarlyStopping({ patience: 1, monitor: 'loss' })] });
  assert.equal(h.epochs.length, 4, 'history continues across fit() calls (1 failed epoch + 3)');
});
