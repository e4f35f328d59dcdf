import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tensor, conv2d, conv2dPool, maxPool2d, avgPool2d, sum, mul, ConfigError, ShapeError, Conv2D, MaxPool2D, AvgPool2D,
  Flatten, Dense, Sequential, getBackend, noGrad, Input, GraphNetwork, Concatenate,
} from '../../src/index.js';
import type { Conv2dPoolOptions, Tensor } from '../../src/index.js';
import { gradCheck, randT, assertClose } from '../helpers/gradcheck.js';

// conv2dPool: a convolution, its activation and a pooling as one op. On the native backend it
// runs the fused kernels (activations kept in oneDNN's blocked layout); elsewhere the separate
// ops. Either way: the values and gradients of pool(conv2d(...)).

const be = getBackend();

/** Counts the fused kernels' forward calls while `fn` runs (0 where the backend has none). */
function fusedCalls(fn: () => void): number {
  const k = be.convPool as unknown as { forward: (...a: unknown[]) => void } | undefined;
  if (!k) {
    fn();
    return 0;
  }
  const f = k.forward;
  let calls = 0;
  k.forward = (...a: unknown[]) => {
    calls++;
    return f(...a);
  };
  try {
    fn();
  } finally {
    k.forward = f;
  }
  return calls;
}

test('conv2dPool: forward on hand-checkable numbers (max and average)', () => {
  const x = tensor([[[[1, -2, 3, 0], [0, 5, -1, 2], [-3, 1, 0, 0], [2, 0, 4, -4]]]]);
  const one = tensor([[[[1]]]]);
  // ReLU then 2×2 max: the windows' largest values
  assert.deepEqual(conv2dPool(x, one, null, { activation: 'relu', pool: 'max' }).toArray(), [[[[5, 3], [2, 4]]]]);
  // bias −1, ReLU, 2×2 mean: [0,0,0,4]/4, [2,0,0,1]/4, [0,0,1,0]/4, [0,0,3,0]/4
  assert.deepEqual(conv2dPool(x, one, tensor([-1]), { activation: 'relu', pool: 'avg' }).toArray(), [[[[1, 0.75], [0.25, 0.75]]]]);
  // no activation: the max of the raw values, −4 … 5
  assert.deepEqual(conv2dPool(x, one, null, { pool: 'max', poolSize: 4 }).toArray(), [[[[5]]]]);
  // two filters, a 2×2 filter summing its window, stride-1 pooling of 2
  const ones = tensor([[[[1, 1], [1, 1]]], [[[-1, -1], [-1, -1]]]]);
  const y = conv2dPool(tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]), ones, null, { pool: 'max', poolSize: [1, 2], poolStrides: 1 });
  // sums 12 16 / 24 28 (and their negatives): max over [1, 2] windows of each row
  assert.deepEqual(y.toArray(), [[[[16], [28]], [[-12], [-24]]]]);
});

/** pool(conv2d(...)) by the separate ops, for comparison. */
function separate(x: Tensor, w: Tensor, b: Tensor | null, o: Conv2dPoolOptions): Tensor {
  const z = conv2d(x, w, b, { strides: o.strides, padding: o.padding, activation: o.activation, alpha: o.alpha });
  const p = { poolSize: o.poolSize, strides: o.poolStrides ?? o.poolSize };
  return o.pool === 'max' ? maxPool2d(z, p) : avgPool2d(z, p);
}

