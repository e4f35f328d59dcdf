// The fused optimiser step (Backend.optimizerStep) on the backend under test against the
// per-parameter rules it fuses: Adam and RMSProp block by block are the same float64 arithmetic
// (bit for bit); SGD is float32 arithmetic (as axpy), within float32 rounding of the float64 rule;
// the returned sum is Σg² over every gradient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, getBackend } from '../../src/index.js';

function rand(rng: Rng, n: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

const SIZES = [5, 4096, 5000];

test('optimizerStep is the per-parameter rules in one call and returns Σg²', () => {
  const be = getBackend();
  const rng = new Rng(41);
  const ws = SIZES.map((n) => rand(rng, n));
  const gs = SIZES.map((n) => rand(rng, n, -2, 2));
  const sq = gs.reduce((s, g) => s + be.sumSquares(g), 0);
  // Adam: bit for bit, the state too
  const m = SIZES.map((n) => rand(rng, n));
  const v = SIZES.map((n) => rand(rng, n, 0, 1));
  const [wA, mA, vA] = [ws, m, v].map((l) => l.map((a) => a.slice()));
  ws.forEach((_, i) => be.adamUpdate(wA[i], gs[i], mA[i], vA[i], 0.01, 0.9, 0.99, 1e-7, 0.19, 0.0199, 0.999));
  const [wB, mB, vB] = [ws, m, v].map((l) => l.map((a) => a.slice()));
  const r = be.optimizerStep('adam', Float64Array.of(0.01, 0.9, 0.99, 1e-7, 0.19, 0.0199, 0.999, 0), ws.flatMap((_, i) => [wB[i], gs[i], mB[i], vB[i], null]));
  assert.ok(Math.abs(r - sq) <= 1e-12 * sq, `Σg² ${r} vs ${sq}`);
  ws.forEach((_, i) => {
    assert.deepEqual(wB[i], wA[i], `adam w ${i}`);
    assert.deepEqual(mB[i], mA[i], `adam m ${i}`);
    assert.deepEqual(vB[i], vA[i], `adam v ${i}`);
  });
  // RMSProp, centred with momentum: bit for bit
  const st = SIZES.map((n) => [rand(rng, n, 0, 1), rand(rng, n), rand(rng, n)]);
  const wR = ws.map((a) => a.slice());
  const stR = st.map((l) => l.map((a) => a.slice()));
  ws.forEach((_, i) => be.rmspropUpdate(wR[i], gs[i], stR[i][0], stR[i][1], stR[i][2], 0.003, 0.9, 0.5, 1e-7));
  const wS = ws.map((a) => a.slice());
  const stS = st.map((l) => l.map((a) => a.slice()));
  be.optimizerStep('rmsprop', Float64Array.of(0.003, 0.9, 0.5, 1e-7, 0, 0, 0, 0), ws.flatMap((_, i) => [wS[i], gs[i], ...stS[i]]));
  ws.forEach((_, i) => {
    assert.deepEqual(wS[i], wR[i], `rmsprop w ${i}`);
    stS[i].forEach((a, j) => assert.deepEqual(a, stR[i][j], `rmsprop state ${j} of ${i}`));
  });
  // SGD with Nesterov momentum and L2 decay: float32 against the float64 rule on g + λ·w
  const vel = SIZES.map((n) => rand(rng, n));
  const wD = ws.map((a) => a.slice());
  const velD = vel.map((a) => a.slice());
  ws.forEach((w, i) => {
    const gd = Float32Array.from(gs[i], (g, j) => g + 0.01 * w[j]);
    be.sgdUpdate(wD[i], gd, velD[i], 0.05, 0.9, true);
  });
  const wF = ws.map((a) => a.slice());
  const velF = vel.map((a) => a.slice());
  be.optimizerStep('sgd', Float64Array.of(0.05, 0.9, 1, 0.01, 0, 0, 0, 0), ws.flatMap((_, i) => [wF[i], gs[i], velF[i], null, null]));
  ws.forEach((_, i) => {
    wF[i].forEach((x, j) => assert.ok(Math.abs(x - wD[i][j]) <= 1e-6, `sgd w ${i}[${j}]: ${x} vs ${wD[i][j]}`));
    velF[i].forEach((x, j) => assert.ok(Math.abs(x - velD[i][j]) <= 1e-6, `sgd velocity ${i}[${j}]: ${x} vs ${velD[i][j]}`));
  });
});

test('optimizerStep stops at a non-finite gradient block: no NaN reaches a weight or a state', () => {
  const be = getBackend();
  const rng = new Rng(42);
  const w = [rand(rng, 10), rand(rng, 9000)];
  const g = [rand(rng, 10), rand(rng, 9000)];
  g[1][5000] = Number.POSITIVE_INFINITY;
  const m = [new Float32Array(10), new Float32Array(9000)];
  const v = [new Float32Array(10), new Float32Array(9000)];
  const w0 = w.map((a) => a.slice());
  const r = be.optimizerStep('adam', Float64Array.of(0.01, 0.9, 0.999, 1e-7, 0.1, 0.001, 1, 0), [w[0], g[0], m[0], v[0], null, w[1], g[1], m[1], v[1], null]);
  assert.equal(r, Number.POSITIVE_INFINITY);
  for (const a of [...w, ...m, ...v]) assert.ok(a.every(Number.isFinite), 'every weight and state stays finite');
  assert.notDeepEqual(w[0], w0[0], 'the parameter before the bad block was updated');
  assert.deepEqual(w[1].subarray(4096), w0[1].subarray(4096), 'the bad block and those after it were not');
});
