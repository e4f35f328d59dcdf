/**
 * `npm run bench` — runs the reference workloads (shared/WORKLOADS.md: W-GEMM, W-MLP, W-CNN,
 * W-LSTM, W-INFER) for dendrite on each backend that loads and, in the same run, for the peers
 * (PyTorch, numpy, TensorFlow.js cpu and wasm, brain.js); writes bench/RESULTS.md.
 *
 * Every measurement runs in its own child process (peak memory is per process); runs are
 * sequential and interleaved (workload → repeat → system), so drift hits every system alike.
 * Usage and the rules of each workload: bench/README.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { availableBackends } from '../src/index.js';
import { WORKLOADS, median } from './common.js';
import type { ChildResult, Workload } from './common.js';
import { renderResults } from './report.js';
import type { Aggregate, RunInfo } from './report.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PY = '/usr/bin/python3';
/** The peers' BLAS must not be pinned to Haswell kernels (see issue 7): unset for their commands only. */
const PY_PREFIX = ['-u', 'OPENBLAS_CORETYPE', '-u', 'OPENBLAS_L2_SIZE'];

/** Every system the bench knows, in table order. */
export const SYSTEMS = ['dendrite-native', 'dendrite-wasm', 'dendrite-js', 'pytorch', 'numpy', 'onnxruntime', 'tfjs-cpu', 'tfjs-wasm', 'brainjs'] as const;
type System = (typeof SYSTEMS)[number];

/** One way to run a system on a workload (a thread setting is a variant). */
interface Config {
  system: System;
  /** Shown next to the system name, e.g. `1 OMP + 2 BLAS threads`. */
  variant: string;
  /** For W-GEMM: the thread count this row stands for. */
  threads?: number;
  command: string;
  args: string[];
  env: Record<string, string>;
  /** Turns the child's stdout into a result, for a script that does not print `RESULT {json}`. */
  parse?: (stdout: string) => ChildResult;
}

const { values: cli } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    workloads: { type: 'string', default: WORKLOADS.join(',') },
    systems: { type: 'string', default: SYSTEMS.join(',') },
    repeats: { type: 'string' },
    'acc-budget': { type: 'string' },
    out: { type: 'string' },
    render: { type: 'string' },
    note: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (cli.help) {
  process.stdout.write(`usage: npm run bench -- [--quick] [--workloads ${WORKLOADS.join(',')}] [--systems ${SYSTEMS.join(',')}]
                       [--repeats N] [--acc-budget SECONDS] [--out FILE]
  --quick       a few batches per workload, one repeat, no accuracy runs (development; minutes)
  --systems     'dendrite' selects both dendrite backends
  --repeats     runs per measurement (default 3; 1 with --quick); a system whose first run's timed part
                exceeds ${45} s is run once
  --acc-budget  seconds a system may spend on W-MLP's extra epochs 2-5 for the accuracy figure (default 300)
  --out         where to write the report (default bench/RESULTS.md, or bench/out/RESULTS-quick.md with --quick)
  --render FILE only rewrite the report from a run's raw results (bench/out/results.json), measuring nothing
  --note TEXT   a remark printed under the report's title (e.g. the state of the machine)
`);
  process.exit(0);
}

const quick = cli.quick!;
const repeats = Number(cli.repeats ?? (quick ? 1 : 3));
const accBudget = Number(cli['acc-budget'] ?? 300);
const SLOW_REPEAT_SECONDS = 45;
const wanted = (list: string, all: readonly string[], what: string) => {
  const xs = list.split(',').map((s) => s.trim()).filter(Boolean).flatMap((s) => (s === 'dendrite' ? ['dendrite-native', 'dendrite-wasm', 'dendrite-js'] : [s]));
  for (const x of xs) if (!all.includes(x)) throw new Error(`unknown ${what} '${x}'; expected some of ${all.join(', ')}`);
  return xs;
};
const workloads = wanted(cli.workloads!, WORKLOADS, 'workload') as Workload[];
const systems = wanted(cli.systems!, SYSTEMS, 'system') as System[];
const outFile = resolve(ROOT, cli.out ?? (quick ? 'bench/out/RESULTS-quick.md' : 'bench/RESULTS.md'));

