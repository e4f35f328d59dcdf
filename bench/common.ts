/**
 * Shared pieces of the benchmark's child processes (dendrite, tfjs, brain.js): the command-line
 * protocol, the result line, timing statistics, the Fashion-MNIST and W-LSTM data, and the
 * training-measurement policy every JavaScript system follows (bench/torch_bench.py mirrors it).
 *
 * Protocol: the runner (bench/run.ts) starts one child per (system, workload, repeat); the child
 * prints progress on stderr and exactly one line `RESULT {json}` on stdout.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng, loadIdxDataset } from '../src/index.js';
import type { ImageDataset } from '../src/index.js';

/** The workloads of shared/WORKLOADS.md. */
export const WORKLOADS = ['gemm', 'mlp', 'cnn', 'lstm', 'infer', 'attn'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** What a child reports. Metric names are listed in bench/README.md. */
export interface ChildResult {
  workload: Workload;
  system: string;
  metrics: Record<string, number>;
  /** Facts about how the figure was taken (batches timed, epochs trained, thread setting…). */
  info: Record<string, string | number | boolean>;
  /** Peak resident set size of the child process, MiB. */
  peakRssMiB: number;
  error?: string;
}

/** Options every child understands (the runner passes them all; see bench/run.ts). */
export interface ChildOptions {
  workload: Workload;
  system: string;
  data: string;
  text: string;
  seed: number;
  /** Untimed training batches before the timed part… */
  warmup: number;
  /** …stopping after this many seconds (at least one batch). */
  warmupCap: number;
  /** Timed batches at most (0 = one full epoch). */
  batches: number;
  /** A system slower than `slowRate` examples/s in warm-up is timed over at most `slowBatches` batches… */
  slowRate: number;
  slowBatches: number;
  /** …and at most `cap` seconds (any system: the timed part stops after `cap` seconds). */
  cap: number;
  /** Epochs after which test accuracy is measured (0 = none)… */
  accEpochs: number;
  /** …if the system can train them within this many seconds (else after 1 epoch if that fits, else none). */
  accBudget: number;
  /** W-INFER: single-example calls timed, and batch-1000 calls timed. */
  inferCalls: number;
  inferBatchCalls: number;
  /** W-GEMM sizes. */
  gemmSizes: number[];
  /** W-GEMM: thread count the child was started for (informational; set through the environment). */
  threads: number;
}

/** Parses the child's command line (all options are `--name value`). */
export function childOptions(argv = process.argv.slice(2)): ChildOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      workload: { type: 'string' }, system: { type: 'string', default: '' },
      data: { type: 'string', default: '/usr/share/datasets/fashion-mnist' },
      text: { type: 'string', default: '' }, seed: { type: 'string', default: '1' },
      warmup: { type: 'string', default: '50' }, 'warmup-cap': { type: 'string', default: '1e9' }, batches: { type: 'string', default: '0' },
      'slow-rate': { type: 'string', default: '100' }, 'slow-batches': { type: 'string', default: '200' },
      cap: { type: 'string', default: '1e9' },
      'acc-epochs': { type: 'string', default: '0' }, 'acc-budget': { type: 'string', default: '900' },
      'infer-calls': { type: 'string', default: '10000' }, 'infer-batch-calls': { type: 'string', default: '50' },
      'gemm-sizes': { type: 'string', default: '256,512,1024' }, threads: { type: 'string', default: '0' },
    },
  });
  const w = values.workload as Workload;
  if (!WORKLOADS.includes(w)) throw new Error(`--workload must be one of ${WORKLOADS.join(', ')}, received ${String(w)}`);
  const num = (k: keyof typeof values) => Number(values[k]);
  return {
    workload: w, system: values.system!, data: values.data!, text: values.text!, seed: num('seed'),
    warmup: num('warmup'), warmupCap: num('warmup-cap'), batches: num('batches'), slowRate: num('slow-rate'), slowBatches: num('slow-batches'),
    cap: num('cap'), accEpochs: num('acc-epochs'), accBudget: num('acc-budget'),
    inferCalls: num('infer-calls'), inferBatchCalls: num('infer-batch-calls'),
    gemmSizes: values['gemm-sizes']!.split(',').map(Number), threads: num('threads'),
  };
}

