// Fuzz inputs for the readers of files from strangers: model directories, CSV files and IDX
// files, each made from a valid file by one or more seeded mutations (bit flips, truncation,
// huge header dimensions, non-finite numbers, path tricks, wrong JSON types, symlinks, FIFOs),
// and the code that runs them. Every input is made from (kind, seed) alone, so any result can
// be reproduced with `npm run fuzz -- --kind K --seed S --inputs 1`.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  DendriteError, Rng, buildModel, parseSpec, saveModel, loadModel, tensorTableDigest, readCsv, selectColumns, prepareTable,
  readIdx, readIdxImages, readIdxLabels, loadIdxDataset, zeros,
} from '../src/index.js';
import type { StoredTensor, Tensor } from '../src/index.js';

/** The input kinds the harness knows. */
export const KINDS = ['model', 'csv', 'idx'] as const;
export type Kind = (typeof KINDS)[number];

/** What running one input gave. `nonFinite`: it loaded, but produced NaN/Inf (a defect). */
export type Outcome = 'success' | 'typed' | 'untyped' | 'nonFinite';

export interface CaseResult {
  outcome: Outcome;
  /** The mutations applied, e.g. `json-field tensors[2].offset=null`. */
  mutation: string;
  /** Error name and message (typed and untyped errors). */
  error?: string;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Values that have broken loaders: wrong types, prototype names, path tricks, huge numbers. */
const NASTY: unknown[] = [
  null, true, -1, 0, 0.5, 1e9, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, '', 'x', '1', 'NaN', 'Infinity', '../x', '/etc/passwd',
  '../../../../dev/zero', 'constructor', '__proto__', 'toString', 'hasOwnProperty', [], [null], [1e9], [-1], {}, { __proto__: null }, [[]], { length: 1e9 },
];

class Gen {
  readonly rng: Rng;
  constructor(readonly seed: number) {
    this.rng = new Rng(seed);
  }
  int(n: number): number {
    return this.rng.int(n);
  }
  chance(p: number): boolean {
    return this.rng.uniform(0, 1) < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  /** A JSON value from fast-check's generator (seeded), or one of the known nasty ones. */
  value(): unknown {
    if (this.chance(0.6)) return structuredClone(this.pick(NASTY));
    return fc.sample(fc.jsonValue({ maxDepth: 2 }), { seed: this.rng.nextUint32() | 0, numRuns: 1 })[0];
  }
  /** A short string from fast-check (any unicode, quotes, delimiters, line ends). */
  text(): string {
    return fc.sample(fc.string({ unit: this.chance(0.5) ? 'binary' : 'grapheme-ascii', maxLength: 12 }), { seed: this.rng.nextUint32() | 0, numRuns: 1 })[0];
  }
  flipBits(b: Uint8Array, count: number, from = 0): void {
    if (b.length <= from) return;
    for (let i = 0; i < count; i++) b[from + this.int(b.length - from)] ^= 1 << this.int(8);
  }
}

// ---------------------------------------------------------------- model directories

/** Small specs of every family (dense, conv, recurrent, batch norm, embedding), some as checkpoints. */
const MODEL_SPECS: { spec: Record<string, unknown>; checkpoint: boolean }[] = [
  { spec: { input: [4], layers: [{ type: 'dense', units: 5, activation: 'relu', name: 'h' }, { type: 'dense', units: 3, activation: 'softmax' }], loss: 'crossEntropy', optimizer: { type: 'adam', learningRate: 0.01 } }, checkpoint: true },
  { spec: { input: [1, 6, 6], layers: [{ type: 'conv2d', filters: 2, kernelSize: 3, activation: 'relu' }, { type: 'maxPool2d', poolSize: 2 }, { type: 'flatten' }, { type: 'dense', units: 2, activation: 'softmax' }], loss: 'crossEntropy', optimizer: { type: 'sgd', learningRate: 0.1, momentum: 0.9 } }, checkpoint: true },
  { spec: { input: [5, 3], layers: [{ type: 'lstm', units: 4 }, { type: 'dense', units: 1 }], loss: 'mse', optimizer: { type: 'rmsprop', learningRate: 0.01 } }, checkpoint: true },
  { spec: { input: [3], layers: [{ type: 'dense', units: 4 }, { type: 'batchNorm' }, { type: 'dropout', rate: 0.2 }, { type: 'dense', units: 1, activation: 'logistic' }], loss: 'binaryCrossEntropy', optimizer: { type: 'sgd', learningRate: 0.1 } }, checkpoint: false },
  { spec: { input: [4], layers: [{ type: 'embedding', inputDim: 6, outputDim: 3 }, { type: 'gru', units: 3 }, { type: 'dense', units: 2 }], loss: 'mse', optimizer: { type: 'adam', learningRate: 0.01 } }, checkpoint: true },
];

/** Example data for a model: inputs in its input shape (embedding: indices), targets its output shape. */
function exampleData(model: ReturnType<typeof buildModel>, n: number, g: Rng): [Tensor, Tensor] {
  const x = zeros([n, ...model.net.inputShape]);
  const integer = model.net.layers[0].type === 'embedding';
  for (let i = 0; i < x.size; i++) x.data[i] = integer ? g.int(6) : g.uniform(0, 1);
  const y = zeros([n, ...model.net.outputShape]);
  const per = y.size / n;
  for (let i = 0; i < n; i++) y.data[i * per + g.int(per)] = 1;
  return [x, y];
}

/** Writes the template model directories (once per process) and returns their paths. */
export function modelTemplates(root: string): string[] {
  return MODEL_SPECS.map(({ spec, checkpoint }, k) => {
    const s = parseSpec(structuredClone(spec));
    const model = buildModel(s);
    if (checkpoint) {
      const [x, y] = exampleData(model, 4, new Rng(k + 1));
      model.fit(x, y, { epochs: 2, batchSize: 2 });
    }
    const dir = join(root, `template-${k}`);
    saveModel(dir, model, s);
    return dir;
  });
}

type Json = Record<string, unknown>;

/** A random path into a JSON value (the containers along the way) ending at a key. */
function randomSlot(g: Gen, root: Json): { parent: Json | unknown[]; key: string | number; path: string } {
  let parent: Json | unknown[] = root;
  let path = '';
  for (;;) {
    const keys = Array.isArray(parent) ? parent.map((_, i) => i) : Object.keys(parent);
    if (keys.length === 0) return { parent, key: Array.isArray(parent) ? 0 : 'x', path: path || '(root)' };
    const key = g.pick(keys as (string | number)[]);
    const child = (parent as Record<string | number, unknown>)[key];
    const p = typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    if (typeof child === 'object' && child !== null && g.chance(0.65)) {
      parent = child as Json;
      path = p;
      continue;
    }
    return { parent, key, path: p };
  }
}

function rehashTable(m: Json): void {
  const ck = m.checksum as Json | null;
  if (ck && typeof ck === 'object' && Array.isArray(m.tensors)) {
    try {
      ck.tensors = tensorTableDigest(m.tensors as StoredTensor[], sha256);
    } catch { /* a table too broken to hash stays as it is */ }
  }
}

/** Model mutations, by name: each changes the copied directory. */
const MODEL_MUTATIONS: Record<string, (g: Gen, dir: string, m: Json, root: string) => string> = {
  'json-field': (g, _dir, m) => {
    const s = randomSlot(g, m);
    const v = g.value();
    (s.parent as Record<string | number, unknown>)[s.key] = v;
    if (g.chance(0.5)) rehashTable(m);
    return `${s.path}=${JSON.stringify(v)?.slice(0, 40)}`;
  },
  'json-delete': (g, _dir, m) => {
    const s = randomSlot(g, m);
    if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
    else delete s.parent[s.key as string];
    if (g.chance(0.5)) rehashTable(m);
    return `delete ${s.path}`;
  },
  'spec-huge': (g, _dir, m) => {
    const spec = m.spec as Json;
    const layers = spec.layers as Json[];
    const l = g.pick(layers);
    const key = g.pick(['units', 'filters', 'kernelSize', 'inputDim', 'outputDim', 'poolSize', 'strides', 'rate']);
    const v = g.pick([50000, 1e9, 2 ** 31 - 1, 2 ** 53, -1, 0, 1.5]);
    if (g.chance(0.3)) spec.input = (spec.input as number[]).map(() => g.pick([1e9, 65536, 0]));
    else l[key] = v;
    return `layer ${String(l.type)}.${key}=${v}`;
  },
  'table-edit': (g, _dir, m) => {
    const t = m.tensors as Json[];
    const e = g.pick(t);
    const what = g.pick(['offset', 'shape', 'name', 'swap']);
    if (what === 'offset') e.offset = g.pick([0, 4, (e.offset as number) + 4, 2 ** 40, -4, 3]);
    else if (what === 'shape') e.shape = g.pick([[], [0], [1e9], [2 ** 31, 2 ** 31], [...(e.shape as number[]), 1], (e.shape as number[]).slice(1)]);
    else if (what === 'name') e.name = g.pick(['constructor', '__proto__', 'optimizer/x/m', 'optimizer//', (t[0] as Json).name, '']);
    else [e.offset, (t[0] as Json).offset] = [(t[0] as Json).offset, e.offset];
    if (g.chance(0.8)) rehashTable(m);
    return `${what} of ${String(e.name)}`;
  },
  'state-edit': (g, _dir, m) => {
    const tr = m.training as Json | undefined;
    if (!tr) return 'no training state';
    const what = g.pick(['iterations', 'rng', 'spare', 'epoch', 'history', 'optimizer-type']);
    if (what === 'iterations') (tr.optimizer as Json).iterations = g.pick([-1, 1.5, 2 ** 60, null, '3']);
    else if (what === 'rng') ((tr.rng as Json).shuffle as Json).s = g.pick([[0, 0, 0, 0], [1, 2, 3], [2 ** 32, 1, 1, 1], null, [-1, 1, 1, 1]]);
    else if (what === 'spare') ((tr.rng as Json).runtime as Json).spare = g.pick([null, 'x', 1e308, [], 0.5]);
    else if (what === 'epoch') tr.epoch = g.pick([0, 99, -1, null]);
    else if (what === 'history') {
      const h = m.history as Json;
      const e = (h.epochs as Json[])[0];
      if (e) e[g.pick(['loss', 'epoch', 'seconds', 'valLoss'])] = g.value();
      else h.epochs = g.value();
    } else (tr.optimizer as Json).type = g.pick(['sgd', 'adam', 'rmsprop', 'toString', 5]);
    return what;
  },
  'weights-bits': (g, dir, m) => {
    const w = ownFile(dir, m.weightsFile);
    const b = plainFile(w);
    const n = 1 + g.int(8);
    g.flipBits(b, n);
    const fix = g.chance(0.7);
    writeWeights(dir, m, b, fix);
    return `${n} bits${fix ? ', checksum fixed' : ''}`;
  },
  'weights-length': (g, dir, m) => {
    const w = ownFile(dir, m.weightsFile);
    const b = plainFile(w);
    const cut = g.chance(0.5) ? b.subarray(0, g.int(b.length + 1)) : Buffer.concat([b, Buffer.alloc(4 * (1 + g.int(4)), 0x7f)]);
    const fix = g.chance(0.6);
    if (fix) m.byteLength = cut.length;
    writeWeights(dir, m, Buffer.from(cut), fix);
    return `${b.length} -> ${cut.length} bytes${fix ? ', length and checksum fixed' : ''}`;
  },
  'weights-nonfinite': (g, dir, m) => {
    const w = ownFile(dir, m.weightsFile);
    const b = plainFile(w);
    if (b.length >= 4) b.writeFloatLE(g.pick([NaN, Infinity, -Infinity, 3.4e38, -1e30]), 4 * g.int(b.length / 4));
    writeWeights(dir, m, b, true);
    return 'one value, checksum fixed';
  },
  'path-trick': (g, dir, m, root) => {
    const w = ownFile(dir, m.weightsFile);
    const trick = g.pick(['name', 'symlink-passwd', 'symlink-zero', 'symlink-sibling', 'fifo', 'directory', 'manifest-fifo', 'manifest-symlink', 'manifest-dir', 'dir-missing']);
    if (trick === 'name') m.weightsFile = g.pick(['../template-1/' + String(m.weightsFile), '/etc/passwd', '../../../../dev/zero', '.', '..', 'weights-0123456789abcdef.bin/', `./${String(m.weightsFile)}`, String(m.weightsFile).toUpperCase()]);
    else {
      unlinkSync(w);
      if (trick === 'symlink-passwd') symlinkSync('/etc/passwd', w);
      else if (trick === 'symlink-zero') symlinkSync('/dev/zero', w);
      else if (trick === 'symlink-sibling') symlinkSync(join(root, 'template-0', readdirSync(join(root, 'template-0')).find((f) => f.endsWith('.bin'))!), w);
      else if (trick === 'fifo') execFileSync('mkfifo', [w]);
      else if (trick === 'directory') mkdirSync(w);
      else {
        copyFileSync(join(root, 'template-0', 'manifest.json'), w); // keep a weights file
        const mp = join(dir, 'manifest.json');
        writeFileSync(join(dir, 'real.json'), JSON.stringify(m));
        rmSync(mp);
        if (trick === 'manifest-fifo') execFileSync('mkfifo', [mp]);
        else if (trick === 'manifest-symlink') symlinkSync(join(dir, 'real.json'), mp);
        else if (trick === 'manifest-dir') mkdirSync(mp);
        return `${trick} (manifest not rewritten)`;
      }
    }
    return trick;
  },
};

/**
 * The path of a file the harness may touch: a plain name inside the model directory. The
 * harness runs as whatever user runs it (root in CI), and a mutated manifest may name
 * `../../../../dev/zero`: the harness itself must never follow it.
 */
function ownFile(dir: string, name: unknown): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name)) throw new Error(`the harness does not touch ${JSON.stringify(name)}`);
  return join(dir, name);
}

