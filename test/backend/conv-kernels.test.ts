import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getBackend, Rng } from '../../src/index.js';
import type { ConvGeometry, PoolGeometry } from '../../src/index.js';
import { assertClose } from '../helpers/gradcheck.js';

// The active backend's convolution and pooling kernels against the definitions, written here as
// direct loops in float64 (independent of the backend's im2col + blocked products).

function rand(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => r.uniform(-1, 1));
}

function geometry(n: number, c: number, h: number, w: number, k: number, kh: number, kw: number,
  sh: number, sw: number, pad: [number, number, number, number]): ConvGeometry {
  return {
    n, c, h, w, k, kh, kw, sh, sw, padTop: pad[0], padLeft: pad[2],
    oh: Math.floor((h + pad[0] + pad[1] - kh) / sh) + 1, ow: Math.floor((w + pad[2] + pad[3] - kw) / sw) + 1,
  };
}

/** Value of x at padded coordinates (0 outside). */
function at(g: ConvGeometry, x: Float32Array, b: number, ch: number, iy: number, ix: number): number {
  return iy < 0 || iy >= g.h || ix < 0 || ix >= g.w ? 0 : x[((b * g.c + ch) * g.h + iy) * g.w + ix];
}

function refForward(g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array | null): number[] {
  const y: number[] = [];
  for (let b = 0; b < g.n; b++) for (let f = 0; f < g.k; f++) for (let oy = 0; oy < g.oh; oy++) for (let ox = 0; ox < g.ow; ox++) {
    let s = bias ? bias[f] : 0;
    for (let ch = 0; ch < g.c; ch++) for (let i = 0; i < g.kh; i++) for (let j = 0; j < g.kw; j++) {
      s += w[((f * g.c + ch) * g.kh + i) * g.kw + j] * at(g, x, b, ch, oy * g.sh + i - g.padTop, ox * g.sw + j - g.padLeft);
    }
    y.push(s);
  }
  return y;
}

function refBackward(g: ConvGeometry, x: Float32Array, w: Float32Array, dy: Float32Array): { dx: number[]; dw: number[]; db: number[] } {
  const dx = new Array<number>(x.length).fill(0);
  const dw = new Array<number>(w.length).fill(0);
  const db = new Array<number>(g.k).fill(0);
  let o = 0;
  for (let b = 0; b < g.n; b++) for (let f = 0; f < g.k; f++) for (let oy = 0; oy < g.oh; oy++) for (let ox = 0; ox < g.ow; ox++, o++) {
    const gv = dy[o];
    db[f] += gv;
    for (let ch = 0; ch < g.c; ch++) for (let i = 0; i < g.kh; i++) for (let j = 0; j < g.kw; j++) {
      const iy = oy * g.sh + i - g.padTop;
      const ix = ox * g.sw + j - g.padLeft;
      if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
      const xi = ((b * g.c + ch) * g.h + iy) * g.w + ix;
      const wi = ((f * g.c + ch) * g.kh + i) * g.kw + j;
      dx[xi] += gv * w[wi];
      dw[wi] += gv * x[xi];
    }
  }
  return { dx, dw, db };
}

const CASES: [string, ConvGeometry][] = [
  ['1 channel, 3×3, valid', geometry(2, 1, 6, 6, 1, 3, 3, 1, 1, [0, 0, 0, 0])],
  ['3 channels, 5 filters, stride 2, padding 1', geometry(3, 3, 7, 8, 5, 3, 3, 2, 2, [1, 1, 1, 1])],
  ['asymmetric padding, strides [2, 1], 2×4 kernel', geometry(2, 2, 5, 9, 3, 2, 4, 2, 1, [0, 2, 3, 1])],
  ['kernel larger than the stride leaves unused bottom/right rows', geometry(1, 2, 8, 7, 6, 3, 2, 3, 3, [1, 0, 0, 1])],
  ['1-D shape (height 1)', geometry(4, 2, 1, 11, 3, 1, 3, 1, 2, [0, 0, 1, 1])],
  ['padding larger than the kernel', geometry(1, 1, 3, 3, 2, 2, 2, 1, 1, [3, 3, 3, 3])],
  // ≥ 4 Mi floats of im2col data: processed in several chunks of images
  ['several chunks of images', geometry(12, 16, 32, 32, 2, 5, 5, 1, 1, [2, 2, 2, 2])],
];

