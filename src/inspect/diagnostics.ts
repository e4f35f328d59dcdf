import { ConfigError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import { gatherRows } from '../data/batch.js';
import type { Model } from '../train/model.js';
import type { Callback, EpochLog, History } from '../train/callbacks.js';
import { captureTrace, layerActivation, requireData } from './trace.js';
import type { RawLayerTrace, TraceOptions } from './trace.js';
import { norms } from './stats.js';
import { fmtNum } from './format.js';

/** What a diagnostic warning is about. */
export type DiagnosticKind = 'deadRelu' | 'saturated' | 'vanishingGradients' | 'explodingGradients' | 'risingLoss';

/** One warning: what was seen (with numbers) and what usually helps. */
export interface DiagnosticWarning {
  kind: DiagnosticKind;
  /** The layer concerned, if one. */
  layer?: string;
  /** What was seen, with numbers. */
  message: string;
  /** What usually helps. */
  advice: string;
  /** The key number (dead units, saturated fraction, δ ratio, rises). */
  value: number;
  /**
   * The units (neurons; filters of convolutional layers) of `layer` concerned: dead ReLUs, or
   * units saturated for more than the warning's fraction of the sampled examples. Absent when the
   * whole layer is concerned (vanishing/exploding δ) or no layer is (a rising loss).
   */
  units?: number[];
  /** Vanishing/exploding δ: the later layer the RMS of δ is compared with. */
  comparedWith?: string;
}

/** Health of one layer on the sampled batch. */
export interface LayerHealth {
  name: string;
  type: string;
  activation?: string;
  /** Units checked (neurons; channels for convolutional layers). */
  units: number;
  /** ReLU layers: indices of units inactive (a = 0) for every sampled example. */
  deadUnits?: number[];
  /** Logistic/tanh layers: fraction of (example, unit) values with ∂a/∂z below 5% of its maximum. */
  saturatedFraction?: number;
  /** Logistic/tanh layers: units saturated for every sampled example. */
  saturatedUnits?: number;
  /** Logistic/tanh layers: per unit, the fraction of its sampled values that are saturated. */
  unitSaturation?: number[];
  /** Root mean square of δ over examples and units (null without z). */
  deltaRms: number | null;
  /** L2 norm of δ (null without z). */
  deltaNorm: number | null;
  /** L2 norm of the gradient of all this layer's parameters (summed over the sampled rows). */
  gradNorm: number;
}

/** Diagnostics of one check (one epoch, or one call of {@link diagnose}). */
export interface DiagnosticsRecord {
  /** Epoch the check followed (training only). */
  epoch?: number;
  /** Examples sampled. */
  examples: number;
  layers: LayerHealth[];
  /** RMS of δ in the first layer / RMS of δ in the last layer (null with fewer than two). */
  deltaRatio: number | null;
  warnings: DiagnosticWarning[];
}

/** A warning over a training run: when it was first and last seen. */
export interface DiagnosticSummaryItem extends DiagnosticWarning {
  firstEpoch: number;
  lastEpoch: number;
  /** Epochs in which it was seen. */
  epochs: number;
}

/** Thresholds and sampling of the diagnostics. */
export interface DiagnosticsOptions extends TraceOptions {
  /** Rows sampled per check (default 256; all rows when there are fewer). */
  sampleSize?: number;
  /** Check every this many epochs (default 1). */
  every?: number;
  /** Seed of the row sampler (default 1; independent of the model's generators). */
  seed?: number;
  /** Warn when more than this fraction of a logistic/tanh layer's values are saturated (default 0.25). */
  saturatedFraction?: number;
  /** A unit is saturated where ∂a/∂z < this fraction of the derivative's maximum (default 0.05). */
  saturationLevel?: number;
  /** Warn of vanishing gradients when some layer's δ RMS is below this fraction of a later layer's (default 0.01). */
  vanishingRatio?: number;
  /** Warn of exploding gradients when some layer's δ RMS is above this multiple of a later layer's (default 10). */
  explodingRatio?: number;
  /** Window of epochs for the rising-loss check (default 10). */
  risingWindow?: number;
  /** Warn when the loss rose in at least this many epochs of the window (default 3). */
  risingCount?: number;
  /**
   * Called when a warning appears (not repeated while it persists; a rising loss at most once
   * per `fit()`), e.g. to print it in the CLI.
   */
  onWarning?: (w: DiagnosticWarning, epoch: number) => void;
}

const ADVICE: Record<DiagnosticKind, string> = {
  deadRelu: 'use leaky ReLU or PReLU, initialise the biases to a small positive value (0.1), use He initialisation, or lower the learning rate',
  saturated: 'use Xavier initialisation (var 2/(n_in + n_out)) or smaller initial weights, standardise the inputs, lower the learning rate, or use ReLUs',
  vanishingGradients: 'use ReLUs instead of logistic/tanh units, Xavier (logistic/tanh) or He (ReLU) initialisation, fewer layers, or batch normalisation',
  explodingGradients: 'use smaller initial weights (Xavier var 2/(n_in + n_out), He var 2/n_in), clip gradients (clipNorm), or lower the learning rate',
  risingLoss: 'lower the learning rate (halve it, for a start) or clip gradients (clipNorm)',
};

/** Maximum of ∂a/∂z for saturating activations. */
const SATURATING: Record<string, number> = { logistic: 0.25, sigmoid: 0.25, tanh: 1 };

function pct(v: number): string {
  return `${(100 * v).toFixed(v < 0.1 ? 1 : 0)}%`;
}

/** Per-unit view of a layer's output: units and the unit index of every value. */
function unitOf(r: RawLayerTrace): { units: number; unit: (i: number) => number } {
  const a = r.a;
  const per = a.size / a.shape[0];
  if (r.layer.type.startsWith('conv') && a.rank >= 3) {
    const ch = a.shape[1];
    const spatial = per / ch;
    return { units: ch, unit: (i) => Math.floor((i % per) / spatial) };
  }
  return { units: per, unit: (i) => i % per };
}

function layerHealth(r: RawLayerTrace, level: number): LayerHealth {
  const l = r.layer;
  const act = layerActivation(l);
  const { units, unit } = unitOf(r);
  let gsq = 0;
  for (const g of r.grads.values()) gsq += norms(g.data).norm ** 2;
  const dn = r.delta ? norms(r.delta.data) : null;
  const h: LayerHealth = { name: l.name, type: l.type, units, deltaRms: dn ? dn.rms : null, deltaNorm: dn ? dn.norm : null, gradNorm: Math.sqrt(gsq) };
  if (act) h.activation = act.name;
  const a = r.a.data;
  if (act?.name === 'relu') {
    const alive = new Uint8Array(units);
    for (let i = 0; i < a.length; i++) if (a[i] > 0) alive[unit(i)] = 1;
    h.deadUnits = [];
    for (let u = 0; u < units; u++) if (!alive[u]) h.deadUnits.push(u);
  }
  const max = act ? SATURATING[act.name] : undefined;
  if (max !== undefined && r.dadz) {
    const d = r.dadz;
    const everActive = new Uint8Array(units);
    const satPerUnit = new Float64Array(units);
    let sat = 0;
    for (let i = 0; i < d.length; i++) {
      if (d[i] < level * max) {
        sat++;
        satPerUnit[unit(i)]++;
      } else {
        everActive[unit(i)] = 1;
      }
    }
    h.saturatedFraction = d.length ? sat / d.length : 0;
    h.saturatedUnits = units - everActive.reduce((s, v) => s + v, 0);
    const perUnit = d.length / units;
    h.unitSaturation = Array.from(satPerUnit, (v) => v / perUnit);
  }
  return h;
}

function gradientWarnings(layers: LayerHealth[], o: Required<Pick<DiagnosticsOptions, 'vanishingRatio' | 'explodingRatio'>>): DiagnosticWarning[] {
  const withDelta = layers.filter((l) => l.deltaRms !== null && l.deltaRms > 0);
  let lo: [number, LayerHealth, LayerHealth] | null = null;
  let hi: [number, LayerHealth, LayerHealth] | null = null;
  for (let i = 0; i < withDelta.length; i++) {
    for (let j = i + 1; j < withDelta.length; j++) {
      const r = withDelta[i].deltaRms! / withDelta[j].deltaRms!;
      if (!lo || r < lo[0]) lo = [r, withDelta[i], withDelta[j]];
      if (!hi || r > hi[0]) hi = [r, withDelta[i], withDelta[j]];
    }
  }
  const out: DiagnosticWarning[] = [];
  const f = (v: number) => fmtNum(v, 4);
  if (lo && lo[0] < o.vanishingRatio) {
    const [r, a, b] = lo;
    out.push({
      kind: 'vanishingGradients', layer: a.name, value: r, comparedWith: b.name,
      message: `vanishing gradients: the RMS of δ falls from ${f(b.deltaRms!)} in ${b.name} to ${f(a.deltaRms!)} in ${a.name} going backwards (ratio ${f(r)} < ${o.vanishingRatio}); ${a.name} learns much more slowly than ${b.name}`,
      advice: ADVICE.vanishingGradients,
    });
  }
  if (hi && hi[0] > o.explodingRatio) {
    const [r, a, b] = hi;
    out.push({
      kind: 'explodingGradients', layer: a.name, value: r, comparedWith: b.name,
      message: `exploding gradients: the RMS of δ grows from ${f(b.deltaRms!)} in ${b.name} to ${f(a.deltaRms!)} in ${a.name} going backwards (ratio ${f(r)} > ${o.explodingRatio})`,
      advice: ADVICE.explodingGradients,
    });
  }
  return out;
}

/**
 * Checks a loss history for a sustained rise: within the last `window` epochs (default 10) the
 * loss went up in at least `count` epochs (default 3), and those rises add up to at least
 * `minRise` (default 10%) of the lowest loss in the window. Small wobbles (a single +2% epoch, a
 * few tiny rises) do not count. Returns a warning worded about this run (how often, how much,
 * where, with which learning rate), or null.
 *
 * @example
 * ```ts
 * checkRisingLoss(history.epochs.map((e) => e.loss)); // null when the loss falls steadily
 * ```
 */
export function checkRisingLoss(losses: readonly number[], opts: { window?: number; count?: number; minRise?: number; learningRate?: number; firstEpoch?: number } = {}): DiagnosticWarning | null {
  const window = opts.window ?? 10;
  const count = opts.count ?? 3;
  const minRise = opts.minRise ?? 0.1;
  const start = Math.max(1, losses.length - window);
  let rises = 0;
  let worst = -1;
  let risen = 0;
  let lowest = losses[start - 1] ?? Infinity;
  for (let i = start; i < losses.length; i++) {
    lowest = Math.min(lowest, losses[i]);
    if (losses[i] > losses[i - 1]) {
      rises++;
      risen += losses[i] - losses[i - 1];
      if (worst < 0 || losses[i] / losses[i - 1] > losses[worst] / losses[worst - 1]) worst = i;
    }
  }
  if (rises < count || !(risen >= minRise * lowest)) return null;
  const e0 = opts.firstEpoch ?? 1;
  const lr = opts.learningRate !== undefined ? ` with learning rate ${opts.learningRate}` : '';
  const f = (v: number) => fmtNum(v, 6);
  return {
    kind: 'risingLoss', value: rises,
    message: `the training loss went up in ${rises} of the last ${losses.length - start} epochs${lr}, by ${pct(risen / lowest)} of its lowest value in total (largest rise +${pct(losses[worst] / losses[worst - 1] - 1)}: ${f(losses[worst - 1])} → ${f(losses[worst])} at epoch ${worst + e0}); the updates are probably too large for this model`,
    advice: ADVICE.risingLoss,
  };
}

function resolve(opts: DiagnosticsOptions) {
  const num = (k: keyof DiagnosticsOptions, v: unknown, def: number, int = false) => {
    if (v === undefined) return def;
    if (typeof v !== 'number' || !(v > 0) || (int && !Number.isInteger(v))) throw new ConfigError(`diagnostics: ${k} must be a positive ${int ? 'integer' : 'number'}, received ${JSON.stringify(v)}`);
    return v;
  };
  return {
    sampleSize: num('sampleSize', opts.sampleSize, 256, true),
    every: num('every', opts.every, 1, true),
    saturatedFraction: num('saturatedFraction', opts.saturatedFraction, 0.25),
    saturationLevel: num('saturationLevel', opts.saturationLevel, 0.05),
    vanishingRatio: num('vanishingRatio', opts.vanishingRatio, 0.01),
    explodingRatio: num('explodingRatio', opts.explodingRatio, 10),
    risingWindow: num('risingWindow', opts.risingWindow, 10, true),
    risingCount: num('risingCount', opts.risingCount, 3, true),
  };
}

function layerWarnings(h: LayerHealth, examples: number, o: ReturnType<typeof resolve>): DiagnosticWarning[] {
  const out: DiagnosticWarning[] = [];
  const what = h.type.startsWith('conv') ? 'filters' : 'units';
  if (h.deadUnits && h.deadUnits.length) {
    const list = h.deadUnits.slice(0, 10).join(', ') + (h.deadUnits.length > 10 ? ', …' : '');
    out.push({
      kind: 'deadRelu', layer: h.name, value: h.deadUnits.length, units: [...h.deadUnits],
      message: `dead ReLUs: ${h.deadUnits.length} of ${h.units} ${what} in ${h.name} (index ${list}) are inactive (z ≤ 0) for all ${examples} sampled examples, so no gradient flows through them and their weights stop changing`,
      advice: ADVICE.deadRelu,
    });
  }
  if (h.saturatedFraction !== undefined && h.saturatedFraction > o.saturatedFraction) {
    out.push({
      kind: 'saturated', layer: h.name, value: h.saturatedFraction,
      units: (h.unitSaturation ?? []).flatMap((v, u) => (v > o.saturatedFraction ? [u] : [])),
      message: `saturated ${h.activation} units: ${pct(h.saturatedFraction)} of the activations in ${h.name} have ∂a/∂z below ${pct(o.saturationLevel)} of its maximum (|z| large)${h.saturatedUnits ? `; ${h.saturatedUnits} of ${h.units} ${what} are saturated for every sampled example` : ''}`,
      advice: ADVICE.saturated,
    });
  }
  return out;
}

function check(model: Model, x: Tensor, y: Tensor, rows: ArrayLike<number> | null, o: ReturnType<typeof resolve>, mode: TraceOptions['mode']): DiagnosticsRecord {
  const n = rows ? rows.length : x.shape[0];
  const xs = rows ? gatherRows(x, rows, 0, n) : x;
  const ys = rows ? gatherRows(y, rows, 0, n) : y;
  const raw = captureTrace(model, xs, ys, { mode });
  const layers = raw.layers.map((r) => layerHealth(r, o.saturationLevel));
  const withDelta = layers.filter((l) => l.deltaRms !== null);
  const deltaRatio = withDelta.length >= 2 && withDelta[withDelta.length - 1].deltaRms! > 0
    ? withDelta[0].deltaRms! / withDelta[withDelta.length - 1].deltaRms! : null;
  const warnings = [...layers.flatMap((h) => layerWarnings(h, n, o)), ...gradientWarnings(layers, o)];
  return { examples: n, layers, deltaRatio, warnings };
}

function learningRateOf(model: Model): number | undefined {
  const lr = (model.optimizer as unknown as { learningRate?: unknown }).learningRate;
  return typeof lr === 'number' ? lr : undefined;
}

/**
 * One diagnostic check of a model on data (all rows, or a sample of `sampleSize`): dead ReLUs,
 * saturated logistic/tanh units, vanishing or exploding δs, the gradient norm per layer, and,
 * given a history, a loss that rose in several recent epochs. Throws a `ConfigError` without data.
 *
 * @example
 * ```ts
 * const d = diagnose(model, x, y, { history: model.history });
 * for (const w of d.warnings) console.log(`${w.message}. ${w.advice}`);
 * ```
 */
export function diagnose(model: Model, x: Tensor, y: Tensor, opts: DiagnosticsOptions & { history?: History } = {}): DiagnosticsRecord {
  requireData(x, y, 'diagnosing a model');
  const o = resolve(opts);
  const n = x.shape[0];
  const rows = n > o.sampleSize ? new Rng(opts.seed ?? 1).permutation(n).subarray(0, o.sampleSize) : null;
  const rec = check(model, x, y, rows, o, opts.mode);
  const epochs = opts.history?.epochs ?? [];
  const w = checkRisingLoss(epochs.map((e) => e.loss), { window: o.risingWindow, count: o.risingCount, learningRate: learningRateOf(model), firstEpoch: epochs[0]?.epoch ?? 1 });
  if (w) rec.warnings.push(w);
  return rec;
}

/**
 * One warning as a line of text for progress output: what was seen, then what usually helps.
 *
 * @example
 * ```ts
 * new TrainingDiagnostics(model, x, y, { onWarning: (w, epoch) => console.warn(formatWarning(w, epoch)) });
 * ```
 */
export function formatWarning(w: DiagnosticWarning, epoch?: number): string {
  return `warning${epoch !== undefined ? ` (epoch ${epoch})` : ''}: ${w.message}. What usually helps: ${w.advice}.`;
}

const keyOf = (w: DiagnosticWarning) => `${w.kind}:${w.layer ?? ''}`;

/**
 * A training callback that checks the network's health after every epoch (or every `every`
 * epochs) on a sample of the training rows — one traced forward and backward pass, so the
 * overhead is about one extra batch per epoch — and adds the result to the epoch's log as
 * `diagnostics` (kept in the history). It reports dead ReLUs (the lecture's Neuron 4),
 * saturated logistic/tanh units, vanishing/exploding gradients and a loss rising over several
 * epochs (Figure 21); each warning says what it saw, with numbers, and what usually helps.
 * Training stays bit-identical with or without it.
 *
 * @example
 * ```ts
 * const diag = new TrainingDiagnostics(model, x, y, { onWarning: (w) => console.warn(w.message) });
 * model.fit(x, y, { epochs: 100, callbacks: [diag] });
 * diag.summary(); // distinct warnings with the epochs they were seen in
 * ```
 */
export class TrainingDiagnostics implements Callback {
  /** Every check made, in order. */
  readonly records: DiagnosticsRecord[] = [];
  private readonly o: ReturnType<typeof resolve>;
  private readonly rng: Rng;
  private readonly losses: number[] = [];
  private firstEpoch: number | null = null;
  private active = new Set<string>();
  private readonly seen = new Map<string, DiagnosticSummaryItem>();
  private risingReported = false;

  constructor(private readonly model: Model, private readonly x: Tensor, private readonly y: Tensor, private readonly opts: DiagnosticsOptions = {}) {
    this.o = resolve(opts);
    requireData(x, y, 'training diagnostics');
    this.rng = new Rng(opts.seed ?? 1);
  }

  onTrainBegin(): void {
    this.risingReported = false;
  }

  onEpochEnd(log: EpochLog): void {
    this.firstEpoch ??= log.epoch;
    this.losses.push(log.loss);
    if ((log.epoch - this.firstEpoch) % this.o.every !== 0) return;
    const n = this.x.shape[0];
    const rows = n > this.o.sampleSize ? this.rng.permutation(n).subarray(0, this.o.sampleSize) : null;
    const rec = check(this.model, this.x, this.y, rows, this.o, this.opts.mode);
    const rising = checkRisingLoss(this.losses, { window: this.o.risingWindow, count: this.o.risingCount, learningRate: learningRateOf(this.model), firstEpoch: this.firstEpoch });
    if (rising) rec.warnings.push(rising);
    rec.epoch = log.epoch;
    this.records.push(rec);
    log.diagnostics = rec;
    const now = new Set<string>();
    for (const w of rec.warnings) {
      const k = keyOf(w);
      now.add(k);
      const s = this.seen.get(k);
      if (s) this.seen.set(k, { ...s, ...w, firstEpoch: s.firstEpoch, lastEpoch: log.epoch, epochs: s.epochs + 1 });
      else this.seen.set(k, { ...w, firstEpoch: log.epoch, lastEpoch: log.epoch, epochs: 1 });
      if (this.active.has(k)) continue;
      if (w.kind === 'risingLoss') {
        if (this.risingReported) continue;
        this.risingReported = true;
      }
      this.opts.onWarning?.(w, log.epoch);
    }
    this.active = now;
  }

  /** Distinct warnings seen so far (latest message), with the first and last epoch and how often. */
  summary(): DiagnosticSummaryItem[] {
    return [...this.seen.values()];
  }
}