/** Reads a file the harness made, refusing anything but a regular file (a FIFO would block the harness itself). */
function plainFile(p: string): Buffer {
  if (!lstatSync(p).isFile()) throw new Error(`${p} is not a regular file any more`);
  return readFileSync(p);
}

/** Rewrites the weights file (renamed and re-checksummed like the saver would, when `fix`). */
function writeWeights(dir: string, m: Json, b: Buffer, fix: boolean): void {
  const old = ownFile(dir, m.weightsFile);
  if (!fix) {
    writeFileSync(old, b);
    return;
  }
  unlinkSync(old);
  const ck = m.checksum as Json;
  ck.value = sha256(b);
  m.weightsFile = `weights-${String(ck.value).slice(0, 16)}.bin`;
  writeFileSync(join(dir, String(m.weightsFile)), b);
}

/** Manifest text mutations (applied to the serialised JSON). */
function mutateManifestText(g: Gen, text: string): [string, string] {
  const b = Buffer.from(text, 'utf8');
  if (g.chance(0.5)) {
    const n = 1 + g.int(4);
    g.flipBits(b, n);
    return [b.toString('latin1'), `manifest: ${n} bit flips`];
  }
  const cut = g.int(b.length);
  return [b.subarray(0, cut).toString('utf8'), `manifest truncated at ${cut}`];
}

