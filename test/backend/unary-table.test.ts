// The elementwise table (src/backend/unary.ts) row by row: each derivative agrees with central
// differences of its forward, and the native and WebAssembly kernels (one C definition,
// native/src/unary.h) compute every row — forward and derivative — like the reference. A row
// without a compiled kernel fails here by name; op codes come from the kernels' own name lists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsBackend } from '../../src/index.js';
import type { Backend } from '../../src/index.js';
import { UNARY, UNARY_OPS, unaryCodes, unaryRow } from '../../src/backend/unary.js';
import type { UnaryOp } from '../../src/backend/unary.js';
import { loadNative } from '../../src/backend/native.js';
import { loadWasm } from '../../src/backend/wasm.js';
import { ACTIVATION_NAMES } from '../../src/ops/activations.js';

/** Points away from each row's kinks (0, θ) and outside its domain limits (log, sqrt). */
function points(op: UnaryOp): number[] {
  return op === 'log' || op === 'sqrt' ? [0.05, 0.5, 1, 2.5, 7] : [-3.1, -1.2, -0.4, 0.3, 0.9, 2.2, 4.5];
}
function paramOf(op: UnaryOp): number {
  return op === 'leakyRelu' ? 0.2 : op === 'threshold' ? 0.5 : 0;
}

test('every row: the derivative is the slope of the forward (central differences in float64)', () => {
  for (const op of UNARY_OPS) {
    const row = unaryRow(op);
    if (row.differentiable === false) continue;
    const p = paramOf(op);
    for (const x of points(op)) {
      const h = 1e-5;
      const fd = (row.f(x + h, p) - row.f(x - h, p)) / (2 * h);
      const d = row.df(x, row.f(x, p), p);
      assert.ok(Math.abs(fd - d) <= 1e-6 * Math.max(1, Math.abs(d)), `${op}'(${x}): table ${d}, differences ${fd}`);
    }
  }
});

test('the activation names derive from the table: every activation row, sigmoid, prelu, softmax', () => {
  const rows = UNARY_OPS.filter((op) => unaryRow(op).activation);
  assert.deepEqual([...ACTIVATION_NAMES].sort(), [...rows, 'sigmoid', 'prelu', 'softmax'].sort());
  assert.ok(!(ACTIVATION_NAMES as readonly string[]).includes('exp'));
  assert.equal(UNARY.leakyRelu.param.key, 'alpha');
});

test('op codes come from the kernels\' name list; a name they lack is a RangeError saying so', () => {
  const code = unaryCodes(['tanh', 'linear'], 'test');
  assert.equal(code('linear'), 1);
  assert.equal(code('tanh'), 0);
  assert.throws(() => code('gelu'), (e: unknown) => e instanceof RangeError && /the test kernels have no 'gelu'/.test(e.message));
});

const native = loadNative();
const wasm = loadWasm();
const compiled: [string, Backend | null][] = [
  ['native', 'backend' in native ? native.backend : null],
  ['wasm', 'backend' in wasm ? wasm.backend : null],
];

for (const [name, fast] of compiled) {
  if (!fast) continue;
  test(`${name}: every row of the table has a kernel, forward and derivative agreeing with the reference`, () => {
    for (const op of UNARY_OPS) {
      const x = Float32Array.from(points(op));
      const p = paramOf(op);
      const want = new Float32Array(x.length);
      const got = new Float32Array(x.length);
      jsBackend.unary(op, x, want, p);
      fast.unary(op, x, got, p);
      for (let i = 0; i < x.length; i++) {
        assert.ok(Math.abs(got[i] - want[i]) <= 1e-6 * Math.max(1, Math.abs(want[i])), `${name} ${op}(${x[i]}): ${got[i]} vs reference ${want[i]}`);
      }
      const dy = new Float32Array(x.length).fill(1);
      const dWant = new Float32Array(x.length);
      const dGot = new Float32Array(x.length);
      jsBackend.unaryGrad(op, x, want, dy, dWant, p, false);
      fast.unaryGrad(op, x, want, dy, dGot, p, false);
      for (let i = 0; i < x.length; i++) {
        assert.ok(Math.abs(dGot[i] - dWant[i]) <= 1e-6 * Math.max(1, Math.abs(dWant[i])), `${name} ${op}'(${x[i]}): ${dGot[i]} vs reference ${dWant[i]}`);
      }
    }
  });
}
