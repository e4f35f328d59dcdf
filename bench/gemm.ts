/**
 * W-GEMM (shared/WORKLOADS.md): C = A·B for square n, GFLOP/s = 2n³ / seconds, for dendrite's
 * backends at the kernel level (`Backend.gemm` into a preallocated C): the native backend on 1
 * and on 2 threads and the reference JavaScript backend; with `--peers`, numpy and PyTorch in the
 * same run (each in a child started with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed from its
 * environment — this machine's setting of them halves OpenBLAS — and its thread count fixed).
 *
 *   node dist/bench/gemm.js [--sizes 256,512,1024] [--rounds 7] [--js-sizes 256,512,1024] [--peers]
 *
 * The machine is shared, so every configuration is timed in `rounds` rounds, interleaved with
 * the others, and the table gives the median and the min–max over rounds.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { Rng, jsBackend } from '../src/index.js';
import type { Backend } from '../src/index.js';
import { loadNative } from '../src/backend/native.js';
import { loadWasm } from '../src/backend/wasm.js';

interface Config {
  label: string;
  sizes: number[];
  /** Runs C = A·B `calls` times; returns seconds per call. */
  time(n: number, calls: number): number;
  /** Prepare before a round (e.g. set the thread count). */
  before?(): void;
}

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '256,512,1024' },
    'js-sizes': { type: 'string', default: '256,512,1024' },
    rounds: { type: 'string', default: '7' },
    'min-seconds': { type: 'string', default: '0.25' },
    peers: { type: 'boolean', default: false },
    'no-wasm': { type: 'boolean', default: false },
  },
});
const sizes = values.sizes!.split(',').map(Number);
const jsSizes = values['js-sizes']!.split(',').map(Number).filter(Boolean);
const rounds = Number(values.rounds);
const minSeconds = Number(values['min-seconds']);

function operands(n: number): [Float32Array, Float32Array, Float32Array] {
  const rng = new Rng(n);
  const a = new Float32Array(n * n);
  const b = new Float32Array(n * n);
  for (let i = 0; i < a.length; i++) a[i] = rng.next();
  for (let i = 0; i < b.length; i++) b[i] = rng.next();
  return [a, b, new Float32Array(n * n)];
}

const mats = new Map<number, [Float32Array, Float32Array, Float32Array]>();
function mat(n: number): [Float32Array, Float32Array, Float32Array] {
  if (!mats.has(n)) mats.set(n, operands(n));
  return mats.get(n)!;
}

function backendConfig(label: string, be: Backend, sz: number[], before?: () => void): Config {
  return {
    label,
    sizes: sz,
    before,
    time(n, calls) {
      const [a, b, c] = mat(n);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) be.gemm(false, false, n, n, n, 1, a, b, 0, c);
      return Number(process.hrtime.bigint() - t0) / 1e9 / calls;
    },
  };
}

