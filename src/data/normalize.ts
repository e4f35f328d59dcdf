import { ConfigError, DataError, ShapeError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/create.js';
import { isObject } from '../validate.js';

// Column statistics: the fitted normalisation of one numeric feature, and of a tensor's features.

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
export function coefficients(t: NumericTransform): { c: number; s: number; o: number } {
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

/** Writes normalised values into column `off` of rows of `width` values. */
export function writeNormalized(values: ArrayLike<number>, t: NumericTransform, out: Float32Array, width: number, off: number): void {
  const { c, s, o } = coefficients(t);
  for (let i = 0; i < values.length; i++) out[i * width + off] = (values[i] - c) * s + o;
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
    if (!isObject(json) || !Array.isArray(json.features)) throw new ConfigError('normalizer: expected {"features": [...]}');
    const w = Array.isArray(json.warnings) ? json.warnings.map(String) : [];
    return new Normalizer(json.features as NumericTransform[], w);
  }
}
/** A fitted transform read from JSON, every field checked; ConfigError naming `where` and the key. */
export function checkNumericTransform(t: unknown, where: string): NumericTransform {
  if (!isObject(t)) throw new ConfigError(`${where} must be an object, received ${JSON.stringify(t)}`);
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