/** Options of each workload's children, full and quick (the rules are in bench/README.md). */
function workloadArgs(w: Workload, textFile: string): string[] {
  const a = (o: Record<string, string | number>) => Object.entries(o).flatMap(([k, v]) => [`--${k}`, String(v)]);
  switch (w) {
    case 'gemm':
      return a({ 'gemm-sizes': quick ? '256,512' : '256,512,1024' });
    case 'mlp':
      return quick ? a({ warmup: 5, batches: 30 }) : a({ warmup: 50, 'warmup-cap': 60, batches: 0, cap: 600, 'acc-epochs': 5, 'acc-budget': accBudget });
    case 'cnn':
      return quick
        ? a({ warmup: 2, 'warmup-cap': 20, batches: 10, cap: 20 })
        : a({ warmup: 50, 'warmup-cap': 20, batches: 0, 'slow-rate': 100, 'slow-batches': 200, cap: 120, 'acc-epochs': 1 });
    case 'lstm':
      return [...a({ text: textFile, 'slow-rate': 0 }), ...(quick ? a({ warmup: 1, batches: 5, cap: 10 }) : a({ warmup: 5, 'warmup-cap': 20, batches: 200, cap: 60 }))];
    case 'infer':
      return quick ? a({ 'infer-calls': 1000, 'infer-batch-calls': 5 }) : a({ 'infer-calls': 10000, 'infer-batch-calls': 50 });
    case 'attn':
      return quick ? a({ warmup: 1, batches: 3, cap: 60 }) : a({ warmup: 5, 'warmup-cap': 60, batches: 50, cap: 120 });
  }
}

/** The configurations of one system on one workload (none where the system has no such workload). */
function configs(s: System, w: Workload, base: string[], native: boolean): Config[] {
  const node = (file: string, extra: string[] = [], env: Record<string, string> = {}, variant = '', threads?: number): Config =>
    ({ system: s, variant, threads, command: process.execPath, args: [join(ROOT, 'dist/bench', file), '--system', s, '--workload', w, ...base, ...extra], env });
  const py = (omp: number, blas: number, variant: string, threads?: number): Config => ({
    system: s, variant, threads, command: 'env',
    args: [...PY_PREFIX, `OMP_NUM_THREADS=${omp}`, `OPENBLAS_NUM_THREADS=${blas}`, PY, join(ROOT, 'bench/torch_bench.py'),
      '--system', s, '--workload', w, '--omp', String(omp), '--blas', String(blas), ...(threads ? ['--threads', String(threads)] : []), ...base],
    env: {},
  });
  switch (s) {
    case 'dendrite-native':
    case 'dendrite-wasm':
    case 'dendrite-js':
      if (s === 'dendrite-native' && !native) return [];
      if (w === 'lstm') return [lstmByLstmTs(s)];
      if (w === 'attn') return [attnByAttnTs(s)];
      return w !== 'gemm' ? [node('dendrite.js')] : []; // W-GEMM: gemmByGemmTs
    case 'pytorch':
      if (w === 'gemm' || w === 'attn') return [py(1, 1, '1 thread', 1), py(2, 2, '2 threads', 2)];
      return [py(1, 2, '1 OMP + 2 BLAS threads'), py(2, 2, '2 OMP + 2 BLAS threads')];
    case 'numpy':
      return w === 'gemm' ? [py(1, 1, '1 thread', 1), py(2, 2, '2 threads', 2)] : [];
    case 'onnxruntime': // the inference reference: W-INFER only, 1 and 2 intra-op threads
      return w === 'infer' ? [1, 2].map((t) => node('onnxruntime.js', ['--threads', String(t)], {}, `${t} thread${t > 1 ? 's' : ''}`)) : [];
    case 'tfjs-cpu':
    case 'tfjs-wasm':
      if (w === 'attn') return []; // tfjs-layers exports no MultiHeadAttention
      return [node('tfjs.js', w === 'gemm' ? ['--threads', '1'] : [], {}, w === 'gemm' ? '1 thread' : '', w === 'gemm' ? 1 : undefined)];
    case 'brainjs':
      return w === 'mlp' || w === 'lstm' || w === 'infer' ? [node('brainjs.js')] : [];
  }
}

