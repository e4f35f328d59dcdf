// The playground's configuration: defaults, the URL form (every key checked; a bad value falls
// back to the default and is named in a message), the model spec it stands for, and the data
// sets. No network maths here: the spec goes to dendrite's buildModel.
import { parseSpec } from '../src/index.js';
import type { ModelSpec, PlainWeights } from '../src/index.js';

export const DATASETS = ['worked', 'xor', 'circles', 'spirals', 'clusters', 'regression', 'digits', 'csv'] as const;
export type DatasetName = (typeof DATASETS)[number];
export const ACTIVATIONS = ['threshold', 'logistic', 'tanh', 'relu', 'leakyRelu', 'prelu', 'linear', 'softmax'] as const;
export const INITS = ['lecture', 'glorotUniform', 'glorotNormal', 'heNormal', 'heUniform', 'lecunNormal', 'lecunUniform', 'randomNormal'] as const;
export const LOSSES = ['sse', 'mse', 'binaryCrossEntropy', 'crossEntropy'] as const;
export const OPTIMIZERS = ['sgd', 'adam', 'rmsprop'] as const;

export const PADDINGS = ['valid', 'same', '1', '2', '3'] as const;

/** A convolutional or pooling layer of the digits network (before the dense layers). */
export type CnnLayer =
  | { kind: 'conv'; filters: number; kernel: number; stride: number; padding: string; activation: string }
  | { kind: 'max' | 'avg'; size: number; stride: number };

/** The digits preset's feature extractor: four 5×5 ReLU filters, then 2×2 max pooling. */
export const DEFAULT_CNN: CnnLayer[] = [{ kind: 'conv', filters: 4, kernel: 5, stride: 1, padding: 'valid', activation: 'relu' }, { kind: 'max', size: 2, stride: 2 }];

export interface HiddenLayer {
  units: number;
  activation: string;
}

/** Everything a run depends on (what the URL carries). */
export interface Config {
  data: DatasetName;
  noise: number;
  /** Fraction of the rows held out for validation (0 = none). */
  split: number;
  samples: number;
  layers: HiddenLayer[];
  out: string;
  init: string;
  keep: number;
  bn: boolean;
  loss: string;
  opt: string;
  lr: number;
  /** Examples per update; 0 = the whole training set (batch). */
  bs: number;
  seed: number;
  stop: number;
  epochs: number;
  /** Digits: the convolutional and pooling layers, in order. */
  cnn: CnnLayer[];
}

/** The lecture's worked example (Tables 4–9): 2-3-2-1 logistic, ½SSE, batch SGD α = 0.2. */
export const WORKED: Config = {
  data: 'worked', noise: 0, split: 0, samples: 4, layers: [{ units: 3, activation: 'logistic' }, { units: 2, activation: 'logistic' }],
  out: 'logistic', init: 'lecture', keep: 1, bn: false, loss: 'sse', opt: 'sgd', lr: 0.2, bs: 0, seed: 1, stop: 0.0001,
  epochs: 20000, cnn: DEFAULT_CNN,
};

/** Presets per data set (choosing a data set loads its preset). */
export function preset(data: DatasetName): Config {
  switch (data) {
    case 'worked': return structuredClone(WORKED);
    case 'xor': return { ...structuredClone(WORKED), data, samples: 4, layers: [{ units: 2, activation: 'tanh' }], init: 'glorotUniform', lr: 0.5, seed: 2, stop: 0.01, epochs: 5000 };
    case 'digits': return { ...structuredClone(WORKED), data, samples: 600, split: 0.25, layers: [], out: 'softmax', init: 'heNormal', loss: 'crossEntropy', lr: 0.05, bs: 32, stop: 0, epochs: 20 };
    case 'regression': return { ...structuredClone(WORKED), data, samples: 200, noise: 0.05, split: 0.25, layers: [{ units: 8, activation: 'tanh' }, { units: 8, activation: 'tanh' }], out: 'linear', init: 'glorotUniform', loss: 'mse', opt: 'adam', lr: 0.01, bs: 10, stop: 0, epochs: 300 };
    case 'csv': return { ...structuredClone(WORKED), data, samples: 0, split: 0.25, layers: [{ units: 8, activation: 'relu' }], out: 'linear', init: 'heNormal', loss: 'mse', opt: 'adam', lr: 0.01, bs: 16, stop: 0, epochs: 200 };
    default: return { ...structuredClone(WORKED), data, samples: 200, noise: 0.1, split: 0.25, layers: [{ units: 6, activation: 'tanh' }, { units: 4, activation: 'tanh' }], out: 'logistic', init: 'glorotUniform', loss: 'binaryCrossEntropy', opt: 'adam', lr: 0.03, bs: 10, stop: 0, epochs: 300 };
  }
}

