// Every kernel of a fast backend (native, wasm) against the reference (js) backend, on random
// shapes with odd sizes: registerComparisons(backend) registers the tests. The native backend's
// own controls (threads, primitive cache, signal safety, argument checks) are tested too when the
// backend given is the native one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, jsBackend } from '../../src/index.js';
import type { Backend, BinaryOp, ConvGeometry, PoolGeometry, UnaryOp } from '../../src/index.js';
import type { NativeBackend } from '../../src/backend/native.js';
import { UNARY_OPS } from '../../src/backend/unary.js';

const EPS = 2 ** -23;

function rand(rng: Rng, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(lo, hi);
  return a;
}

function abs(a: Float32Array): Float32Array {
  return a.map(Math.abs);
}

function same(a: number, b: number): boolean {
  return Object.is(a, b) || a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** actual ≈ expected elementwise: |a − e| ≤ tol[i] (or equal, NaN = NaN). */
function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: (i: number) => number,
  what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (same(a, e)) continue;
    assert.ok(Number.isFinite(e) && Math.abs(a - e) <= tol(i), `${what}[${i}]: fast backend ${a} vs reference ${e} (tol ${tol(i)})`);
  }
}

/** Relative tolerance in float32 ulps, plus an absolute floor. */
function ulps(expected: ArrayLike<number>, n: number, floor = 1e-37): (i: number) => number {
  return (i) => n * EPS * Math.abs(expected[i]) + floor;
}

function assertExact(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assertNear(actual, expected, () => 0, what);
}

/**
 * Registers the comparison tests for `nb`; `unaryUlps` loosens the tolerance of single
 * functions (in float32 ulps) for a backend whose approximations differ.
 */