const CASES: [string, number[], number[], Conv2dPoolOptions][] = [
  ['W-CNN first layer (1 → 16 channels, ReLU, max 2×2)', [4, 1, 12, 12], [16, 1, 5, 5], { activation: 'relu', pool: 'max' }],
  ['16 → 32 channels (blocked input)', [3, 16, 8, 8], [32, 16, 3, 3], { activation: 'relu', pool: 'max' }],
  ['6 filters (a partly filled channel block), tanh, average', [2, 3, 9, 9], [6, 3, 3, 3], { activation: 'tanh', pool: 'avg' }],
  ['20 filters, leaky ReLU, overlapping 3×3 windows of stride 2', [2, 16, 11, 11], [20, 16, 3, 3], { activation: 'leakyRelu', alpha: 0.2, pool: 'max', poolSize: 3, poolStrides: 2 }],
  ['logistic, average 3×3 of stride 1, padded strided convolution', [2, 2, 10, 9], [16, 2, 3, 3], { activation: 'logistic', pool: 'avg', poolSize: 3, poolStrides: 1, strides: 2, padding: 1 }],
  ['linear, maps of odd size (the last row and column outside every window)', [3, 4, 11, 11], [16, 4, 3, 3], { pool: 'max' }],
  ['ReLU, average 2×2 over odd maps', [2, 4, 11, 10], [8, 4, 3, 3], { activation: 'relu', pool: 'avg' }],
];

test('conv2dPool equals pool(conv2d(…)): values and every gradient', () => {
  for (const [what, xs, ws, o] of CASES) {
    for (const bias of [true, false]) {
      const x = randT(xs, 1), w = randT(ws, 2), b = bias ? randT([ws[0]], 3) : null;
      const params = [x, w, ...(b ? [b] : [])];
      for (const t of params) t.requiresGrad = true;
      let fused!: Tensor;
      const calls = fusedCalls(() => { fused = conv2dPool(x, w, b, o); });
      if (be.name === 'native') assert.equal(calls, 1, `${what}: the native backend runs the fused kernels`);
      const ref = separate(x, w, b, o);
      assert.deepEqual(fused.shape, ref.shape, what);
      assertClose(fused.data, ref.data, 1e-6, `${what} y`);
      const r = randT([...ref.shape], 4);
      sum(mul(fused, r)).backward();
      const got = params.map((t) => Float32Array.from(t.grad!.data));
      for (const t of params) t.grad = null;
      sum(mul(ref, r)).backward();
      params.forEach((t, i) => assertClose(got[i], t.grad!.data, 2e-5 * Math.max(1, ...t.grad!.data.map(Math.abs)), `${what} (bias ${bias}) gradient ${i}`));
    }
  }
});

test('conv2dPool: gradients match finite differences', () => {
  // ReLU inputs kept away from the kink, max windows away from ties: random values do both
  gradCheck((x, w, b) => conv2dPool(x, w, b, { activation: 'tanh', pool: 'max' }), [randT([2, 3, 6, 6], 5), randT([16, 3, 3, 3], 6), randT([16], 7)], { eps: 1e-3 });
  gradCheck((x, w, b) => conv2dPool(x, w, b, { activation: 'logistic', pool: 'avg', poolSize: 3, poolStrides: 2 }), [randT([2, 2, 7, 7], 8), randT([6, 2, 2, 2], 9), randT([6], 10)]);
  gradCheck((x, w) => conv2dPool(x, w, null, { activation: 'relu', pool: 'max' }), [randT([1, 16, 6, 6], 11), randT([16, 16, 3, 3], 12)], { eps: 1e-3 });
});

test('conv2dPool: only the gradients asked for (first layer, frozen filters, frozen bias)', () => {
  const x = randT([2, 3, 6, 6], 13), w = randT([16, 3, 3, 3], 14), b = randT([16], 15);
  const o: Conv2dPoolOptions = { activation: 'relu', pool: 'max' };
  const ref = (xx: Tensor, ww: Tensor, bb: Tensor) => separate(xx, ww, bb, o);
  for (const wanted of [[false, true, true], [false, false, true], [true, false, false], [false, true, false]]) {
    const grads = (f: typeof ref) => {
      [x, w, b].forEach((t, i) => { t.requiresGrad = wanted[i]; t.grad = null; });
      sum(mul(f(x, w, b), randT([2, 16, 2, 2], 16))).backward();
      return [x, w, b].map((t) => (t.grad ? Float32Array.from(t.grad.data) : null));
    };
    const got = grads((xx, ww, bb) => conv2dPool(xx, ww, bb, o));
    const want = grads(ref);
    got.forEach((g, i) => {
      assert.equal(g === null, !wanted[i], `gradient ${i} present exactly when asked (${wanted})`);
      if (g) assertClose(g, want[i]!, 1e-5, `gradient ${i} (${wanted})`);
    });
  }
});

