/**
 * Where a training step's time goes, kernel by kernel: W-MLP (784-256-128-10, batch 64), W-CNN
 * (LeNet-style, batch 64) and W-LSTM (64 one-hot → LSTM 128 → dense 64 at each of 32 steps,
 * batch 32) trained with `Model.fit` and SGD on random data of the workloads' shapes (timing does
 * not depend on the values), with every kernel of the active backend wrapped by a timer. Also the
 * W-INFER single-example forward.
 *
 *   DENDRITE_BACKEND=native node dist/bench/kernels.js [--steps 100] [--blocks 5] [--threads 2] [--no-conv-pool]
 *
 * Each workload runs `blocks` blocks of `steps` training steps after a warm-up; the table gives,
 * per kernel, calls per step and the median over blocks of microseconds per step, then the whole
 * step and the part spent outside kernels (ops' JavaScript, allocation, garbage collection).
 */
import { parseArgs } from 'node:util';
import { Dense, LSTM, Model, Rng, SGD, Sequential, Tensor, getBackend, noGrad } from '../src/index.js';
import type { Backend } from '../src/index.js';
import type { NativeBackend } from '../src/backend/native.js';
import { cnnNetwork, mlpNetwork } from './networks.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '100' },
    blocks: { type: 'string', default: '5' },
    threads: { type: 'string', default: '0' },
    only: { type: 'string', default: 'mlp,cnn,lstm,infer' },
    'no-conv-pool': { type: 'boolean', default: false },
  },
});
const steps = Number(values.steps);
const blocks = Number(values.blocks);
const only = values.only!.split(',');

const be = getBackend();
if (Number(values.threads) > 0 && be.name === 'native') (be as NativeBackend).setMaxThreads(Number(values.threads));

// ---- kernel timers: wrap every method of the active backend in place ----
const totals = new Map<string, { calls: number; ns: bigint }>();
const KERNELS = Object.keys(be).filter((k) => typeof (be as unknown as Record<string, unknown>)[k] === 'function' &&
  !['setMaxThreads', 'maxThreads', 'info', 'convCacheSize', 'alloc', 'allocUninit'].includes(k));
for (const name of KERNELS) {
  const obj = be as unknown as Record<string, (...a: unknown[]) => unknown>;
  const f = obj[name].bind(be);
  obj[name] = (...args: unknown[]) => {
    const key = name === 'gemm' ? `gemm ${args[0] ? 'T' : 'N'}${args[1] ? 'T' : 'N'} ${args[2]}×${args[3]}×${args[4]}` :
      name.startsWith('conv2d') ? `${name} c${(args[0] as { c: number }).c}→k${(args[0] as { k: number }).k}` : name;
    const t0 = process.hrtime.bigint();
    const r = f(...args);
    const dt = process.hrtime.bigint() - t0;
    const e = totals.get(key) ?? { calls: 0, ns: 0n };
    e.calls++;
    e.ns += dt;
    totals.set(key, e);
    return r;
  };
}

// the fused convolution–pooling kernels (an object of their own): timed as `convPool.<method>`,
// or removed with --no-conv-pool to measure the separate kernels in the same build
const fused = be as unknown as { convPool?: Record<string, (...a: unknown[]) => unknown> };
if (values['no-conv-pool']) fused.convPool = undefined;
else if (fused.convPool) {
  const k = { ...fused.convPool };
  for (const m of ['forward', 'backward'] as const) {
    const f = k[m];
    k[m] = (...args: unknown[]) => {
      const key = `convPool.${m} c${(args[0] as { c: number }).c}→k${(args[0] as { k: number }).k}`;
      const t0 = process.hrtime.bigint();
      const r = f(...args);
      const e = totals.get(key) ?? { calls: 0, ns: 0n };
      e.calls++;
      e.ns += process.hrtime.bigint() - t0;
      totals.set(key, e);
      return r;
    };
  }
  fused.convPool = k;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** n examples of `shape` (uniform values, or one-hot rows along the last axis) and one-hot targets. */
function randomData(n: number, shape: number[], classes: number, seed: number, oneHotInput = false): [Tensor, Tensor] {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * size);
  const last = shape[shape.length - 1];
  if (oneHotInput) for (let r = 0; r < x.length / last; r++) x[r * last + rng.int(last)] = 1;
  else for (let i = 0; i < x.length; i++) x[i] = rng.next();
  // targets: one class per example, or per step for sequence outputs ([n, T, classes])
  const rows = oneHotInput ? n * shape[0] : n;
  const y = new Float32Array(rows * classes);
  for (let i = 0; i < rows; i++) y[i * classes + rng.int(classes)] = 1;
  return [new Tensor(x, [n, ...shape]), new Tensor(y, oneHotInput ? [n, shape[0], classes] : [n, classes])];
}