/**
 * dendrite's W-GEMM: bench/gemm.ts (written with the native backend) times `Backend.gemm` into a
 * preallocated C, native on 1 and 2 threads (its `setMaxThreads`) and the reference backend,
 * interleaved over `rounds` rounds, and prints a markdown table of median (min–max) GFLOP/s; its
 * rows become this report's dendrite rows.
 */
function gemmByGemmTs(sizes: string, rounds: number, withNative: boolean, withJs: boolean, withWasm: boolean): Aggregate[] {
  const file = join(ROOT, 'dist/bench/gemm.js');
  const err = (msg: string): Aggregate[] => [{ workload: 'gemm', system: withNative ? 'dendrite-native' : 'dendrite-js', variant: '', metrics: {}, peakRssMiB: NaN, info: {}, errors: [msg], runs: 1 }];
  if (!existsSync(file)) return err('bench/gemm.ts is missing');
  process.stderr.write(`bench: gemm · dendrite (bench/gemm.ts, ${rounds} rounds)\n`);
  const r = spawnSync(process.execPath, [file, '--sizes', sizes, '--js-sizes', withJs ? sizes : '', '--rounds', String(rounds),
    ...(withWasm ? [] : ['--no-wasm'])], {
    cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 30 * 60_000,
  });
  const lines = (r.stdout ?? '').split('\n');
  const head = lines.findIndex((l) => l.startsWith('| system |'));
  if (r.status !== 0 || head < 0) return err(`bench/gemm.ts exited with ${r.status ?? r.signal} and printed no table`);
  const ns = [...lines[head].matchAll(/n = (\d+)/g)].map((m) => Number(m[1]));
  const out: Aggregate[] = [];
  for (const line of lines.slice(head + 2)) {
    if (!line.startsWith('|')) break;
    const [label, ...cells] = line.split('|').slice(1, -1).map((c) => c.trim());
    const nat = label.match(/^dendrite (native|wasm), (\d+) thread/);
    const system = nat ? `dendrite-${nat[1]}` : /^dendrite js/.test(label) ? 'dendrite-js' : null;
    if (!system || (system === 'dendrite-native' && !withNative) || (system === 'dendrite-js' && !withJs)) continue;
    const threads = nat ? Number(nat[2]) : 1;
    const metrics: Aggregate['metrics'] = {};
    cells.forEach((c, i) => {
      const m = c.match(/^([\d.]+) \(([\d.]+)–([\d.]+)\)$/);
      if (m && ns[i]) metrics[`gflops_${ns[i]}`] = { median: Number(m[1]), min: Number(m[2]), max: Number(m[3]), n: rounds };
    });
    out.push({ workload: 'gemm', system, variant: `${threads} thread${threads > 1 ? 's' : ''}`, threads, metrics, peakRssMiB: NaN, info: { implementation: 'bench/gemm.ts (Backend.gemm)' }, errors: [], runs: rounds });
  }
  return out.length ? out : err('bench/gemm.ts printed no dendrite rows');
}

/** The last line of a child's output that is a JSON object (the scripts that print one line of results). */
function lastJsonLine(stdout: string, script: string): Record<string, number> {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith('{'));
  if (!line) throw new Error(`${script} printed no JSON line`);
  return JSON.parse(line) as Record<string, number>;
}

/**
 * dendrite's W-LSTM: bench/lstm.ts (written with the recurrent layers) trains
 * `Sequential([LSTM 128, Dense 64 softmax])` with `Model.fit` on a fixed number of batches, each
 * built when fit asks for it (a BatchSource, as PyTorch's bench builds its batches), and prints one
 * JSON line. It has no time cap, so the reference backend gets fewer
 * batches.
 */
