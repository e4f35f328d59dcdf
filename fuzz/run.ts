// `npm run fuzz`: feeds seeded, mutated model directories, CSV and IDX files to the loaders in
// child processes with a time limit per input and an address-space limit (ulimit -v), batching
// many inputs per child, and reports per kind: inputs, typed errors, successes, untyped errors,
// non-finite results, hangs, crashes and the peak RSS of a child.
//
//   npm run fuzz -- [--inputs N] [--kinds model,csv,idx] [--seed S] [--batch B] [--jobs J]
//                   [--timeout MS] [--memory MB] [--json FILE]
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KINDS } from './cases.js';
import type { Kind } from './cases.js';

/** Options of {@link fuzz}. */
export interface FuzzOptions {
  /** Inputs per kind. */
  inputs: number;
  kinds: readonly Kind[];
  /** First input number (inputs are numbered seed, seed + 1, …). */
  seed: number;
  /** Inputs per child process. */
  batch: number;
  /** Child processes at once. */
  jobs: number;
  /** Time limit of one input, ms. */
  timeout: number;
  /** Address-space limit of a child (ulimit -v), MB; 0 = none. */
  memory: number;
  /** Progress lines go here (default: nowhere). */
  log?: (line: string) => void;
  /** Called with the counts so far after every batch (to keep partial results of a long run). */
  onBatch?: (reports: Record<string, KindReport>) => void;
}

/** An input that went wrong, with what it takes to reproduce it. */
export interface FuzzFinding {
  kind: Kind;
  seed: number;
  mutation: string;
  error: string;
}

/** Counts for one input kind. */
export interface KindReport {
  inputs: number;
  typed: number;
  success: number;
  untyped: number;
  nonFinite: number;
  hangs: number;
  crashes: number;
  /** Largest peak resident set size of a child process, bytes. */
  peakRss: number;
  /** The first findings of each bad outcome. */
  findings: (FuzzFinding & { outcome: string })[];
}

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));
const KEEP_FINDINGS = 8;

function emptyReport(): KindReport {
  return { inputs: 0, typed: 0, success: 0, untyped: 0, nonFinite: 0, hangs: 0, crashes: 0, peakRss: 0, findings: [] };
}

interface Result {
  i?: number;
  start?: number;
  outcome?: 'success' | 'typed' | 'untyped' | 'nonFinite';
  mutation?: string;
  error?: string;
  rss?: number;
}

/** Runs inputs [from, to) of a kind in one child; resolves with the first input it did not finish (to when done). */
function runBatch(kind: Kind, from: number, to: number, o: FuzzOptions, rep: KindReport, id: number): Promise<number> {
  const root = join(tmpdir(), `dendrite-fuzz-${process.pid}-${id}`);
  const cmd = o.memory > 0 ? `ulimit -v ${o.memory * 1024}; exec "$0" "$@"` : 'exec "$0" "$@"';
  // WebAssembly reserves its memory's whole address range up front, which an address-space limit
  // refuses: under a limit the loaders are fuzzed on the js backend instead of the wasm one
  const env = o.memory > 0 && process.env.DENDRITE_BACKEND === 'wasm' ? { ...process.env, DENDRITE_BACKEND: 'js' } : process.env;
  const child = spawn('sh', ['-c', cmd, process.execPath, CHILD, kind, String(from), String(to - from), root], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let current: number | null = null;
  let startedAt = 0;
  let lastMutation = '';
  let next = from;
  let buf = '';
  let stderr = '';
  let hung = false;
  const note = (outcome: string, seed: number, mutation: string, error: string) => {
    if (rep.findings.filter((f) => f.outcome === outcome).length < KEEP_FINDINGS) rep.findings.push({ outcome, kind, seed, mutation, error });
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const r = JSON.parse(line) as Result;
      if (r.start !== undefined) {
        current = r.start;
        startedAt = Date.now();
        continue;
      }
      current = null;
      next = r.i! + 1;
      rep.inputs++;
      rep[r.outcome!]++;
      rep.peakRss = Math.max(rep.peakRss, r.rss ?? 0);
      lastMutation = r.mutation ?? '';
      if (r.outcome === 'untyped' || r.outcome === 'nonFinite') note(r.outcome, r.i!, lastMutation, r.error ?? '');
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => { stderr = (stderr + d).slice(-2000); });
  const watch = setInterval(() => {
    if (current !== null && Date.now() - startedAt > o.timeout) {
      hung = true;
      child.kill('SIGKILL');
    }
  }, 200);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearInterval(watch);
      rmSync(root, { recursive: true, force: true });
      if (current === null) {
        if (code !== 0 && next < to) {
          // died between inputs (e.g. while making templates): count nothing, report it
          rep.crashes++;
          note('crash', next, '(between inputs)', `exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
          resolve(next + 1);
          return;
        }
        resolve(to);
        return;
      }
      rep.inputs++;
      if (hung) {
        rep.hangs++;
        note('hang', current, '(see the seed)', `no result within ${o.timeout} ms`);
      } else {
        rep.crashes++;
        note('crash', current, '(see the seed)', `exit ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
      }
      resolve(current + 1);
    });
  });
}

