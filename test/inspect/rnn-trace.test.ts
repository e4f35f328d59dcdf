// Tracing recurrent layers, and batches of padded sequences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tensor, Sequential, SimpleRNN, LSTM, Dense, Masking, Model, SGD, traceModel, padSequences, stackSequences,
  lstm, ShapeError,
} from '../../src/index.js';
import { assertClose, randT } from '../helpers/gradcheck.js';

test('trace: a recurrent layer shows its hidden states per step, δ per step and every parameter gradient summed over time and examples', () => {
  const net = new Sequential([
    new LSTM({ units: 3, returnSequences: true, name: 'lstm' }),
    new SimpleRNN({ units: 2, name: 'rnn' }),
    new Dense({ units: 1, name: 'out' }),
  ], { inputShape: [4, 2], seed: 2 });
  const model = new Model(net, { loss: 'sse', optimizer: new SGD({ learningRate: 0.1 }) });
  const x = randT([2, 4, 2], 1);
  const y = tensor([[0.5], [-0.5]]);
  const t = traceModel(model, x, y);
  const [l, r] = t.layers;
  assert.deepEqual(Object.keys(l.extra!).sort(), ['c', 'gates', 'h']);
  assert.equal((l.extra!.h as number[][][]).length, 2);
  assert.equal((l.extra!.h as number[][][])[0].length, 4); // per step
  assert.equal((l.delta as number[][][])[0][0].length, 12); // δ of the 4 gates per step
  assert.deepEqual(Object.keys(l.grad).sort(), ['Wc', 'Wf', 'Wi', 'Wo', 'bc', 'bf', 'bi', 'bo']);
  assert.deepEqual(Object.keys(r.grad).sort(), ['Whh', 'Whx', 'bias']);
  // the traced gradient is the gradient of the summed loss over both examples (and all steps)
  model.lossOf(x, y).loss.backward();
  assertClose((r.grad.Whh as number[][]).flat(), net.layers[1].ownParameters().get('Whh')!.grad!.data, 1e-6, 'Whh');
  assertClose((l.grad.Wf as number[][]).flat(), net.layers[0].ownParameters().get('Wf')!.grad!.data, 1e-6, 'Wf');
  // SimpleRNN with the last step only: the per-step z and h are still in the trace
  assert.equal((r.extra!.h as number[][][])[1].length, 4);
});

test('sequences of inconsistent length without a mask are a ShapeError; padded with a mask they train', () => {
  const seqs = [[[1], [2], [3]], [[4]], [[5], [6]]];
  assert.throws(() => stackSequences(seqs), (e: unknown) => e instanceof ShapeError && /sequences of inconsistent length without a mask: sequence 0 has 3 steps, sequence 1 has 1/.test(e.message));
  const { x, mask, lengths } = padSequences(seqs);
  assert.deepEqual(x.shape, [3, 3, 1]);
  assert.deepEqual(mask.toArray(), [[1, 1, 1], [1, 0, 0], [1, 1, 0]]);
  assert.deepEqual(Array.from(lengths), [3, 1, 2]);
  // the op-level mask must match the batch
  assert.throws(() => lstm(x, {
    Wf: randT([2, 3]), Wi: randT([2, 3]), Wc: randT([2, 3]), Wo: randT([2, 3]),
    bf: randT([2]), bi: randT([2]), bc: randT([2]), bo: randT([2]),
  }, { mask: tensor([[1, 1], [1, 0]]) }), (e: unknown) => e instanceof ShapeError && /lstm: mask must be \[batch, T\] = \[3, 3\], received \[2, 2\]/.test(e.message));
  // a Masking layer in front: the padding steps are skipped by the LSTM and by the loss
  const net = new Sequential([new Masking(), new LSTM({ units: 4, returnSequences: true }), new Dense({ units: 1 })], { inputShape: [3, 1], seed: 1 });
  const model = new Model(net, { loss: 'mse', optimizer: new SGD({ learningRate: 0.05 }) });
  const y = tensor([[[0.1], [0.3], [0.6]], [[0.4], [9], [9]], [[0.5], [0.9], [9]]]); // 9s sit on padding
  const h = model.fit(x, y, { epochs: 40, batchSize: 3 });
  assert.ok(h.epochs[39].loss < h.epochs[0].loss, `${h.epochs[0].loss} → ${h.epochs[39].loss}`);
  assert.ok(h.epochs[0].loss < 1, 'the 9s at padding steps are not in the loss');
});