for (const [name, g] of CASES) {
  test(`conv2d kernels match the definition: ${name}`, () => {
    const B = getBackend();
    const x = rand(g.n * g.c * g.h * g.w, 1);
    const w = rand(g.k * g.c * g.kh * g.kw, 2);
    const bias = rand(g.k, 3);
    const y = B.alloc(g.n * g.k * g.oh * g.ow);
    B.conv2d(g, x, w, bias, y);
    assertClose(y, refForward(g, x, w, bias), 1e-4, 'y');
    const y0 = B.alloc(y.length);
    B.conv2d(g, x, w, null, y0);
    assertClose(y0, refForward(g, x, w, null), 1e-4, 'y without bias');

    // dense gradients, and sparse ones as after ReLU + max pooling (the kernels take another path)
    for (const keep of [1, 0.1]) {
      const mask = new Rng(7);
      const dy = rand(y.length, 4).map((v) => (mask.uniform(0, 1) < keep ? v : 0));
      const ref = refBackward(g, x, w, dy);
      const dx = B.alloc(x.length).fill(Number.NaN); // assigned, whatever was there
      B.conv2dBackwardData(g, dy, w, dx);
      assertClose(dx, ref.dx, 1e-4, `dx (keep ${keep})`);
      const dw = B.alloc(w.length).fill(0.5); // added into
      const db = B.alloc(g.k).fill(0.25);
      B.conv2dBackwardFilter(g, x, dy, dw, db);
      const tol = 2e-6 * g.n * g.oh * g.ow + 1e-4;
      assertClose(dw, ref.dw.map((v) => v + 0.5), tol, `dw (keep ${keep})`);
      assertClose(db, ref.db.map((v) => v + 0.25), tol, `db (keep ${keep})`);
      const dw2 = B.alloc(w.length);
      B.conv2dBackwardFilter(g, x, dy, dw2, null);
      assertClose(dw2, ref.dw, tol, `dw without bias (keep ${keep})`);
    }
  });
}

function poolRef(g: PoolGeometry, x: Float32Array, kind: 'max' | 'avg'): { y: number[]; arg: number[] } {
  const y: number[] = [];
  const arg: number[] = [];
  for (let p = 0; p < g.n * g.c; p++) for (let oy = 0; oy < g.oh; oy++) for (let ox = 0; ox < g.ow; ox++) {
    let best = -Infinity;
    let bi = -1;
    let s = 0;
    for (let i = 0; i < g.ph; i++) for (let j = 0; j < g.pw; j++) {
      const idx = (p * g.h + oy * g.sh + i) * g.w + ox * g.sw + j;
      s += x[idx];
      if (x[idx] > best) { best = x[idx]; bi = idx; }
    }
    y.push(kind === 'max' ? best : s / (g.ph * g.pw));
    arg.push(bi);
  }
  return { y, arg };
}

test('pooling kernels match the definition (non-overlapping, overlapping, rectangular)', () => {
  const B = getBackend();
  const geoms: PoolGeometry[] = [
    { n: 2, c: 3, h: 6, w: 6, ph: 2, pw: 2, sh: 2, sw: 2, oh: 3, ow: 3 },
    { n: 1, c: 2, h: 7, w: 5, ph: 3, pw: 3, sh: 2, sw: 1, oh: 3, ow: 3 },
    { n: 2, c: 1, h: 5, w: 8, ph: 2, pw: 3, sh: 1, sw: 3, oh: 4, ow: 2 },
  ];
  for (const g of geoms) {
    const x = rand(g.n * g.c * g.h * g.w, 5);
    const out = g.n * g.c * g.oh * g.ow;
    const y = B.alloc(out);
    const arg = new Int32Array(out);
    B.maxPool(g, x, y, arg);
    const ref = poolRef(g, x, 'max');
    assertClose(y, ref.y, 0, 'max');
    assert.deepEqual(Array.from(arg), ref.arg);
    const dy = rand(out, 6);
    const dx = B.alloc(x.length).fill(9);
    B.maxPoolBackward(g, dy, arg, dx);
    const dxRef = new Array<number>(x.length).fill(0);
    ref.arg.forEach((a, o) => { dxRef[a] += dy[o]; });
    assertClose(dx, dxRef, 1e-6, 'max dx');
    B.avgPool(g, x, y);
    assertClose(y, poolRef(g, x, 'avg').y, 1e-6, 'avg');
    B.avgPoolBackward(g, dy, dx);
    const dxAvg = new Array<number>(x.length).fill(0);
    let o = 0;
    for (let p = 0; p < g.n * g.c; p++) for (let oy = 0; oy < g.oh; oy++) for (let ox = 0; ox < g.ow; ox++, o++) {
      for (let i = 0; i < g.ph; i++) for (let j = 0; j < g.pw; j++) dxAvg[(p * g.h + oy * g.sh + i) * g.w + ox * g.sw + j] += dy[o] / (g.ph * g.pw);
    }
    assertClose(dx, dxAvg, 1e-6, 'avg dx');
  }
});

test('max pooling sends a tie to the first maximum in row-major order', () => {
  const B = getBackend();
  const g: PoolGeometry = { n: 1, c: 1, h: 2, w: 2, ph: 2, pw: 2, sh: 2, sw: 2, oh: 1, ow: 1 };
  const y = B.alloc(1);
  const arg = new Int32Array(1);
  B.maxPool(g, Float32Array.of(1, 3, 3, 0), y, arg);
  assert.equal(y[0], 3);
  assert.equal(arg[0], 1);
});