/** The lecture's variance formula for an initialiser (eq 64 motivates them). */
export function varianceFormula(init: string): string {
  switch (init) {
    case 'glorotUniform': case 'glorotNormal': return 'var(W) = 2 / (n_in + n_out)';
    case 'heNormal': case 'heUniform': return 'var(W) = 2 / n_in';
    case 'lecunNormal': case 'lecunUniform': return 'var(W) = 1 / n_in';
    case 'randomNormal': return 'var(W) = 0.05² (fixed)';
    default: return 'the lecture\'s printed initial weights (worked example only)';
  }
}

/** The lecture's names for the batch size. */
export function batchName(bs: number, n: number): string {
  if (bs === 1) return 'online';
  if (bs === 0 || bs >= n) return 'batch';
  return 'mini-batch';
}

/** Whether the lecture's own initial weights apply (worked example with its 2-3-2-1 shape). */
export function usesLectureWeights(c: Config): boolean {
  return c.data === 'worked' && c.init === 'lecture' && c.layers.length === 2 && c.layers[0].units === 3 && c.layers[1].units === 2;
}

/** The lecture's initial weights ([bias, w…] rows of LECTURE-NOTES.md as dendrite's {weight, bias}). */
export function lectureWeights(): PlainWeights {
  const split = (rows: number[][]) => ({ weight: Float32Array.from(rows.flatMap((r) => r.slice(1))), bias: Float32Array.from(rows.map((r) => r[0])) });
  return {
    h1: split([[0.10, -0.20, 0.11], [-0.19, 0.09, -0.13], [0.04, 0.11, -0.02]]),
    h2: split([[0.15, -0.04, 0.10, 0.06], [0.12, 0.20, 0.14, -0.09]]),
    out: split([[0.10, 0.12, -0.50]]),
  };
}

/** The model spec of a configuration for `inputs` features and `outputs` targets. */
export function specOf(c: Config, inputShape: number[], outputs: number, rows: number): ModelSpec {
  const init = c.init === 'lecture' ? 'glorotUniform' : c.init;
  const layers: Record<string, unknown>[] = [];
  if (c.data === 'digits') {
    let convs = 0;
    let pools = 0;
    for (const l of c.cnn) {
      if (l.kind === 'conv') {
        const padding = l.padding === 'valid' || l.padding === 'same' ? l.padding : Number(l.padding);
        layers.push({ type: 'conv2d', name: `conv${++convs}`, filters: l.filters, kernelSize: l.kernel, strides: l.stride, padding, activation: l.activation, kernelInitializer: init });
      } else {
        layers.push({ type: l.kind === 'max' ? 'maxPool2d' : 'avgPool2d', name: `pool${++pools}`, poolSize: l.size, strides: l.stride });
      }
    }
    layers.push({ type: 'flatten', name: 'flat' });
  }
  c.layers.forEach((l, i) => {
    layers.push({ type: 'dense', name: `h${i + 1}`, units: l.units, activation: l.activation, kernelInitializer: init });
    if (c.bn) layers.push({ type: 'batchNorm', name: `bn${i + 1}` });
    if (c.keep < 1) layers.push({ type: 'dropout', name: `drop${i + 1}`, keepProb: c.keep });
  });
  layers.push({ type: 'dense', name: 'out', units: outputs, activation: c.out, kernelInitializer: init });
  const bs = c.bs === 0 ? Math.max(1, rows) : Math.min(c.bs, Math.max(1, rows));
  return parseSpec({
    input: inputShape, layers, loss: c.loss, optimizer: { type: c.opt, learningRate: c.lr },
    train: { batchSize: bs, epochs: c.epochs, shuffle: c.data !== 'worked', seed: c.seed, ...(c.stop > 0 ? { stopWhen: { loss: c.stop } } : {}) },
  }, 'playground configuration');
}