test('conv2dPool: bad options and shapes are typed errors naming the op', () => {
  const x = randT([1, 1, 6, 6], 1), w = randT([2, 1, 3, 3], 2);
  assert.throws(() => conv2dPool(x, w, null, { pool: 'min' as 'max' }),
    (e: unknown) => e instanceof ConfigError && e.message === 'conv2dPool.pool must be "max" or "avg", received "min"');
  assert.throws(() => conv2dPool(x, w, null, { pool: 'max', poolSize: 5 }),
    (e: unknown) => e instanceof ConfigError && /conv2dPool: pool window 5×5 is larger than the input 4×4/.test(e.message));
  assert.throws(() => conv2dPool(x, w, null, { pool: 'max', poolStrides: 0 }),
    (e: unknown) => e instanceof ConfigError && /conv2dPool poolStrides must be an integer ≥ 1/.test(e.message));
  assert.throws(() => conv2dPool(randT([1, 2, 6, 6], 3), w, null, { pool: 'max' }),
    (e: unknown) => e instanceof ShapeError && /^conv2dPool: filters \[2, 1, 3, 3\] have depth 1 but the images \[1, 2, 6, 6\] have 2 channels/.test(e.message));
  assert.throws(() => conv2dPool(x, w, tensor([1, 2, 3]), { pool: 'max' }),
    (e: unknown) => e instanceof ShapeError && e.message === 'conv2dPool expects bias [2], received [3]');
  assert.throws(() => conv2dPool(x, w, null, { pool: 'max', activation: 'gelu' as 'relu' }),
    (e: unknown) => e instanceof ConfigError && /^conv2dPool\.activation must be one of/.test(e.message));
});

