// Padding masks are values that flow with the sequence: a network hands each layer's input mask
// to its output, and a layer that would drop it without reading it is an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tensor, Sequential, LSTM, Dense, Masking, Flatten, ConfigError, attachMask, maskOf, applyLayer,
  Input, Add, GraphNetwork,
} from '../../src/index.js';

test('a network hands the mask from layer to layer: Masking → LSTM (every step) → Dense carries [batch, T]', () => {
  const net = new Sequential([new Masking(), new LSTM({ units: 2, returnSequences: true }), new Dense({ units: 1 })], { inputShape: [3, 1], seed: 1 });
  const out = net.forward(tensor([[[1], [2], [0]], [[3], [0], [0]]]));
  assert.deepEqual(maskOf(out)!.toArray(), [[1, 1, 0], [1, 0, 0]]);
  // the layer alone is a plain function of its input: it returns no mask of its own
  const dense = net.layers[2];
  assert.equal(maskOf(dense.forward(tensor([[[1, 2]]]))), undefined);
  // applyLayer is the step a network takes: the mask goes on with the output
  const x = attachMask(tensor([[[1, 2], [3, 4]]]), tensor([[1, 0]]));
  assert.deepEqual(maskOf(applyLayer(dense, x))!.toArray(), [[1, 0]]);
});

test('a layer that collapses the steps of a masked sequence without reading the mask is a ConfigError, not a silent drop', () => {
  const net = new Sequential([new Masking(), new Flatten(), new Dense({ units: 1 })], { inputShape: [3, 2], seed: 1 });
  assert.throws(() => net.forward(tensor([[[1, 1], [2, 2], [0, 0]]])), (e: unknown) => e instanceof ConfigError
    && /flatten_\d+ \(flatten\) received a padded sequence \[1, 3, 2\] with a mask, but it does not read masks and its output \[1, 6\] no longer has the steps/.test(e.message));
  // a recurrent layer returning its last state reads the mask and uses it up
  const rnn = new Sequential([new Masking(), new LSTM({ units: 2 }), new Dense({ units: 1 })], { inputShape: [3, 2], seed: 1 });
  const y = rnn.forward(tensor([[[1, 1], [2, 2], [0, 0]]]));
  assert.deepEqual(y.shape, [1, 1]);
  assert.equal(maskOf(y), undefined);
});

test('in a graph the mask flows through merges too: masking → two per-step branches → add keeps [batch, T]', () => {
  const x = Input({ shape: [3, 2], name: 'x' });
  const m = new Masking({ name: 'm' }).apply(x);
  const a = new Dense({ units: 2, name: 'a' }).apply(m);
  const b = new Dense({ units: 2, name: 'b' }).apply(m);
  const y = new Add({ name: 'sum' }).apply([a, b]);
  const net = new GraphNetwork({ inputs: x, outputs: y, seed: 1 });
  const out = net.forward(tensor([[[1, 1], [0, 0], [2, 2]]]));
  assert.deepEqual(maskOf(out)!.toArray(), [[1, 0, 1]]);
});