// ---- the URL form ----

const num = (lo: number, hi: number, int = false) => (s: string): number | null => {
  const v = Number(s);
  return s.trim() !== '' && Number.isFinite(v) && v >= lo && v <= hi && (!int || Number.isInteger(v)) ? v : null;
};
const oneOf = (list: readonly string[]) => (s: string): string | null => (list.includes(s) ? s : null);
/** An activation a hidden (dense or conv) layer may have: any of the menu's but softmax. */
const hiddenActivation = (a: string | undefined): boolean => a !== 'softmax' && oneOf(ACTIVATIONS)(a ?? '') !== null;

type Parser = (s: string) => unknown;
const KEYS: Record<string, [Parser, string]> = {
  data: [oneOf(DATASETS), `one of ${DATASETS.join(', ')}`],
  noise: [num(0, 0.5), 'a number in [0, 0.5]'],
  split: [num(0, 0.5), 'a number in [0, 0.5]'],
  samples: [num(4, 2000, true), 'an integer in [4, 2000]'],
  layers: [(s) => {
    if (s === '') return [];
    const out: HiddenLayer[] = [];
    for (const part of s.split(',')) {
      const [u, a] = part.split(':');
      const units = num(1, 64, true)(u);
      if (units === null || !hiddenActivation(a)) return null;
      out.push({ units, activation: a });
    }
    return out.length <= 6 ? out : null;
  }, 'units:activation pairs separated by commas (at most 6 layers of 1–64 units)'],
  out: [oneOf(ACTIVATIONS), `one of ${ACTIVATIONS.join(', ')}`],
  init: [oneOf(INITS), `one of ${INITS.join(', ')}`],
  keep: [num(0.05, 1), 'a keep probability in [0.05, 1]'],
  bn: [(s) => (s === '1' ? true : s === '0' ? false : null), '0 or 1'],
  loss: [oneOf(LOSSES), `one of ${LOSSES.join(', ')}`],
  opt: [oneOf(OPTIMIZERS), `one of ${OPTIMIZERS.join(', ')}`],
  lr: [num(1e-6, 10), 'a learning rate in [1e-6, 10]'],
  bs: [num(0, 4096, true), 'an integer ≥ 0 (0 = batch)'],
  seed: [num(0, 2 ** 31, true), 'an integer seed ≥ 0'],
  stop: [num(0, 100), 'a number ≥ 0 (0 = no stop criterion)'],
  epochs: [num(1, 100000, true), 'an integer in [1, 100000]'],
  cnn: [(s) => {
    if (s === '') return [];
    const out: CnnLayer[] = [];
    for (const part of s.split(',')) {
      const [kind, ...f] = part.split(':');
      if (kind === 'conv' && f.length === 5) {
        const [filters, kernel, stride] = [num(1, 16, true)(f[0]), num(1, 9, true)(f[1]), num(1, 4, true)(f[2])];
        if (filters === null || kernel === null || stride === null || oneOf(PADDINGS)(f[3]) === null || !hiddenActivation(f[4])) return null;
        out.push({ kind, filters, kernel, stride, padding: f[3], activation: f[4] });
      } else if ((kind === 'max' || kind === 'avg') && f.length === 2) {
        const [size, stride] = [num(1, 6, true)(f[0]), num(1, 6, true)(f[1])];
        if (size === null || stride === null) return null;
        out.push({ kind, size, stride });
      } else {
        return null;
      }
    }
    return out.length <= 6 ? out : null;
  }, 'at most 6 layers conv:filters(1–16):kernel(1–9):stride(1–4):padding(valid, same, 1–3):activation or max|avg:size(1–6):stride(1–6), separated by commas'],
};