function allFinite(t: Tensor): boolean {
  for (let i = 0; i < t.size; i++) if (!Number.isFinite(t.data[i])) return false;
  return true;
}

async function runModel(g: Gen, work: string, root: string, templates: string[]): Promise<CaseResult> {
  const dir = join(work, 'model');
  const from = g.pick(templates);
  mkdirSync(dir);
  for (const f of readdirSync(from)) copyFileSync(join(from, f), join(dir, f));
  const mp = join(dir, 'manifest.json');
  const m = JSON.parse(readFileSync(mp, 'utf8')) as Json;
  const names: string[] = [];
  const count = g.chance(0.8) ? 1 : 2 + g.int(2);
  let rawText: string | null = null;
  for (let i = 0; i < count; i++) {
    if (g.chance(0.1)) {
      const [t, what] = mutateManifestText(g, JSON.stringify(m));
      rawText = t;
      names.push(what);
      break;
    }
    const name = g.pick(Object.keys(MODEL_MUTATIONS));
    try {
      names.push(`${name} ${MODEL_MUTATIONS[name](g, dir, m, root)}`);
    } catch {
      names.push(`${name} (not applicable after the mutations before it)`);
    }
    if (name === 'path-trick' && names[names.length - 1].includes('manifest not rewritten')) {
      return finish(names, () => loadAndUse(dir, g));
    }
  }
  writeFileSync(mp, rawText ?? JSON.stringify(m));
  return finish(names, () => loadAndUse(dir, g));
}

