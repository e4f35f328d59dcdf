import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dense, Model, ProgressCallback, SGD, Sequential, formatDuration, formatEpochLine } from '../../src/index.js';
import type { ProgressStream } from '../../src/index.js';
import { randT } from '../helpers/gradcheck.js';

function sink(isTTY: boolean): ProgressStream & { out: string } {
  const s = { out: '', isTTY, columns: 80, write(t: string) { s.out += t; return true; } };
  return s;
}

function train(cb: ProgressCallback, epochs = 3) {
  const net = new Sequential([new Dense({ units: 1, name: 'o' })], { inputShape: [2] });
  const model = new Model(net, { loss: 'mse', optimizer: new SGD({ learningRate: 0.01 }) });
  return model.fit(randT([20, 2], 1), randT([20, 1], 2), { epochs, batchSize: 5, validationSplit: 0.2, callbacks: [cb] });
}

test('durations and epoch lines', () => {
  assert.equal(formatDuration(0.4213), '0.42s');
  assert.equal(formatDuration(12.4), '12s');
  assert.equal(formatDuration(185), '3m05s');
  assert.equal(formatDuration(3720), '1h02m');
  assert.equal(
    formatEpochLine({ epoch: 3, loss: 0.25, valLoss: 0.3, valAccuracy: 0.9, seconds: 1.5 }, 10, 10.4),
    'epoch 3/10  loss 0.250000  val_loss 0.300000  val_acc 0.9000  1.50s/epoch  ETA 10s',
  );
});

test('progress on a terminal: a batch bar during each epoch and one line per epoch with loss, validation loss, time and ETA', () => {
  const s = sink(true);
  let t = 0;
  const cb = new ProgressCallback({ stream: s, now: () => (t += 250), intervalMs: 0 });
  assert.equal(cb.active, true);
  train(cb, 3);
  const lines = s.out.split('\n').filter(Boolean);
  assert.equal(lines.length, 3);
  assert.match(s.out, /epoch 1\/3 \[=+ *\] 1\/4  loss /);
  assert.match(lines[0], /\x1b\[2Kepoch 1\/3  loss \d\.\d{6}  val_loss \d\.\d{6}  \d\.\d\ds\/epoch  ETA \d\.\d\ds$/);
  assert.match(lines[2], /epoch 3\/3 .* ETA 0\.00s$/);
});

test('progress without a terminal: no bar and no control codes, one line per epoch', () => {
  const s = sink(false);
  const cb = new ProgressCallback({ stream: s, intervalMs: 0 });
  train(cb, 3);
  const lines = s.out.split('\n').filter(Boolean);
  assert.equal(lines.length, 3);
  assert.doesNotMatch(s.out, /\x1b|\r|\[=/);
  assert.match(lines[0], /^epoch 1\/3  loss \d\.\d{6}  val_loss \d\.\d{6}  /);
});

test('progress is silent with quiet or json', () => {
  for (const [isTTY, opts] of [[false, { quiet: true }], [true, { quiet: true }], [true, { json: true }]] as const) {
    const s = sink(isTTY);
    const cb = new ProgressCallback({ stream: s, ...opts });
    assert.equal(cb.active, false);
    train(cb, 2);
    assert.equal(s.out, '');
  }
});

test('progress counts epochs of this fit() and takes a planned total', () => {
  const s = sink(true);
  const cb = new ProgressCallback({ stream: s, epochs: 5, intervalMs: 1e9 });
  const h = train(cb, 2);
  assert.equal(h.epochs.length, 2);
  assert.match(s.out, /epoch 2\/5  loss/);
});