/**
 * Runs the fuzz campaign and returns the counts per kind.
 *
 * @example
 * ```ts
 * const r = await fuzz({ inputs: 200, kinds: ['csv'], seed: 1, batch: 200, jobs: 1, timeout: 10000, memory: 3072 });
 * r.csv.untyped; // 0
 * ```
 */
export async function fuzz(o: FuzzOptions): Promise<Record<string, KindReport>> {
  const reports: Record<string, KindReport> = {};
  const queue: [Kind, number, number][] = [];
  for (const k of o.kinds) {
    reports[k] = emptyReport();
    for (let s = o.seed; s < o.seed + o.inputs; s += o.batch) queue.push([k, s, Math.min(s + o.batch, o.seed + o.inputs)]);
  }
  let id = 0;
  const t0 = Date.now();
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const [kind, from, to] = job;
      const rest = await runBatch(kind, from, to, o, reports[kind], id++);
      if (rest < to) queue.unshift([kind, rest, to]);
      o.onBatch?.(reports);
      const done = Object.values(reports).reduce((s, r) => s + r.inputs, 0);
      o.log?.(`${done} inputs, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
  };
  await Promise.all(Array.from({ length: o.jobs }, worker));
  return reports;
}

/** The report as a text table. */
export function formatReport(r: Record<string, KindReport>): string {
  const head = ['kind', 'inputs', 'typed errors', 'successes', 'untyped errors', 'non-finite', 'hangs', 'crashes', 'peak RSS'];
  const rows = Object.entries(r).map(([k, v]) => [k, v.inputs, v.typed, v.success, v.untyped, v.nonFinite, v.hangs, v.crashes, `${(v.peakRss / 2 ** 20).toFixed(0)} MB`].map(String));
  const total = ['total', ...[1, 2, 3, 4, 5, 6, 7].map((c) => String(rows.reduce((s, row) => s + Number(row[c]), 0))), ''];
  const all = [head, ...rows, total];
  const w = head.map((_, c) => Math.max(...all.map((row) => row[c].length)));
  const lines = all.map((row) => row.map((s, c) => (c === 0 ? s.padEnd(w[c]) : s.padStart(w[c]))).join('  '));
  const findings = Object.values(r).flatMap((v) => v.findings).map((f) => `  ${f.outcome} ${f.kind} seed ${f.seed}: ${f.mutation} → ${f.error}`);
  return [...lines, ...(findings.length ? ['', 'findings (reproduce with --kinds K --seed S --inputs 1):', ...findings] : [])].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const get = (name: string, dflt: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
  };
  const kinds = get('kinds', KINDS.join(',')).split(',') as Kind[];
  for (const k of kinds) if (!(KINDS as readonly string[]).includes(k)) throw new Error(`unknown kind ${k}; kinds: ${KINDS.join(', ')}`);
  const o: FuzzOptions = {
    inputs: Number(get('inputs', '2000')), kinds, seed: Number(get('seed', '1')), batch: Number(get('batch', '1000')),
    jobs: Number(get('jobs', '1')), timeout: Number(get('timeout', '10000')), memory: Number(get('memory', '3072')),
    log: (l) => process.stderr.write(`\r${l}   `),
  };
  const json = get('json', '');
  const save = (r: Record<string, KindReport>, done: boolean) => {
    if (json) writeFileSync(json, JSON.stringify({ options: { ...o, log: undefined, onBatch: undefined }, done, seconds: (Date.now() - t0) / 1000, reports: r }, null, 1));
  };
  o.onBatch = (r) => save(r, false);
  const t0 = Date.now();
  const r = await fuzz(o);
  process.stderr.write('\n');
  const text = formatReport(r);
  process.stdout.write(`${text}\n\n${o.inputs} inputs per kind from seed ${o.seed}, ${((Date.now() - t0) / 1000).toFixed(0)} s, time limit ${o.timeout} ms, memory limit ${o.memory || 'none'} MB\n`);
  save(r, true);
  const bad = Object.values(r).some((v) => v.untyped + v.nonFinite + v.hangs + v.crashes > 0);
  process.exitCode = bad ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main(process.argv.slice(2));