/** Peak resident set size of this process so far, MiB. */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Prints the result line the runner reads. */
export function emit(r: Omit<ChildResult, 'peakRssMiB'>): void {
  process.stdout.write(`RESULT ${JSON.stringify({ ...r, peakRssMiB: peakRssMiB() })}\n`);
}

/**
 * Runs a child's main function and reports its result, or the error it threw (as a result with
 * `error`, so one failing system does not stop the run).
 */
export async function runChild(system: string, main: (o: ChildOptions) => Promise<Omit<ChildResult, 'peakRssMiB'>>): Promise<void> {
  const o = childOptions();
  try {
    emit(await main({ ...o, system: o.system || system }));
  } catch (e) {
    const err = e as Error;
    progress(`${o.system || system} ${o.workload}: ${err.stack ?? err.message}`);
    emit({ workload: o.workload, system: o.system || system, metrics: {}, info: {}, error: err.message.split('\n')[0] });
  }
}

/** A progress line on stderr. */
export function progress(msg: string): void {
  process.stderr.write(`  · ${msg}\n`);
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Seconds since `t0` (a `performance.now()` reading). */
export function since(t0: number): number {
  return (performance.now() - t0) / 1000;
}

/**
 * Times `call` until `minSeconds` have passed and at least `minCalls` calls ran (at most
 * `maxCalls`); returns the median seconds per call. Used by W-GEMM and W-INFER's batch part.
 */
export async function medianCall(call: () => unknown, minCalls: number, maxCalls: number, minSeconds: number): Promise<number> {
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < maxCalls && (times.length < minCalls || since(t0) < minSeconds)) {
    const t = performance.now();
    await call();
    times.push(since(t));
  }
  return median(times);
}

/**
 * W-INFER's protocol for one system: `single()` runs one example through the network (result
 * read back into JS), `batch()` runs 1,000. Warm-up, then the median of `inferCalls` single calls
 * (latency, µs) and of at most `inferBatchCalls` batch calls, ≥ 5 and ≥ 2 s (examples/s).
 */
export async function inferWorkload(o: ChildOptions, single: () => unknown, batch: () => unknown): Promise<Record<string, number>> {
  const warm = Math.min(1000, o.inferCalls);
  for (let i = 0; i < warm; i++) await single();
  const times = new Float64Array(o.inferCalls);
  for (let i = 0; i < o.inferCalls; i++) {
    const t = performance.now();
    await single();
    times[i] = performance.now() - t;
  }
  const latencyUs = median(Array.from(times)) * 1000;
  for (let i = 0; i < 3; i++) await batch();
  const perBatch = await medianCall(batch, Math.min(5, o.inferBatchCalls), o.inferBatchCalls, 2);
  return { latency_us: latencyUs, batch1000_examples_per_s: 1000 / perBatch };
}

/**
 * W-GEMM for one system: C = A·B for each square size, median seconds per call over ≥ 5 calls
 * and ≥ 1 s (at most 200 calls); GFLOP/s = 2n³ / seconds.
 */
export async function gemmWorkload(o: ChildOptions, prepare: (n: number) => () => unknown): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const n of o.gemmSizes) {
    const call = prepare(n);
    await call();
    const s = await medianCall(call, 5, 200, 1);
    out[`gflops_${n}`] = (2 * n * n * n) / s / 1e9;
    progress(`gemm ${n}: ${out[`gflops_${n}`].toFixed(1)} GFLOP/s`);
  }
  return out;
}

/** The W-INFER network's input: `rows` examples of 784 uniform values in [0, 1) (seeded). */
export function inferInput(rows: number, seed = 7): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(rows * 784);
  for (let i = 0; i < x.length; i++) x[i] = rng.next();
  return x;
}