/** The configuration as URL hash parameters. */
export function toHash(c: Config): string {
  const p = new URLSearchParams();
  for (const k of Object.keys(KEYS)) {
    if (k === 'cnn' && c.data !== 'digits') continue;
    const v = (c as unknown as Record<string, unknown>)[k];
    p.set(k, k === 'layers' ? c.layers.map((l) => `${l.units}:${l.activation}`).join(',')
      : k === 'cnn' ? c.cnn.map((l) => (l.kind === 'conv' ? `conv:${l.filters}:${l.kernel}:${l.stride}:${l.padding}:${l.activation}` : `${l.kind}:${l.size}:${l.stride}`)).join(',')
        : typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  return p.toString();
}

/**
 * Reads a configuration from URL hash parameters: the data set's preset, overridden by every
 * valid key; invalid or unknown keys are ignored and listed in `ignored`.
 */
export function fromHash(hash: string): { config: Config; ignored: string[] } {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const ignored: string[] = [];
  let config = structuredClone(WORKED);
  const data = p.get('data');
  if (data !== null) {
    const d = KEYS.data[0](data) as DatasetName | null;
    if (d) config = preset(d);
    else ignored.push(`data=${JSON.stringify(data)} (expected ${KEYS.data[1]})`);
  }
  for (const [k, v] of p) {
    if (k === 'data') continue;
    const entry = KEYS[k];
    if (!entry) {
      ignored.push(`unknown key ${JSON.stringify(k)}`);
      continue;
    }
    const parsed = entry[0](v);
    if (parsed === null) ignored.push(`${k}=${JSON.stringify(v)} (expected ${entry[1]})`);
    else (config as unknown as Record<string, unknown>)[k] = parsed;
  }
  return { config, ignored };
}

// ---- data sets (seeded, so a link reproduces them) ----

/** A small seeded generator for the toy data (mulberry32). */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A table of rows: inputs, targets and the plotting class (for colours). */
export interface Table {
  x: number[][];
  y: number[][];
  /** Class per row (0/1) or the target value for regression. */
  label: number[];
  regression: boolean;
}

/** The 2-D and lecture data sets. */
export function makeData(c: Config): Table {
  const r = seeded(c.seed * 7919 + 17);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const n = c.samples;
  const x: number[][] = [];
  const label: number[] = [];
  let regression = false;
  switch (c.data) {
    case 'worked':
      return { x: [[0.04, 0.81], [0.84, 0.58], [0.50, 0.07], [0.53, 1.00]], y: [[0.94], [0.13], [0.57], [0.36]], label: [0.94, 0.13, 0.57, 0.36], regression: true };
    case 'xor':
      for (const [a, b] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
        x.push([a + c.noise * gauss(), b + c.noise * gauss()]);
        label.push(a ^ b);
      }
      break;
    case 'circles':
      for (let i = 0; i < n; i++) {
        const k = i % 2;
        const rad = k ? 0.8 + 0.15 * r() : 0.35 * r();
        const t = 2 * Math.PI * r();
        x.push([rad * Math.cos(t) + c.noise * gauss(), rad * Math.sin(t) + c.noise * gauss()]);
        label.push(k);
      }
      break;
    case 'spirals':
      for (let i = 0; i < n; i++) {
        const k = i % 2;
        const t = 0.25 + 2.5 * Math.PI * (Math.floor(i / 2) / (n / 2));
        const rad = t / (2.75 * Math.PI);
        x.push([rad * Math.cos(t + k * Math.PI) + c.noise * gauss(), rad * Math.sin(t + k * Math.PI) + c.noise * gauss()]);
        label.push(k);
      }
      break;
    case 'clusters':
      for (let i = 0; i < n; i++) {
        const k = i % 2;
        const s = 0.25 + c.noise;
        x.push([(k ? 0.45 : -0.45) + s * gauss(), (k ? 0.4 : -0.4) + s * gauss()]);
        label.push(k);
      }
      break;
    case 'regression':
      regression = true;
      for (let i = 0; i < n; i++) {
        const p = [2 * r() - 1, 2 * r() - 1];
        x.push(p);
        label.push(Math.sin(2.5 * p[0]) * Math.cos(2 * p[1]) * 0.5 + c.noise * gauss());
      }
      break;
    default:
      throw new Error(`makeData: ${c.data} is not a generated data set`);
  }
  const softmaxOut = c.out === 'softmax';
  const y = label.map((l) => (regression ? [l] : softmaxOut ? [1 - l, l] : [l]));
  return { x, y, label, regression };
}
