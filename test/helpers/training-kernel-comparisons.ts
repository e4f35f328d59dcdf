// The training kernels of a fast backend (optimiser rules, clipping, batch normalisation, running
// averages, losses) against the reference backend, on random data and odd sizes: the results must
// be bit-identical (the rules are float64 arithmetic in every backend), except the losses that take
// a logarithm or an exponential, which may differ by the platform's last-bit rounding of those.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, jsBackend } from '../../src/index.js';
import type { Backend, LossKind, StepRule } from '../../src/index.js';

function rand(rng: Rng, n: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

/** Bit-for-bit equality (NaN = NaN), naming the first difference. */
function assertSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) assert.fail(`${what}[${i}]: fast backend ${actual[i]} vs reference ${expected[i]}`);
  }
}

/** Runs `kernel` on fresh copies of `buffers` on both backends and compares every buffer afterwards. */
function compare<T extends (Float32Array | Float64Array | null)[]>(fast: Backend, what: string, buffers: T,
  kernel: (be: Backend, bufs: T) => number | void): void {
  const copy = (): T => buffers.map((b) => (b ? b.slice() : null)) as T;
  const ref = copy();
  const got = copy();
  const r = kernel(jsBackend, ref);
  const g = kernel(fast, got);
  if (typeof r === 'number') assert.ok(Object.is(g, r), `${what}: returned ${g} vs reference ${r}`);
  ref.forEach((b, i) => { if (b) assertSame(got[i]!, b, `${what} buffer ${i}`); });
}

const SIZES = [1, 3, 17, 1000];