/** Square matrices for W-GEMM (seeded uniform values). */
export function gemmOperands(n: number): [Float32Array, Float32Array] {
  const rng = new Rng(n);
  const a = new Float32Array(n * n);
  const b = new Float32Array(n * n);
  for (let i = 0; i < a.length; i++) a[i] = rng.next();
  for (let i = 0; i < b.length; i++) b[i] = rng.next();
  return [a, b];
}

/**
 * A system's training loop as the measurement policy sees it. `run(n, stopAfter)` trains the first
 * `n` batches of a freshly shuffled epoch (n = batchesPerEpoch: the whole epoch), stopping early once
 * `stopAfter` seconds have passed; it returns the number of batches trained.
 */
export interface Trainer {
  batchesPerEpoch: number;
  batchSize: number;
  run(n: number, stopAfter: number): Promise<number>;
  /** Test-set accuracy of the current weights. */
  accuracy(): Promise<number>;
}

/**
 * The training measurement of W-MLP and W-CNN (W-LSTM uses it with accEpochs = 0):
 * 1. `warmup` untimed batches (stopping after `warmupCap` seconds);
 * 2. timed: one freshly shuffled epoch (or `batches` batches when given); a system slower than
 *    `slowRate` examples/s in warm-up is timed over at most `slowBatches` batches; the timed part
 *    stops after `cap` seconds in any case. Rate = examples trained / seconds.
 * 3. accuracy: if the timed part was a whole epoch and `accEpochs` > 0, train up to `accEpochs`
 *    epochs in total if the projected time fits `accBudget` (else up to 1 epoch, which it is
 *    already), then test accuracy.
 * Returns the metrics and how they were taken.
 */
export async function trainingMeasure(o: ChildOptions, t: Trainer, unit = 'examples_per_s'): Promise<{ metrics: Record<string, number>; info: Record<string, number | boolean> }> {
  let warmRate = Infinity;
  if (o.warmup > 0) {
    const t0 = performance.now();
    const done = await t.run(o.warmup, o.warmupCap);
    warmRate = (done * t.batchSize) / since(t0);
    progress(`warm-up: ${done} batches, ${warmRate.toFixed(1)} ${unit.replace(/_/g, ' ')}`);
  }
  let limit = o.batches > 0 ? Math.min(o.batches, t.batchesPerEpoch) : t.batchesPerEpoch;
  const slow = warmRate < o.slowRate;
  if (slow) limit = Math.min(limit, o.slowBatches);
  const t0 = performance.now();
  const done = await t.run(limit, o.cap);
  const seconds = since(t0);
  const rate = (done * t.batchSize) / seconds;
  progress(`timed: ${done} batches in ${seconds.toFixed(2)} s, ${rate.toFixed(1)} ${unit.replace(/_/g, ' ')}`);
  const metrics: Record<string, number> = { [unit]: rate };
  const info: Record<string, number | boolean> = { timed_batches: done, timed_seconds: seconds, full_epoch: done === t.batchesPerEpoch, slow };
  if (o.accEpochs > 0 && done === t.batchesPerEpoch) {
    const epochSeconds = seconds;
    let epochs = 1;
    if (o.accEpochs > 1 && (o.accEpochs - 1) * epochSeconds <= o.accBudget) {
      for (; epochs < o.accEpochs; epochs++) {
        await t.run(t.batchesPerEpoch, 1e9);
        progress(`epoch ${epochs + 1} done`);
      }
    }
    metrics.accuracy = await t.accuracy();
    info.acc_epochs = epochs;
    progress(`test accuracy after ${epochs} epoch(s) (+${o.warmup} warm-up batches): ${metrics.accuracy.toFixed(4)}`);
  }
  return { metrics, info };
}

/** Shuffled batch order: a new permutation of the training set per epoch, from a seeded generator. */
export class EpochOrder {
  private readonly rng: Rng;
  constructor(readonly n: number, seed: number) {
    this.rng = new Rng(seed);
  }
  next(): Int32Array {
    return this.rng.permutation(this.n);
  }
}