/**
 * Loads the directory and uses the model: predict, then one epoch of training. Weights that
 * are not finite after training (which stops with a NumericError at NaN/Inf) are a defect; the
 * predictions are not judged (finite weights such as 3e38 may overflow legitimately).
 */
function loadAndUse(dir: string, g: Gen): Outcome {
  const { model } = loadModel(dir);
  // a valid spec may declare inputs too large to run quickly (a GRU over 65,536 steps takes seconds)
  if (model.net.inputShape.reduce((s, d) => s * d, 1) > 4096) return 'success';
  const [x, y] = exampleData(model, 3, g.rng);
  model.predict(x);
  model.fit(x, y, { epochs: 1, batchSize: 2 });
  return model.net.parameters().every(allFinite) ? 'success' : 'nonFinite';
}

async function finish(names: string[], fn: () => Outcome | Promise<Outcome>): Promise<CaseResult> {
  const mutation = names.join('; ');
  try {
    return { outcome: await fn(), mutation };
  } catch (e) {
    const error = e instanceof Error ? `${e.name}: ${e.message.slice(0, 300)}` : String(e);
    return { outcome: e instanceof DendriteError ? 'typed' : 'untyped', mutation, error };
  }
}

// ---------------------------------------------------------------- CSV

const CSV_TOKENS = ['1e309', '4e38', '-3.5e38', '3.4028235e38', 'NaN', 'Infinity', '-Infinity', '', ' ', '"', '""', '"a,b"', 'abc', '0x1F', '1e-400', '-0', '1_000', '١٢', '\u0000', '1e', '.', '+', '--1'];