export function registerComparisons(fast: Backend, unaryUlps: Partial<Record<UnaryOp, number>> = {}): void {
  const js: Backend = jsBackend;
  const nb = fast as NativeBackend;
  const isNative = fast.name === 'native';

  if (isNative) test('native backend reports what it runs on', () => {
    const info = nb.info();
    assert.equal(nb.name, 'native');
    assert.match(info.onednn, /^\d+\.\d+\.\d+$/);
    assert.ok(info.maxThreads >= 1 && info.maxThreads <= info.procs);
    assert.match(info.march, /^(x86-64(-v[234])?|default)$/);
    const a = nb.alloc(7);
    assert.ok(a instanceof Float32Array && a.length === 7 && a.every((v) => v === 0));
  });

  test('gemm: every transposition, alpha and beta, odd and threaded sizes', () => {
    const rng = new Rng(11);
    const sizes: [number, number, number][] = [
      [1, 1, 1], [1, 7, 5], [3, 1, 4], [5, 6, 1], [17, 33, 9], [2, 65, 130], [33, 17, 64], [1, 256, 97],
      // above a megaflop: split into row (m ≥ n) or column blocks for the helper threads, odd tails
      [70, 130, 90], [150, 40, 200], [37, 300, 100],
    ];
    for (const [m, n, k] of sizes) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          for (const [alpha, beta] of [[1, 0], [0.5, 1], [-2, 0.3], [1, 1]]) {
            const a = rand(rng, m * k);
            const b = rand(rng, k * n);
            const c0 = rand(rng, m * n);
            if (beta === 0) c0.fill(NaN); // beta = 0 must ignore C, even NaN
            const cr = Float32Array.from(c0);
            const cn = Float32Array.from(c0);
            js.gemm(ta, tb, m, n, k, alpha, a, b, beta, cr);
            nb.gemm(ta, tb, m, n, k, alpha, a, b, beta, cn);
            // float32 accumulation bound: k·ε·(|α|·|A||B| + |β||C|)
            const bound = new Float32Array(m * n);
            js.gemm(ta, tb, m, n, k, Math.abs(alpha), abs(a), abs(b), 0, bound);
            const what = `gemm ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} m${m} n${n} k${k} α${alpha} β${beta}`;
            assertNear(cn, cr, (i) => 2 * (k + 2) * EPS * (bound[i] + (beta ? Math.abs(beta * c0[i]) : 0)) + 1e-30, what);
          }
        }
      }
    }
  });

  test('gemmBatched: broadcast offsets, every transposition, serial and threaded batches', () => {
    const rng = new Rng(21);
    // [count, m, n, k]: few small products (each threads itself), many (one run per thread)
    for (const [count, m, n, k] of [[1, 3, 4, 5], [3, 17, 9, 33], [64, 32, 32, 16], [130, 20, 24, 12]]) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          // a: one matrix per product; b: shared by pairs (broadcast); c: reversed order
          const aOff = Int32Array.from({ length: count }, (_, i) => i * m * k);
          const bOff = Int32Array.from({ length: count }, (_, i) => (i >> 1) * k * n);
          const cOff = Int32Array.from({ length: count }, (_, i) => (count - 1 - i) * m * n);
          const a = rand(rng, count * m * k);
          const b = rand(rng, ((count + 1) >> 1) * k * n);
          const c0 = rand(rng, count * m * n);
          const cr = Float32Array.from(c0);
          const cn = Float32Array.from(c0);
          js.gemmBatched(ta, tb, m, n, k, 0.5, a, aOff, b, bOff, 1, cr, cOff);
          nb.gemmBatched(ta, tb, m, n, k, 0.5, a, aOff, b, bOff, 1, cn, cOff);
          assertNear(cn, cr, (i) => 2 * (k + 2) * EPS * (k + Math.abs(c0[i])), `gemmBatched ${count}×${m}×${n}×${k} ${ta}${tb}`);
        }
      }
    }
    assert.throws(() => nb.gemmBatched(false, false, 2, 2, 2, 1, new Float32Array(4), Int32Array.of(1),
      new Float32Array(4), Int32Array.of(0), 0, new Float32Array(4), Int32Array.of(0)), (e: unknown) =>
      e instanceof RangeError && /a offset 1 at index 0 leaves no room for 4 elements in 4/.test(e.message));
  });

  test('softmaxBackward and layerNorm forward/backward: rows split over threads, with and without γ, β', () => {
    const rng = new Rng(22);
    for (const [rows, cols] of [[1, 1], [3, 7], [5, 128], [1100, 128], [40, 3000]]) {
      const n = rows * cols;
      const y = new Float32Array(n);
      js.softmax(rand(rng, n, -3, 3), rows, cols, y);
      const dy = rand(rng, n);
      const r = new Float32Array(n);
      const o = new Float32Array(n);
      js.softmaxBackward(y, dy, rows, cols, r);
      nb.softmaxBackward(y, dy, rows, cols, o);
      assertNear(o, r, () => 1e-6, `softmaxBackward ${rows}×${cols}`);
      const x = rand(rng, n, -2, 5);
      for (const affine of [false, true]) {
        const gamma = affine ? rand(rng, cols, 0.5, 1.5) : null;
        const beta = affine ? rand(rng, cols) : null;
        const out = [0, 1].map(() => ({ y: new Float32Array(n), h: new Float32Array(n), s: new Float32Array(rows), dx: new Float32Array(n) }));
        [js, nb].forEach((be, i) => {
          be.layerNorm(x, gamma, beta, rows, cols, 1e-5, out[i].y, out[i].h, out[i].s);
          be.layerNormBackward(dy, out[i].h, out[i].s, gamma, rows, cols, out[i].dx);
        });
        const what = `layerNorm ${rows}×${cols} affine=${affine}`;
        assertNear(out[1].y, out[0].y, (i) => 1e-5 * (1 + Math.abs(out[0].y[i])), `${what} y`);
        assertNear(out[1].h, out[0].h, (i) => 1e-5 * (1 + Math.abs(out[0].h[i])), `${what} x̂`);
        assertNear(out[1].s, out[0].s, (i) => 1e-6 * out[0].s[i], `${what} rstd`);
        assertNear(out[1].dx, out[0].dx, (i) => 1e-4 * (1 + Math.abs(out[0].dx[i])), `${what} dx`);
      }
    }
    assert.throws(() => nb.layerNorm(new Float32Array(4), new Float32Array(1), null, 2, 2, 1e-5, new Float32Array(4),
      new Float32Array(4), new Float32Array(2)), (e: unknown) => e instanceof RangeError && /buffer gamma has 1 elements, needs 2/.test(e.message));
  });

  test('permute: every axis order of rank 1–4, threaded sizes, bad axes', () => {
    const rng = new Rng(23);
    const perms = (n: number): number[][] => (n === 0 ? [[]] : perms(n - 1).flatMap((p) =>
      Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)])));
    for (const shape of [[5], [3, 7], [2, 3, 4], [2, 3, 1, 5], [32, 4, 128, 32], [6, 300, 70]]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = rand(rng, n);
      for (const axes of perms(shape.length)) {
        const r = new Float32Array(n);
        const o = new Float32Array(n);
        js.permute(x, shape, axes, r);
        nb.permute(x, shape, axes, o);
        assertExact(o, r, `permute [${shape}] by [${axes}]`);
      }
    }
    assert.throws(() => nb.permute(new Float32Array(6), [2, 3], [0, 0], new Float32Array(6)), (e: unknown) =>
      e instanceof RangeError && /axes are not a permutation/.test(e.message));
  });

  test('gemm: k = 0 scales C by beta; m or n = 0 touches nothing', () => {
    const c = new Float32Array([1, NaN, 3, 4]);
    nb.gemm(false, false, 2, 2, 0, 1, new Float32Array(0), new Float32Array(0), 0, c);
    assert.deepEqual([...c], [0, 0, 0, 0]);
    const d = new Float32Array([1, 2]);
    nb.gemm(false, false, 1, 2, 0, 1, new Float32Array(0), new Float32Array(0), 0.5, d);
    assert.deepEqual([...d], [0.5, 1]);
    const e = new Float32Array([7]);
    nb.gemm(true, false, 0, 1, 3, 1, new Float32Array(0), new Float32Array(3), 0, e);
    assert.deepEqual([...e], [7]);
  });

  // every row of the kernel table (src/backend/unary.ts)
  const UNARY: UnaryOp[] = UNARY_OPS;
  // tolerance in ulps per op (transcendental ones are vectorised approximations; the leaky slope is
  // applied in float32 natively, in float64 by the reference)
  const UNARY_ULPS: Record<UnaryOp, number> = {
    linear: 0, logistic: 3, tanh: 2, relu: 0, leakyRelu: 1, threshold: 0, exp: 2, log: 1, neg: 0, sqrt: 0,
    square: 0, abs: 0, gelu: 48, softplus: 4, ...unaryUlps,
  };

  function unaryInput(op: UnaryOp, rng: Rng, n: number): Float32Array {
    const x = op === 'log' || op === 'sqrt' ? rand(rng, n, 1e-4, 50) : rand(rng, n, -12, 12);
    if (op !== 'log' && op !== 'sqrt') {
      // special and extreme values, plus exact zeros and tiny magnitudes
      const special = [0, -0, NaN, Infinity, -Infinity, 88.7, 89, -87.5, -103.5, -120, 1e-20, -1e-6, 0.62, -0.63, 30];
      special.forEach((v, i) => { if (i < n) x[(i * 7) % n] = v; });
    }
    return x;
  }

  test('unary: every activation and function, special values included', () => {
    const rng = new Rng(12);
    for (const op of UNARY) {
      // (140001: above the sizes from which the loops are split over threads)
      for (const n of [1, 15, 16, 17, 1000, 4099, 140001]) {
        const x = unaryInput(op, rng, n);
        const param = op === 'leakyRelu' ? 0.1 : op === 'threshold' ? 0.25 : 0;
        const r = new Float32Array(n);
        const o = new Float32Array(n);
        js.unary(op, x, r, param);
        nb.unary(op, x, o, param);
        // GELU's far negative tail (|y| < 1e-12) carries the float32 rounding of z² in e^(−z²)
        assertNear(o, r, ulps(r, UNARY_ULPS[op], op === 'gelu' ? 1e-12 : 1e-37), `unary ${op} n${n}`);
      }
    }
  });

  test('unary may write in place (out = x)', () => {
    const rng = new Rng(13);
    for (const op of ['tanh', 'relu', 'linear', 'exp'] as UnaryOp[]) {
      const x = rand(rng, 37);
      const r = new Float32Array(37);
      js.unary(op, x, r, 0);
      nb.unary(op, x, x, 0);
      assertNear(x, r, ulps(r, UNARY_ULPS[op]), `in-place ${op}`);
    }
  });

  test('unaryGrad: every derivative, assigning and accumulating', () => {
    const rng = new Rng(14);
    for (const op of UNARY) {
      for (const n of [1, 17, 1025, 140001]) {
        const x = op === 'log' || op === 'sqrt' ? rand(rng, n, 0.01, 10) : rand(rng, n, -4, 4);
        if (op !== 'log' && op !== 'sqrt' && n > 3) x[3] = 0; // derivative conventions at 0
        const param = op === 'leakyRelu' ? 0.2 : 0;
        const y = new Float32Array(n);
        js.unary(op, x, y, param);
        const dy = rand(rng, n);
        for (const accumulate of [false, true]) {
          const start = rand(rng, n);
          const r = Float32Array.from(start);
          const o = Float32Array.from(start);
          js.unaryGrad(op, x, y, dy, r, param, accumulate);
          nb.unaryGrad(op, x, y, dy, o, param, accumulate);
          // (GELU's derivative: a float32 polynomial for erfc against the float64 reference)
          const floor = op === 'gelu' ? 2e-7 : 1e-30;
          assertNear(o, r, (i) => 4 * EPS * (Math.abs(r[i]) + (accumulate ? Math.abs(start[i]) : 0)) + floor,
            `unaryGrad ${op} n${n} acc=${accumulate}`);
        }
      }
    }
  });

  function stridesOf(shape: number[], out: number[]): number[] {
    const nd = out.length;
    const s = new Array<number>(nd).fill(0);
    let acc = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      const o = nd - shape.length + i;
      s[o] = shape[i] === 1 && out[o] !== 1 ? 0 : acc;
      acc *= shape[i];
    }
    return s;
  }

  test('binary: every op over broadcast shapes (exact, NaN handling of max/min included)', () => {
    const rng = new Rng(15);
    const cases: [number[], number[], number[]][] = [
      [[7], [7], [7]],
      [[], [], []],
      [[3, 1, 5], [1, 4, 5], [3, 4, 5]],
      [[2, 3], [], [2, 3]],
      [[], [17], [17]],
      [[4, 1], [1, 33], [4, 33]],
      [[2, 3, 4, 5], [3, 1, 5], [2, 3, 4, 5]],
      [[1, 1, 9], [1, 1, 1], [1, 1, 9]],
      [[64, 10], [10], [64, 10]],
      [[64, 10], [64, 1], [64, 10]],
      [[2, 1, 3, 1, 2], [1, 5, 1, 4, 1], [2, 5, 3, 4, 2]],
    ];
    for (const op of ['add', 'sub', 'mul', 'div', 'max', 'min'] as BinaryOp[]) {
      for (const [as, bs, out] of cases) {
        const na = as.reduce((p, d) => p * d, 1);
        const nbz = bs.reduce((p, d) => p * d, 1);
        const n = out.reduce((p, d) => p * d, 1);
        const a = rand(rng, na);
        const b = rand(rng, nbz, 0.5, 2);
        if (na > 2) a[1] = NaN;
        if (nbz > 2) b[2] = NaN;
        const r = new Float32Array(n);
        const o = new Float32Array(n);
        js.binary(op, a, stridesOf(as, out), b, stridesOf(bs, out), r, out);
        nb.binary(op, a, stridesOf(as, out), b, stridesOf(bs, out), o, out);
        assertExact(o, r, `binary ${op} ${JSON.stringify(as)}·${JSON.stringify(bs)}`);
      }
    }
  });

  test('axpy, scale and fill (in place included)', () => {
    const rng = new Rng(16);
    for (const n of [1, 31, 1000, 140001]) {
      const a = rand(rng, n);
      const b = rand(rng, n);
      const r = new Float32Array(n);
      const o = new Float32Array(n);
      js.axpy(n, -0.7, b, a, r);
      nb.axpy(n, -0.7, b, a, o);
      assertNear(o, r, (i) => 2 * EPS * (Math.abs(a[i]) + Math.abs(0.7 * b[i])), `axpy n${n}`);
      const a2 = Float32Array.from(a);
      nb.axpy(n, -0.7, b, a2, a2);
      assertExact(a2, o, `axpy in place n${n}`);
      js.scale(a, 1.5, r);
      nb.scale(a, 1.5, a);
      assertExact(a, r, `scale in place n${n}`);
      nb.fill(o, -3.25);
      assert.ok(o.every((v) => v === -3.25));
    }
  });

  test('sumAxis and addBroadcast over [outer, axis, inner] views', () => {
    const rng = new Rng(17);
    const shapes: [number, number, number][] = [[1, 64, 10], [1, 7, 1], [5, 9, 1], [3, 4, 5], [2, 1, 17], [1, 1, 1], [6, 130, 3]];
    for (const [outer, axis, inner] of shapes) {
      const x = rand(rng, outer * axis * inner);
      const absSum = new Float32Array(outer * inner);
      js.sumAxis(abs(x), outer, axis, inner, absSum, false);
      for (const accumulate of [false, true]) {
        const start = rand(rng, outer * inner);
        const r = Float32Array.from(start);
        const o = Float32Array.from(start);
        js.sumAxis(x, outer, axis, inner, r, accumulate);
        nb.sumAxis(x, outer, axis, inner, o, accumulate);
        assertNear(o, r, (i) => (axis + 2) * EPS * (absSum[i] + Math.abs(start[i])), `sumAxis ${outer}×${axis}×${inner}`);
      }
      const y = rand(rng, outer * inner);
      const r = new Float32Array(x.length);
      const o = new Float32Array(x.length);
      js.addBroadcast(x, y, outer, axis, inner, r);
      nb.addBroadcast(x, y, outer, axis, inner, o);
      assertExact(o, r, `addBroadcast ${outer}×${axis}×${inner}`);
    }
  });

  test('softmax and softmaxCrossEntropy, extreme logits included', () => {
    const rng = new Rng(18);
    for (const [rows, cols] of [[1, 1], [64, 10], [3, 37], [5, 2], [2, 100], [1025, 64]]) {
      const x = rand(rng, rows * cols, -8, 8);
      if (rows * cols > 4) {
        x[0] = 1000;
        x[1] = -1000;
      }
      const r = new Float32Array(x.length);
      const o = new Float32Array(x.length);
      js.softmax(x, rows, cols, r);
      nb.softmax(x, rows, cols, o);
      assertNear(o, r, ulps(r, 6, 1e-30), `softmax ${rows}×${cols}`);
      // one-hot targets and soft targets
      for (const soft of [false, true]) {
        const t = new Float32Array(x.length);
        for (let i = 0; i < rows; i++) {
          if (soft) for (let j = 0; j < cols; j++) t[i * cols + j] = 1 / cols;
          else t[i * cols + rng.int(cols)] = 1;
        }
        const pr = new Float32Array(x.length);
        const po = new Float32Array(x.length);
        const lr = js.softmaxCrossEntropy(x, t, rows, cols, pr);
        const lo = nb.softmaxCrossEntropy(x, t, rows, cols, po);
        assertNear(po, pr, ulps(pr, 6, 1e-30), `softmaxCE probs ${rows}×${cols}`);
        assert.ok(Math.abs(lo - lr) <= 1e-6 * Math.abs(lr) + 1e-6 * rows, `softmaxCE loss ${lo} vs ${lr}`);
      }
    }
  });

  test('sum, sumSquares (float64 accumulation) and allFinite', () => {
    const rng = new Rng(19);
    for (const n of [0, 1, 15, 4096, 100003]) {
      const x = rand(rng, n, -3, 5);
      assert.ok(Math.abs(nb.sum(x) - js.sum(x)) <= 1e-12 * n * 5 + 1e-300, `sum n${n}`);
      assert.ok(Math.abs(nb.sumSquares(x) - js.sumSquares(x)) <= 1e-12 * n * 25 + 1e-300, `sumSquares n${n}`);
      assert.equal(nb.allFinite(x), true);
      for (const bad of [NaN, Infinity, -Infinity]) {
        if (n === 0) continue;
        for (const at of [0, n - 1, n >> 1]) {
          const y = Float32Array.from(x);
          y[at] = bad;
          assert.equal(nb.allFinite(y), false, `allFinite ${bad} at ${at} of ${n}`);
        }
      }
    }
    assert.equal(nb.allFinite(new Float32Array([3.4e38, -3.4e38, 1e-45])), true);
  });

  function convGeom(n: number, c: number, h: number, w: number, k: number, kh: number, kw: number, sh: number,
    sw: number, padTop: number, padLeft: number, padBottom = padTop, padRight = padLeft): ConvGeometry {
    const oh = Math.floor((h + padTop + padBottom - kh) / sh) + 1;
    const ow = Math.floor((w + padLeft + padRight - kw) / sw) + 1;
    return { n, c, h, w, k, kh, kw, sh, sw, padTop, padLeft, oh, ow };
  }

  const CONVS: ConvGeometry[] = [
    convGeom(2, 3, 9, 7, 4, 3, 3, 1, 1, 0, 0), // multi-channel, valid, odd sizes
    convGeom(3, 2, 8, 8, 5, 3, 3, 2, 2, 1, 1), // stride 2 with padding
    convGeom(1, 5, 11, 6, 3, 5, 3, 1, 2, 2, 1), // non-square kernel, mixed strides and padding
    convGeom(2, 4, 6, 6, 2, 3, 3, 2, 2, 0, 0), // last input row/column unused (negative bottom padding)
    convGeom(4, 1, 12, 12, 6, 5, 5, 1, 1, 0, 0), // one input channel (plain backward-data path)
    convGeom(2, 16, 12, 12, 32, 5, 5, 1, 1, 0, 0), // W-CNN's second layer (2 threads)
    convGeom(2, 7, 5, 5, 9, 1, 1, 1, 1, 0, 0), // 1×1
    convGeom(1, 3, 7, 7, 4, 3, 3, 1, 1, 1, 1), // 'same' padding, RGB-like
    convGeom(2, 2, 5, 6, 3, 2, 2, 1, 1, 3, 2, 1, 3), // padding wider than the kernel, asymmetric
    convGeom(7, 8, 14, 14, 16, 3, 3, 1, 1, 0, 0), // 7 images in uneven chunks for the helper threads
  ];

  test('conv2d forward, with and without bias, against the reference', () => {
    const rng = new Rng(20);
    for (const g of CONVS) {
      const x = rand(rng, g.n * g.c * g.h * g.w);
      const w = rand(rng, g.k * g.c * g.kh * g.kw);
      for (const withBias of [true, false]) {
        const bias = withBias ? rand(rng, g.k) : null;
        const ny = g.n * g.k * g.oh * g.ow;
        const r = new Float32Array(ny);
        const o = new Float32Array(ny).fill(NaN);
        js.conv2d(g, x, w, bias, r);
        nb.conv2d(g, x, w, bias, o);
        const bound = new Float32Array(ny);
        js.conv2d(g, abs(x), abs(w), bias ? abs(bias) : null, bound);
        const terms = g.c * g.kh * g.kw + 2;
        assertNear(o, r, (i) => 2 * terms * EPS * bound[i] + 1e-30, `conv2d ${JSON.stringify(g)} bias=${withBias}`);
      }
    }
  });

  test('conv2dAct: the convolution then the elementwise function, as the reference composes them', () => {
    const rng = new Rng(23);
    for (const g of CONVS) {
      const x = rand(rng, g.n * g.c * g.h * g.w);
      const w = rand(rng, g.k * g.c * g.kh * g.kw);
      const bias = rand(rng, g.k);
      const ny = g.n * g.k * g.oh * g.ow;
      const z = new Float32Array(ny);
      nb.conv2d(g, x, w, bias, z);
      const zr = new Float32Array(ny);
      js.conv2d(g, x, w, bias, zr);
      const bound = new Float32Array(ny);
      js.conv2d(g, abs(x), abs(w), abs(bias), bound);
      const terms = g.c * g.kh * g.kw + 2;
      for (const [op, param] of [['relu', 0], ['leakyRelu', 0.1], ['tanh', 0], ['logistic', 0], ['linear', 0], ['gelu', 0]] as const) {
        const o = new Float32Array(ny).fill(NaN);
        nb.conv2dAct(g, x, w, bias, o, op, param);
        // exactly this backend's own convolution followed by its own elementwise kernel
        const composed = new Float32Array(ny);
        nb.unary(op, z, composed, param);
        assert.deepEqual(o, composed, `conv2dAct ${op} ${JSON.stringify(g)} against conv2d + unary`);
        const r = new Float32Array(ny);
        js.conv2dAct(g, x, w, bias, r, op, param);
        // all these functions have slope ≤ 1.13 (gelu): the convolution's error bound, plus a few ulps
        assertNear(o, r, (i) => 2.3 * terms * EPS * bound[i] + 4 * EPS * Math.abs(r[i]) + 1e-30, `conv2dAct ${op} ${JSON.stringify(g)}`);
      }
    }
  });

  test('conv2d backward data (assigns) and backward filter (adds into dw, db)', () => {
    const rng = new Rng(21);
    for (const g of CONVS) {
      const nx = g.n * g.c * g.h * g.w;
      const nw = g.k * g.c * g.kh * g.kw;
      const ny = g.n * g.k * g.oh * g.ow;
      const x = rand(rng, nx);
      const w = rand(rng, nw);
      const dy = rand(rng, ny);
      const r = new Float32Array(nx);
      const o = new Float32Array(nx).fill(NaN);
      js.conv2dBackwardData(g, dy, w, r);
      nb.conv2dBackwardData(g, dy, w, o);
      const bx = new Float32Array(nx);
      js.conv2dBackwardData(g, abs(dy), abs(w), bx);
      assertNear(o, r, (i) => 2 * (g.k * g.kh * g.kw + 2) * EPS * bx[i] + 1e-30, `conv2dBackwardData ${JSON.stringify(g)}`);

      for (const withBias of [true, false]) {
        const dw0 = rand(rng, nw);
        const db0 = rand(rng, g.k);
        const dwr = Float32Array.from(dw0);
        const dwo = Float32Array.from(dw0);
        const dbr = withBias ? Float32Array.from(db0) : null;
        const dbo = withBias ? Float32Array.from(db0) : null;
        js.conv2dBackwardFilter(g, x, dy, dwr, dbr);
        nb.conv2dBackwardFilter(g, x, dy, dwo, dbo);
        const bw = new Float32Array(nw);
        const bb = new Float32Array(g.k);
        js.conv2dBackwardFilter(g, abs(x), abs(dy), bw, bb);
        const terms = g.n * g.oh * g.ow + 2;
        assertNear(dwo, dwr, (i) => 2 * terms * EPS * (bw[i] + Math.abs(dw0[i])) + 1e-30,
          `conv2dBackwardFilter dw ${JSON.stringify(g)}`);
        if (dbo && dbr) {
          assertNear(dbo, dbr, (i) => 2 * terms * EPS * (bb[i] + Math.abs(db0[i])) + 1e-30,
            `conv2dBackwardFilter db ${JSON.stringify(g)}`);
        }
      }
    }
  });

  test('conv2d results are bit-identical from run to run (cached primitives, fixed threads)', () => {
    const rng = new Rng(22);
    const g = CONVS[5];
    const x = rand(rng, g.n * g.c * g.h * g.w);
    const w = rand(rng, g.k * g.c * g.kh * g.kw);
    const dy = rand(rng, g.n * g.k * g.oh * g.ow);
    const run = (): Float32Array[] => {
      const y = new Float32Array(dy.length);
      nb.conv2d(g, x, w, null, y);
      const dx = new Float32Array(x.length);
      nb.conv2dBackwardData(g, dy, w, dx);
      const dw = new Float32Array(w.length);
      nb.conv2dBackwardFilter(g, x, dy, dw, null);
      const c = new Float32Array(64 * 80);
      nb.gemm(false, true, 64, 80, 300, 1, rand(new Rng(5), 64 * 300), rand(new Rng(6), 80 * 300), 0, c);
      return [y, dx, dw, c];
    };
    const first = run();
    const second = run();
    first.forEach((a, i) => assert.deepEqual(second[i], a, `output ${i}`));
    if (isNative) assert.ok(nb.convCacheSize() >= 3 && nb.convCacheSize() <= 64);
  });

  function poolGeom(n: number, c: number, h: number, w: number, ph: number, pw: number, sh: number, sw: number,
    ceil = false): PoolGeometry {
    const f = ceil ? Math.ceil : Math.floor;
    const oh = f((h - ph) / sh) + 1;
    const ow = f((w - pw) / sw) + 1;
    return { n, c, h, w, ph, pw, sh, sw, oh, ow };
  }

  const POOLS: PoolGeometry[] = [
    poolGeom(2, 3, 8, 10, 2, 2, 2, 2), // the common 2×2/2 (fast path)
    poolGeom(64, 16, 24, 24, 2, 2, 2, 2), // W-CNN's first pooling layer
    poolGeom(1, 2, 7, 9, 2, 2, 2, 2), // odd sizes: last row/column dropped
    poolGeom(1, 2, 7, 9, 2, 2, 2, 2, true), // odd sizes with clipped edge windows
    poolGeom(2, 2, 9, 9, 3, 3, 2, 2), // overlapping windows
    poolGeom(1, 4, 6, 5, 3, 2, 1, 1), // non-square, stride 1
  ];

  test('maxPool (argmax = first maximum) and maxPoolBackward, ties included', () => {
    const rng = new Rng(23);
    for (const g of POOLS) {
      const nx = g.n * g.c * g.h * g.w;
      const ny = g.n * g.c * g.oh * g.ow;
      // values on a coarse grid so windows contain ties
      const x = rand(rng, nx).map((v) => Math.round(v * 3) / 3);
      const yr = new Float32Array(ny);
      const yo = new Float32Array(ny);
      const ar = new Int32Array(ny);
      const ao = new Int32Array(ny);
      js.maxPool(g, x, yr, ar);
      nb.maxPool(g, x, yo, ao);
      assertExact(yo, yr, `maxPool y ${JSON.stringify(g)}`);
      assert.deepEqual(ao, ar, `maxPool argmax ${JSON.stringify(g)}`);
      const dy = rand(rng, ny);
      const dr = new Float32Array(nx);
      const dn = new Float32Array(nx).fill(NaN);
      js.maxPoolBackward(g, dy, ar, dr);
      nb.maxPoolBackward(g, dy, ao, dn);
      assertNear(dn, dr, (i) => 8 * EPS * Math.abs(dr[i]) + 1e-30, `maxPoolBackward ${JSON.stringify(g)}`);
    }
  });

  test('avgPool and avgPoolBackward', () => {
    const rng = new Rng(24);
    for (const g of POOLS) {
      const nx = g.n * g.c * g.h * g.w;
      const ny = g.n * g.c * g.oh * g.ow;
      const x = rand(rng, nx);
      const yr = new Float32Array(ny);
      const yo = new Float32Array(ny);
      js.avgPool(g, x, yr);
      nb.avgPool(g, x, yo);
      assertNear(yo, yr, (i) => 8 * EPS * (Math.abs(yr[i]) + 1), `avgPool ${JSON.stringify(g)}`);
      const dy = rand(rng, ny);
      const dr = new Float32Array(nx);
      const dn = new Float32Array(nx).fill(NaN);
      js.avgPoolBackward(g, dy, dr);
      nb.avgPoolBackward(g, dy, dn);
      assertNear(dn, dr, () => 8 * EPS, `avgPoolBackward ${JSON.stringify(g)}`);
    }
  });

  test('lstmCell and lstmCellBackward', () => {
    const rng = new Rng(25);
    for (const [B, H] of [[1, 1], [3, 17], [32, 128], [2, 33], [70, 129]]) {
      const pre = rand(rng, B * 4 * H, -6, 6);
      pre[0] = 40;
      pre[Math.min(1, pre.length - 1)] = -40;
      const cPrev = rand(rng, B * H, -2, 2);
      const out = (): Float32Array[] => [new Float32Array(B * 4 * H), new Float32Array(B * H), new Float32Array(B * H)];
      const [gr, cr, hr] = out();
      const [go, co, ho] = out();
      js.lstmCell(B, H, pre, cPrev, gr, cr, hr);
      nb.lstmCell(B, H, pre, cPrev, go, co, ho);
      assertNear(go, gr, ulps(gr, 4, 1e-30), `lstmCell gates B${B} H${H}`);
      assertNear(co, cr, (i) => 8 * EPS * (Math.abs(cr[i]) + Math.abs(cPrev[i]) + 1), `lstmCell c B${B} H${H}`);
      assertNear(ho, hr, (i) => 8 * EPS * (Math.abs(hr[i]) + Math.abs(cPrev[i]) + 1), `lstmCell h B${B} H${H}`);
      const dh = rand(rng, B * H);
      const dc = rand(rng, B * H);
      const dpr = new Float32Array(B * 4 * H);
      const dpo = new Float32Array(B * 4 * H);
      const dcr = new Float32Array(B * H);
      const dco = new Float32Array(B * H);
      js.lstmCellBackward(B, H, gr, cPrev, cr, dh, dc, dpr, dcr);
      nb.lstmCellBackward(B, H, gr, cPrev, cr, dh, dc, dpo, dco);
      assertNear(dpo, dpr, () => 32 * EPS, `lstmCellBackward dPre B${B} H${H}`);
      assertNear(dco, dcr, () => 32 * EPS, `lstmCellBackward dcPrev B${B} H${H}`);
    }
  });

  test('gatherRows, scatterAddRows, argmaxRows and nonzeroIndices', () => {
    const rng = new Rng(27);
    for (const [rows, cols, n] of [[1, 1, 1], [5, 3, 7], [17, 33, 40], [100, 1, 3], [4, 129, 0]]) {
      const src = rand(rng, rows * cols);
      const index = Float32Array.from({ length: n }, () => Math.floor(rng.next() * rows));
      const gr = new Float32Array(n * cols);
      const go = new Float32Array(n * cols);
      assert.equal(js.gatherRows(src, cols, index, gr), -1);
      assert.equal(nb.gatherRows(src, cols, index, go), -1);
      assertExact(go, gr, `gatherRows ${rows}×${cols} n${n}`);
      // repeated indices add up; the sums are taken in the same order
      const g = rand(rng, n * cols);
      const sr = new Float32Array(rows * cols).fill(0.5);
      const so = new Float32Array(rows * cols).fill(0.5);
      js.scatterAddRows(g, cols, index, sr);
      nb.scatterAddRows(g, cols, index, so);
      assertExact(so, sr, `scatterAddRows ${rows}×${cols} n${n}`);
      const x = rand(rng, rows * cols);
      if (cols > 2) x[cols - 1] = x[0] = 2; // a tie: the first wins
      const ar = new Int32Array(rows);
      const ao = new Int32Array(rows);
      js.argmaxRows(x, rows, cols, ar);
      nb.argmaxRows(x, rows, cols, ao);
      assert.deepEqual([...ao], [...ar], `argmaxRows ${rows}×${cols}`);
      if (cols > 2) assert.equal(ao[0], 0);
      const z = x.map((v) => (v > 0.3 ? 0 : v));
      const zr = new Float32Array(z.length);
      const zo = new Float32Array(z.length);
      const cr = js.nonzeroIndices(z, zr);
      assert.equal(nb.nonzeroIndices(z, zo), cr, 'nonzeroIndices count');
      assertExact(zo.subarray(0, cr), zr.subarray(0, cr), 'nonzeroIndices positions');
    }
    // a bad index: the position of the first one, for every kind of bad
    const src = Float32Array.of(1, 2, 3, 4, 5, 6);
    for (const [bad, at] of [[3, 1], [-1, 2], [1.5, 0], [NaN, 2], [Infinity, 1]] as const) {
      const index = Float32Array.of(0, 1, 2);
      index[at] = bad;
      const out = new Float32Array(6);
      assert.equal(js.gatherRows(src, 2, index, out), at, `js gatherRows index ${bad}`);
      assert.equal(nb.gatherRows(src, 2, index, out), at, `gatherRows index ${bad}`);
    }
  });

  test('gruGates, gruState and their backward kernels', () => {
    const rng = new Rng(26);
    for (const [B, H] of [[1, 1], [3, 17], [32, 128], [2, 33], [5, 3], [70, 129]]) {
      const n = B * H;
      const pre = rand(rng, 2 * n, -6, 6);
      pre[0] = 40;
      pre[pre.length - 1] = -40;
      const hIn = rand(rng, n, -2, 2);
      const hPrev = rand(rng, n, -2, 2);
      const preCandidate = rand(rng, n, -4, 4);
      const run = (be: Backend) => {
        const gates = new Float32Array(2 * n);
        const resetHidden = new Float32Array(n);
        const candidate = new Float32Array(n);
        const h = new Float32Array(n);
        be.gruGates(B, H, pre, hIn, gates, resetHidden);
        be.gruState(B, H, gates, hPrev, preCandidate, candidate, h);
        return { gates, resetHidden, candidate, h };
      };
      const r = run(js);
      const o = run(nb);
      assertNear(o.gates, r.gates, ulps(r.gates, 4, 1e-30), `gruGates gates B${B} H${H}`);
      assertNear(o.resetHidden, r.resetHidden, (i) => 8 * EPS * (Math.abs(r.resetHidden[i]) + 1), `gruGates r ⊙ h B${B} H${H}`);
      assertNear(o.candidate, r.candidate, (i) => 4 * EPS * (Math.abs(r.candidate[i]) + 1e-30), `gruState candidate B${B} H${H}`);
      assertNear(o.h, r.h, (i) => 8 * EPS * (Math.abs(hPrev[i]) + 1), `gruState h B${B} H${H}`);
      // backward from the reference forward values; the untouched block of dPreGates must stay as it was
      const dh = rand(rng, n);
      const dResetHidden = rand(rng, n);
      const back = (be: Backend) => {
        const dhPrev = new Float32Array(n);
        const dPreCandidate = new Float32Array(n);
        const dPreGates = new Float32Array(2 * n).fill(7);
        const dhEntering = new Float32Array(n);
        be.gruStateBackward(B, H, r.gates, hPrev, r.candidate, dh, dhPrev, dPreCandidate, dPreGates);
        const afterState = dPreGates.slice();
        be.gruGatesBackward(B, H, r.gates, hIn, dResetHidden, dPreGates, dhEntering);
        return { dhPrev, dPreCandidate, afterState, dPreGates, dhEntering };
      };
      const br = back(js);
      const bo = back(nb);
      for (let b = 0; b < B; b++) for (let u = 0; u < H; u++) assert.equal(bo.afterState[b * 2 * H + H + u], 7, 'gruStateBackward leaves the reset-gate block');
      assertNear(bo.dhPrev, br.dhPrev, ulps(br.dhPrev, 2, 1e-30), `gruStateBackward dhPrev B${B} H${H}`);
      assertNear(bo.dPreCandidate, br.dPreCandidate, () => 8 * EPS, `gruStateBackward dPreCandidate B${B} H${H}`);
      assertNear(bo.dPreGates, br.dPreGates, () => 32 * EPS, `gruStateBackward/gruGatesBackward dPreGates B${B} H${H}`);
      assertNear(bo.dhEntering, br.dhEntering, ulps(br.dhEntering, 2, 1e-30), `gruGatesBackward dh B${B} H${H}`);
    }
  });

  if (isNative) test('bad buffers and geometry raise JavaScript errors instead of crashing', () => {
    const f = (n: number): Float32Array => new Float32Array(n);
    assert.throws(() => nb.gemm(false, false, 2, 2, 3, 1, f(4), f(6), 0, f(4)),
      (e: unknown) => e instanceof RangeError && /gemm: buffer a has 4 elements, needs 6/.test(e.message));
    assert.throws(() => nb.gemm(false, false, 2, 2, 2, 1, [1, 2, 3, 4] as unknown as Float32Array, f(4), 0, f(4)),
      (e: unknown) => e instanceof TypeError && /gemm: argument 6 must be a Float32Array/.test(e.message));
    assert.throws(() => nb.unary('relu', f(10), f(9), 0), /unary: buffer out has 9 elements, needs 10/);
    assert.throws(() => nb.binary('add', f(3), [1], f(2), [1], f(3), [3]), /binary: buffer b has 2 elements, needs 3/);
    const g = convGeom(1, 2, 5, 5, 3, 3, 3, 1, 1, 0, 0);
    assert.throws(() => nb.conv2d(g, f(49), f(54), null, f(27)), /conv2d: buffer x has 49 elements, needs 50/);
    assert.throws(() => nb.conv2d({ ...g, sh: 0 }, f(50), f(54), null, f(27)), /conv2d: kernel, stride and channel counts must be ≥ 1/);
    const p = poolGeom(1, 1, 4, 4, 2, 2, 2, 2);
    const bad = new Int32Array(4).fill(99);
    assert.throws(() => nb.maxPoolBackward(p, f(4), bad, f(16)), /maxPoolBackward: argmax\[0\] = 99 is outside/);
    assert.throws(() => nb.setMaxThreads(0), /setMaxThreads: n must be 1…/);
    // the process survived: a kernel still works
    const c = f(1);
    nb.gemm(false, false, 1, 1, 1, 1, new Float32Array([2]), new Float32Array([3]), 0, c);
    assert.equal(c[0], 6);
  });

  if (isNative) test('signals arriving during oneDNN calls do no harm (node --cpu-prof samples every 50 µs)', () => {
    // oneDNN's JIT sgemm corrupts the heap if a signal handler runs on its thread mid-call; the
    // addon blocks signals around every oneDNN call. Without that this child aborts within a second.
    const url = new URL('../../src/backend/native.js', import.meta.url).href;
    const script = `
      import { loadNative } from ${JSON.stringify(url)};
      const nb = loadNative().backend;
      // the W-MLP step's GEMMs and a GEMM-based convolution (one input channel, backward data)
      const shapes = [[false, true, 64, 256, 784], [true, false, 256, 784, 64], [false, false, 64, 784, 256],
        [false, true, 64, 10, 256], [true, false, 10, 256, 64]];
      const data = shapes.map(([ta, tb, m, n, k]) => {
        const a = new Float32Array(m * k).map((_, i) => Math.sin(i));
        const b = new Float32Array(k * n).map((_, i) => Math.cos(i));
        const ref = new Float32Array(m * n);
        nb.gemm(ta, tb, m, n, k, 1, a, b, 0, ref);
        return { a, b, ref };
      });
      const g = { n: 8, c: 1, h: 28, w: 28, k: 16, kh: 5, kw: 5, sh: 1, sw: 1, padTop: 0, padLeft: 0, oh: 24, ow: 24 };
      const w = data[0].b.subarray(0, 400);
      const dy = new Float32Array(8 * 16 * 576).map((_, i) => Math.sin(3 * i));
      const dx0 = new Float32Array(8 * 784);
      nb.conv2dBackwardData(g, dy, w, dx0);
      const t0 = Date.now();
      let calls = 0;
      while (Date.now() - t0 < 1500) {
        shapes.forEach(([ta, tb, m, n, k], s) => {
          const c = new Float32Array(m * n);
          nb.gemm(ta, tb, m, n, k, 1, data[s].a, data[s].b, 0, c);
          for (let i = 0; i < c.length; i++) if (c[i] !== data[s].ref[i]) throw new Error('gemm result changed');
        });
        const dx = new Float32Array(8 * 784);
        nb.conv2dBackwardData(g, dy, w, dx);
        for (let i = 0; i < dx.length; i++) if (dx[i] !== dx0[i]) throw new Error('conv result changed');
        calls++;
      }
      console.log('ok ' + calls);
    `;
    const dir = mkdtempSync(join(tmpdir(), 'dendrite-prof-'));
    try {
      const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-interval', '50', '--cpu-prof-dir', dir,
        '--input-type=module', '-e', script], { encoding: 'utf8' });
      assert.equal(r.signal, null, `child killed by ${r.signal}: ${r.stderr}`);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^ok \d+/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  if (isNative) test('setMaxThreads: one thread gives the same results within rounding', () => {
    const rng = new Rng(26);
    const [m, n, k] = [96, 80, 200];
    const a = rand(rng, m * k);
    const b = rand(rng, k * n);
    const c2 = new Float32Array(m * n);
    const c1 = new Float32Array(m * n);
    const before = nb.maxThreads();
    nb.gemm(false, false, m, n, k, 1, a, b, 0, c2);
    nb.setMaxThreads(1);
    try {
      assert.equal(nb.maxThreads(), 1);
      nb.gemm(false, false, m, n, k, 1, a, b, 0, c1);
    } finally {
      nb.setMaxThreads(before);
    }
    assertNear(c1, c2, () => 2 * k * EPS * 1 * 1, 'gemm 1 vs max threads');
  });
}