/** Trains `steps` batches with fit (one epoch over exactly that many batches of 64). */
function trainSteps(model: Model, x: Tensor, y: Tensor, batch: number): number {
  const t0 = process.hrtime.bigint();
  model.fit(x, y, { epochs: 1, batchSize: batch, shuffle: true });
  return Number(process.hrtime.bigint() - t0) / 1e3;
}

function profile(label: string, net: Sequential, shape: number[], o: { batch?: number; lr?: number; classes?: number; sequence?: boolean } = {}): void {
  const batch = o.batch ?? 64;
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: o.lr ?? 0.05 }), seed: 1 });
  const [x, y] = randomData(batch * steps, shape, o.classes ?? 10, 2, o.sequence);
  trainSteps(model, x, y, batch); // warm-up (primitive creation, JIT)
  const perBlock = new Map<string, number[]>();
  const calls = new Map<string, number>();
  const stepUs: number[] = [];
  for (let b = 0; b < blocks; b++) {
    totals.clear();
    const us = trainSteps(model, x, y, batch);
    stepUs.push(us / steps);
    let inKernels = 0;
    for (const [k, e] of totals) {
      const v = Number(e.ns) / 1e3 / steps;
      inKernels += v;
      if (!perBlock.has(k)) perBlock.set(k, []);
      perBlock.get(k)!.push(v);
      calls.set(k, e.calls / steps);
    }
    if (!perBlock.has('(outside kernels)')) perBlock.set('(outside kernels)', []);
    perBlock.get('(outside kernels)')!.push(us / steps - inKernels);
  }
  const rows = [...perBlock.entries()].map(([k, v]) => ({ k, us: median(v), calls: calls.get(k) ?? 0 }))
    .sort((a, b) => (a.k === '(outside kernels)' ? 1 : b.k === '(outside kernels)' ? -1 : b.us - a.us));
  const step = median(stepUs);
  console.log(`\n${label} on the ${be.name} backend${be.name === 'native' ? `, up to ${(be as NativeBackend).maxThreads()} threads` : ''}: ` +
    `${step.toFixed(0)} µs per step (median of ${blocks} blocks of ${steps}; min ${Math.min(...stepUs).toFixed(0)}, ` +
    `max ${Math.max(...stepUs).toFixed(0)}) = ${(batch * 1e6 / step).toFixed(0)} ${o.sequence ? 'sequences' : 'examples'}/s`);
  console.log('| kernel | calls/step | µs/step | share |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.k} | ${r.k.startsWith('(') ? '' : r.calls.toFixed(0)} | ${r.us.toFixed(1)} | ${(100 * r.us / step).toFixed(1)}% |`);
  }
}

if (only.includes('mlp')) profile('W-MLP training step (batch 64)', mlpNetwork(1), [784]);
if (only.includes('cnn')) profile('W-CNN training step (batch 64)', cnnNetwork(1), [1, 28, 28]);
if (only.includes('lstm')) {
  const net = new Sequential([new LSTM({ units: 128, returnSequences: true }), new Dense({ units: 64, activation: 'softmax' })],
    { inputShape: [32, 64], seed: 1 });
  profile('W-LSTM training step (batch 32 × 32 steps)', net, [32, 64], { batch: 32, lr: 0.1, classes: 64, sequence: true });
}

if (only.includes('infer')) {
  const net = mlpNetwork(1);
  const [x] = randomData(1, [784], 10, 3);
  const forward = (): Float32Array => noGrad(() => net.forward(x)).data;
  for (let i = 0; i < 2000; i++) forward();
  totals.clear();
  const calls = 10000;
  const times = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    const t0 = process.hrtime.bigint();
    forward();
    times[i] = Number(process.hrtime.bigint() - t0) / 1e3;
  }
  const lat = median(Array.from(times));
  console.log(`\nW-INFER single example (Sequential.forward of the W-MLP network under noGrad): median ${lat.toFixed(1)} µs (the kernel timers add a little per call)`);
  console.log('| kernel | calls | µs/call (mean) |');
  console.log('|---|---:|---:|');
  for (const [k, e] of [...totals.entries()].sort((a, b) => Number(b[1].ns - a[1].ns))) {
    console.log(`| ${k} | ${(e.calls / calls).toFixed(0)} | ${(Number(e.ns) / 1e3 / e.calls).toFixed(2)} |`);
  }
}