function csvText(g: Gen): string {
  const cols = 2 + g.int(5);
  const rows = g.int(30);
  const lines = [Array.from({ length: cols }, (_, j) => `c${j}`).join(',')];
  for (let i = 0; i < rows; i++) {
    lines.push(Array.from({ length: cols }, (_, j) => (j === cols - 1 && g.chance(0.3) ? g.pick(['a', 'b', 'c']) : g.rng.normal(0, g.pick([1, 1e3, 1e30])).toPrecision(1 + g.int(9)))).join(','));
  }
  return lines.join(g.pick(['\n', '\r\n', '\r'])) + (g.chance(0.8) ? '\n' : '');
}

const CSV_MUTATIONS: Record<string, (g: Gen, text: string) => [string, string]> = {
  token: (g, t) => {
    const cells = t.split(',');
    const n = 1 + g.int(3);
    for (let i = 0; i < n; i++) cells[g.int(cells.length)] = g.chance(0.7) ? g.pick(CSV_TOKENS) : g.text();
    return [cells.join(','), `${n} cells`];
  },
  bits: (g, t) => {
    const b = Buffer.from(t, 'utf8');
    const n = 1 + g.int(6);
    g.flipBits(b, n);
    return [b.toString('utf8'), `${n} bit flips`];
  },
  truncate: (g, t) => {
    const at = g.int(t.length + 1);
    return [t.slice(0, at), `at ${at}`];
  },
  ragged: (g, t) => {
    const lines = t.split('\n');
    const i = g.int(lines.length);
    lines[i] = g.chance(0.5) ? `${lines[i]},extra` : lines[i].split(',').slice(1).join(',');
    return [lines.join('\n'), `line ${i + 1}`];
  },
  bom: (g, t) => [`\ufeff${t}`.replace(/,/g, g.pick([',', ';', '\t'])), 'BOM and delimiter'],
  'long-line': (g, t) => [`${t}${'9'.repeat(10000 + g.int(100000))}\n`, 'a 10k–110k digit number'],
};

