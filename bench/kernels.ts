/**
 * Where a training step's time goes, kernel by kernel: W-MLP (784-256-128-10, batch 64) and W-CNN
 * (LeNet-style, batch 64) trained with `Model.fit` and SGD lr 0.05 on random data of the
 * workloads' shapes (timing does not depend on the values), with every kernel of the active
 * backend wrapped by a timer. Also the W-INFER single-example forward.
 *
 *   DENDRITE_BACKEND=native node dist/bench/kernels.js [--steps 100] [--blocks 5] [--threads 2]
 *
 * Each workload runs `blocks` blocks of `steps` training steps after a warm-up; the table gives,
 * per kernel, calls per step and the median over blocks of microseconds per step, then the whole
 * step and the part spent outside kernels (ops' JavaScript, allocation, garbage collection).
 */
import { parseArgs } from 'node:util';
import { Model, Rng, SGD, Tensor, getBackend, noGrad } from '../src/index.js';
import type { Sequential } from '../src/index.js';
import type { Backend } from '../src/index.js';
import type { NativeBackend } from '../src/backend/native.js';
import { cnnNetwork, mlpNetwork } from './networks.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '100' },
    blocks: { type: 'string', default: '5' },
    threads: { type: 'string', default: '0' },
    only: { type: 'string', default: 'mlp,cnn,infer' },
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
  !['setMaxThreads', 'maxThreads', 'info', 'convCacheSize', 'alloc'].includes(k));
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function randomData(n: number, shape: number[], classes: number, seed: number): [Tensor, Tensor] {
  const rng = new Rng(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(n * size);
  for (let i = 0; i < x.length; i++) x[i] = rng.next();
  const y = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) y[i * classes + rng.int(classes)] = 1;
  return [new Tensor(x, [n, ...shape]), new Tensor(y, [n, classes])];
}

/** Trains `steps` batches with fit (one epoch over exactly that many batches of 64). */
function trainSteps(model: Model, x: Tensor, y: Tensor): number {
  const t0 = process.hrtime.bigint();
  model.fit(x, y, { epochs: 1, batchSize: 64, shuffle: true });
  return Number(process.hrtime.bigint() - t0) / 1e3;
}

function profile(label: string, net: Sequential, shape: number[]): void {
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.05 }), seed: 1 });
  const [x, y] = randomData(64 * steps, shape, 10, 2);
  trainSteps(model, x, y); // warm-up (primitive creation, JIT)
  const perBlock = new Map<string, number[]>();
  const calls = new Map<string, number>();
  const stepUs: number[] = [];
  for (let b = 0; b < blocks; b++) {
    totals.clear();
    const us = trainSteps(model, x, y);
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
    `max ${Math.max(...stepUs).toFixed(0)}) = ${(64e6 / step).toFixed(0)} examples/s`);
  console.log('| kernel | calls/step | µs/step | share |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.k} | ${r.k.startsWith('(') ? '' : r.calls.toFixed(0)} | ${r.us.toFixed(1)} | ${(100 * r.us / step).toFixed(1)}% |`);
  }
}

if (only.includes('mlp')) profile('W-MLP training step (batch 64)', mlpNetwork(1), [784]);
if (only.includes('cnn')) profile('W-CNN training step (batch 64)', cnnNetwork(1), [1, 28, 28]);

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