/** Registers the training-kernel comparisons for `fast` against the reference backend. */
export function registerTrainingComparisons(fast: Backend): void {
  test(`${fast.name}: sgdUpdate (plain, momentum, Nesterov), adamUpdate (with and without decoupled decay), rmspropUpdate (plain, centred, momentum) match the reference bit for bit`, () => {
    const rng = new Rng(31);
    for (const n of SIZES) {
      const w = rand(rng, n);
      const g = rand(rng, n, -3, 3);
      const s1 = rand(rng, n);
      const s2 = rand(rng, n, 0, 1);
      const s3 = rand(rng, n);
      for (const [mu, nesterov] of [[0, false], [0.9, false], [0.8, true]] as const) {
        compare(fast, `sgdUpdate n${n} μ${mu} nesterov=${nesterov}`, [w, g, mu ? s1 : null],
          (be, [a, b, v]) => be.sgdUpdate(a!, b!, v, 0.1, mu, nesterov));
      }
      for (const keep of [1, 0.999]) {
        compare(fast, `adamUpdate n${n} keep ${keep}`, [w, g, s1, s2],
          (be, [a, b, m, v]) => be.adamUpdate(a!, b!, m!, v!, 0.01, 0.9, 0.999, 1e-7, 1 - 0.9 ** 3, 1 - 0.999 ** 3, keep));
      }
      for (const [centred, mom] of [[false, false], [true, false], [true, true], [false, true]]) {
        compare(fast, `rmspropUpdate n${n} centred=${centred} momentum=${mom}`, [w, g, s2, centred ? s3 : null, mom ? s1 : null],
          (be, [a, b, ms, mg, mm]) => be.rmspropUpdate(a!, b!, ms!, mg, mm, 0.003, 0.9, mom ? 0.5 : 0, 1e-7));
      }
    }
  });

  test(`${fast.name}: optimizerStep (every rule and variant, with and without L2 decay, several parameters of odd sizes across 4,096-element blocks) matches the reference bit for bit, Σg² included`, () => {
    const rng = new Rng(36);
    // odd sizes across blocks; the big one makes a step that a backend may spread over threads
    const sizes = [1, 17, 4096, 4099, 9000, 3, 140000];
    // [rule, hyper without λ, states per parameter (true = present)]
    const rules: [StepRule, number[], boolean[]][] = [
      ['sgd', [0.1, 0, 0], [false, false, false]],
      ['sgd', [0.05, 0.9, 0], [true, false, false]],
      ['sgd', [0.05, 0.8, 1], [true, false, false]],
      ['adam', [0.01, 0.9, 0.999, 1e-7, 1 - 0.9 ** 3, 1 - 0.999 ** 3, 1], [true, true, false]],
      ['adam', [0.01, 0.9, 0.999, 1e-7, 1 - 0.9 ** 3, 1 - 0.999 ** 3, 0.999], [true, true, false]],
      ['rmsprop', [0.003, 0.9, 0, 1e-7], [true, false, false]],
      ['rmsprop', [0.003, 0.9, 0.5, 1e-7], [true, true, true]],
    ];
    for (const [rule, h, states] of rules) {
      for (const decay of [0, 0.01]) {
        const hyper = new Float64Array(8);
        hyper.set(h);
        hyper[rule === 'sgd' ? 3 : rule === 'adam' ? 7 : 4] = decay;
        const buffers = sizes.flatMap((n) => [rand(rng, n), rand(rng, n, -3, 3), ...states.map((on, j) => (on ? rand(rng, n, j === 0 ? 0 : -1, 1) : null))]);
        compare(fast, `optimizerStep ${rule} [${h}] λ ${decay}`, buffers, (be, b) => be.optimizerStep(rule, hyper, b as (Float32Array | null)[]));
        // a NaN in the second block of the fourth parameter: the same blocks are applied, the same
        // sum returned (the step without the big parameter, which a backend may run in parallel)
        const bad = buffers.slice(0, 30).map((b) => (b ? b.slice() : null));
        bad[3 * 5 + 1]![4097] = Number.NaN;
        compare(fast, `optimizerStep ${rule} with a NaN gradient`, bad, (be, b) => {
          const r = be.optimizerStep(rule, hyper, b as (Float32Array | null)[]);
          assert.ok(Number.isNaN(r), `${be.name}: a NaN gradient gives a NaN sum, received ${r}`);
          return r;
        });
      }
    }
  });

  test(`${fast.name}: optimizerStep refuses missing states and short buffers; countMatchingRows matches the reference`, () => {
    const w = new Float32Array(4);
    const hyper = Float64Array.of(0.1, 0.9, 0.999, 1e-7, 0.1, 0.001, 1, 0);
    assert.throws(() => fast.optimizerStep('adam', hyper, [w, new Float32Array(4), new Float32Array(4), null, null]),
      (e: unknown) => e instanceof TypeError && /optimizerStep: parameter 0 has no state 1/.test(e.message));
    assert.throws(() => fast.optimizerStep('sgd', hyper, [w, new Float32Array(3), null, null, null]),
      (e: unknown) => e instanceof RangeError && /optimizerStep: buffer g of parameter 0 has 3 elements, needs 4/.test(e.message));
    assert.throws(() => fast.optimizerStep('sgd', hyper, [w, w, null, null]),
      (e: unknown) => e instanceof RangeError && /5 entries per parameter, received 4/.test(e.message));
    const rng = new Rng(37);
    for (const [rows, cols] of [[1, 1], [7, 1], [64, 10], [5, 3], [0, 4]]) {
      const a = rand(rng, rows * cols, 0, 1);
      const b = Float32Array.from(rand(rng, rows * cols, 0, 1), (v) => (v > 0.5 ? 1 : 0));
      if (rows > 2 && cols > 1) a[cols + 1] = a[cols]; // a tie: the first maximum counts
      const want = jsBackend.countMatchingRows(a, b, rows, cols);
      assert.equal(fast.countMatchingRows(a, b, rows, cols), want, `countMatchingRows [${rows}, ${cols}]`);
    }
  });

  test(`${fast.name}: clipValue and movingAverage match the reference bit for bit`, () => {
    const rng = new Rng(32);
    for (const n of SIZES) {
      const x = rand(rng, n, -3, 3);
      if (n > 1) x[1] = Number.NaN;
      compare(fast, `clipValue n${n}`, [x], (be, [a]) => be.clipValue(a!, 0.7));
      const stats = Float64Array.from(rand(rng, n, -2, 2), (v) => v / 3);
      compare(fast, `movingAverage n${n}`, [x, stats], (be, [a, s]) => be.movingAverage(a as Float32Array, s as Float64Array, 0.99));
    }
  });

  test(`${fast.name}: batch normalisation forward (batch and fixed statistics) and backward match the reference bit for bit`, () => {
    const rng = new Rng(33);
    for (const [outer, C, inner] of [[1, 1, 1], [2, 3, 1], [5, 4, 7], [3, 16, 64]]) {
      const n = outer * C * inner;
      const x = rand(rng, n, -2, 5);
      const dy = rand(rng, n);
      for (const affine of [false, true]) {
        const gamma = affine ? rand(rng, C, 0.5, 1.5) : null;
        const beta = affine ? rand(rng, C) : null;
        const what = `[${outer}, ${C}, ${inner}] affine=${affine}`;
        const f64 = () => new Float64Array(C);
        compare(fast, `batchNormTrain ${what}`, [x, new Float32Array(n), new Float32Array(n), f64(), f64(), f64()],
          (be, [xx, y, h, m, v, s]) => be.batchNormTrain(xx as Float32Array, gamma, beta, outer, C, inner, 1e-3, y as Float32Array, h as Float32Array,
            m as Float64Array, v as Float64Array, s as Float64Array));
        const mean = rand(rng, C);
        const variance = rand(rng, C, 0.1, 2);
        for (const withXhat of [false, true]) {
          compare(fast, `batchNormInference ${what} xhat=${withXhat}`, [x, new Float32Array(n), withXhat ? new Float32Array(n) : null, f64()],
            (be, [xx, y, h, s]) => be.batchNormInference(xx as Float32Array, mean, variance, gamma, beta, outer, C, inner, 1e-3,
              y as Float32Array, h as Float32Array | null, s as Float64Array));
        }
        const xhat = rand(rng, n, -2, 2);
        const invStd = Float64Array.from(rand(rng, C, 0.5, 3));
        for (const training of [true, false]) {
          compare(fast, `batchNormBackward ${what} training=${training}`, [new Float32Array(n), new Float32Array(C), new Float32Array(C)],
            (be, [dx, dg, db]) => be.batchNormBackward(training, dy, xhat, invStd, gamma, outer, C, inner, dx as Float32Array,
              dg as Float32Array, db as Float32Array));
        }
        compare(fast, `batchNormBackward ${what} without x̂ or dx`, [new Float32Array(C)],
          (be, [db]) => be.batchNormBackward(false, dy, null, invStd, gamma, outer, C, inner, null, null, db as Float32Array));
      }
    }
  });

  test(`${fast.name}: lossValue and lossGrad of every loss kind match the reference`, () => {
    const rng = new Rng(34);
    const kinds: LossKind[] = ['squared', 'crossEntropy', 'binaryCrossEntropy', 'sigmoidCrossEntropy'];
    for (const n of SIZES) {
      const logits = rand(rng, n, -30, 30);
      // probabilities, including 0 and 1 (the clamps) and targets with zeros (crossEntropy skips them)
      const p = rand(rng, n, 0, 1);
      p[0] = 0;
      if (n > 2) p[2] = 1;
      const t = Float32Array.from(rand(rng, n, 0, 1), (v, i) => (i % 3 === 0 ? 0 : v));
      for (const kind of kinds) {
        const pred = kind === 'sigmoidCrossEntropy' ? logits : p;
        const value = [jsBackend, fast].map((be) => be.lossValue(kind, pred, t));
        const grads = [jsBackend, fast].map((be) => {
          const dx = new Float32Array(n);
          be.lossGrad(kind, pred, t, 0.25, dx);
          return dx;
        });
        if (kind === 'squared') {
          assert.ok(Object.is(value[1], value[0]), `lossValue ${kind} n${n}: ${value[1]} vs ${value[0]}`);
          assertSame(grads[1], grads[0], `lossGrad ${kind} n${n}`);
          continue;
        }
        // log/exp: the platform's last bit may differ
        assert.ok(Math.abs(value[1] - value[0]) <= 1e-12 * (1 + Math.abs(value[0])), `lossValue ${kind} n${n}: ${value[1]} vs ${value[0]}`);
        grads[0].forEach((r, i) => assert.ok(Math.abs(grads[1][i] - r) <= 2 ** -22 * Math.abs(r) + 1e-30,
          `lossGrad ${kind} n${n} [${i}]: ${grads[1][i]} vs ${r}`));
      }
    }
  });

  test(`${fast.name}: copyRuns (concatenation, slicing, padding and reversal shapes, negative strides) matches the reference; runs outside a buffer are refused`, () => {
    const rng = new Rng(35);
    // [srcLength, srcOffset, srcStrides, dstLength, dstOffset, dstStrides, counts, len]
    const cases: [number, number, number[], number, number, number[], number[], number][] = [
      [7, 2, [], 9, 4, [], [], 5], // one run
      [12, 0, [4], 18, 2, [6], [3], 4], // a concatenated part
      [30, 3, [10], 12, 0, [4], [3], 4], // a slice
      [2 * 3 * 5, 0, [15, 5], 2 * 6 * 8, 8 + 1, [48, 8], [2, 3], 5], // padding rows into planes
      [2 * 4 * 3, 0, [12, 3], 24, 9, [12, -3], [2, 4], 3], // reversal along the middle axis
      [3 * 2 * 2 * 2, 0, [8, 4, 2], 24, 0, [8, 4, 2], [3, 2, 2], 2], // rank 3
      [5, 0, [1], 5, 0, [1], [0], 3], // nothing to copy
    ];
    for (const [ns, so, ss, nd, doff, ds, counts, len] of cases) {
      const src = rand(rng, ns);
      compare(fast, `copyRuns counts [${counts}] len ${len}`, [rand(rng, nd)],
        (be, [dst]) => be.copyRuns(src, so, ss, dst as Float32Array, doff, ds, counts, len));
    }
    assert.throws(() => fast.copyRuns(new Float32Array(6), 0, [3], new Float32Array(6), 4, [3], [2], 3),
      (e: unknown) => e instanceof RangeError && /copyRuns: the runs reach elements 4…9 of dst, which has 6/.test(e.message));
    assert.throws(() => fast.copyRuns(new Float32Array(6), 0, [-3], new Float32Array(6), 0, [3], [2], 3),
      (e: unknown) => e instanceof RangeError && /the runs reach elements -3…2 of src, which has 6/.test(e.message));
  });
}