async function runCsv(g: Gen, work: string): Promise<CaseResult> {
  const p = join(work, 'data.csv');
  let text = csvText(g);
  const names: string[] = [];
  const special = g.chance(0.04) ? g.pick(['fifo', 'directory', 'symlink-zero', 'missing']) : null;
  if (special === 'fifo') execFileSync('mkfifo', [p]);
  else if (special === 'directory') mkdirSync(p);
  else if (special === 'symlink-zero') symlinkSync('/dev/zero', p);
  if (special) names.push(special);
  else {
    const count = 1 + (g.chance(0.2) ? g.int(3) : 0);
    for (let i = 0; i < count; i++) {
      const name = g.pick(Object.keys(CSV_MUTATIONS));
      const [t, what] = CSV_MUTATIONS[name](g, text);
      text = t;
      names.push(`${name} ${what}`);
    }
    writeFileSync(p, text);
  }
  return finish(names, async () => {
    const table = await readCsv(p);
    const target = table.columns[table.columns.length - 1];
    if (g.chance(0.5)) {
      const { x, y } = selectColumns(table, { targets: [target] });
      return allFinite(x) && allFinite(y) ? 'success' : 'nonFinite';
    }
    const { x, y } = prepareTable(table, { '*': { normalize: g.pick(['standard', 'range', 'none'] as const) } }, { columns: [target], type: g.chance(0.5) ? 'classification' : 'regression' });
    return allFinite(x) && allFinite(y) ? 'success' : 'nonFinite';
  });
}

// ---------------------------------------------------------------- IDX

/** Bytes of an IDX file: magic (0, 0, type, ndims), big-endian dimensions, then `data`. */
export function idxBytes(type: number, shape: number[], data: Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * shape.length);
  const v = new DataView(head.buffer);
  head[2] = type;
  head[3] = shape.length;
  shape.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}

function validIdx(g: Gen, what: 'images' | 'labels' | 'any'): Uint8Array {
  const n = g.int(12);
  if (what === 'labels') return idxBytes(0x08, [n], Uint8Array.from({ length: n }, () => g.int(10)));
  if (what === 'images' || g.chance(0.5)) {
    const shape = [n, 1 + g.int(6), 1 + g.int(6)];
    return idxBytes(0x08, shape, Uint8Array.from({ length: shape[0] * shape[1] * shape[2] }, () => g.int(256)));
  }
  const [type, bytes] = g.pick([[0x09, 1], [0x0b, 2], [0x0c, 4], [0x0d, 4], [0x0e, 8]] as const);
  const shape = [n, 1 + g.int(4)];
  return idxBytes(type, shape, Uint8Array.from({ length: n * shape[1] * bytes }, () => g.int(256)));
}

const IDX_MUTATIONS: Record<string, (g: Gen, b: Uint8Array) => [Uint8Array, string]> = {
  'header-bits': (g, b) => {
    const c = Uint8Array.from(b);
    const n = 1 + g.int(3);
    for (let i = 0; i < n; i++) c[g.int(Math.min(c.length, 16))] ^= 1 << g.int(8);
    return [c, `${n} header bit flips`];
  },
  'huge-dims': (g, b) => {
    const c = Uint8Array.from(b);
    const nd = c[3];
    const v = new DataView(c.buffer);
    const k = g.int(Math.max(1, nd));
    const d = g.pick([2 ** 31 - 1, 2 ** 32 - 1, 65536, 1e6, 2 ** 24]);
    if (4 + 4 * k + 4 <= c.length) v.setUint32(4 + 4 * k, d, false);
    return [c, `dim ${k} = ${d}`];
  },
  ndims: (g, b) => {
    const c = Uint8Array.from(b);
    c[3] = g.pick([0, 1, 2, 3, 4, 255]);
    return [c, `ndims ${c[3]}`];
  },
  type: (g, b) => {
    const c = Uint8Array.from(b);
    c[2] = g.pick([0, 0x08, 0x0a, 0x0d, 0x0e, 0xff]);
    return [c, `type 0x${c[2].toString(16)}`];
  },
  truncate: (g, b) => {
    const at = g.int(b.length + 1);
    return [b.subarray(0, at), `at ${at}`];
  },
  extend: (g, b) => {
    const c = new Uint8Array(b.length + 1 + g.int(16));
    c.set(b);
    return [c, `+${c.length - b.length} bytes`];
  },
  'data-bits': (g, b) => {
    const c = Uint8Array.from(b);
    g.flipBits(c, 1 + g.int(8));
    return [c, 'bit flips anywhere'];
  },
};