function lstmByLstmTs(s: 'dendrite-native' | 'dendrite-wasm' | 'dendrite-js'): Config {
  const batches = quick ? 5 : s === 'dendrite-js' ? 40 : 200;
  return {
    system: s, variant: '', command: process.execPath,
    args: [join(ROOT, 'dist/bench/lstm.js'), '--backend', s.slice('dendrite-'.length), '--batches', String(batches),
      '--warmup', quick ? '1' : '5', '--text', join(ROOT, 'bench/out/lstm-text.txt')],
    env: {},
    parse(stdout) {
      const j = lastJsonLine(stdout, 'bench/lstm.ts');
      return {
        workload: 'lstm', system: s,
        metrics: { sequences_per_s: j.sequences_per_s, timesteps_per_s: j.steps_per_s },
        info: { timed_batches: j.batches, timed_seconds: j.seconds, implementation: 'bench/lstm.ts (Model.fit on a BatchSource: one-hot batches built per batch)' },
        peakRssMiB: j.peak_rss_mib,
      };
    },
  };
}

/**
 * dendrite's W-ATTN: bench/attn.ts (written with TransformerEncoderBlock and a plain training loop)
 * times 50 steps after 5 warm-up steps on one fixed batch (quick: 3 after 1; the js backend: 2
 * after 1) and prints one JSON line.
 */
function attnByAttnTs(s: 'dendrite-native' | 'dendrite-wasm' | 'dendrite-js'): Config {
  const js = s === 'dendrite-js';
  return {
    system: s, variant: '', command: process.execPath,
    args: [join(ROOT, 'dist/bench/attn.js'), '--backend', s.slice('dendrite-'.length),
      '--steps', String(quick ? 3 : js ? 2 : 50), '--warmup', quick || js ? '1' : '5'],
    env: {},
    parse(stdout) {
      const j = lastJsonLine(stdout, 'bench/attn.ts');
      return {
        workload: 'attn', system: s,
        metrics: { sequences_per_s: j.sequences_per_s },
        info: { timed_steps: j.steps, timed_seconds: j.seconds, implementation: 'bench/attn.ts (TransformerEncoderBlock, plain training loop)' },
        peakRssMiB: j.peak_rss_mib,
      };
    },
  };
}

