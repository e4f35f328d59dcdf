/**
 * Renders bench/RESULTS.md from the aggregated measurements of one `npm run bench` run: the
 * machine, the command, a summary against issue 7's targets, and one table per workload.
 */
import type { Workload } from './common.js';

/** The medians (and spread) of one metric over the runs of one configuration. */
export interface Stat {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** One configuration's results on one workload. */
export interface Aggregate {
  workload: Workload;
  system: string;
  variant: string;
  threads?: number;
  metrics: Record<string, Stat>;
  peakRssMiB: number;
  /** How the first run measured (timed batches, epochs for accuracy…). */
  info: Record<string, string | number | boolean>;
  errors: string[];
  runs: number;
}

/** The run as a whole. */
export interface RunInfo {
  date: string;
  command: string;
  seconds: number;
  quick: boolean;
  repeats: number;
  accBudget: number;
  /** A remark for the top of the report (`--note`). */
  note?: string;
  /** The float32 FMA peak measured in this run (bench/fma-peak.c), GFLOP/s; set when W-GEMM ran. */
  fmaPeak?: { isa: string; gflops1: number; gflops2: number };
  machine: {
    cpu: string; cores: number; memoryGiB: number; simd: string; node: string; dendrite: string; backends: string;
    torch: string; numpy: string; tfjs: string; tfjsWasm: string; brainjs: string;
  };
}

const NAMES: Record<string, string> = {
  'dendrite-native': 'dendrite (native)', 'dendrite-wasm': 'dendrite (wasm)', 'dendrite-js': 'dendrite (js)', pytorch: 'PyTorch', numpy: 'numpy',
  onnxruntime: 'ONNX Runtime', 'tfjs-cpu': 'tfjs (cpu)', 'tfjs-wasm': 'tfjs (wasm)', brainjs: 'brain.js',
};
const JS_PEERS = ['tfjs-cpu', 'tfjs-wasm', 'brainjs'];
const TITLES: Record<Workload, string> = {
  gemm: 'W-GEMM — C = A·B, square, GFLOP/s',
  mlp: 'W-MLP — 784→256→128→10, batch 64, SGD 0.05',
  cnn: 'W-CNN — LeNet-style, batch 64, SGD 0.05',
  lstm: 'W-LSTM — 64 symbols, LSTM 128, 32 steps, batch 32, SGD 0.1',
  infer: 'W-INFER — the W-MLP network, forward only',
  attn: 'W-ATTN — Transformer encoder block, batch 32, 128 steps, width 128, 4 heads, GELU, pre-norm, Adam',
};

/** A number with about three significant digits and thousands separators. */
export function fmt(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  const d = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** A ratio: `0.82×`, `19.9×`, `833×`. */
export function fmtRatio(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '–';
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toPrecision(2)}×`;
}

function stat(s: Stat | undefined, digits?: number): string {
  if (!s) return '–';
  const f = (v: number) => (digits !== undefined ? v.toFixed(digits) : fmt(v));
  return s.n > 1 ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median);
}

function name(a: Aggregate): string {
  return NAMES[a.system] ?? a.system;
}

function table(head: string[], rows: string[][]): string {
  const line = (r: string[]) => `| ${r.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Best configuration of a system for one metric (higher is better unless `lower`). */
function best(rs: Aggregate[], system: string | string[], key: string, lower = false, threads?: number): Aggregate | undefined {
  const sys = Array.isArray(system) ? system : [system];
  const cands = rs.filter((r) => sys.includes(r.system) && r.metrics[key] && (threads === undefined || r.threads === threads));
  cands.sort((a, b) => (lower ? a.metrics[key].median - b.metrics[key].median : b.metrics[key].median - a.metrics[key].median));
  return cands[0];
}

/** dendrite's configuration for the summary: the native backend when it ran, else js. */
function dendrite(rs: Aggregate[], key: string, threads?: number): Aggregate | undefined {
  return best(rs, 'dendrite-native', key, false, threads) ?? best(rs, 'dendrite-js', key, false, threads);
}

interface Measure {
  w: Workload;
  key: string;
  label: string;
  lower?: boolean;
  /** dendrite ÷ PyTorch target (for `lower`: at most). */
  target?: number;
  threads?: number;
  /** Compare with numpy instead of PyTorch. */
  vsNumpy?: boolean;
}

const MEASURES: Measure[] = [
  { w: 'gemm', key: 'gflops_N', label: 'W-GEMM N³, 1 thread, GFLOP/s', target: 0.7, threads: 1, vsNumpy: true },
  { w: 'gemm', key: 'gflops_N', label: 'W-GEMM N³, 2 threads, GFLOP/s', target: 0.7, threads: 2, vsNumpy: true },
  { w: 'mlp', key: 'examples_per_s', label: 'W-MLP training, examples/s', target: 1.0 },
  { w: 'mlp', key: 'accuracy', label: 'W-MLP test accuracy' },
  { w: 'cnn', key: 'examples_per_s', label: 'W-CNN training, examples/s', target: 0.8 },
  { w: 'cnn', key: 'accuracy', label: 'W-CNN test accuracy (1 epoch)' },
  { w: 'lstm', key: 'sequences_per_s', label: 'W-LSTM training, sequences/s', target: 1.0 },
  { w: 'infer', key: 'latency_us', label: 'W-INFER latency, µs (lower is better)', lower: true, target: 1.0 },
  { w: 'infer', key: 'batch1000_examples_per_s', label: 'W-INFER batch 1,000, examples/s', target: 0.8 },
  { w: 'attn', key: 'sequences_per_s', label: 'W-ATTN training, sequences/s', target: 1.0 },
];

/** How close dendrite's test accuracy must be to PyTorch's to count as the same. */
const ACC_TOLERANCE = 0.01;

/** `Δ −0.0050 ✓`: dendrite's accuracy minus the reference's. */
function accuracyGap(mine: number | undefined, ref: number | undefined): string {
  if (mine === undefined || ref === undefined) return '';
  const d = mine - ref;
  return `Δ ${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(4)}${Math.abs(d) <= ACC_TOLERANCE ? ' ✓' : ' ✗'}`;
}

/** Issue 13's targets for the WebAssembly backend, against the JavaScript peers of the same run. */
const WASM_MEASURES: { w: Workload; key: string; label: string; peer: string; target: number; lower?: boolean; threads?: number }[] = [
  { w: 'gemm', key: 'gflops_N', label: 'W-GEMM N³, 1 thread, GFLOP/s', peer: 'tfjs-wasm', target: 1.0, threads: 1 },
  { w: 'gemm', key: 'gflops_N', label: 'W-GEMM N³, 2 threads, GFLOP/s', peer: 'tfjs-wasm', target: 1.6, threads: 2 },
  { w: 'mlp', key: 'examples_per_s', label: 'W-MLP training, examples/s', peer: 'tfjs-wasm', target: 4 },
  { w: 'lstm', key: 'sequences_per_s', label: 'W-LSTM training, sequences/s', peer: 'tfjs-wasm', target: 5 },
  { w: 'cnn', key: 'examples_per_s', label: 'W-CNN training, examples/s', peer: 'tfjs-cpu', target: 20 },
  { w: 'infer', key: 'latency_us', label: 'W-INFER latency, µs (lower is better)', peer: 'tfjs-wasm', target: 0.5, lower: true },
];

/** The wasm backend against tfjs (W-GEMM at 2 threads against tfjs-wasm's one thread, as the issue asks). */
function wasmSummary(rs: Aggregate[]): string {
  const rows: string[][] = [];
  for (const m0 of WASM_MEASURES) {
    const mine = rs.filter((r) => r.workload === m0.w);
    let m = m0;
    if (m.key === 'gflops_N') {
      const n = gemmSizes(mine).pop() ?? '?';
      m = { ...m, key: `gflops_${n}`, label: m.label.replace('N³', `${n}³`) };
    }
    const d = best(mine, 'dendrite-wasm', m.key, m.lower, m.threads);
    const peer = best(mine, m.peer, m.key, m.lower);
    if (!d && !peer) continue;
    const v = (a: Aggregate | undefined) => a?.metrics[m.key]?.median;
    const r = v(d) !== undefined && v(peer) !== undefined ? v(d)! / v(peer)! : undefined;
    const ok = r === undefined ? '' : (m.lower ? r <= m.target : r >= m.target) ? ' ✓' : ' ✗';
    const nat = best(mine, 'dendrite-native', m.key, m.lower, m.threads);
    rows.push([m.label, fmt(v(d)), peer ? `${fmt(v(peer))} (${name(peer)})` : '–', `${fmtRatio(r)}${ok}`,
      `${m.lower ? '≤' : '≥'} ${m.target}×`, fmt(v(nat))]);
  }
  return table(['measure', 'dendrite (wasm)', 'JS peer', 'wasm ÷ peer', 'target', 'dendrite (native)'], rows);
}

function summary(rs: Aggregate[]): string {
  const rows: string[][] = [];
  for (const measure of MEASURES) {
    const mine = rs.filter((r) => r.workload === measure.w);
    if (!mine.length) continue;
    let m = measure;
    if (m.key === 'gflops_N') { // the largest size measured
      const n = gemmSizes(mine).pop() ?? '?';
      m = { ...m, key: `gflops_${n}`, label: m.label.replace('N³', `${n}³`) };
    }
    const isAcc = m.key === 'accuracy';
    const d = dendrite(mine, m.key, m.threads);
    const p = best(mine, m.vsNumpy ? ['numpy', 'pytorch'] : 'pytorch', m.key, m.lower, m.threads);
    const ref = m.vsNumpy ? best(mine, 'numpy', m.key, false, m.threads) : p;
    const js = isAcc ? undefined : best(mine, JS_PEERS, m.key, m.lower, m.w === 'gemm' ? undefined : m.threads);
    const v = (a: Aggregate | undefined) => a?.metrics[m.key]?.median;
    const fv = (a: Aggregate | undefined) => (isAcc ? (v(a) !== undefined ? v(a)!.toFixed(4) : '–') : fmt(v(a)));
    const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? a / b : undefined);
    const r = ratio(v(d), v(ref));
    const met = m.target === undefined || r === undefined ? '' : (m.lower ? r <= m.target : r >= m.target) ? ' ✓' : ' ✗';
    const rj = m.lower ? ratio(v(js), v(d)) : ratio(v(d), v(js));
    const refName = ref ? `${name(ref)}${ref.variant && ref.system === 'pytorch' ? `, ${ref.variant}` : ''}` : '';
    rows.push([
      m.label,
      d ? `${fv(d)} ${d.system === 'dendrite-js' ? '(js)' : ''}`.trim() : '–',
      ref ? `${fv(ref)} (${refName})` : '–',
      isAcc ? accuracyGap(v(d), v(ref)) : `${fmtRatio(r)}${met}`,
      m.target === undefined ? (isAcc ? `same as PyTorch (±${ACC_TOLERANCE})` : '') : `${m.lower ? '≤' : '≥'} ${m.target.toFixed(1)}×`,
      js ? `${fv(js)} (${name(js)})` : '–',
      isAcc || rj === undefined ? '' : `${fmtRatio(rj)}${rj >= 20 ? ' ✓' : ' ✗'}`,
      isAcc ? '' : `${fmt(d?.peakRssMiB)} / ${fmt(p?.peakRssMiB)}`,
    ]);
  }
  return table(
    ['measure', 'dendrite', 'reference (best setting)', 'dendrite ÷ reference', 'target', 'fastest JS peer', 'dendrite vs it (target ≥ 20×)', 'peak MiB dendrite / reference'],
    rows,
  );
}

/** The W-GEMM sizes measured, ascending. */
function gemmSizes(rs: Aggregate[]): number[] {
  return [...new Set(rs.flatMap((r) => Object.keys(r.metrics)).map((k) => Number(k.split('_')[1])))].sort((a, b) => a - b);
}

function notes(a: Aggregate): string {
  const i = a.info;
  const parts: string[] = [];
  if (typeof i.timed_batches === 'number') parts.push(i.full_epoch ? 'full epoch' : `${i.timed_batches} batches${i.slow ? ' (slow: capped)' : ''}`);
  if (typeof i.acc_epochs === 'number') parts.push(`accuracy after ${i.acc_epochs} epoch${i.acc_epochs > 1 ? 's' : ''}`);
  for (const k of ['updates', 'loss', 'batch', 'implementation']) if (typeof i[k] === 'string') parts.push(String(i[k]));
  if (a.errors.length) parts.push(`**error:** ${a.errors.join('; ')}`);
  return parts.join('; ');
}

function workloadTable(w: Workload, rs: Aggregate[]): string {
  const mine = rs.filter((r) => r.workload === w);
  if (w === 'gemm') {
    const sizes = gemmSizes(mine).map((n) => `gflops_${n}`);
    const largest = sizes[sizes.length - 1];
    const rows = mine.map((a) => {
      const d = largest ? dendrite(rs.filter((r) => r.workload === 'gemm'), largest, a.threads) : undefined;
      const r = d && largest && a.metrics[largest] ? d.metrics[largest].median / a.metrics[largest].median : undefined;
      return [name(a), a.variant, ...sizes.map((k) => stat(a.metrics[k])), fmt(a.peakRssMiB), fmtRatio(r), notes(a)];
    });
    return table(['system', 'threads', ...sizes.map((k) => `n = ${k.split('_')[1]}`), 'peak MiB', `dendrite ÷ this (n = ${largest?.split('_')[1] ?? '?'}, same threads)`, 'notes'], rows);
  }
  const keys: Record<Exclude<Workload, 'gemm'>, [string, string, boolean][]> = {
    mlp: [['examples_per_s', 'examples/s', false], ['accuracy', 'test accuracy', false]],
    cnn: [['examples_per_s', 'examples/s', false], ['accuracy', 'test accuracy', false]],
    lstm: [['sequences_per_s', 'sequences/s', false], ['timesteps_per_s', 'time-steps/s', false]],
    infer: [['latency_us', 'latency µs (1 example)', true], ['batch1000_examples_per_s', 'batch 1,000: examples/s', false]],
    attn: [['sequences_per_s', 'sequences/s', false]],
  };
  const ks = keys[w];
  const main = ks[0];
  const d = dendrite(mine, main[0]);
  const rows = mine.map((a) => {
    const r = d && a.metrics[main[0]] ? d.metrics[main[0]].median / a.metrics[main[0]].median : undefined;
    return [
      name(a), a.variant || '',
      ...ks.map(([k]) => stat(a.metrics[k], k === 'accuracy' ? 4 : undefined)),
      fmt(a.peakRssMiB), fmtRatio(r), String(a.runs), notes(a),
    ];
  });
  return table(['system', 'setting', ...ks.map(([, l]) => l), 'peak MiB', `dendrite ÷ this (${main[1]}${main[2] ? ', lower is better' : ''})`, 'runs', 'notes'], rows);
}

/** Issue 17's targets: dendrite (native) against PyTorch at its best, ONNX Runtime, and the machine's FMA peak. */
function speedSummary(run: RunInfo, rs: Aggregate[]): string {
  const rows: string[][] = [];
  const v = (a: Aggregate | undefined, k: string) => a?.metrics[k]?.median;
  const row = (label: string, mine: number | undefined, ref: number | undefined, refLabel: string, target: number, lower = false) => {
    const r = mine !== undefined && ref !== undefined ? mine / ref : undefined;
    const ok = r === undefined ? '' : (lower ? r <= target : r >= target) ? ' ✓' : ' ✗';
    rows.push([label, fmt(mine), ref === undefined ? '–' : `${fmt(ref)} (${refLabel})`, `${fmtRatio(r)}${ok}`, `${lower ? '≤' : '≥'} ${target}×`]);
  };
  const on = (w: Workload) => rs.filter((r) => r.workload === w);
  for (const [w, key, label, target] of [
    ['mlp', 'examples_per_s', 'W-MLP training, examples/s', 1.5], ['cnn', 'examples_per_s', 'W-CNN training, examples/s', 2.0],
    ['lstm', 'sequences_per_s', 'W-LSTM training, sequences/s', 2.5],
  ] as const) {
    const torch = best(on(w), 'pytorch', key);
    if (torch || best(on(w), 'dendrite-native', key)) row(label, v(best(on(w), 'dendrite-native', key), key), v(torch, key), `PyTorch, ${torch?.variant ?? ''}`, target);
  }
  const ortLatency = best(on('infer'), 'onnxruntime', 'latency_us', true);
  const ortBatch = best(on('infer'), 'onnxruntime', 'batch1000_examples_per_s');
  if (ortLatency) {
    row('W-INFER latency, µs (lower is better)', v(best(on('infer'), 'dendrite-native', 'latency_us', true), 'latency_us'), v(ortLatency, 'latency_us'),
      `ONNX Runtime, ${ortLatency.variant}`, 0.7, true);
    row('W-INFER batch 1,000, examples/s', v(best(on('infer'), 'dendrite-native', 'batch1000_examples_per_s'), 'batch1000_examples_per_s'),
      v(ortBatch, 'batch1000_examples_per_s'), `ONNX Runtime, ${ortBatch?.variant ?? ''}`, 1.2);
  }
  const sizes = gemmSizes(on('gemm'));
  const n = sizes[sizes.length - 1];
  if (n !== undefined && run.fmaPeak) {
    const g = v(best(on('gemm'), 'dendrite-native', `gflops_${n}`, false, 2), `gflops_${n}`);
    row(`W-GEMM ${n}³, 2 threads, GFLOP/s: share of the FMA peak`, g, run.fmaPeak.gflops2, `measured peak, ${run.fmaPeak.isa}`, 0.85);
  }
  for (const w of ['mlp', 'cnn', 'lstm', 'attn'] as const) {
    const key = w === 'lstm' || w === 'attn' ? 'sequences_per_s' : 'examples_per_s';
    const mine = best(on(w), 'dendrite-native', key);
    const torch = best(on(w), 'pytorch', key);
    if (mine && torch) row(`${TITLES[w].split(' — ')[0]} peak memory, MiB`, mine.peakRssMiB, torch.peakRssMiB, `PyTorch, ${torch.variant}`, 0.75, true);
  }
  return table(['measure', 'dendrite (native)', 'reference', 'dendrite ÷ reference', 'target'], rows);
}

/** The whole of bench/RESULTS.md. */
export function renderResults(run: RunInfo, rs: Aggregate[]): string {
  const m = run.machine;
  const ws = [...new Set(rs.map((r) => r.workload))];
  const out = [
    '# dendrite benchmark results',
    '',
    `Generated by \`${run.command}\` on ${run.date} in ${(run.seconds / 60).toFixed(1)} minutes` +
      `${run.quick ? ' — **quick mode: a few batches per workload, one run each, no accuracy; figures are indicative only**' : ''}.`,
    'What each workload is and how it is measured: [README.md](README.md). Medians over the runs, (min–max) where there',
    `were several (up to ${run.repeats}; a system whose first timed part took over 45 s runs once).`,
    ...(run.note ? ['', `> ${run.note}`] : []),
    '',
    '## Machine',
    '',
    table(['', ''], [
      ['CPU', `${m.cpu}; ${m.cores} cores; ${fmt(m.memoryGiB)} GiB; ${m.simd}`],
      ['Node.js', m.node],
      ['dendrite', `${m.dendrite}; backends: ${m.backends}`],
      ['PyTorch / numpy', `${m.torch} / ${m.numpy} (\`/usr/bin/python3\`, run with \`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE\`)`],
      ['TensorFlow.js', `@tensorflow/tfjs ${m.tfjs}, @tensorflow/tfjs-backend-wasm ${m.tfjsWasm}`],
      ['brain.js', m.brainjs],
    ]),
    '',
    '## Summary (issue 7 targets)',
    '',
    'Ratios are dendrite ÷ reference measured in this run (for latency, lower is better). dendrite is its native',
    'backend where it loaded, else the JavaScript one. The reference is PyTorch at its best thread setting (numpy',
    'for W-GEMM, at the same thread count).',
    '',
    summary(rs),
    '',
    '## Summary (issue 17 targets)',
    '',
    'dendrite\'s native backend against PyTorch at its best thread setting (training), ONNX Runtime at its best',
    `thread setting (inference) and the float32 FMA peak measured in this run (bench/fma-peak.c${run.fmaPeak ? `: ${fmt(run.fmaPeak.gflops1)} GFLOP/s on 1 thread, ${fmt(run.fmaPeak.gflops2)} on 2, ${run.fmaPeak.isa}` : ': not measured'}).`,
    '',
    speedSummary(run, rs),
    '',
    ...(rs.some((r) => r.system === 'dendrite-wasm') ? [
      '## WebAssembly backend (issue 13 targets)',
      '',
      'dendrite\'s wasm backend in Node (the same module runs in browsers) against the fastest JavaScript peer named by',
      'the issue, measured in this run.',
      '',
      wasmSummary(rs),
      '',
    ] : []),
  ];
  for (const w of ws) out.push(`## ${TITLES[w]}`, '', workloadTable(w, rs), '');
  if (!run.quick) out.push(`W-MLP accuracy: 5 epochs where a system trains them within ${run.accBudget} s more, else after 1.`, '');
  return out.join('\n');
}
