import { ConfigError, DataError, ShapeError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/create.js';
import { Rng } from '../tensor/rng.js';
import type { CsvTable } from './csv.js';
import { exampleShape } from './csv.js';
import { argmaxRows } from './encode.js';
import { checkKeys } from '../validate.js';

// ---------------------------------------------------------------------------------------------
// Numeric normalisation
// ---------------------------------------------------------------------------------------------

/** How a numeric feature is normalised: not at all, to a range, or to mean 0 and deviation 1. */
export type NormalizeMethod = 'none' | 'range' | 'standard';

/**
 * The fitted normalisation of one numeric feature (plain JSON):
 * - `range`: x ↦ lo + (x − min)·(hi − lo)/(max − min), with `range = [lo, hi]` (default [0, 1]);
 * - `standard`: x ↦ (x − mean)/std (population standard deviation);
 * - `none`: x ↦ x.
 * A constant feature (max = min, or std = 0) is shifted but not scaled (divisor 1), so every
 * value stays finite.
 */
export type NumericTransform =
  | { normalize: 'none' }
  | { normalize: 'range'; min: number; max: number; range: [number, number] }
  | { normalize: 'standard'; mean: number; std: number };

/** y = (x − c)·s + o for a fitted transform. */
function coefficients(t: NumericTransform): { c: number; s: number; o: number } {
  switch (t.normalize) {
    case 'range': {
      const den = t.max > t.min ? t.max - t.min : 1;
      return { c: t.min, s: (t.range[1] - t.range[0]) / den, o: t.range[0] };
    }
    case 'standard':
      return { c: t.mean, s: 1 / (t.std > 0 ? t.std : 1), o: 0 };
    default:
      return { c: 0, s: 1, o: 0 };
  }
}

/** Declared statistics and target range for {@link fitNumeric}. */
export interface NumericFitOptions {
  /** Target interval of range normalisation `[lo, hi]`, lo < hi (default [0, 1]). */
  range?: readonly [number, number];
  /** Known minimum/maximum (range) — used instead of the data's (e.g. the lecture's Table 2). */
  min?: number;
  max?: number;
  /** Known mean/standard deviation (standard) — used instead of the data's. */
  mean?: number;
  std?: number;
}

function finiteOpt(v: unknown, key: string, where: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${where}.${key} must be a finite number, received ${JSON.stringify(v)}`);
  return v;
}

/**
 * Fits one feature's normalisation on training values (float64 statistics). Returns the transform
 * and, for a constant feature, a warning the caller can print (the values are then shifted, not
 * divided by zero). `label` names the feature in warnings, `where` the option's key in errors.
 *
 * @example
 * ```ts
 * const { transform } = fitNumeric(new Float64Array([3.21, 31.41]), 'range', { min: 1.81, max: 37.11 }, 'temp');
 * applyNumeric(transform, 3.21); // 0.0397
 * ```
 */
export function fitNumeric(
  values: ArrayLike<number>,
  method: NormalizeMethod,
  opts: NumericFitOptions = {},
  label = 'feature',
  where = label,
): { transform: NumericTransform; warning?: string } {
  const n = values.length;
  const needData = (what: string): void => {
    if (n === 0) throw new ConfigError(`${label}: cannot fit ${what} on 0 rows of training data`);
  };
  if (method === 'none') return { transform: { normalize: 'none' } };
  if (method === 'range') {
    const r = opts.range ?? [0, 1];
    if (!Array.isArray(r) || r.length !== 2 || !r.every((v) => typeof v === 'number' && Number.isFinite(v)) || !(r[0] < r[1])) {
      throw new ConfigError(`${where}.range must be [lo, hi] with lo < hi, received ${JSON.stringify(r)}`);
    }
    let min = finiteOpt(opts.min, 'min', where);
    let max = finiteOpt(opts.max, 'max', where);
    if (min === undefined || max === undefined) {
      needData('range normalisation');
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      min ??= lo;
      max ??= hi;
    }
    if (min > max) throw new ConfigError(`${where}: min ${min} is greater than max ${max}`);
    const transform: NumericTransform = { normalize: 'range', min, max, range: [r[0], r[1]] };
    if (max === min) {
      return {
        transform,
        warning: `${label} is constant (every value is ${min}): range normalisation would divide by zero, so it is only shifted (${min} → ${r[0]}); it carries no information for training`,
      };
    }
    return { transform };
  }
  if (method === 'standard') {
    let mean = finiteOpt(opts.mean, 'mean', where);
    let std = finiteOpt(opts.std, 'std', where);
    if (std !== undefined && std < 0) throw new ConfigError(`${where}.std must be ≥ 0, received ${std}`);
    if (mean === undefined || std === undefined) {
      needData('standardisation');
      let s = 0;
      for (let i = 0; i < n; i++) s += values[i];
      const m = s / n;
      let ss = 0;
      for (let i = 0; i < n; i++) ss += (values[i] - m) * (values[i] - m);
      mean ??= m;
      std ??= Math.sqrt(ss / n);
    }
    const transform: NumericTransform = { normalize: 'standard', mean, std };
    if (std === 0) {
      return {
        transform,
        warning: `${label} has standard deviation 0 (every value is ${mean}): standardisation would divide by zero, so it is only centred (${mean} → 0); it carries no information for training`,
      };
    }
    return { transform };
  }
  throw new ConfigError(`${where}.normalize must be "none", "range" or "standard", received ${JSON.stringify(method)}`);
}

/**
 * Applies a fitted normalisation to one value.
 * @example `applyNumeric({ normalize: 'range', min: 0, max: 10, range: [0, 1] }, 5) // 0.5`
 */
export function applyNumeric(t: NumericTransform, x: number): number {
  const { c, s, o } = coefficients(t);
  return (x - c) * s + o;
}

/**
 * Maps a normalised value back to original units (the inverse of {@link applyNumeric}).
 * @example `invertNumeric({ normalize: 'range', min: 420.26, max: 495.76, range: [0, 1] }, 0.94) // 491.23`
 */
export function invertNumeric(t: NumericTransform, y: number): number {
  const { c, s, o } = coefficients(t);
  return (y - o) / s + c;
}

/**
 * Per-feature normalisation of tensors `[N, ...]` (each of the ∏... values of an example is a
 * feature), fitted on training data and applied to new data, with the inverse mapping and JSON
 * form. Warnings (constant features) are in {@link Normalizer.warnings}.
 *
 * @example
 * ```ts
 * const norm = Normalizer.fit(xTrain, { method: 'standard' });
 * const xs = norm.transform(xTest);
 * const back = norm.inverse(xs);
 * const again = Normalizer.fromJSON(JSON.parse(JSON.stringify(norm)));
 * ```
 */
export class Normalizer {
  /** One fitted transform per feature. */
  readonly features: readonly NumericTransform[];
  /** What happened to constant features, for the caller to print. */
  readonly warnings: readonly string[];

  constructor(features: readonly NumericTransform[], warnings: readonly string[] = []) {
    this.features = features.map((f, i) => checkNumericTransform(f, `features[${i}]`));
    this.warnings = [...warnings];
  }

  /**
   * Fits per-feature statistics on `x` `[N, ...]` (float64 accumulation).
   * @example `Normalizer.fit(x, { method: 'range', range: [-1, 1] })`
   */
  static fit(x: Tensor, opts: { method: NormalizeMethod; range?: readonly [number, number]; names?: readonly string[] }): Normalizer {
    if (x.rank < 1 || x.shape[0] === 0) throw new ShapeError(`Normalizer.fit needs at least one example, received shape ${fmtShape(x.shape)}`);
    const n = x.shape[0];
    const f = x.size / n;
    if (opts.names && opts.names.length !== f) throw new ConfigError(`Normalizer.fit: ${opts.names.length} names given for ${f} features`);
    const features: NumericTransform[] = [];
    const warnings: string[] = [];
    const col = new Float64Array(n);
    for (let j = 0; j < f; j++) {
      for (let i = 0; i < n; i++) {
        const v = x.data[i * f + j];
        if (!Number.isFinite(v)) throw new DataError(`Normalizer.fit: example ${i}, feature ${j} is ${v}`);
        col[i] = v;
      }
      const label = opts.names ? `feature "${opts.names[j]}"` : `feature ${j}`;
      const r = fitNumeric(col, opts.method, { range: opts.range }, label);
      features.push(r.transform);
      if (r.warning) warnings.push(r.warning);
    }
    return new Normalizer(features, warnings);
  }

  private apply(x: Tensor, inverse: boolean): Tensor {
    const f = this.features.length;
    const n = x.shape[0] ?? 0;
    if (x.rank < 1 || n * f !== x.size) {
      throw new ShapeError(`Normalizer expects [N, ...] with ${f} values per example, received ${fmtShape(x.shape)}`);
    }
    const out = zeros(x.shape);
    const co = this.features.map(coefficients);
    for (let j = 0; j < f; j++) {
      const { c, s, o } = co[j];
      for (let i = 0; i < n; i++) {
        const k = i * f + j;
        out.data[k] = inverse ? (x.data[k] - o) / s + c : (x.data[k] - c) * s + o;
      }
    }
    return out;
  }

  /** Normalises new data with the fitted statistics. */
  transform(x: Tensor): Tensor {
    return this.apply(x, false);
  }

  /** Maps normalised values back to the original units. */
  inverse(y: Tensor): Tensor {
    return this.apply(y, true);
  }

  /** Plain JSON form (`{features, warnings}`). */
  toJSON(): { features: NumericTransform[]; warnings: string[] } {
    return { features: this.features.map((f) => ({ ...f }) as NumericTransform), warnings: [...this.warnings] };
  }

  /** Rebuilds a normalizer from {@link Normalizer.toJSON}; ConfigError naming a bad key. */
  static fromJSON(json: unknown): Normalizer {
    if (!isObj(json) || !Array.isArray(json.features)) throw new ConfigError('normalizer: expected {"features": [...]}');
    const w = Array.isArray(json.warnings) ? json.warnings.map(String) : [];
    return new Normalizer(json.features as NumericTransform[], w);
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkNumericTransform(t: unknown, where: string): NumericTransform {
  if (!isObj(t)) throw new ConfigError(`${where} must be an object, received ${JSON.stringify(t)}`);
  const num = (k: string): number => {
    const v = t[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${where}.${k} must be a finite number, received ${JSON.stringify(v)}`);
    return v;
  };
  switch (t.normalize) {
    case 'none':
      return { normalize: 'none' };
    case 'range': {
      const r = t.range;
      if (!Array.isArray(r) || r.length !== 2 || !r.every((v) => typeof v === 'number' && Number.isFinite(v)) || !(r[0] < r[1])) {
        throw new ConfigError(`${where}.range must be [lo, hi] with lo < hi, received ${JSON.stringify(r)}`);
      }
      const min = num('min');
      const max = num('max');
      if (min > max) throw new ConfigError(`${where}: min ${min} is greater than max ${max}`);
      return { normalize: 'range', min, max, range: [r[0], r[1]] };
    }
    case 'standard': {
      const std = num('std');
      if (std < 0) throw new ConfigError(`${where}.std must be ≥ 0, received ${std}`);
      return { normalize: 'standard', mean: num('mean'), std };
    }
    default:
      throw new ConfigError(`${where}.normalize must be "none", "range" or "standard", received ${JSON.stringify(t.normalize)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Categorical levels, one-hot encoding, binning
// ---------------------------------------------------------------------------------------------

const NUMERIC_LEVEL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Sorts discovered levels: numbers by value (`2` before `10`), then text by code point. The
 * order does not depend on the order of the rows, so splits of the same data agree.
 *
 * @example `sortLevels(['b', '10', 'a', '2']) // ['2', '10', 'a', 'b']`
 */
export function sortLevels(levels: Iterable<string>): string[] {
  return [...new Set(levels)].sort((a, b) => {
    const na = NUMERIC_LEVEL.test(a);
    const nb = NUMERIC_LEVEL.test(b);
    if (na && nb) return Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0);
    if (na !== nb) return na ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

function checkLevels(levels: unknown, where: string): string[] {
  if (!Array.isArray(levels) || levels.some((l) => typeof l !== 'string' && typeof l !== 'number')) {
    throw new ConfigError(`${where} must be a list of level names, received ${JSON.stringify(levels)}`);
  }
  const out = levels.map(String);
  const seen = new Set<string>();
  for (const l of out) {
    if (l === '') throw new ConfigError(`${where}: a level name is empty`);
    if (seen.has(l)) throw new ConfigError(`${where}: level "${l}" appears twice`);
    seen.add(l);
  }
  return out;
}

/**
 * One-hot encoding of a categorical value with named levels: level i ↦ a vector with 1 at i.
 * Levels are declared (their order is the output order) or discovered from training data
 * (sorted, see {@link sortLevels}). Encoding a value that is not a level is a {@link DataError}
 * naming it; decoding maps each row of predictions to the level with the largest value.
 *
 * @example
 * ```ts
 * const enc = new OneHotEncoder(['low', 'medium', 'high'], { name: 'power' });
 * enc.encode(['high', 'low']).toArray(); // [[0, 0, 1], [1, 0, 0]]
 * enc.decode(tensor([[0.1, 0.7, 0.2]]));  // ['medium']
 * ```
 */
export class OneHotEncoder {
  /** Level names; level i is output position i. */
  readonly levels: readonly string[];
  /** Name of the encoded column (for messages). */
  readonly name: string;
  /** True when the levels were declared by the user, false when discovered from data. */
  readonly declared: boolean;
  /** `'target'` or `'input'` (words messages). */
  readonly role: 'target' | 'input';
  private readonly index: Map<string, number>;

  constructor(levels: readonly string[], opts: { name?: string; declared?: boolean; role?: 'target' | 'input' } = {}) {
    this.name = opts.name ?? 'value';
    this.role = opts.role ?? 'target';
    this.declared = opts.declared ?? true;
    this.levels = Object.freeze(checkLevels(levels, `levels of "${this.name}"`));
    if (this.levels.length === 0) throw new ConfigError(`levels of "${this.name}": at least one level is needed`);
    if (this.role === 'target' && this.levels.length < 2) {
      throw new ConfigError(
        `classification target "${this.name}" has a single level ("${this.levels[0]}"); a classifier needs at least 2 levels`,
      );
    }
    this.index = new Map(this.levels.map((l, i) => [l, i]));
  }

  /**
   * Encoder for the values' levels: the declared `levels` (every value must be one) or those
   * that occur, sorted. `where(i)` locates value i in errors (e.g. a file and line).
   *
   * @example `OneHotEncoder.fit(['b', 'a', 'b']).levels // ['a', 'b']`
   */
  static fit(
    values: readonly string[],
    opts: { levels?: readonly string[]; name?: string; role?: 'target' | 'input'; where?: (i: number) => string } = {},
  ): OneHotEncoder {
    const enc = opts.levels
      ? new OneHotEncoder(opts.levels, { name: opts.name, role: opts.role, declared: true })
      : new OneHotEncoder(sortLevels(values), { name: opts.name, role: opts.role, declared: false });
    if (opts.levels) enc.indices(values, opts.where);
    return enc;
  }

  /** Number of levels (width of the one-hot vector). */
  get size(): number {
    return this.levels.length;
  }

  /** Index of a level; DataError naming the value, the column and `at` (e.g. file and line). */
  indexOf(value: string, at?: string): number {
    const k = this.index.get(value);
    if (k !== undefined) return k;
    const loc = at ? ` (${at})` : '';
    const known = this.declared ? 'the declared levels' : 'the levels seen in the training data';
    throw new DataError(`${this.role} level "${value}" of column "${this.name}"${loc} is not among ${known}: ${this.levels.join(', ')}`);
  }

  /** Level indices of values (`where(i)` locates value i in errors). */
  indices(values: readonly string[], where?: (i: number) => string): Int32Array {
    const out = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = this.indexOf(values[i], where?.(i));
    return out;
  }

  /** One-hot rows `[values.length, levels]`. */
  encode(values: readonly string[], where?: (i: number) => string): Tensor {
    const idx = this.indices(values, where);
    const out = zeros([values.length, this.size]);
    for (let i = 0; i < idx.length; i++) out.data[i * this.size + idx[i]] = 1;
    return out;
  }

  /** The level with the largest value in each row of `[N, levels]` predictions. */
  decode(pred: Tensor): string[] {
    if (pred.rank < 1 || pred.shape[pred.rank - 1] !== this.size) {
      throw new ShapeError(`decoding "${this.name}" expects predictions [N, ${this.size}] (one per level: ${this.levels.join(', ')}), received ${fmtShape(pred.shape)}`);
    }
    return Array.from(argmaxRows(pred), (k) => this.levels[k]);
  }

  /** Plain JSON form. */
  toJSON(): { name: string; levels: string[]; declared: boolean; role: 'target' | 'input' } {
    return { name: this.name, levels: [...this.levels], declared: this.declared, role: this.role };
  }

  /** Rebuilds an encoder from {@link OneHotEncoder.toJSON}. */
  static fromJSON(json: unknown): OneHotEncoder {
    if (!isObj(json)) throw new ConfigError(`one-hot encoder: expected an object, received ${JSON.stringify(json)}`);
    const role = json.role === 'input' ? 'input' : 'target';
    return new OneHotEncoder(checkLevels(json.levels, 'one-hot encoder.levels'), {
      name: typeof json.name === 'string' ? json.name : undefined,
      declared: json.declared !== false,
      role,
    });
  }
}

function checkBins(bins: unknown, levels: readonly string[], where: string): number[] {
  if (!Array.isArray(bins) || bins.length === 0 || bins.some((b) => typeof b !== 'number' || !Number.isFinite(b))) {
    throw new ConfigError(`${where}.bins must be a non-empty list of finite numbers (upper edges), received ${JSON.stringify(bins)}`);
  }
  for (let i = 1; i < bins.length; i++) {
    if (!(bins[i] > bins[i - 1])) throw new ConfigError(`${where}.bins must increase strictly, received ${JSON.stringify(bins)}`);
  }
  if (levels.length !== bins.length + 1) {
    throw new ConfigError(`${where}: ${bins.length} bin edges make ${bins.length + 1} levels, but ${levels.length} levels are named (${levels.join(', ')})`);
  }
  return bins as number[];
}

/**
 * Bins continuous values into named levels: a value ≤ `bins[0]` gets `levels[0]`, ≤ `bins[1]`
 * gets `levels[1]`, …, a value > the last edge gets the last level (so `levels` has one more
 * entry than `bins`). The lecture's Table 14: `binValues(v, [0.33, 0.66], ['low', 'medium', 'high'])`.
 *
 * @example
 * ```ts
 * binValues([0.94, 0.13, 0.57, 0.36], [0.33, 0.66], ['low', 'medium', 'high']);
 * // ['high', 'low', 'medium', 'medium']
 * ```
 */
export function binValues(values: ArrayLike<number>, bins: readonly number[], levels: readonly string[]): string[] {
  const edges = checkBins(bins, checkLevels(levels, 'binValues levels'), 'binValues');
  const out: string[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let k = 0;
    while (k < edges.length && !(v <= edges[k])) k++;
    out[i] = levels[k];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Splits
// ---------------------------------------------------------------------------------------------

/** Options of {@link splitIndices}. */
export interface SplitOptions {
  /** Fraction of the rows for validation, in (0, 1). */
  validation?: number;
  /** Fraction of the rows for testing, in (0, 1). */
  test?: number;
  /** Seed of the shuffle (default 1). */
  seed?: number;
  /** Shuffle before splitting (default true); false keeps order: train, then validation, then test. */
  shuffle?: boolean;
}

/** Row indices of a train / validation / test split. */
export interface Split {
  train: Int32Array;
  validation: Int32Array;
  test: Int32Array;
}

/**
 * Splits row indices [0, n) into train / validation / test sets, shuffled by a seeded generator
 * (the same seed gives the same split). Each set's size is round(fraction · n). ConfigError for a
 * fraction outside (0, 1), fractions adding up to ≥ 1, or a split that leaves a set empty.
 *
 * @example
 * ```ts
 * const { train, validation, test } = splitIndices(100, { validation: 0.2, test: 0.1, seed: 7 });
 * const xTrain = gatherRows(x, train, 0, train.length);
 * ```
 */
export function splitIndices(n: number, opts: SplitOptions = {}): Split {
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`splitIndices: the number of rows must be an integer ≥ 0, received ${n}`);
  const frac = (key: 'validation' | 'test'): number => {
    const v = opts[key];
    if (v === undefined) return 0;
    if (typeof v !== 'number' || !(v > 0 && v < 1)) {
      throw new ConfigError(`${key} split must be a fraction in (0, 1), received ${JSON.stringify(v)}`);
    }
    return v;
  };
  const fv = frac('validation');
  const ft = frac('test');
  if (fv + ft >= 1) throw new ConfigError(`validation split ${fv} plus test split ${ft} is ${fv + ft} ≥ 1: no rows would be left for training`);
  const nv = Math.round(fv * n);
  const nt = Math.round(ft * n);
  const nTrain = n - nv - nt;
  if (fv > 0 && nv === 0) throw new ConfigError(`validation split ${fv} of ${n} rows leaves an empty validation set (round(${fv} × ${n}) = 0 rows)`);
  if (ft > 0 && nt === 0) throw new ConfigError(`test split ${ft} of ${n} rows leaves an empty test set (round(${ft} × ${n}) = 0 rows)`);
  if (nTrain <= 0) throw new ConfigError(`splitting ${n} rows into ${nv} validation and ${nt} test rows leaves an empty training set`);
  let order: Int32Array;
  if (opts.shuffle === false) {
    order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
  } else {
    order = new Rng(opts.seed ?? 1).permutation(n);
  }
  return {
    train: order.slice(0, nTrain),
    validation: order.slice(nTrain, nTrain + nv),
    test: order.slice(nTrain + nv),
  };
}

// ---------------------------------------------------------------------------------------------
// Column specs and the table preprocessor
// ---------------------------------------------------------------------------------------------

/**
 * How one CSV column is prepared (an entry of {@link ColumnsSpec}):
 * - `type`: `"numeric"` (default), `"categorical"` (one-hot encoded), or `"ignore"` (not used);
 * - `normalize` (or `normalise`): `"none"` (default), `"range"`, `"standard"` — numeric only;
 * - `range`: `[lo, hi]` for range normalisation (default `[0, 1]`);
 * - `min`, `max` (range) or `mean`, `std` (standard): known statistics used instead of the
 *   training data's;
 * - `levels`: the levels of a categorical column, in output order (default: discovered, sorted).
 */
export interface ColumnSpec {
  type?: 'numeric' | 'categorical' | 'ignore';
  normalize?: NormalizeMethod;
  normalise?: NormalizeMethod;
  range?: [number, number];
  min?: number;
  max?: number;
  mean?: number;
  std?: number;
  levels?: string[];
}

/**
 * Per-column preparation, keyed by column name; the key `"*"` is the default for input columns
 * that are not listed (target columns use only their own entry). Unlisted columns (without
 * `"*"`) are numeric and not normalised.
 *
 * ```json
 * "columns": {"temp": {"normalize": "range"}, "power": {"normalize": "range"}, "kind": {"type": "categorical"}}
 * ```
 */
export type ColumnsSpec = Record<string, ColumnSpec>;

/**
 * What the model predicts:
 * - `columns` (or `column`): the target column(s) (the CLI's `--target COL[,COL…]`);
 * - `type`: `"regression"` (default; numeric columns, normalised as their `columns` entry says,
 *   mapped back by {@link Preprocessor.inverseTargets}) or `"classification"` (default when the
 *   target's `columns` entry is categorical);
 * - `levels`: classification levels in output order (declared); a value outside them is a
 *   DataError. Default: the levels in the training data, sorted;
 * - `bins`: classify a continuous column by upper bin edges (after its normalisation), e.g.
 *   `[0.33, 0.66]` with `levels` `["low", "medium", "high"]` (Table 14).
 * With several target columns, `classification` reads them as one-hot indicator columns (one 1
 * per row); the levels are the column names unless declared.
 */
export interface TargetSpec {
  columns?: string | string[];
  column?: string;
  type?: 'regression' | 'classification';
  levels?: string[];
  bins?: number[];
}

/** The fitted preparation of one input column (plain JSON). */
export type FeatureTransform =
  | ({ column: string; type: 'numeric' } & NumericTransform)
  | { column: string; type: 'categorical'; levels: string[]; declared: boolean };

/** The fitted preparation of the target (plain JSON). */
export type TargetTransform =
  | { type: 'regression'; columns: ({ column: string } & NumericTransform)[] }
  | { type: 'classification'; source: 'levels'; column: string; levels: string[]; declared: boolean }
  | { type: 'classification'; source: 'bins'; column: string; levels: string[]; bins: number[]; scale: NumericTransform }
  | { type: 'classification'; source: 'indicators'; columns: string[]; levels: string[] };

/** The JSON form of a {@link Preprocessor} (saved with a model). */
export interface PreprocessorJSON {
  format: 'dendrite-preprocessor';
  version: 1;
  inputs: FeatureTransform[];
  target: TargetTransform;
  inputShape: number[] | null;
  targetShape: number[] | null;
  warnings: string[];
}

const COLUMN_KEYS = ['type', 'normalize', 'normalise', 'range', 'min', 'max', 'mean', 'std', 'levels'];
const TARGET_KEYS = ['columns', 'column', 'type', 'levels', 'bins'];

/** A column's entry; the `"*"` default applies to input columns only (`useDefault`). */
function columnSpecOf(spec: ColumnsSpec, name: string, useDefault = true): { s: ColumnSpec; where: string } {
  if (Object.prototype.hasOwnProperty.call(spec, name)) return { s: spec[name], where: `columns.${name}` };
  if (useDefault && spec['*']) return { s: spec['*'], where: 'columns.*' };
  return { s: {}, where: `columns.${name}` };
}

function methodOf(s: ColumnSpec, where: string): NormalizeMethod {
  const m = s.normalize ?? s.normalise ?? 'none';
  if (m !== 'none' && m !== 'range' && m !== 'standard') {
    throw new ConfigError(`${where}.normalize must be "none", "range" or "standard", received ${JSON.stringify(m)}`);
  }
  return m;
}

function validateColumnsSpec(spec: unknown, table: CsvTable): ColumnsSpec {
  if (spec === undefined || spec === null) return {};
  if (!isObj(spec)) throw new ConfigError(`"columns" must be an object keyed by column name, received ${JSON.stringify(spec)}`);
  for (const [name, s] of Object.entries(spec)) {
    const where = `columns.${name}`;
    if (!isObj(s)) throw new ConfigError(`${where} must be an object, received ${JSON.stringify(s)}`);
    checkKeys(s, COLUMN_KEYS, where);
    if (name !== '*') table.columnIndex(name, `column in "columns"`);
    const type = s.type ?? 'numeric';
    if (type !== 'numeric' && type !== 'categorical' && type !== 'ignore') {
      throw new ConfigError(`${where}.type must be "numeric", "categorical" or "ignore", received ${JSON.stringify(type)}`);
    }
    const m = methodOf(s as ColumnSpec, where);
    if (type !== 'numeric' && m !== 'none') throw new ConfigError(`${where}: a ${type} column cannot be normalised ("normalize": "${m}")`);
    if (s.levels !== undefined && type !== 'categorical') throw new ConfigError(`${where}.levels needs "type": "categorical"`);
    if (s.levels !== undefined) checkLevels(s.levels, `${where}.levels`);
  }
  return spec as ColumnsSpec;
}

/**
 * A fitted table preparation: which columns are inputs and how each is normalised or one-hot
 * encoded, and how the target is encoded — fitted on training data by {@link prepareTable},
 * applied to new tables with {@link Preprocessor.transform}, saved as JSON with a model.
 *
 * @example
 * ```ts
 * const { x, y, preprocessor } = prepareTable(train, columns, { columns: 'power' });
 * const { x: xTest } = preprocessor.transform(test);
 * const mw = preprocessor.inverseTargets(model.predict(xTest)); // back in MW
 * fs.writeFileSync('pre.json', JSON.stringify(preprocessor));
 * const again = Preprocessor.fromJSON(JSON.parse(fs.readFileSync('pre.json', 'utf8')));
 * ```
 */
export class Preprocessor {
  /** Input columns in order, with their fitted transforms. */
  readonly inputs: readonly FeatureTransform[];
  /** The target's fitted encoding. */
  readonly target: TargetTransform;
  /** Example shape the inputs are laid out in (row-major), or null for a flat vector. */
  readonly inputShape: readonly number[] | null;
  /** Example shape of the targets, or null for a flat vector. */
  readonly targetShape: readonly number[] | null;
  /** What happened while fitting (constant columns, single-level inputs), for the caller to print. */
  readonly warnings: readonly string[];

  constructor(json: Omit<PreprocessorJSON, 'format' | 'version'>) {
    this.inputs = json.inputs;
    this.target = json.target;
    this.inputShape = json.inputShape;
    this.targetShape = json.targetShape;
    this.warnings = json.warnings;
    if (this.inputShape) exampleShape(0, this.inputSize, this.inputShape, 'input');
    if (this.targetShape) exampleShape(0, this.outputSize, this.targetShape, 'target');
  }

  /** Names of the input features after encoding (`temp`, `kind=a`, `kind=b`, …). */
  get inputNames(): string[] {
    return this.inputs.flatMap((f) => (f.type === 'numeric' ? [f.column] : f.levels.map((l) => `${f.column}=${l}`)));
  }

  /** Number of input values per example. */
  get inputSize(): number {
    return this.inputs.reduce((s, f) => s + (f.type === 'numeric' ? 1 : f.levels.length), 0);
  }

  /** Names of the target columns that the data must hold. */
  get targetColumns(): string[] {
    const t = this.target;
    if (t.type === 'regression') return t.columns.map((c) => c.column);
    return t.source === 'indicators' ? [...t.columns] : [t.column];
  }

  /** Names of the outputs: the regression columns, or the classification levels. */
  get outputNames(): string[] {
    const t = this.target;
    return t.type === 'regression' ? t.columns.map((c) => c.column) : [...t.levels];
  }

  /** Number of output values per example. */
  get outputSize(): number {
    return this.outputNames.length;
  }

  /** The classification levels (output order), or null for regression. */
  get levels(): readonly string[] | null {
    return this.target.type === 'classification' ? this.target.levels : null;
  }

  /** Prepared inputs of a table `[rows, ...inputShape]`; DataError for a missing or bad cell. */
  transformInputs(table: CsvTable): Tensor {
    const n = table.rowCount;
    const width = this.inputSize;
    const out = zeros(exampleShape(n, width, this.inputShape ?? undefined, 'input'));
    const d = out.data;
    let off = 0;
    for (const f of this.inputs) {
      if (f.type === 'numeric') {
        const v = table.numbers(f.column, 'input column');
        const { c, s, o } = coefficients(f);
        for (let i = 0; i < n; i++) d[i * width + off] = (v[i] - c) * s + o;
        off += 1;
      } else {
        const enc = new OneHotEncoder(f.levels, { name: f.column, role: 'input', declared: f.declared });
        const idx = enc.indices(table.strings(f.column, 'input column'), (i) => `${table.file}, line ${table.line(i)}`);
        for (let i = 0; i < n; i++) d[i * width + off + idx[i]] = 1;
        off += f.levels.length;
      }
    }
    return out;
  }

  /** Prepared targets of a table `[rows, ...targetShape]`; DataError for a missing or bad cell. */
  transformTargets(table: CsvTable): Tensor {
    const t = this.target;
    const n = table.rowCount;
    const width = this.outputSize;
    const out = zeros(exampleShape(n, width, this.targetShape ?? undefined, 'target'));
    const d = out.data;
    const at = (i: number): string => `${table.file}, line ${table.line(i)}`;
    if (t.type === 'regression') {
      t.columns.forEach((col, j) => {
        const v = table.numbers(col.column, 'target column');
        const { c, s, o } = coefficients(col);
        for (let i = 0; i < n; i++) d[i * width + j] = (v[i] - c) * s + o;
      });
      return out;
    }
    let idx: Int32Array;
    if (t.source === 'levels') {
      idx = new OneHotEncoder(t.levels, { name: t.column, declared: t.declared }).indices(table.strings(t.column, 'target column'), at);
    } else if (t.source === 'bins') {
      const v = table.numbers(t.column, 'target column');
      const scaled = Float64Array.from(v, (x) => applyNumeric(t.scale, x));
      const names = binValues(scaled, t.bins, t.levels);
      idx = new OneHotEncoder(t.levels, { name: t.column }).indices(names);
    } else {
      idx = indicatorIndices(table, t.columns);
    }
    for (let i = 0; i < n; i++) d[i * width + idx[i]] = 1;
    return out;
  }

  /**
   * Prepared inputs and targets of a table (new data, with the training statistics). `y` is
   * null when the table has none of the target columns (data to predict on); with
   * `{ requireTargets: true }` it is typed `Tensor` and a table without them is a `DataError`.
   *
   * @example
   * ```ts
   * const { x, y } = preprocessor.transform(testTable, { requireTargets: true }); // y: Tensor
   * const { x: xNew } = preprocessor.transform(newTable);                       // y: null here
   * ```
   */
  transform(table: CsvTable, opts: { requireTargets: true }): { x: Tensor; y: Tensor };
  transform(table: CsvTable, opts?: { requireTargets?: boolean }): { x: Tensor; y: Tensor | null };
  transform(table: CsvTable, opts: { requireTargets?: boolean } = {}): { x: Tensor; y: Tensor | null } {
    const present = this.targetColumns.filter((c) => table.columns.includes(c));
    if (present.length === 0 && opts.requireTargets) {
      throw new DataError(`${table.file}: the target column(s) ${this.targetColumns.join(', ')} are missing; the columns are: ${table.columns.join(', ')}`);
    }
    const y = present.length === 0 ? null : this.transformTargets(table);
    return { x: this.transformInputs(table), y };
  }

  /**
   * Maps regression outputs `[N, ...targetShape]` back to the target's original units (e.g. MW).
   * ConfigError for a classification target (use {@link Preprocessor.decode}).
   */
  inverseTargets(y: Tensor): Tensor {
    const t = this.target;
    if (t.type !== 'regression') throw new ConfigError(`inverseTargets() maps regression outputs back; this target is a classification (use decode())`);
    const w = t.columns.length;
    const n = y.shape[0] ?? 0;
    if (y.rank < 1 || n * w !== y.size) throw new ShapeError(`inverseTargets expects [N, ${w}] outputs (${this.outputNames.join(', ')}), received ${fmtShape(y.shape)}`);
    const out = zeros(y.shape);
    t.columns.forEach((col, j) => {
      const { c, s, o } = coefficients(col);
      for (let i = 0; i < n; i++) out.data[i * w + j] = (y.data[i * w + j] - o) / s + c;
    });
    return out;
  }

  /** The predicted level of each row of classification outputs `[N, levels]`. */
  decode(y: Tensor): string[] {
    const t = this.target;
    if (t.type !== 'classification') throw new ConfigError(`decode() maps classification outputs to levels; this target is a regression (use inverseTargets())`);
    return new OneHotEncoder(t.levels, { name: t.source === 'indicators' ? 'target' : t.column }).decode(y);
  }

  /** The JSON form ({@link PreprocessorJSON}), e.g. for a model's manifest. */
  toJSON(): PreprocessorJSON {
    return JSON.parse(
      JSON.stringify({
        format: 'dendrite-preprocessor',
        version: 1,
        inputs: this.inputs,
        target: this.target,
        inputShape: this.inputShape,
        targetShape: this.targetShape,
        warnings: this.warnings,
      }),
    ) as PreprocessorJSON;
  }

  /** Rebuilds a preprocessor from its JSON form; ConfigError naming the first bad key. */
  static fromJSON(json: unknown): Preprocessor {
    const w = 'preprocessor';
    if (!isObj(json) || json.format !== 'dendrite-preprocessor') {
      throw new ConfigError(`${w}: expected an object with "format": "dendrite-preprocessor"`);
    }
    if (json.version !== 1) throw new ConfigError(`${w}.version ${JSON.stringify(json.version)} is not supported (this dendrite reads version 1)`);
    if (!Array.isArray(json.inputs)) throw new ConfigError(`${w}.inputs must be a list`);
    const str = (v: unknown, where: string): string => {
      if (typeof v !== 'string' || v === '') throw new ConfigError(`${where} must be a column name, received ${JSON.stringify(v)}`);
      return v;
    };
    const inputs: FeatureTransform[] = json.inputs.map((f: unknown, i: number) => {
      const where = `${w}.inputs[${i}]`;
      if (!isObj(f)) throw new ConfigError(`${where} must be an object`);
      const column = str(f.column, `${where}.column`);
      if (f.type === 'categorical') return { column, type: 'categorical', levels: checkLevels(f.levels, `${where}.levels`), declared: f.declared !== false };
      if (f.type !== 'numeric') throw new ConfigError(`${where}.type must be "numeric" or "categorical", received ${JSON.stringify(f.type)}`);
      return { column, type: 'numeric', ...checkNumericTransform(f, where) };
    });
    const t = json.target;
    const tw = `${w}.target`;
    if (!isObj(t)) throw new ConfigError(`${tw} must be an object`);
    let target: TargetTransform;
    if (t.type === 'regression') {
      if (!Array.isArray(t.columns) || t.columns.length === 0) throw new ConfigError(`${tw}.columns must be a non-empty list`);
      target = {
        type: 'regression',
        columns: t.columns.map((c: unknown, i: number) => {
          if (!isObj(c)) throw new ConfigError(`${tw}.columns[${i}] must be an object`);
          return { column: str(c.column, `${tw}.columns[${i}].column`), ...checkNumericTransform(c, `${tw}.columns[${i}]`) };
        }),
      };
    } else if (t.type === 'classification') {
      const levels = checkLevels(t.levels, `${tw}.levels`);
      if (levels.length < 2) throw new ConfigError(`${tw}.levels: a classifier needs at least 2 levels, received ${JSON.stringify(levels)}`);
      if (t.source === 'levels') target = { type: 'classification', source: 'levels', column: str(t.column, `${tw}.column`), levels, declared: t.declared !== false };
      else if (t.source === 'bins') {
        target = {
          type: 'classification',
          source: 'bins',
          column: str(t.column, `${tw}.column`),
          levels,
          bins: checkBins(t.bins, levels, tw),
          scale: checkNumericTransform(t.scale, `${tw}.scale`),
        };
      } else if (t.source === 'indicators') {
        if (!Array.isArray(t.columns) || t.columns.length !== levels.length) throw new ConfigError(`${tw}.columns must list one indicator column per level`);
        target = { type: 'classification', source: 'indicators', columns: t.columns.map((c: unknown, i: number) => str(c, `${tw}.columns[${i}]`)), levels };
      } else throw new ConfigError(`${tw}.source must be "levels", "bins" or "indicators", received ${JSON.stringify(t.source)}`);
    } else throw new ConfigError(`${tw}.type must be "regression" or "classification", received ${JSON.stringify(t.type)}`);
    const shape = (v: unknown, key: string): number[] | null => {
      if (v === null || v === undefined) return null;
      if (!Array.isArray(v) || v.some((d) => !Number.isInteger(d) || d < 1)) throw new ConfigError(`${w}.${key} must be null or a list of positive integers`);
      return v as number[];
    };
    return new Preprocessor({
      inputs,
      target,
      inputShape: shape(json.inputShape, 'inputShape'),
      targetShape: shape(json.targetShape, 'targetShape'),
      warnings: Array.isArray(json.warnings) ? json.warnings.map(String) : [],
    });
  }
}

function indicatorIndices(table: CsvTable, columns: readonly string[]): Int32Array {
  const vals = columns.map((c) => table.numbers(c, 'target column'));
  const n = table.rowCount;
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let hot = -1;
    for (let j = 0; j < vals.length; j++) {
      const v = vals[j][i];
      if (v !== 0 && v !== 1) {
        throw new DataError(`${table.where(i, table.columnIndex(columns[j]))}: indicator target cells must be 0 or 1, received ${v}`);
      }
      if (v === 1) {
        if (hot >= 0) throw new DataError(`${table.file}, line ${table.line(i)}: two target columns are 1 ("${columns[hot]}" and "${columns[j]}"); one-hot targets need exactly one`);
        hot = j;
      }
    }
    if (hot < 0) throw new DataError(`${table.file}, line ${table.line(i)}: none of the target columns (${columns.join(', ')}) is 1; one-hot targets need exactly one`);
    idx[i] = hot;
  }
  return idx;
}

/** Options of {@link prepareTable}. */
export interface PrepareOptions {
  /** Lay each example's inputs out row-major in this shape (e.g. `[1, 6, 6]`, `[T, features]`). */
  inputShape?: readonly number[];
  /** Lay each example's targets out in this shape (e.g. `[T, outputs]`). */
  targetShape?: readonly number[];
}

/**
 * Fits the preparation of a table on (training) data and applies it: inputs are every column
 * that is not a target and not `"ignore"`d, in file order; numeric columns are normalised as
 * their {@link ColumnSpec} says (or the `"*"` entry, for inputs that are not listed),
 * categorical ones one-hot encoded; the target is encoded as the {@link TargetSpec} says. The
 * format, as a model spec's keys:
 *
 * ```json
 * "columns": {"temp": {"normalize": "range"},
 *             "humidity": {"normalize": "range", "min": 25.56, "max": 100.16},
 *             "pressure": {"normalize": "standard"},
 *             "kind": {"type": "categorical", "levels": ["gas", "steam"]},
 *             "id": {"type": "ignore"},
 *             "power": {"normalize": "range"}},
 * "target": {"type": "regression"}
 * "target": {"type": "classification", "levels": ["low", "medium", "high"], "bins": [0.33, 0.66]}
 * ```
 * (`target.columns` comes from the CLI's `--target`.) Constant columns are not divided by zero;
 * what happened is in `preprocessor.warnings`. Errors: unknown column or spec key, bad values
 * (ConfigError naming the key), a target level not among the declared ones, a missing or
 * non-numeric cell (DataError with file, line and column), a classification target with a
 * single level (ConfigError).
 *
 * @example
 * ```ts
 * const table = parseCsv(text, { file: 'plant.csv' });
 * const { x, y, preprocessor } = prepareTable(table,
 *   { temp: { normalize: 'range' }, humidity: { normalize: 'range' }, power: { normalize: 'range' } },
 *   { columns: ['power'], type: 'regression' });
 * preprocessor.warnings.forEach((w) => console.warn(w));
 * ```
 */
export function prepareTable(
  table: CsvTable,
  columnsSpec: ColumnsSpec | undefined,
  targetSpec: TargetSpec,
  opts: PrepareOptions = {},
): { x: Tensor; y: Tensor; preprocessor: Preprocessor } {
  const cols = validateColumnsSpec(columnsSpec, table);
  if (!isObj(targetSpec)) throw new ConfigError(`"target" must be an object, received ${JSON.stringify(targetSpec)}`);
  checkKeys(targetSpec as Record<string, unknown>, TARGET_KEYS, 'target');
  const tcRaw = targetSpec.columns ?? targetSpec.column;
  const targetCols = typeof tcRaw === 'string' ? [tcRaw] : tcRaw;
  if (!Array.isArray(targetCols) || targetCols.length === 0 || targetCols.some((c) => typeof c !== 'string')) {
    throw new ConfigError(`target.columns must name the target column(s); the columns are: ${table.columns.join(', ')}`);
  }
  targetCols.forEach((c) => table.columnIndex(c, 'target column'));
  const warnings: string[] = [];

  // inputs
  const inputs: FeatureTransform[] = [];
  for (const name of table.columns) {
    if (targetCols.includes(name)) continue;
    const { s, where } = columnSpecOf(cols, name);
    const type = s.type ?? 'numeric';
    if (type === 'ignore') continue;
    if (type === 'categorical') {
      const values = table.strings(name, 'input column');
      const levels = s.levels ? checkLevels(s.levels, `${where}.levels`) : undefined;
      const enc = OneHotEncoder.fit(values, { levels, name, role: 'input', where: (i) => `${table.file}, line ${table.line(i)}` });
      if (enc.size === 1) warnings.push(`input column "${name}" has a single level ("${enc.levels[0]}"): its one-hot column is always 1 and carries no information`);
      inputs.push({ column: name, type: 'categorical', levels: [...enc.levels], declared: enc.declared });
    } else {
      const r = fitNumeric(table.numbers(name, 'input column'), methodOf(s, where), s, `column "${name}"`, where);
      if (r.warning) warnings.push(r.warning);
      inputs.push({ column: name, type: 'numeric', ...r.transform });
    }
  }
  if (inputs.length === 0) throw new ConfigError(`${table.file}: no input columns are left (every column is a target or ignored)`);

  // target
  const first = columnSpecOf(cols, targetCols[0], false);
  const categoricalTarget = targetCols.length === 1 && first.s.type === 'categorical';
  const type = targetSpec.type ?? (categoricalTarget || targetSpec.levels || targetSpec.bins ? 'classification' : 'regression');
  if (type !== 'regression' && type !== 'classification') {
    throw new ConfigError(`target.type must be "regression" or "classification", received ${JSON.stringify(type)}`);
  }
  let target: TargetTransform;
  if (type === 'regression') {
    if (targetSpec.levels !== undefined || targetSpec.bins !== undefined) throw new ConfigError(`target: "levels" and "bins" need "type": "classification"`);
    target = {
      type: 'regression',
      columns: targetCols.map((name) => {
        const { s, where } = columnSpecOf(cols, name, false);
        if (s.type === 'categorical') throw new ConfigError(`${where}: a categorical column cannot be a regression target (use "target": {"type": "classification"})`);
        const r = fitNumeric(table.numbers(name, 'target column'), methodOf(s, where), s, `target column "${name}"`, where);
        if (r.warning) warnings.push(r.warning);
        return { column: name, ...r.transform };
      }),
    };
  } else if (targetCols.length > 1) {
    if (targetSpec.bins !== undefined) throw new ConfigError(`target.bins bins one continuous column; ${targetCols.length} target columns were given`);
    const levels = targetSpec.levels ? checkLevels(targetSpec.levels, 'target.levels') : [...targetCols];
    if (levels.length !== targetCols.length) {
      throw new ConfigError(`target.levels names ${levels.length} levels but ${targetCols.length} one-hot target columns were given (${targetCols.join(', ')})`);
    }
    target = { type: 'classification', source: 'indicators', columns: [...targetCols], levels };
    indicatorIndices(table, targetCols);
  } else {
    const name = targetCols[0];
    const { s, where } = first;
    const declared = targetSpec.levels ?? s.levels;
    if (targetSpec.bins !== undefined) {
      if (!declared) throw new ConfigError(`target.bins needs "levels" naming the ${(targetSpec.bins as unknown[]).length + 1} bins`);
      const levels = checkLevels(declared, 'target.levels');
      const bins = checkBins(targetSpec.bins, levels, 'target');
      const r = fitNumeric(table.numbers(name, 'target column'), methodOf(s, where), s, `target column "${name}"`, where);
      if (r.warning) warnings.push(r.warning);
      target = { type: 'classification', source: 'bins', column: name, levels, bins, scale: r.transform };
    } else {
      if (methodOf(s, where) !== 'none') throw new ConfigError(`${where}: a classification target is one-hot encoded, not normalised (remove "normalize" or add "bins")`);
      const enc = OneHotEncoder.fit(table.strings(name, 'target column'), {
        levels: declared ? checkLevels(declared, 'target.levels') : undefined,
        name,
        role: 'target',
        where: (i) => `${table.file}, line ${table.line(i)}`,
      });
      target = { type: 'classification', source: 'levels', column: name, levels: [...enc.levels], declared: enc.declared };
    }
  }

  const preprocessor = new Preprocessor({
    inputs,
    target,
    inputShape: opts.inputShape ? [...opts.inputShape] : null,
    targetShape: opts.targetShape ? [...opts.targetShape] : null,
    warnings,
  });
  return { x: preprocessor.transformInputs(table), y: preprocessor.transformTargets(table), preprocessor };
}
