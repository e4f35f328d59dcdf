import { ConfigError } from '../errors.js';
import { checkKeys, checkNumber, checkOneOf, isObject, show } from '../validate.js';
import { Tensor, shapeSize } from '../tensor/tensor.js';
import { getBackend } from '../backend/index.js';
import type { Rng } from '../tensor/rng.js';

/**
 * A weight initialiser, named as in TensorFlow.js:
 * - `randomUniform` {minval = −0.5, maxval = 0.5} — the lecture's default range
 * - `randomNormal` {mean = 0, stddev = 0.05}
 * - `glorotNormal` / `glorotUniform` — Xavier, var = 2 / (n_in + n_out)
 * - `lecunNormal` / `lecunUniform` — the 1/n_in variant of Xavier, var = 1 / n_in
 * - `heNormal` / `heUniform` — He/Kaiming, var = 2 / n_in (for ReLUs)
 * - `constant` {value}, `zeros`, `ones`
 *
 * @example
 * ```ts
 * const spec: InitializerSpec = { type: 'randomNormal', mean: 0, stddev: 0.01 };
 * ```
 */
export type InitializerSpec =
  | { type: 'randomUniform'; minval?: number; maxval?: number }
  | { type: 'randomNormal'; mean?: number; stddev?: number }
  | { type: 'glorotNormal' } | { type: 'glorotUniform' }
  | { type: 'lecunNormal' } | { type: 'lecunUniform' }
  | { type: 'heNormal' } | { type: 'heUniform' }
  | { type: 'constant'; value: number }
  | { type: 'zeros' } | { type: 'ones' };

/** Every initialiser type name. */
export const INITIALIZER_TYPES = [
  'randomUniform', 'randomNormal', 'glorotNormal', 'glorotUniform', 'lecunNormal', 'lecunUniform',
  'heNormal', 'heUniform', 'constant', 'zeros', 'ones',
] as const;

/** An initialiser given as a spec object or just its type name (`'heNormal'`). */
export type Initializer = InitializerSpec | InitializerSpec['type'];

/** Options each initialiser type takes besides `type`. */
const INITIALIZER_KEYS: Partial<Record<InitializerSpec['type'], readonly string[]>> = {
  randomUniform: ['minval', 'maxval'], randomNormal: ['mean', 'stddev'], constant: ['value'],
};

/**
 * Validates an initialiser given as a name (`'heNormal'`) or a spec object
 * (`{type: 'randomNormal', stddev: 0.01}`) and returns the spec object; `where` names the layer
 * and key in `ConfigError`s (unknown type or key with the closest valid one, non-finite numbers).
 * Internal: layers call it on their options.
 */
export function checkInitializer(init: unknown, where: string): InitializerSpec {
  const spec = typeof init === 'string' ? { type: init } : init;
  if (!isObject(spec)) throw new ConfigError(`${where} must be an initializer name or an object {type, …}, received ${show(init)}`);
  const type = checkOneOf(spec.type, INITIALIZER_TYPES, typeof init === 'string' ? where : `${where}.type`);
  checkKeys(spec, ['type', ...(INITIALIZER_KEYS[type] ?? [])], where);
  for (const [k, v] of Object.entries(spec)) if (k !== 'type') checkNumber(v, `${where}.${k}`);
  if (type === 'constant' && spec.value === undefined) throw new ConfigError(`${where}: initializer constant needs a "value"`);
  if (type === 'randomNormal' && spec.stddev !== undefined) checkNumber(spec.stddev, `${where}.stddev`, { min: 0 });
  return spec as InitializerSpec;
}

/**
 * The variance an initialiser (name or spec object) gives, for fans n_in / n_out (used by
 * diagnostics and eq 64); 0 for the constant ones. An unknown name is a `ConfigError`.
 *
 * @example
 * ```ts
 * initVariance('heNormal', 100, 1);                          // 0.02 = 2 / 100
 * initVariance({ type: 'randomUniform', minval: -1, maxval: 1 }, 3, 3); // 1/3
 * ```
 */
export function initVariance(init: Initializer, fanIn: number, fanOut: number): number {
  const spec = checkInitializer(init, 'initVariance');
  switch (spec.type) {
    case 'randomUniform': {
      const a = spec.minval ?? -0.5;
      const b = spec.maxval ?? 0.5;
      return ((b - a) * (b - a)) / 12;
    }
    case 'randomNormal': return (spec.stddev ?? 0.05) ** 2;
    case 'glorotNormal': case 'glorotUniform': return 2 / (fanIn + fanOut);
    case 'lecunNormal': case 'lecunUniform': return 1 / fanIn;
    case 'heNormal': case 'heUniform': return 2 / fanIn;
    default: return 0;
  }
}

/**
 * Creates a parameter tensor of `shape` filled by an initialiser, with fans for the scaled
 * schemes (dense: n_in = inputs, n_out = units; conv: × kernel area).
 *
 * @example
 * ```ts
 * const w = initialize('heNormal', [128, 784], 784, 128, new Rng(1));
 * ```
 */
export function initialize(init: Initializer, shape: readonly number[], fanIn: number, fanOut: number, rng: Rng): Tensor {
  const spec = checkInitializer(init, 'initializer');
  const data = getBackend().alloc(shapeSize(shape));
  // the generator's draws in storage order
  const normal = (std: number, mean = 0) => data.set(Float32Array.from({ length: data.length }, () => rng.normal(mean, std)));
  const uniform = (a: number, b: number) => data.set(Float32Array.from({ length: data.length }, () => rng.uniform(a, b)));
  const v = initVariance(spec, fanIn, fanOut);
  switch (spec.type) {
    case 'randomUniform': uniform(spec.minval ?? -0.5, spec.maxval ?? 0.5); break;
    case 'randomNormal': normal(spec.stddev ?? 0.05, spec.mean ?? 0); break;
    case 'glorotNormal': case 'lecunNormal': case 'heNormal': normal(Math.sqrt(v)); break;
    case 'glorotUniform': case 'lecunUniform': case 'heUniform': {
      const lim = Math.sqrt(3 * v);
      uniform(-lim, lim);
      break;
    }
    case 'constant': data.fill(spec.value); break;
    case 'ones': data.fill(1); break;
    case 'zeros': break;
  }
  return new Tensor(data, shape, true);
}
