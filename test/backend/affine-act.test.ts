// The fused dense kernel `affineAct` (out = φ(x·wᵀ + b), z = x·wᵀ + b) of every fast backend that
// loads here (native, wasm on one thread and on its threads) against the reference (js), which
// composes it from gemm, addBroadcast and unary: every activation row, with and without bias and
// z, one row, odd sizes and products big enough to be split over the threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, jsBackend } from '../../src/index.js';
import type { Backend } from '../../src/index.js';
import { loadNative } from '../../src/backend/native.js';
import { loadWasm } from '../../src/backend/wasm.js';
import { UNARY, UNARY_OPS } from '../../src/backend/unary.js';

const EPS = 2 ** -23;
const ACTIVATIONS = UNARY_OPS.filter((op) => UNARY[op].activation);

const fast: [string, Backend][] = [];
const native = loadNative();
if ('backend' in native) fast.push(['native', native.backend]);
const wasm = loadWasm();
if ('backend' in wasm) {
  fast.push([`wasm (${wasm.backend.threads()} threads)`, wasm.backend]);
  const one = loadWasm(undefined, { threads: 1 });
  if ('backend' in one && wasm.backend.threads() > 1) fast.push(['wasm (1 thread)', one.backend]);
}

function rand(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
}

test('affineAct (js reference): the definition on hand-checkable numbers', () => {
  // x = [1, 1]; neurons w = [1, 2] and [-3, -4]; b = [0.5, 0] → z = [3.5, -7]
  const out = new Float32Array(2);
  const z = new Float32Array(2);
  jsBackend.affineAct(1, 2, 2, Float32Array.of(1, 1), Float32Array.of(1, 2, -3, -4), Float32Array.of(0.5, 0), 'relu', 0, out, z);
  assert.deepEqual([...z], [3.5, -7]);
  assert.deepEqual([...out], [3.5, 0]);
  jsBackend.affineAct(1, 2, 2, Float32Array.of(1, 1), Float32Array.of(1, 2, -3, -4), null, 'leakyRelu', 0.1, out, null);
  assert.deepEqual([...out], [3, Math.fround(-0.7)]);
});

for (const [name, be] of fast) {
  test(`affineAct on ${name}: every activation, bias or none, z or none, against the reference`, () => {
    const rng = new Rng(5);
    // [rows, units, inputs]; the last ones are above a megaflop (split over the threads); one row
    // above 0.3 MFLOP is a matrix-vector product split by units (native), with units not a
    // multiple of its block of 4 and inputs not a multiple of its 16-wide steps; from 256 rows the
    // product runs on packed weights (native), in one block and in blocks of rows over the threads
    const sizes: [number, number, number][] = [[1, 1, 1], [1, 10, 128], [1, 256, 97], [1, 257, 33], [1, 259, 601], [1, 256, 784],
      [3, 7, 5], [17, 33, 9], [64, 96, 100], [70, 130, 90], [256, 20, 33], [601, 37, 70]];
    for (const [m, n, k] of sizes) {
      const x = rand(rng, m * k);
      const w = rand(rng, n * k);
      const b = rand(rng, n);
      // float32 accumulation bound of z: (k + 1)·ε·(|x||w| + |b|)
      const bound = new Float32Array(m * n);
      jsBackend.affineAct(m, n, k, x.map(Math.abs), w.map(Math.abs), b.map(Math.abs), 'linear', 0, bound, null);
      const tol = (i: number) => 2 * (k + 2) * EPS * bound[i] + 1e-30;
      for (const op of ACTIVATIONS) {
        const param = op === 'leakyRelu' ? 0.2 : op === 'threshold' ? 0.1 : 0;
        for (const bias of [b, null]) {
          const what = `${name} ${op} ${m}×${n}×${k}${bias ? '' : ' no bias'}`;
          const zr = new Float32Array(m * n);
          const ar = new Float32Array(m * n);
          jsBackend.affineAct(m, n, k, x, w, bias, op, param, ar, zr);
          const zf = new Float32Array(m * n);
          const af = new Float32Array(m * n);
          be.affineAct(m, n, k, x, w, bias, op, param, af, zf);
          for (let i = 0; i < m * n; i++) assert.ok(Math.abs(zf[i] - zr[i]) <= tol(i), `${what}: z[${i}] ${zf[i]} vs ${zr[i]}`);
          // a = φ(z) exactly as the backend's own elementwise kernel computes it from its z
          const az = new Float32Array(m * n);
          be.unary(op, zf, az, param);
          assert.deepEqual(af, az, `${what}: a is not φ(z)`);
          // without z: the same a
          const a2 = new Float32Array(m * n);
          be.affineAct(m, n, k, x, w, bias, op, param, a2, null);
          assert.deepEqual(a2, af, `${what}: a differs without z`);
        }
      }
    }
  });
}