/** How many calls make one timing of about minSeconds (from one untimed call). */
function callsFor(cfg: Config, n: number): number {
  const once = cfg.time(n, 1);
  return Math.max(1, Math.min(10000, Math.round(minSeconds / once)));
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const configs: Config[] = [];
const loaded = loadNative();
if ('backend' in loaded) {
  const nb = loaded.backend;
  const procs = nb.info().procs;
  configs.push(backendConfig('dendrite native, 1 thread', nb, sizes, () => nb.setMaxThreads(1)));
  if (procs >= 2) configs.push(backendConfig('dendrite native, 2 threads', nb, sizes, () => nb.setMaxThreads(2)));
} else {
  console.error(`native backend unavailable: ${loaded.error}`);
}
if (!values['no-wasm']) {
  const w = loadWasm();
  if ('backend' in w) {
    const wb = w.backend;
    configs.push(backendConfig('dendrite wasm, 1 thread', wb, sizes, () => wb.setThreads(1)));
    if (wb.maxThreads() >= 2) configs.push(backendConfig('dendrite wasm, 2 threads', wb, sizes, () => wb.setThreads(2)));
  } else {
    console.error(`wasm backend unavailable: ${w.error}`);
  }
}
if (jsSizes.length) configs.push(backendConfig('dendrite js (1 thread)', jsBackend, jsSizes));

const gflops = new Map<string, number[]>(); // `${label}|${n}` → GFLOP/s per round
const calls = new Map<string, number>();
for (let r = 0; r < rounds; r++) {
  for (const cfg of configs) {
    cfg.before?.();
    for (const n of cfg.sizes) {
      // the slow reference backend is timed in fewer rounds at large n
      if (cfg.label.includes(' js ') && n >= 1024 && r >= 3) continue;
      const key = `${cfg.label}|${n}`;
      if (!calls.has(key)) calls.set(key, callsFor(cfg, n));
      const s = cfg.time(n, calls.get(key)!);
      if (!gflops.has(key)) gflops.set(key, []);
      gflops.get(key)!.push((2 * n ** 3) / s / 1e9);
    }
  }
  process.stderr.write(`round ${r + 1}/${rounds} done\n`);
}

interface Row { label: string; n: number; med: number; min: number; max: number; rounds: number }
const rows: Row[] = [];
for (const cfg of configs) {
  for (const n of cfg.sizes) {
    const g = gflops.get(`${cfg.label}|${n}`)!;
    rows.push({ label: cfg.label, n, med: median(g), min: Math.min(...g), max: Math.max(...g), rounds: g.length });
  }
}

// numpy / PyTorch, same sizes, 1 and 2 threads, each thread count in its own child
const PEER_SCRIPT = `
import os, sys, time, statistics, json
import numpy as np
sizes = [int(s) for s in sys.argv[1].split(',')]; rounds = int(sys.argv[2]); threads = int(sys.argv[3])
out = {}
try:
    import torch
    torch.set_num_threads(threads)
except Exception:
    torch = None
def timeit(f, n):
    f(); t = time.perf_counter(); f(); once = time.perf_counter() - t
    calls = max(1, min(10000, round(${minSeconds} / max(once, 1e-9))))
    res = []
    for r in range(rounds):
        t = time.perf_counter()
        for i in range(calls): f()
        res.append(2 * n ** 3 / ((time.perf_counter() - t) / calls) / 1e9)
    return res
for n in sizes:
    rng = np.random.default_rng(n)
    a = rng.random((n, n), dtype=np.float32); b = rng.random((n, n), dtype=np.float32)
    out['numpy|%d' % n] = timeit(lambda: a @ b, n)
    if torch is not None:
        ta = torch.from_numpy(a); tb = torch.from_numpy(b)
        with torch.no_grad():
            out['pytorch|%d' % n] = timeit(lambda: torch.mm(ta, tb), n)
print(json.dumps(out))
`;

if (values.peers) {
  for (const t of [1, 2]) {
    const r = spawnSync('env', ['-u', 'OPENBLAS_CORETYPE', '-u', 'OPENBLAS_L2_SIZE', `OMP_NUM_THREADS=${t}`,
      `OPENBLAS_NUM_THREADS=${t}`, `MKL_NUM_THREADS=${t}`, '/usr/bin/python3', '-c', PEER_SCRIPT, sizes.join(','),
      String(rounds), String(t)], { encoding: 'utf8' });
    if (r.status !== 0) {
      console.error(`peers (${t} thread${t > 1 ? 's' : ''}) failed: ${r.stderr.trim().split('\n').pop()}`);
      continue;
    }
    const res = JSON.parse(r.stdout) as Record<string, number[]>;
    for (const [key, g] of Object.entries(res)) {
      const [sys, n] = key.split('|');
      rows.push({ label: `${sys}, ${t} thread${t > 1 ? 's' : ''}`, n: Number(n), med: median(g), min: Math.min(...g), max: Math.max(...g), rounds: g.length });
    }
  }
}

console.log(`W-GEMM, C = A·B (n×n float32), GFLOP/s: median (min–max) over rounds`);
console.log(`| system | ${sizes.map((n) => `n = ${n}`).join(' | ')} |`);
console.log(`|---|${sizes.map(() => '---:').join('|')}|`);
for (const label of [...new Set(rows.map((r) => r.label))]) {
  const cells = sizes.map((n) => {
    const r = rows.find((x) => x.label === label && x.n === n);
    return r ? `${r.med.toFixed(1)} (${r.min.toFixed(1)}–${r.max.toFixed(1)})` : '–';
  });
  console.log(`| ${label} | ${cells.join(' | ')} |`);
}