test('native fused kernels: an index outside the activations is refused, not written through', { skip: be.name !== 'native' }, () => {
  const g = { n: 1, c: 1, h: 4, w: 4, k: 16, kh: 1, kw: 1, sh: 1, sw: 1, padTop: 0, padLeft: 0, oh: 4, ow: 4 };
  const p = { n: 1, c: 16, h: 4, w: 4, ph: 2, pw: 2, sh: 2, sw: 2, oh: 2, ow: 2 };
  const k = be.convPool!;
  const plan = k.plan(g, p, false, 'relu', 0)!;
  const a = new Float32Array(plan.aSize), idx = new Int32Array(plan.idxSize);
  const x = new Float32Array(16), xb = plan.xSize ? new Float32Array(plan.xSize) : null;
  k.forward(g, p, true, x, new Float32Array(16), null, 'relu', 0, new Float32Array(64), a, idx, xb);
  idx[5] = plan.aSize + 100;
  assert.throws(() => k.backward(g, p, true, 'relu', 0, new Float32Array(64), a, idx, xb ?? x, new Float32Array(16),
    new Float32Array(plan.aSize), null, new Float32Array(16), null), (e: unknown) => e instanceof RangeError && /outside the activations/.test((e as Error).message));
  assert.throws(() => k.forward(g, { ...p, c: 8 }, true, x, new Float32Array(16), null, 'relu', 0, new Float32Array(64), a, idx, xb),
    (e: unknown) => e instanceof RangeError && /pooling geometry must be of the convolution's output/.test((e as Error).message));
});

function lenet(seed: number): Sequential {
  return new Sequential([
    new Conv2D({ filters: 6, kernelSize: 3, activation: 'relu' }), new MaxPool2D({ poolSize: 2 }),
    new Conv2D({ filters: 16, kernelSize: 3, activation: 'tanh' }), new AvgPool2D({ poolSize: 2 }), new Flatten(),
    new Dense({ units: 3, activation: 'softmax' }),
  ], { inputShape: [2, 14, 14], seed });
}

test('Sequential runs Conv2D + pooling as one op, with the outputs and gradients of the layers one by one', () => {
  const x = randT([4, 2, 14, 14], 21);
  const r = randT([4, 3], 22);
  const run = (tracing: boolean) => {
    const net = lenet(3);
    net.setTracing(tracing);
    let out!: Tensor;
    const calls = fusedCalls(() => {
      out = net.forward(x);
      sum(mul(out, r)).backward();
    });
    return { out: Float32Array.from(out.data), grads: net.parameters().map((t) => Float32Array.from(t.grad!.data)), calls, net };
  };
  const fused = run(false);
  const traced = run(true);
  if (be.name === 'native') assert.equal(fused.calls, 2, 'both conv–pool pairs fused');
  assert.equal(traced.calls, 0, 'a tracing network runs the layers one by one');
  assert.ok(traced.net.layers[0].record?.z && traced.net.layers[1].record?.a, 'the trace has the convolution\'s z and the pooling\'s a');
  assertClose(fused.out, traced.out, 1e-6, 'output');
  fused.grads.forEach((g, i) => assertClose(g, traced.grads[i], 1e-5 * Math.max(1, ...traced.grads[i].map(Math.abs)), `parameter ${i} gradient`));
  // inference (no graph) too
  const net = lenet(3);
  assertClose(noGrad(() => net.forward(x)).data, traced.out, 1e-6, 'noGrad output');
});

test('a Conv2D followed by a pooling that cannot fuse runs the layers one by one', () => {
  const x = randT([2, 1, 9, 9], 23);
  const nets = [
    // 'same' pooling pads the maps; PReLU is not a kernel activation; the pool is the last layer asked for logits
    new Sequential([new Conv2D({ filters: 4, kernelSize: 3, activation: 'relu' }), new MaxPool2D({ poolSize: 2, padding: 'same' }), new Flatten()], { inputShape: [1, 9, 9] }),
    new Sequential([new Conv2D({ filters: 4, kernelSize: 3, activation: 'prelu' }), new MaxPool2D({ poolSize: 2 }), new Flatten()], { inputShape: [1, 9, 9] }),
  ];
  for (const net of nets) assert.equal(fusedCalls(() => net.forward(x)), 0);
  const fine = new Sequential([new Conv2D({ filters: 4, kernelSize: 3, activation: 'relu' }), new MaxPool2D({ poolSize: 2 }), new Flatten()], { inputShape: [1, 9, 9] });
  assert.equal(fusedCalls(() => fine.forward(x)), be.name === 'native' ? 1 : 0);
});

test('a graph model fuses a convolution with the pooling that alone reads it, not one whose maps another call reads too', () => {
  const make = () => {
    const x = Input({ shape: [2, 10, 10] });
    const c1 = new Conv2D({ filters: 4, kernelSize: 3, activation: 'relu' }).apply(x);
    const p1 = new MaxPool2D({ poolSize: 2 }).apply(c1); // c1 read by the pooling alone: fuses
    const c2 = new Conv2D({ filters: 4, kernelSize: 3, activation: 'tanh' }).apply(x);
    const p2 = new AvgPool2D({ poolSize: 2 }).apply(c2); // c2 also read by the flatten below: no fusion
    const merged = new Concatenate().apply([new Flatten().apply(p1), new Flatten().apply(p2), new Flatten().apply(c2)]);
    return new GraphNetwork({ inputs: x, outputs: new Dense({ units: 2, activation: 'softmax' }).apply(merged), seed: 4 });
  };
  const x = randT([3, 2, 10, 10], 31);
  const r = randT([3, 2], 32);
  const run = (tracing: boolean) => {
    const net = make();
    net.setTracing(tracing);
    let out!: Tensor;
    const calls = fusedCalls(() => {
      out = net.forward(x);
      sum(mul(out, r)).backward();
    });
    return { out: Float32Array.from(out.data), grads: net.parameters().map((t) => Float32Array.from(t.grad!.data)), calls };
  };
  const fused = run(false);
  const traced = run(true);
  assert.equal(fused.calls, be.name === 'native' ? 1 : 0);
  assert.equal(traced.calls, 0);
  assertClose(fused.out, traced.out, 1e-6, 'output');
  fused.grads.forEach((g, i) => assertClose(g, traced.grads[i], 1e-5 * Math.max(1, ...traced.grads[i].map(Math.abs)), `parameter ${i} gradient`));
});