for (const [name, be] of fast) {
  test(`affineAct on ${name}: one row on hand-checkable numbers (every block and tail of the matrix-vector path)`, () => {
    // x = 1 everywhere, w_jq = (j mod 7)/4, b_j = −j: z_j = k·(j mod 7)/4 − j, exact in float32
    for (const [n, k] of [[9, 35], [3, 1], [260, 1200]]) {
      const x = new Float32Array(k).fill(1);
      const w = Float32Array.from({ length: n * k }, (_, i) => (Math.floor(i / k) % 7) / 4);
      const b = Float32Array.from({ length: n }, (_, j) => -j);
      const out = new Float32Array(n);
      const z = new Float32Array(n);
      be.affineAct(1, n, k, x, w, b, 'relu', 0, out, z);
      const want = Array.from({ length: n }, (_, j) => (k * (j % 7)) / 4 - j);
      assert.deepEqual([...z], want, `z, ${n} units × ${k} inputs`);
      assert.deepEqual([...out], want.map((v) => Math.max(v, 0)), `relu, ${n} units × ${k} inputs`);
      be.affineAct(1, n, k, x, w, null, 'linear', 0, out, null);
      assert.deepEqual([...out], want.map((v, j) => v + j), `no bias, ${n} units × ${k} inputs`);
    }
  });
}

for (const [name, be] of fast) {
  test(`affineAct on ${name}: weights changed between calls are never served stale (many rows, packed weights)`, () => {
    const rng = new Rng(8);
    for (const [m, n, k] of [[300, 24, 40], [700, 40, 50]]) {
      const x = rand(rng, m * k);
      const w = rand(rng, n * k);
      const b = rand(rng, n);
      const check = (what: string) => {
        const want = new Float32Array(m * n);
        jsBackend.affineAct(m, n, k, x, w, b, 'relu', 0, want, null);
        const got = new Float32Array(m * n);
        be.affineAct(m, n, k, x, w, b, 'relu', 0, got, null);
        for (let i = 0; i < m * n; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * k, `${name} ${m}×${n}×${k} ${what}: [${i}] ${got[i]} vs ${want[i]}`);
      };
      check('first call');
      check('again');
      w[0] += 4; // one element, in place: the same array, the same address
      check('after one weight changed');
      // held still again for a few calls: packed anew (a weight that changes every call is never packed)
      for (let i = 0; i < 6; i++) check(`unchanged again, call ${i + 1}`);
      w.fill(0.25, n * k - 3);
      check('after the last weights changed');
      w.set(rand(rng, n * k));
      b[n - 1] = 5;
      check('after every weight and a bias changed');
      // another array of the same size at another address, then the first again
      const w2 = rand(rng, n * k);
      const want2 = new Float32Array(m * n);
      jsBackend.affineAct(m, n, k, x, w2, b, 'linear', 0, want2, null);
      const got2 = new Float32Array(m * n);
      be.affineAct(m, n, k, x, w2, b, 'linear', 0, got2, null);
      for (let i = 0; i < m * n; i++) assert.ok(Math.abs(got2[i] - want2[i]) <= 1e-5 * k, `${name} another weight array: [${i}]`);
      check('the first array again');
    }
  });
}

if ('backend' in native) {
  test('affineAct on native: short buffers and outputs overlapping an input are RangeErrors naming them', () => {
    const be = native.backend;
    const x = new Float32Array(6);
    const w = new Float32Array(6);
    assert.throws(() => be.affineAct(2, 2, 3, x, w, null, 'relu', 0, new Float32Array(3), null),
      (e: unknown) => e instanceof RangeError && /affineAct: buffer out has 3 elements, needs 4/.test(e.message));
    assert.throws(() => be.affineAct(2, 2, 3, x, new Float32Array(5), null, 'relu', 0, new Float32Array(4), null),
      (e: unknown) => e instanceof RangeError && /affineAct: buffer w has 5 elements, needs 6/.test(e.message));
    const shared = new Float32Array(10);
    assert.throws(() => be.affineAct(2, 2, 3, shared.subarray(0, 6), w, null, 'relu', 0, shared.subarray(4, 8), null),
      (e: unknown) => e instanceof RangeError && e.message === 'affineAct: out overlaps an input');
  });
}
