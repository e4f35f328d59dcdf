/**
 * W-ATTN (shared/WORKLOADS.md) with dendrite's layers: one Transformer encoder block (width 128,
 * 4 heads of 32, feed-forward 512 with GELU, pre-layer-norm, residual connections, no dropout)
 * on random N(0, 1) input [32, 128, 128]; loss = mean of the squared output; Adam lr 1e-3. A plain
 * training loop (forward, `backward`, `optimizer.step`, zero the gradients) over one fixed batch.
 * Reports training sequences/s (forward + backward + Adam step) after the warm-up steps, and peak
 * resident memory.
 *
 * Run: `npx tsc -p . && node dist/bench/attn.js [--steps 50] [--warmup 5] [--backend js|native] [--threads N]`
 * Prints one JSON line.
 */
import { parseArgs } from 'node:util';
import {
  Adam, Rng, Sequential, TransformerEncoderBlock, getBackend, mean, randNormal, setBackend, square,
} from '../src/index.js';
import type { BackendName } from '../src/index.js';
import { loadNative } from '../src/backend/native.js';
import { ATTN, peakRssMiB } from './common.js';

function main(): void {
  const { values } = parseArgs({
    options: {
      steps: { type: 'string', default: '50' },
      warmup: { type: 'string', default: '5' },
      backend: { type: 'string' },
      threads: { type: 'string' },
    },
  });
  if (values.backend) setBackend(values.backend as BackendName);
  if (values.threads) {
    const nat = loadNative();
    if ('backend' in nat) nat.backend.setMaxThreads(Number(values.threads));
  }
  const steps = Number(values.steps);
  const warmup = Number(values.warmup);
  const { batch: B, steps: T, width: F } = ATTN;
  const net = new Sequential([
    new TransformerEncoderBlock({ numHeads: ATTN.heads, ffDim: ATTN.ffDim, activation: 'gelu', normFirst: true }),
  ], { inputShape: [T, F], seed: 1 });
  const opt = new Adam({ learningRate: ATTN.learningRate });
  const x = randNormal([B, T, F], new Rng(1));
  const params = net.namedParameters();
  let loss = 0;
  const step = (): void => {
    const l = mean(square(net.forward(x)));
    l.backward();
    opt.step(params);
    net.zeroGrad();
    loss = l.item();
  };
  for (let i = 0; i < warmup; i++) step();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < steps; i++) step();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  console.log(JSON.stringify({
    workload: 'W-ATTN',
    backend: getBackend().name,
    steps,
    seconds: Number(seconds.toFixed(3)),
    sequences_per_s: Number(((steps * B) / seconds).toFixed(1)),
    ms_per_step: Number(((seconds * 1000) / steps).toFixed(2)),
    // processor time of all threads: less sensitive than wall time to other jobs on a shared machine
    cpu_ms_per_step: Number(((cpu.user + cpu.system) / 1000 / steps).toFixed(2)),
    loss: Number(loss.toFixed(5)),
    peak_rss_mib: Number(peakRssMiB().toFixed(1)),
  }));
}

main();
