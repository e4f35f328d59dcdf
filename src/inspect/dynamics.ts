import type { Tensor } from '../tensor/tensor.js';
import type { Layer } from '../nn/module.js';
import type { Model } from '../train/model.js';
import { summarize, meanVar } from './stats.js';
import type { Stats } from './stats.js';
import { captureTrace, layerActivation, requireData } from './trace.js';
import { ConfigError } from '../errors.js';
import { gatherRows } from '../data/batch.js';
import type { RawLayerTrace, TraceOptions } from './trace.js';
import { fmtNum, textTable } from './format.js';

/**
 * The internal dynamics of one layer during one training iteration (the lecture's Figures
 * 24–27): distributions of its weights, weighted sums z, activations a and δs, and the variance
 * of z that eq 64 predicts.
 */
export interface LayerDynamics {
  name: string;
  type: string;
  /** Activation name, where the layer has one. */
  activation?: string;
  /** Inputs per neuron (n_in: dense inputs; conv channels × filter area), null for layers without weights. */
  nIn: number | null;
  /** Distribution of the layer's weights (matrices and filters; biases excluded), null if none. */
  weight: Stats | null;
  /** Distribution of z over every example and neuron, null for layers without weighted sums. */
  z: Stats | null;
  a: Stats;
  /** Distribution of δ = ∂E/∂z (E summed over the examples), null where there is no z. */
  delta: Stats | null;
  /** Mean and variance of the layer's inputs (d of eq 64: the previous layer's a, or the data). */
  input: { mean: number; var: number };
  /** Eq 64: n_in · var(W) · var(d), with the measured var(W) and var(d); null without weights. */
  predictedVarZ: number | null;
  /**
   * Eq 62 summed over the n_in inputs, without assuming zero means:
   * n_in · (E(W)²·var(d) + E(d)²·var(W) + var(W)·var(d)). Differs from eq 64 after ReLUs,
   * whose outputs have a positive mean.
   */
  predictedVarZEq62: number | null;
  /**
   * The backward counterpart of eq 64 for a layer followed by a dense layer:
   * n_out · var(W_next) · var(δ_next) · E[(∂a/∂z)²], null where it does not apply.
   */
  predictedVarDelta: number | null;
}

/** Result of {@link inspectModel}: the per-layer dynamics of one training iteration (`dendrite inspect --json`). */
export interface DynamicsReport {
  /** Examples in the iteration. */
  examples: number;
  /** Loss of the iteration with the model's reduction. */
  loss: number;
  layers: LayerDynamics[];
}

/** The weights of a layer for eq 64: every parameter with two or more dimensions. */
function weightTensors(layer: Layer): Tensor[] {
  return [...layer.ownParameters().values()].filter((t) => t.rank >= 2);
}

function concat(ts: Tensor[]): Float32Array {
  const out = new Float32Array(ts.reduce((s, t) => s + t.size, 0));
  let off = 0;
  for (const t of ts) {
    out.set(t.data, off);
    off += t.size;
  }
  return out;
}

function meanSquare(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return v.length ? s / v.length : NaN;
}

function layerStats(r: RawLayerTrace, next: RawLayerTrace | undefined): LayerDynamics {
  const l = r.layer;
  const ws = weightTensors(l);
  const weight = ws.length ? summarize(concat(ws)) : null;
  const input = meanVar(r.input.data);
  // n_in: fan-in of the single weight matrix/filter bank ([out, in…] layout)
  const nIn = ws.length === 1 ? ws[0].size / ws[0].shape[0] : null;
  const act = layerActivation(l);
  const d: LayerDynamics = {
    name: l.name,
    type: l.type,
    nIn,
    weight,
    z: r.z ? summarize(r.z.data) : null,
    a: summarize(r.a.data),
    delta: r.delta ? summarize(r.delta.data) : null,
    input,
    predictedVarZ: null,
    predictedVarZEq62: null,
    predictedVarDelta: null,
  };
  if (act) d.activation = act.name;
  if (weight && nIn !== null && r.z) {
    d.predictedVarZ = nIn * weight.var * input.var;
    d.predictedVarZEq62 = nIn * (weight.mean ** 2 * input.var + input.mean ** 2 * weight.var + weight.var * input.var);
  }
  if (next && next.delta && r.delta && r.dadz) {
    const nw = weightTensors(next.layer);
    const perExample = r.a.size / r.a.shape[0];
    if (nw.length === 1 && nw[0].rank === 2 && nw[0].shape[1] === perExample) {
      const vw = meanVar(nw[0].data).var;
      d.predictedVarDelta = nw[0].shape[0] * vw * meanVar(next.delta.data).var * meanSquare(r.dadz);
    }
  }
  return d;
}