/** Runs one child and returns its result (an error result if it printed none). */
function runOne(c: Config, w: Workload): { result: ChildResult; wall: number } {
  const t0 = performance.now();
  const r = spawnSync(c.command, c.args, {
    cwd: ROOT, env: { ...process.env, ...c.env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20, timeout: 45 * 60_000,
  });
  const wall = (performance.now() - t0) / 1000;
  let why = r.error ? r.error.message : `exited with ${r.status ?? r.signal} and printed no result`;
  if (r.status === 0 && c.parse) {
    try {
      return { result: c.parse(r.stdout), wall };
    } catch (e) {
      why = (e as Error).message;
    }
  }
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (line) return { result: JSON.parse(line.slice(7)) as ChildResult, wall };
  return { result: { workload: w, system: c.system, metrics: {}, info: {}, peakRssMiB: NaN, error: why }, wall };
}

/** Text for W-LSTM: deterministic pseudo-English in ASCII (content does not change the timing). */
function writeLstmText(file: string): void {
  const words = ('the of and to in is was that for on as with by at from his her are were this which be or an have had not but ' +
    'neuron network layer weight gradient error signal input output hidden learning rate memory cell gate state time step ' +
    'sequence word text model train test batch epoch loss value function vector matrix sum product').split(' ');
  let x = 12345;
  const rand = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const out: string[] = [];
  let len = 0;
  while (len < 200_000) {
    const n = 5 + rand(12);
    const s: string[] = [];
    for (let i = 0; i < n; i++) s.push(words[rand(words.length)]);
    const sentence = s.join(' ');
    const line = sentence[0].toUpperCase() + sentence.slice(1) + (rand(5) === 0 ? '; ' : rand(4) === 0 ? '? ' : '. ');
    out.push(line);
    len += line.length;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, out.join(''), 'latin1');
}

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

/**
 * The machine's float32 FMA peak on 1 and 2 threads, measured now (bench/fma-peak.c, compiled
 * with the system's gcc into bench/out): what W-GEMM's GFLOP/s are a share of. Undefined where no
 * C compiler is found or the probe fails.
 */
function fmaPeak(): RunInfo['fmaPeak'] {
  const exe = join(ROOT, 'bench/out/fma-peak');
  mkdirSync(dirname(exe), { recursive: true });
  const cc = spawnSync('gcc', ['-O3', '-pthread', join(ROOT, 'bench/fma-peak.c'), '-o', exe], { encoding: 'utf8' });
  if (cc.status !== 0) {
    process.stderr.write(`bench: the FMA peak probe did not build (${cc.error?.message ?? cc.stderr.trim()}); W-GEMM shows no share of peak\n`);
    return undefined;
  }
  const out = sh(exe, []);
  try {
    const j = JSON.parse(out) as { isa: string; gflops_1: number; gflops_2: number };
    process.stderr.write(`bench: FMA peak ${j.gflops_1} GFLOP/s on 1 thread, ${j.gflops_2} on 2 (${j.isa})\n`);
    return { isa: j.isa, gflops1: j.gflops_1, gflops2: j.gflops_2 };
  } catch {
    process.stderr.write(`bench: the FMA peak probe printed ${JSON.stringify(out)}; W-GEMM shows no share of peak\n`);
    return undefined;
  }
}

function machine(native: boolean): RunInfo['machine'] {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  const field = (k: string) => info.match(new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm'))?.[1] ?? '?';
  const flags = field('flags').split(' ');
  const pkg = (name: string) => {
    try {
      return (JSON.parse(readFileSync(join(ROOT, 'bench/peers/node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      return 'not installed';
    }
  };
  const py = sh('env', [...PY_PREFIX, PY, '-c', 'import torch, numpy; print(torch.__version__, numpy.__version__)']).split(' ');
  const commit = sh('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['status', '--porcelain', '--untracked-files=no']) ? ' + uncommitted changes' : '';
  return {
    cpu: `${field('model name')} (family ${field('cpu family')}, model ${field('model')})`,
    cores: cpus().length,
    memoryGiB: totalmem() / 2 ** 30,
    simd: ['avx2', 'avx512f', 'avx512_bf16', 'avx512_vnni'].filter((f) => flags.includes(f)).join(', '),
    node: process.version,
    dendrite: `${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version} (commit ${commit || '?'}${dirty})`,
    backends: native ? 'js, native' : 'js (the native backend did not load)',
    torch: py[0] || 'not found',
    numpy: py[1] || 'not found',
    tfjs: pkg('@tensorflow/tfjs'),
    tfjsWasm: pkg('@tensorflow/tfjs-backend-wasm'),
    brainjs: pkg('brain.js'),
  };
}

function aggregate(c: Config, w: Workload, results: ChildResult[]): Aggregate {
  const ok = results.filter((r) => !r.error);
  const names = [...new Set(ok.flatMap((r) => Object.keys(r.metrics)))];
  const metrics: Aggregate['metrics'] = {};
  for (const k of names) {
    const xs = ok.map((r) => r.metrics[k]).filter((v) => typeof v === 'number' && Number.isFinite(v));
    if (xs.length) metrics[k] = { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
  }
  return {
    workload: w, system: c.system, variant: c.variant, threads: c.threads,
    metrics,
    peakRssMiB: ok.length ? Math.max(...ok.map((r) => r.peakRssMiB)) : NaN,
    info: ok[0]?.info ?? {},
    errors: [...new Set(results.filter((r) => r.error).map((r) => r.error!))],
    runs: results.length,
  };
}

async function main(): Promise<void> {
  if (cli.render) {
    const { run, results } = JSON.parse(readFileSync(resolve(cli.render), 'utf8')) as { run: RunInfo; results: Aggregate[] };
    if (cli.note !== undefined) run.note = cli.note;
    const out = resolve(ROOT, cli.out ?? (run.quick ? 'bench/out/RESULTS-quick.md' : 'bench/RESULTS.md'));
    writeFileSync(out, renderResults(run, results));
    process.stderr.write(`bench: rendered ${relative(ROOT, out)} from ${cli.render}\n`);
    return;
  }
  const started = new Date();
  const t0 = performance.now();
  const native = availableBackends().includes('native');
  if (systems.includes('dendrite-native') && !native) process.stderr.write('bench: the native backend is not available; dendrite runs on js only\n');
  if (systems.some((s) => s.startsWith('tfjs') || s === 'brainjs') && !existsSync(join(ROOT, 'bench/peers/node_modules'))) {
    throw new Error('peer packages are missing: run `npm install --prefix bench/peers` first (or leave out --systems tfjs-cpu,tfjs-wasm,brainjs)');
  }
  const textFile = join(ROOT, 'bench/out/lstm-text.txt');
  if (workloads.includes('lstm')) writeLstmText(textFile);
  const all: Aggregate[] = [];
  let peak: RunInfo['fmaPeak'];
  for (const w of workloads) {
    if (w === 'gemm') peak = fmaPeak();
    if (w === 'gemm' && (systems.includes('dendrite-js') || systems.includes('dendrite-wasm') || (native && systems.includes('dendrite-native')))) {
      all.push(...gemmByGemmTs(quick ? '256,512' : '256,512,1024', quick ? 1 : 5, native && systems.includes('dendrite-native'),
        systems.includes('dendrite-js'), systems.includes('dendrite-wasm')));
    }
    const base = workloadArgs(w, textFile);
    const cs = systems.flatMap((s) => configs(s, w, base, native));
    const results = new Map<Config, ChildResult[]>(cs.map((c) => [c, []]));
    const once = new Set<Config>(); // slow or failing: not run again
    for (let r = 0; r < repeats; r++) {
      for (const c of cs) {
        if (once.has(c)) continue;
        const done = results.get(c)!;
        const label = `${w} · ${c.system}${c.variant ? ` (${c.variant})` : ''} · run ${r + 1}/${repeats}`;
        process.stderr.write(`bench: ${label}\n`);
        // accuracy (more epochs) only in the first run; later runs time the same part again
        const args = r === 0 || (w !== 'mlp' && w !== 'cnn') ? c.args : [...c.args, '--acc-epochs', '0'];
        const { result, wall } = runOne({ ...c, args }, w);
        done.push(result);
        const timed = typeof result.info.timed_seconds === 'number' ? result.info.timed_seconds : wall;
        if (result.error) process.stderr.write(`bench:   error: ${result.error}\n`);
        if (result.error || timed > SLOW_REPEAT_SECONDS) once.add(c);
      }
    }
    for (const c of cs) all.push(aggregate(c, w, results.get(c)!));
  }
  const seconds = (performance.now() - t0) / 1000;
  const argv = process.argv.slice(2);
  const run: RunInfo = {
    date: started.toISOString().replace(/\.\d+Z$/, 'Z'),
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    seconds, quick, repeats, accBudget, note: cli.note,
    machine: machine(native),
    fmaPeak: peak,
  };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, renderResults(run, all));
  const jsonFile = join(ROOT, 'bench/out', quick ? 'results-quick.json' : 'results.json');
  mkdirSync(dirname(jsonFile), { recursive: true });
  writeFileSync(jsonFile, JSON.stringify({ run, results: all }, null, 1));
  process.stderr.write(`bench: done in ${(seconds / 60).toFixed(1)} min; wrote ${relative(ROOT, outFile)} and ${relative(ROOT, jsonFile)}\n`);
}

await main();
