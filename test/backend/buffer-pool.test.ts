// The buffer pool behind every backend's alloc: reuse by length, zeroed vs uninitialised buffers,
// scopes that decide what may be given back, and the steady state of training (nothing fresh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool, bufferPool } from '../../src/backend/buffer-pool.js';
import { releaseTensors } from '../../src/tensor/tensor.js';
import { withAllocationLimit } from '../../src/backend/index.js';
import {
  Adam, Conv2D, DendriteError, Dense, Flatten, getBackend, GRU, keepTensor, LSTM, matmul, MaxPool2D, Model, relu, SGD, Sequential, SimpleRNN, sum, Tensor, tensor,
  AvgPool2D, BatchNorm, Conv1D, Dropout, GlobalAveragePooling1D, LayerNormalization, MaxPool1D, Reshape, TransformerEncoderBlock,
} from '../../src/index.js';
import { randT } from '../helpers/gradcheck.js';

test('a released buffer is handed out again for the same length: zero-filled by take(n, true), as it was by take(n, false)', () => {
  const pool = new BufferPool();
  const s = pool.open();
  const a = pool.take(4, false);
  a.set([1, 2, 3, 4]);
  assert.equal(pool.release(a), true);
  assert.equal(pool.pooledBytes, 16);
  assert.notEqual(pool.take(5, false), a, 'another length is another free list');
  const b = pool.take(4, false);
  assert.equal(b, a, 'reused');
  assert.deepEqual(Array.from(b), [1, 2, 3, 4], 'uninitialised: the old values are still there');
  assert.equal(pool.release(b), true);
  const c = pool.take(4, true);
  assert.equal(c, a);
  assert.deepEqual(Array.from(c), [0, 0, 0, 0], 'zeroed again');
  assert.equal(pool.fresh, 2);
  assert.equal(pool.reused, 2);
  pool.close(s);
});

test('only what the innermost scope handed out goes back: not escaped buffers, views, outer scopes\' buffers or anything made outside a scope', () => {
  const pool = new BufferPool();
  const outside = pool.take(8, true);
  const outer = pool.open();
  assert.equal(pool.release(outside), false, 'made outside any scope');
  assert.equal(pool.release(new Float32Array(8)), false, 'never handed out');
  const o = pool.take(8, true);
  const inner = pool.open();
  assert.equal(pool.release(o), false, 'an outer scope\'s buffer, while an inner scope is open');
  const i = pool.take(8, true);
  assert.equal(pool.release(i.subarray(0, 4)), false, 'a view of part of a buffer');
  const kept = pool.take(8, true);
  pool.escape(kept.subarray(2));
  assert.equal(pool.release(kept), false, 'escaped (through a view of it)');
  assert.equal(pool.release(i), true);
  assert.equal(pool.release(i), false, 'a second release is refused');
  const survivor = pool.take(8, true);
  pool.close(inner, true);
  assert.equal(pool.owns(survivor), true, 'merged into the scope around');
  assert.equal(pool.release(o), true, 'the outer scope gives its own back once it is innermost');
  assert.equal(pool.release(survivor), true);
  const dropped = pool.open();
  const lost = pool.take(8, true);
  pool.close(dropped);
  assert.equal(pool.release(lost), false, 'closed without merging: the buffer escaped');
  pool.close(outer);
  assert.equal(pool.release(o), false, 'no scope open');
});

test('the free lists stay under their cap; close() also closes scopes left open inside', () => {
  const pool = new BufferPool(64);
  const s = pool.open();
  const bufs = [pool.take(8, false), pool.take(8, false), pool.take(8, false)];
  for (const b of bufs) assert.equal(pool.release(b), true);
  assert.equal(pool.pooledBytes, 64, 'the third 32-byte buffer is left to the garbage collector');
  pool.open();
  pool.close(s);
  assert.equal(pool.release(pool.take(8, false)), false, 'no scope is open any more');
  pool.clear();
  assert.equal(pool.pooledBytes, 0);
});

test('a released tensor is detectably invalid: reading it is a DendriteError naming its shape, never reused memory', () => {
  const s = bufferPool.open();
  try {
    const t = new Tensor(getBackend().allocUninit(6), [2, 3]);
    const view = new Tensor(t.data.subarray(0, 3), [3]);
    const kept = keepTensor(new Tensor(getBackend().allocUninit(6), [6]));
    releaseTensors([t, view, kept]);
    assert.equal(t.isReleased, true);
    assert.equal(view.isReleased, true, 'a view of the released storage is invalid too');
    assert.throws(() => t.data, (e: unknown) => e instanceof DendriteError && /tensor \[2, 3\] made inside a training step was read after the step/.test(e.message) && /keepTensor/.test(e.message));
    assert.throws(() => t.toArray(), DendriteError);
    assert.throws(() => t.size, DendriteError);
    assert.equal(kept.isReleased, false, 'keepTensor keeps it');
    kept.data.fill(1);
    assert.equal(sum(kept).item(), 6);
  } finally {
    bufferPool.close(s);
  }
});

test('backward gives the gradients it consumed back to the pool and leaves correct .grad on the leaves', () => {
  const x = randT([4, 3], 1);
  const w = randT([3, 5], 2);
  x.requiresGrad = true;
  w.requiresGrad = true;
  const grads = () => {
    x.grad = null;
    w.grad = null;
    sum(relu(matmul(relu(matmul(x, w)), w, { transB: true }))).backward();
    return [Array.from(x.grad!.data), Array.from(w.grad!.data)];
  };
  const plain = grads();
  const s = bufferPool.open();
  try {
    bufferPool.clear();
    const pooled = grads();
    assert.ok(bufferPool.pooledBytes > 0, 'consumed gradient buffers went back');
    assert.deepEqual(pooled, plain);
    assert.equal(bufferPool.owns(x.grad!.data), true, 'a leaf\'s gradient stays the step\'s to give back');
  } finally {
    bufferPool.close(s);
  }
});