/** Index of the largest value of each row. */
export function argmaxRows(x: ArrayLike<number>, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let b = 0;
    for (let j = 1; j < cols; j++) if (x[r * cols + j] > x[r * cols + b]) b = j;
    out[r] = b;
  }
  return out;
}

/**
 * Loads Fashion-MNIST with dendrite's IDX loader: images [N, 1, 28, 28] in [0, 1], one-hot labels
 * [N, 10] and class indices. Peers call `setBackend('js')` first, so the tensors' data are plain
 * `Float32Array`s they can copy into their own tensors.
 */
export async function fashion(o: ChildOptions): Promise<ImageDataset> {
  const t0 = performance.now();
  const d = await loadIdxDataset(o.data);
  progress(`Fashion-MNIST loaded (${d.train.labels.length} train / ${d.test.labels.length} test) in ${since(t0).toFixed(1)} s`);
  return d;
}

// ---------------------------------------------------------------- W-LSTM data

/** W-LSTM sizes (shared/WORKLOADS.md). */
export const LSTM = { vocab: 64, hidden: 128, steps: 32, batch: 32, learningRate: 0.1 } as const;

/**
 * Maps ASCII text into the 64 symbols of W-LSTM: lower case folded to upper case, then
 * (code − 32) mod 64 (so space..underscore are symbols 0..63; controls fold in too).
 */
export function textSymbols(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i) & 127;
    if (c >= 97 && c <= 122) c -= 32;
    out[i] = (((c - 32) % 64) + 64) % 64;
  }
  return out;
}

/** The symbols of the W-LSTM text file the runner wrote. */
export function lstmSymbols(o: ChildOptions): Uint8Array {
  if (!o.text) throw new Error('W-LSTM needs --text FILE (the runner writes it)');
  return textSymbols(readFileSync(o.text, 'latin1'));
}

/**
 * Start offset of sequence j: sequences are consecutive windows of 33 symbols (32 inputs, the next
 * 32 as targets), wrapping around the text. Batch b holds sequences b·32 … b·32+31. Every system
 * trains on exactly these batches, in this order.
 */
export function sequenceStart(j: number, textLength: number): number {
  return (j * LSTM.steps) % (textLength - LSTM.steps - 1);
}

/** The benchmark's peer packages (bench/peers/node_modules), loaded with `require`. */
export function peerRequire(): NodeRequire {
  const dir = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench/peers');
  if (!existsSync(join(dir, 'node_modules'))) {
    throw new Error(`peer packages are not installed: run \`npm install --prefix bench/peers\``);
  }
  return createRequire(join(dir, 'package.json'));
}

/**
 * W-LSTM's measurement for one system: `step()` trains one batch (the system's next batch of
 * {@link sequenceStart} windows); warm-up, then timed batches (see {@link trainingMeasure}).
 * Reports sequences/s and time-steps/s (sequences × 32).
 */
export async function lstmMeasure(o: ChildOptions, step: () => unknown): Promise<{ metrics: Record<string, number>; info: Record<string, number | boolean> }> {
  const r = await trainingMeasure({ ...o, accEpochs: 0 }, {
    batchSize: LSTM.batch,
    batchesPerEpoch: Number.MAX_SAFE_INTEGER,
    async run(batches, stopAfter) {
      const t0 = performance.now();
      let done = 0;
      while (done < batches && since(t0) <= stopAfter) {
        await step();
        done++;
      }
      return done;
    },
    async accuracy() {
      return NaN;
    },
  }, 'sequences_per_s');
  r.metrics.timesteps_per_s = r.metrics.sequences_per_s * LSTM.steps;
  return r;
}

/** W-ATTN sizes (shared/WORKLOADS.md): one pre-norm Transformer encoder block, GELU, Adam. */
export const ATTN = { batch: 32, steps: 128, width: 128, heads: 4, ffDim: 512, learningRate: 1e-3 } as const;