async function runIdx(g: Gen, work: string): Promise<CaseResult> {
  const target = g.pick(['readIdx', 'images', 'labels', 'dataset'] as const);
  const names: string[] = [target];
  const mutate = (b: Uint8Array): Uint8Array => {
    let out = b;
    const count = 1 + (g.chance(0.2) ? 1 : 0);
    for (let i = 0; i < count; i++) {
      const name = g.pick(Object.keys(IDX_MUTATIONS));
      if (out.length < 4) {
        names.push(`${name} (not applicable to ${out.length} bytes)`);
        continue;
      }
      const [c, what] = IDX_MUTATIONS[name](g, out);
      out = c;
      names.push(`${name} ${what}`);
    }
    if (g.chance(0.4)) {
      let z: Uint8Array = gzipSync(out);
      names.push('gzip');
      if (g.chance(0.3)) {
        z = Uint8Array.from(z);
        g.flipBits(z, 1 + g.int(4), 10);
        names.push('gzip bits');
      } else if (g.chance(0.2)) {
        z = z.subarray(0, g.int(z.length));
        names.push('gzip truncated');
      }
      out = z;
    }
    return out;
  };
  const place = (p: string, b: Uint8Array): void => {
    const special = g.chance(0.03) ? g.pick(['fifo', 'directory', 'symlink-zero']) : null;
    if (special === 'fifo') execFileSync('mkfifo', [p]);
    else if (special === 'directory') mkdirSync(p);
    else if (special === 'symlink-zero') symlinkSync('/dev/zero', p);
    else writeFileSync(p, b);
    if (special) names.push(special);
  };
  if (target === 'dataset') {
    const dir = join(work, 'set');
    mkdirSync(dir);
    const files = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
    const bad = g.int(4);
    files.forEach((f, i) => {
      const b = validIdx(g, i % 2 === 0 ? 'images' : 'labels');
      if (i === bad) place(join(dir, f), mutate(b));
      else writeFileSync(join(dir, f), b);
    });
    return finish(names, async () => {
      const d = await loadIdxDataset(dir, { limit: g.chance(0.3) ? g.int(5) : undefined });
      return allFinite(d.train.x) && allFinite(d.test.x) ? 'success' : 'nonFinite';
    });
  }
  const p = join(work, 'data.idx');
  place(p, mutate(validIdx(g, target === 'images' ? 'images' : target === 'labels' ? 'labels' : 'any')));
  const limit = g.chance(0.3) ? g.int(6) : undefined;
  return finish(names, async () => {
    if (target === 'images') return allFinite(await readIdxImages(p, { limit })) ? 'success' : 'nonFinite';
    if (target === 'labels') await readIdxLabels(p, { limit });
    else {
      const a = await readIdx(p, { limit });
      if (a.data.length !== a.shape.reduce((s, d) => s * d, 1)) return 'nonFinite';
    }
    return 'success';
  });
}

/**
 * Makes input `seed` of `kind` in `work` (an empty directory) and runs it. `root` holds the
 * model templates of {@link modelTemplates}.
 *
 * @example
 * ```ts
 * const r = await runCase('csv', 42, '/tmp/w', '/tmp/root', templates); // { outcome: 'typed', mutation: 'token 2 cells', error: 'DataError: …' }
 * ```
 */
export async function runCase(kind: Kind, seed: number, work: string, root: string, templates: string[]): Promise<CaseResult> {
  const g = new Gen(seed * 3 + KINDS.indexOf(kind));
  if (kind === 'model') return runModel(g, work, root, templates);
  if (kind === 'csv') return runCsv(g, work);
  return runIdx(g, work);
}

/** Removes and recreates a work directory. */
export function freshDir(p: string): void {
  rmSync(p, { recursive: true, force: true });
  mkdirSync(p, { recursive: true });
}