const classes = (rows: number, k: number) => tensor(Array.from({ length: rows * k }, (_, i) => (i % k === Math.floor(i / k) % k ? 1 : 0)), { shape: [rows, k] });

for (const [name, make, xShape] of [
  ['MLP (Adam)', () => new Model(new Sequential([new Dense({ units: 16, activation: 'relu' }), new Dense({ units: 3, activation: 'softmax' })], { inputShape: [6], seed: 1 }),
    { loss: 'crossEntropy', optimizer: new Adam({ learningRate: 0.01 }) }), [32, 6]],
  ['CNN (SGD momentum)', () => new Model(new Sequential([new Conv2D({ filters: 2, kernelSize: 3, activation: 'relu' }), new MaxPool2D({ poolSize: 2 }), new Flatten(),
    new Dense({ units: 3, activation: 'softmax' })], { inputShape: [1, 6, 6], seed: 1 }), { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.1, momentum: 0.9 }) }), [32, 1, 6, 6]],
  ['CNN with average pooling and 1-D convolutions', () => new Model(new Sequential([new Conv1D({ filters: 16, kernelSize: 3, activation: 'tanh' }), new MaxPool1D({ poolSize: 2 }),
    new Reshape({ targetShape: [16, 2, 4] }), new Conv2D({ filters: 4, kernelSize: 1, activation: 'logistic' }), new AvgPool2D({ poolSize: 2 }), new Flatten(),
    new Dense({ units: 3, activation: 'softmax' })], { inputShape: [2, 18], seed: 1 }), { loss: 'crossEntropy', optimizer: new Adam({ learningRate: 0.01 }) }), [32, 2, 18]],
  ['batch norm, layer norm and dropout', () => new Model(new Sequential([new Dense({ units: 8 }), new BatchNorm(), new Dense({ units: 8, activation: 'relu' }), new LayerNormalization(),
    new Dropout({ rate: 0.3 }), new Dense({ units: 3, activation: 'softmax' })], { inputShape: [6], seed: 1 }), { loss: 'crossEntropy', optimizer: new Adam({ learningRate: 0.01 }) }), [32, 6]],
  ['a Transformer encoder block', () => new Model(new Sequential([new TransformerEncoderBlock({ numHeads: 2, ffDim: 8 }), new GlobalAveragePooling1D(),
    new Dense({ units: 3, activation: 'softmax' })], { inputShape: [4, 6], seed: 1 }), { loss: 'crossEntropy', optimizer: new Adam({ learningRate: 0.01 }) }), [32, 4, 6]],
  // sequence targets [32, 5, 3] (scored per step) and the LSTM's packed gates and time-major inputs
  ['LSTM (SGD)', () => new Model(new Sequential([new LSTM({ units: 4, returnSequences: true }), new Dense({ units: 3, activation: 'softmax' })], { inputShape: [5, 2], seed: 1 }),
    { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.1 }) }), [32, 5, 2]],
  ['GRU and simple RNN (SGD)', () => new Model(new Sequential([new GRU({ units: 4, returnSequences: true }), new SimpleRNN({ units: 3, returnSequences: true }),
    new Dense({ units: 3, activation: 'softmax' })], { inputShape: [5, 2], seed: 1 }), { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.1 }) }), [32, 5, 2]],
] as const) {
  test(`${name}: after a warm-up epoch, training steps allocate no fresh buffer`, () => {
    const model = make();
    const x = randT([...xShape], 3);
    // per-step targets [batch, T, 3] for a sequence output, else [batch, 3]
    const y = model.net.outputShape.length === 2 ? new Tensor(classes(xShape[0] * xShape[1], 3).data, [xShape[0], xShape[1], 3]) : classes(xShape[0], 3);
    model.fit(x, y, { epochs: 1, batchSize: 8 });
    const fresh = bufferPool.fresh;
    const reused = bufferPool.reused;
    model.fit(x, y, { epochs: 2, batchSize: 8 });
    assert.equal(bufferPool.fresh - fresh, 0, 'fresh buffers over 8 steps');
    assert.ok(bufferPool.reused - reused >= 8 * 10, `reused ${bufferPool.reused - reused}`);
  });
}

test('parameters (in the wasm backend\'s resident memory or not) and tensors made before a scope are never given back', () => {
  const model = new Model(new Sequential([new Dense({ units: 4 })], { inputShape: [3], seed: 1 }), { loss: 'mse', optimizer: new SGD({ learningRate: 0.1 }) });
  const before = tensor([1, 2, 3]);
  const s = bufferPool.open();
  try {
    const params = model.net.parameters();
    releaseTensors([...params, before]);
    assert.ok(params.every((p) => !p.isReleased) && !before.isReleased);
    assert.equal(bufferPool.release(params[0].data), false);
  } finally {
    bufferPool.close(s);
  }
});

test('the allocation cap for untrusted model files counts allocUninit as alloc', () => {
  const tooMuch = (n: number, total: number) => new RangeError(`needs ${n} more, ${total} in all`);
  assert.throws(() => withAllocationLimit(10, tooMuch, () => getBackend().allocUninit(11)), /needs 11 more, 11 in all/);
  assert.throws(() => withAllocationLimit(10, tooMuch, () => [getBackend().alloc(6), getBackend().allocUninit(6)]), /needs 6 more, 12 in all/);
  assert.equal(withAllocationLimit(10, tooMuch, () => getBackend().allocUninit(10)).length, 10);
});