/**
 * Layer dynamics of one training iteration over the rows of x and y (the lecture's Figures
 * 24–27 and eq 64): for every layer the distribution (mean, variance, 5th/25th/50th/75th/95th
 * percentiles, min, max; float64) of its weights, z, activations and δs, next to the variance of
 * z predicted by eq 64 from n_in, var(W) and var(inputs). One forward and backward pass, no
 * update; the model is left as it was. Throws a `ConfigError` without data. With `maxRows` only
 * the first rows are used (one batch of a large data set).
 * This is `dendrite inspect --json`.
 *
 * @example
 * ```ts
 * const report = inspectModel(model, x, y);
 * console.log(formatDynamics(report));
 * JSON.stringify(report); // {"examples":100,"loss":…,"layers":[{"name":"hl1","weight":{"mean":…,"var":…},…}]}
 * ```
 */
export function inspectModel(model: Model, x: Tensor, y: Tensor, opts: TraceOptions & { maxRows?: number } = {}): DynamicsReport {
  requireData(x, y, 'inspecting a model');
  const max = opts.maxRows;
  if (max !== undefined && !(Number.isInteger(max) && max >= 1)) throw new ConfigError(`inspect: maxRows must be an integer ≥ 1, received ${JSON.stringify(max)}`);
  const n = x.shape[0];
  const rows = max !== undefined && n > max ? max : n;
  const raw = captureTrace(model, rows < n ? gatherRows(x, null, 0, rows) : x, rows < n ? gatherRows(y, null, 0, rows) : y, opts);
  return {
    examples: raw.examples,
    loss: raw.loss,
    layers: raw.layers.map((r, i) => layerStats(r, raw.layers[i + 1])),
  };
}

/**
 * The dynamics as aligned text tables: per layer the variance of the weights, the inputs, z
 * (predicted by eq 64, by eq 62 with the means kept, and measured), a and δ (measured, and
 * predicted backwards), then the percentiles of z, a and δ.
 *
 * @example
 * ```ts
 * console.log(formatDynamics(inspectModel(model, x, y)));
 * ```
 */
export function formatDynamics(r: DynamicsReport): string {
  const f = (v: number | null | undefined) => (v === null || v === undefined ? '–' : fmtNum(v, 6));
  const varRows = r.layers.map((l) => [
    l.name, l.activation ?? l.type, l.nIn === null ? '–' : String(l.nIn), f(l.weight?.var), f(l.input.var),
    f(l.predictedVarZ), f(l.predictedVarZEq62), f(l.z?.var), f(l.a.var), f(l.predictedVarDelta), f(l.delta?.var),
  ]);
  const head = ['layer', 'act', 'n_in', 'var(W)', 'var(in)', 'eq 64 var(z)', 'eq 62 var(z)', 'var(z)', 'var(a)', 'pred var(δ)', 'var(δ)'];
  const pct = (s: Stats | null) => (s ? [f(s.p5), f(s.p50), f(s.p95)] : ['–', '–', '–']);
  const pRows = r.layers.map((l) => [l.name, ...pct(l.z), ...pct(l.a), ...pct(l.delta)]);
  return [
    `layer dynamics of one training iteration over ${r.examples} examples (loss ${fmtNum(r.loss)})`,
    textTable(head, varRows),
    '',
    'percentiles (5th, 50th, 95th)',
    textTable(['layer', 'z p5', 'z p50', 'z p95', 'a p5', 'a p50', 'a p95', 'δ p5', 'δ p50', 'δ p95'], pRows),
  ].join('\n');
}
