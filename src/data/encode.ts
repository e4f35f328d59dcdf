import { ConfigError, DataError, ShapeError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/create.js';
import { isObject } from '../validate.js';

/**
 * One-hot rows for integer class indices: `[labels.length, classes]` (or `[...shape, classes]`
 * with `shape`), 1 at each label's index. An index outside [0, classes) or not an integer is a
 * {@link DataError}; `what(i)` words where it came from (default `label i`).
 *
 * @example
 * ```ts
 * oneHot([2, 0], 3).toArray(); // [[0, 0, 1], [1, 0, 0]]
 * ```
 */
export function oneHot(
  labels: ArrayLike<number>,
  classes: number,
  opts: { shape?: readonly number[]; what?: (i: number) => string } = {},
): Tensor {
  const n = labels.length;
  const shape = opts.shape ?? [n];
  let size = 1;
  for (const d of shape) size *= d;
  if (size !== n) throw new ShapeError(`oneHot: shape ${fmtShape(shape)} does not hold ${n} labels`);
  const out = zeros([...shape, classes]);
  const d = out.data;
  for (let i = 0; i < n; i++) {
    const k = labels[i];
    if (!Number.isInteger(k) || k < 0 || k >= classes) {
      const at = opts.what ? opts.what(i) : `label ${i}`;
      throw new DataError(`${at}: index ${k} is outside the ${classes} classes [0, ${classes - 1}]`);
    }
    d[i * classes + k] = 1;
  }
  return out;
}

/**
 * Index of the largest value in each row of a `[..., classes]` tensor (first on ties): the
 * predicted class of each example.
 *
 * @example
 * ```ts
 * argmaxRows(tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]])); // Int32Array [1, 0]
 * ```
 */
export function argmaxRows(t: Tensor): Int32Array {
  if (t.rank < 1) throw new ShapeError(`argmaxRows expects a tensor with a class dimension, received ${fmtShape(t.shape)}`);
  const c = t.shape[t.rank - 1];
  const n = c === 0 ? 0 : t.size / c;
  const out = new Int32Array(n);
  const d = t.data;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bv = d[i * c];
    for (let j = 1; j < c; j++) {
      const v = d[i * c + j];
      if (v > bv) {
        bv = v;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}

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

/** Level names as strings, each non-empty and once; ConfigError at `where` otherwise. */
export function checkLevels(levels: unknown, where: string): string[] {
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
    if (!isObject(json)) throw new ConfigError(`one-hot encoder: expected an object, received ${JSON.stringify(json)}`);
    const role = json.role === 'input' ? 'input' : 'target';
    return new OneHotEncoder(checkLevels(json.levels, 'one-hot encoder.levels'), {
      name: typeof json.name === 'string' ? json.name : undefined,
      declared: json.declared !== false,
      role,
    });
  }
}

/** Strictly increasing finite bin edges, one fewer than the levels; ConfigError at `where` otherwise. */
export function checkBins(bins: unknown, levels: readonly string[], where: string): number[] {
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
