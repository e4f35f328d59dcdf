/**
 * The one place configuration is validated: spec files, layer and optimiser options, fit options,
 * callbacks and the command line all use these checks, so every mistake reads the same way:
 * `train.epoch: unknown key; did you mean "epochs"?`, `dense_1.units must be an integer ≥ 1,
 * received 0`. Internal: not exported from the package.
 */
import { ConfigError } from './errors.js';

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The valid name closest to `name` (a typo, a snake_case or differently cased spelling, a
 * shortened name), or null when none is close: at most a third of the name's length in edits.
 *
 * @example
 * ```ts
 * closest('epoch', ['epochs', 'batchSize']);            // 'epochs'
 * closest('validation_split', ['validationSplit']);     // 'validationSplit'
 * ```
 */
export function closest(name: string, valid: readonly string[]): string | null {
  const plain = (s: string) => s.replace(/[_-]/g, '').toLowerCase();
  const same = valid.find((v) => plain(v) === plain(name));
  if (same) return same;
  const prefix = name.length >= 4 ? valid.find((v) => v.toLowerCase().startsWith(name.toLowerCase())) : undefined;
  if (prefix) return prefix;
  let best: string | null = null;
  let bestD = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const v of valid) {
    const dd = distance(name, v);
    if (dd < bestD) {
      best = v;
      bestD = dd;
    }
  }
  return best;
}

/** ` did you mean "x"?` or nothing. */
export function didYouMean(name: string, valid: readonly string[]): string {
  const c = closest(name, valid);
  return c ? `; did you mean "${c}"?` : '';
}

/** Whether v is a plain object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `where` must be an object: returns it, or a ConfigError naming what was received. */
export function checkObject(v: unknown, where: string): Record<string, unknown> {
  if (!isObject(v)) throw new ConfigError(`${where} must be an object, received ${show(v)}`);
  return v;
}

/** A value for messages (JSON, `undefined` spelled out). */
export function show(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v === undefined ? 'nothing' : typeof v === 'function' ? 'a function' : JSON.stringify(v) ?? String(v);
}

/**
 * Rejects keys that are not in `valid`: a ConfigError naming the key, where it is, the closest
 * valid key and the list.
 *
 * @example
 * ```ts
 * checkKeys({ epoch: 5 }, ['epochs', 'batchSize'], 'train'); // ConfigError: train.epoch: unknown key; did you mean "epochs"? (valid keys: epochs, batchSize)
 * ```
 */
export function checkKeys(obj: object, valid: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (!valid.includes(k)) {
      throw new ConfigError(`${where}.${k}: unknown key${didYouMean(k, valid)} (valid keys: ${valid.join(', ')})`);
    }
  }
}

/** Range of a number check; bounds are inclusive unless the `…Exclusive` flag is set. */
export interface NumberRange {
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
}

function rangeText(r: NumberRange): string {
  const { min, max } = r;
  if (min !== undefined && max !== undefined) return ` in ${r.minExclusive ? '(' : '['}${min}, ${max}${r.maxExclusive ? ')' : ']'}`;
  if (min !== undefined) return min === 0 && r.minExclusive ? ' > 0' : ` ${r.minExclusive ? '>' : '≥'} ${min}`;
  if (max !== undefined) return ` ${r.maxExclusive ? '<' : '≤'} ${max}`;
  return '';
}

function inRange(v: number, r: NumberRange): boolean {
  if (r.min !== undefined && (r.minExclusive ? !(v > r.min) : !(v >= r.min))) return false;
  if (r.max !== undefined && (r.maxExclusive ? !(v < r.max) : !(v <= r.max))) return false;
  return true;
}

/**
 * A finite number in a range, or a ConfigError naming `where`, the range and what was received.
 *
 * @example
 * ```ts
 * checkNumber(0.9, 'adam.beta1', { min: 0, max: 1, maxExclusive: true }); // 0.9
 * checkNumber(0, 'sgd.learningRate', { min: 0, minExclusive: true });    // ConfigError: sgd.learningRate must be a number > 0, received 0
 * ```
 */
export function checkNumber(v: unknown, where: string, range: NumberRange = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !inRange(v, range)) {
    throw new ConfigError(`${where} must be a number${rangeText(range)}, received ${show(v)}`);
  }
  return v;
}

/**
 * An integer in a range (default ≥ 1), or a ConfigError naming `where`.
 *
 * @example
 * ```ts
 * checkInt(32, 'train.batchSize'); // 32
 * checkInt(0, 'dense_1.units');    // ConfigError: dense_1.units must be an integer ≥ 1, received 0
 * ```
 */
export function checkInt(v: unknown, where: string, min = 1, max?: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || (max !== undefined && v > max)) {
    throw new ConfigError(`${where} must be an integer ${max === undefined ? `≥ ${min}` : `in [${min}, ${max}]`}, received ${show(v)}`);
  }
  return v;
}

/**
 * true or false, or a ConfigError naming `where`.
 *
 * @example
 * ```ts
 * checkBool(true, 'train.shuffle'); // true
 * ```
 */
export function checkBool(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') throw new ConfigError(`${where} must be true or false, received ${show(v)}`);
  return v;
}

/**
 * One of a list of names, or a ConfigError naming `where`, the closest name and the list.
 *
 * @example
 * ```ts
 * checkOneOf('rleu', ['relu', 'tanh'], 'dense_1.activation'); // ConfigError: … received "rleu"; did you mean "relu"?
 * ```
 */
export function checkOneOf<T extends string>(v: unknown, valid: readonly T[], where: string): T {
  if (typeof v !== 'string' || !(valid as readonly string[]).includes(v)) {
    const hint = typeof v === 'string' ? didYouMean(v, valid) : '';
    throw new ConfigError(`${where} must be one of ${valid.join(', ')}, received ${show(v)}${hint}`);
  }
  return v as T;
}

/** Checks an optional value with `check` when it is present; returns it (or undefined). */
export function optional<T>(v: unknown, check: (v: unknown) => T): T | undefined {
  return v === undefined ? undefined : check(v);
}

/**
 * A number in [0, 1) (decay rates, momenta, drop rates), or a ConfigError naming `where`.
 *
 * @example
 * ```ts
 * checkUnitInterval(1, 'adam.beta1'); // ConfigError: adam.beta1 must be a number in [0, 1), received 1
 * ```
 */
export function checkUnitInterval(v: unknown, where: string): number {
  return checkNumber(v, where, { min: 0, max: 1, maxExclusive: true });
}

/**
 * A number > 0, or a ConfigError naming `where`.
 *
 * @example
 * ```ts
 * checkPositive(1e-7, 'adam.epsilon'); // 1e-7
 * ```
 */
export function checkPositive(v: unknown, where: string): number {
  return checkNumber(v, where, { min: 0, minExclusive: true });
}
