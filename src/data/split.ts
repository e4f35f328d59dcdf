import { ConfigError } from '../errors.js';
import { Rng } from '../tensor/rng.js';

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
