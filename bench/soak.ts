// Soak test: trains the W-MLP network on R rows (default 2000) of the bundled digits for N minutes on every available
// backend (each in a fresh process), writing a checkpoint every epoch as `train --checkpoint`
// does, and samples the resident set size after every epoch. Reports RSS at the start (after
// the first epoch), middle and end, and the growth per epoch (least-squares slope over the
// second half of the run, so warm-up does not count), next to how much the history grows.
//
//   npm run build && node dist/bench/soak.js [--minutes N] [--backends js,native] [--rows R]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableBackends, buildModel, checkpointCallback, loadDigits, parseSpec, setBackend, Tensor } from '../src/index.js';
import type { BackendName } from '../src/index.js';

interface Sample {
  epoch: number;
  seconds: number;
  rss: number;
  heap: number;
  /** Bytes of `JSON.stringify(model.history)`. */
  history: number;
}

const SPEC = {
  input: [784],
  layers: [
    { type: 'dense', units: 256, activation: 'relu', kernelInitializer: 'heNormal' },
    { type: 'dense', units: 128, activation: 'relu', kernelInitializer: 'heNormal' },
    { type: 'dense', units: 10, activation: 'softmax', kernelInitializer: 'heNormal' },
  ],
  loss: 'crossEntropy',
  optimizer: { type: 'adam', learningRate: 0.001 },
  train: { batchSize: 64, seed: 1 },
};

async function child(backend: BackendName, minutes: number, rows: number): Promise<void> {
  setBackend(backend);
  const d = await loadDigits();
  const n = Math.min(rows, d.train.x.shape[0]);
  const x = new Tensor(d.train.x.data.subarray(0, n * 784), [n, 784]);
  const y = new Tensor(d.train.y.data.subarray(0, n * 10), [n, 10]);
  const spec = parseSpec(structuredClone(SPEC));
  const model = buildModel(spec);
  const ckpt = mkdtempSync(join(tmpdir(), 'dendrite-soak-'));
  const t0 = Date.now();
  try {
    // one fit() call: the history grows by one entry per epoch, as in a long run
    model.fit(x, y, {
      epochs: 1_000_000, batchSize: 64,
      callbacks: [checkpointCallback(ckpt, model, spec), {
        onEpochEnd(log, control) {
          const m = process.memoryUsage();
          const s: Sample = { epoch: log.epoch, seconds: (Date.now() - t0) / 1000, rss: m.rss, heap: m.heapUsed, history: JSON.stringify(model.history).length };
          process.stdout.write(JSON.stringify(s) + '\n');
          if (Date.now() - t0 > minutes * 60_000) control.stop();
        },
      }],
    });
  } finally {
    rmSync(ckpt, { recursive: true, force: true });
  }
}

function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den ? num / den : 0;
}

function runChild(backend: BackendName, minutes: number, rows: number): Promise<Sample[]> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [script, '--child', backend, '--minutes', String(minutes), '--rows', String(rows)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.setEncoding('utf8');
    c.stdout.on('data', (s: string) => { out += s; });
    c.on('close', (code) => (code === 0 ? resolve(out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Sample)) : reject(new Error(`${backend}: exit ${code}`))));
  });
}

const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;

async function main(argv: string[]): Promise<void> {
  const get = (k: string) => {
    const i = argv.indexOf(`--${k}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const minutes = Number(get('minutes') ?? '5');
  const nRows = Number(get('rows') ?? '2000');
  if (get('child')) return child(get('child') as BackendName, minutes, nRows);
  const backends = (get('backends')?.split(',') as BackendName[] | undefined) ?? availableBackends();
  const rows: string[][] = [['backend', 'epochs', 's/epoch', 'RSS start', 'RSS middle', 'RSS end', 'RSS/epoch (2nd half)', 'heap/epoch', 'history/epoch']];
  for (const b of backends) {
    process.stderr.write(`soak: ${b}, ${minutes} min, ${nRows} rows …\n`);
    const s = await runChild(b, minutes, nRows);
    const half = s.slice(Math.floor(s.length / 2));
    const ep = half.map((x) => x.epoch);
    const last = s[s.length - 1];
    rows.push([
      b, String(last.epoch), (last.seconds / last.epoch).toFixed(2), mb(s[0].rss), mb(s[Math.floor(s.length / 2)].rss), mb(last.rss),
      `${(slope(ep, half.map((x) => x.rss)) / 1024).toFixed(1)} KB`, `${(slope(ep, half.map((x) => x.heap)) / 1024).toFixed(1)} KB`,
      `${(slope(ep, half.map((x) => x.history)) / 1024).toFixed(2)} KB (JSON)`,
    ]);
  }
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  process.stdout.write(rows.map((r) => r.map((v, c) => v.padEnd(w[c])).join('  ')).join('\n') + '\n');
}

await main(process.argv.slice(2));
