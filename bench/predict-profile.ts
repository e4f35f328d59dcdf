/**
 * Where one W-INFER example's time goes: the JavaScript cost of each op on the single-example
 * `predict` path (784 → 256 ReLU → 128 ReLU → 10 softmax, batch 1), next to the kernels it calls.
 * Not a test: a profile to read.
 *
 *   DENDRITE_BACKEND=native node dist/bench/predict-profile.js [--rows 1] [--samples 300] [--per 50]
 *
 * Every line is the median over `samples` samples of the mean time of `per` back-to-back calls
 * (µs per call). The "kernels" lines call the backend on raw buffers (what a call cannot go below);
 * the "op" lines add the op's JavaScript (shape checks, allocation, tensor construction, graph
 * recording under noGrad); the "layer" and "model" lines add the layers' and Model's own work.
 */
import { parseArgs } from 'node:util';
import { Model, SGD, Tensor, affineAct, getBackend, noGrad, softmax, tensor } from '../src/index.js';
import type { Dense } from '../src/index.js';
import { affine } from '../src/ops/matmul.js';
import { unaryOp } from '../src/ops/elementwise.js';
import { inferInput, median } from './common.js';
import { mlpNetwork } from './networks.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1' },
    samples: { type: 'string', default: '300' },
    per: { type: 'string', default: '50' },
  },
});
const rows = Number(values.rows);
const samples = Number(values.samples);
const per = Number(values.per);

/** Median µs per call of `fn`. */
function time(fn: () => unknown): number {
  for (let i = 0; i < 200; i++) fn();
  const s: number[] = [];
  for (let j = 0; j < samples; j++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < per; i++) fn();
    s.push(Number(process.hrtime.bigint() - t) / 1000 / per);
  }
  return median(s);
}

const be = getBackend();
const net = mlpNetwork(1);
const model = new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.05 }) });
const x = tensor(inferInput(rows), { shape: [rows, 784] });
const layers = net.layers as Dense[];
const [d1, d2, d3] = layers;
const sizes = layers.map((l) => [l.weight.shape[1], l.units] as const);

// intermediate inputs of each layer, so every line runs on real data
const h1 = noGrad(() => d1.forward(x));
const h2 = noGrad(() => d2.forward(h1));
const z3 = noGrad(() => affine(h2, d3.weight, d3.bias));
const ins = [x, h1, h2];

const lines: [string, number][] = [];
const add = (label: string, us: number) => lines.push([label, us]);

// ---- kernels on raw buffers (the floor) ----
let kernelSum = 0;
layers.forEach((l, i) => {
  const [k, n] = sizes[i];
  const out = be.alloc(rows * n);
  const xi = ins[i].data;
  const g = time(() => be.gemm(false, true, rows, n, k, 1, xi, l.weight.data, 0, out));
  const b = time(() => be.addBroadcast(out, l.bias!.data, 1, rows, n, out));
  add(`kernel gemm ${rows}×${n}×${k}`, g);
  add(`kernel addBroadcast ${rows}×${n}`, b);
  kernelSum += g + b;
  if (i < 2) {
    const a = time(() => be.unary('relu', out, out, 0));
    add(`kernel unary relu ${rows}×${n}`, a);
    kernelSum += a;
  }
});
{
  const out = be.alloc(rows * 10);
  const s = time(() => be.softmax(z3.data, rows, 10, out));
  add(`kernel softmax ${rows}×10`, s);
  kernelSum += s;
}
add('kernels, sum', kernelSum);
// the same layers through the fused kernel (relu, relu, then the softmax layer's z)
let fusedSum = 0;
layers.forEach((l, i) => {
  const [k, n] = sizes[i];
  const out = be.alloc(rows * n);
  const t = time(() => be.affineAct(rows, n, k, ins[i].data, l.weight.data, l.bias!.data, i < 2 ? 'relu' : 'linear', 0, out, null));
  add(`kernel affineAct ${rows}×${n}×${k}`, t);
  fusedSum += t;
});
add('fused kernels + softmax, sum', fusedSum + lines.find(([l]) => l.startsWith('kernel softmax'))![1]);

// ---- ops under noGrad (the op's JavaScript around its kernels) ----
let opSum = 0;
noGrad(() => {
  layers.forEach((l, i) => {
    const t = time(() => affine(ins[i], l.weight, l.bias));
    add(`op affine ${sizes[i][0]}→${sizes[i][1]}`, t);
    opSum += t;
  });
  for (const h of [h1, h2]) {
    const t = time(() => unaryOp('relu', h));
    add(`op relu ${h.size}`, t);
    opSum += t;
  }
  const s = time(() => softmax(z3));
  add('op softmax', s);
  opSum += s;
  add('ops, sum', opSum);
  let fusedOps = s;
  layers.forEach((l, i) => {
    const t = time(() => affineAct(ins[i], l.weight, l.bias, i < 2 ? 'relu' : 'linear'));
    add(`op affineAct ${sizes[i][0]}→${sizes[i][1]}`, t);
    fusedOps += t;
  });
  add('fused ops + softmax, sum', fusedOps);
});

// ---- the pieces of JavaScript every op and call pays ----
add('new Tensor [1, 256]', time(() => new Tensor(h1.data, h1.shape)));
add('be.alloc(256)', time(() => be.alloc(256)));
add('noGrad(() => 0)', time(() => noGrad(() => 0)));
add('net.eval(); net.train()', time(() => { net.eval(); net.train(); }));

// ---- layers and the whole model ----
net.eval();
let layerSum = 0;
noGrad(() => {
  layers.forEach((l, i) => {
    const t = time(() => l.forward(ins[i]));
    add(`layer ${l.name}.forward`, t);
    layerSum += t;
  });
});
add('layers, sum', layerSum);
add('noGrad(net.forward)', time(() => noGrad(() => net.forward(x))));
net.train();
const whole = time(() => model.predict(x).data);
add('model.predict', whole);

const w = Math.max(...lines.map(([l]) => l.length));
console.log(`backend ${be.name}, ${rows} row${rows > 1 ? 's' : ''}; µs per call (median of ${samples} samples of ${per} calls)`);
for (const [l, us] of lines) console.log(`${l.padEnd(w)}  ${us.toFixed(2).padStart(8)}`);
const flops = 2 * rows * sizes.reduce((s, [k, n]) => s + k * n, 0);
const floor = lines.find(([l]) => l.startsWith('fused kernels'))![1];
console.log(`model.predict − fused kernels: ${(whole - floor).toFixed(2)} µs outside the kernels (${(100 * (whole - floor) / whole).toFixed(0)}%); ${(flops / 1e6).toFixed(2)} MFLOP → ${(flops / floor / 1e3).toFixed(1)} GFLOP/s in the kernels`);
