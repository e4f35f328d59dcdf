// The WebAssembly backend keeps parameters in its (shared) memory so that a prediction does not
// copy the weights in on every call (Backend.resident). There is one copy only, so every change of
// the weights — a write into .data, setWeights, an optimiser step, a loaded model — must be what
// the next kernel reads: these tests change the weights between two predictions and check the
// second against a plain-loop reference of the new weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Dense, Model, Rng, SGD, Sequential, getBackend, jsBackend, loadModelFromBytes, modelToBytes, setBackend, tensor,
} from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { withPlainStorage } from '../../src/backend/index.js';
import { loadWasm } from '../../src/backend/wasm.js';
import { wasmBase64 } from '../../src/backend/wasm-binary.js';

const loaded = loadWasm();
const rng = new Rng(5);
const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));

function refGemm(ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number, a: Float32Array,
  b: Float32Array, beta: number, c: Float32Array): Float32Array {
  const out = Float32Array.from(c);
  jsBackend.gemm(ta, tb, m, n, k, alpha, Float32Array.from(a), Float32Array.from(b), beta, out);
  return out;
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])), `${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

if ('backend' in loaded) {
  const wb = loaded.backend;

  test('wasm resident: Node shares memory, so parameters get storage the kernels read in place', () => {
    assert.equal(typeof wb.resident, 'function');
    const src = Float32Array.of(1, 2, 3, 4, 5, 6);
    const w = wb.resident!(src);
    assert.notEqual(w, src);
    assert.deepEqual([...w], [1, 2, 3, 4, 5, 6]);
    assert.equal(wb.resident!(w), w, 'already resident: the same array');
    assert.equal(wb.resident!(new Float32Array(0)).length, 0);
    // one thread where memory can be shared has it too
    const one = loadWasm(undefined, { threads: 1 });
    assert.ok('backend' in one && typeof one.backend.resident === 'function');
    // the plain build alone (a page without cross-origin isolation has no shared memory) has none:
    // parameters stay ordinary arrays, copied in per call
    const plain = loadWasm(Uint8Array.from(atob(wasmBase64!), (ch) => ch.charCodeAt(0)));
    assert.ok('backend' in plain);
    assert.equal(plain.backend.resident, undefined);
    assert.equal(plain.backend.maxThreads(), 1);
    const c = new Float32Array(2);
    plain.backend.gemm(false, true, 1, 2, 3, 1, Float32Array.of(1, 2, 3), w, 0, c);
    assert.deepEqual([...c], [14, 32]);
  });

  test('wasm resident: a GEMM reads a parameter in place and sees every write to it', () => {
    const [m, n, k] = [3, 5, 7];
    const w = wb.resident!(rand(n * k));
    const x = rand(m * k);
    const c = new Float32Array(m * n);
    wb.gemm(false, true, m, n, k, 1, x, w, 0, c);
    close(c, refGemm(false, true, m, n, k, 1, x, w, 0, new Float32Array(m * n)), 1e-6, 'first');
    w[3] = 10; // a write through the array, as setWeights or a user's loop does
    w.set(rand(k), k);
    wb.gemm(false, true, m, n, k, 1, x, w, 0, c);
    close(c, refGemm(false, true, m, n, k, 1, x, w, 0, new Float32Array(m * n)), 1e-6, 'after writes');
    // one example (the few-rows path) and a parameter as A
    const x1 = rand(k);
    const c1 = new Float32Array(n);
    wb.gemm(false, true, 1, n, k, 1, x1, w, 0, c1);
    close(c1, refGemm(false, true, 1, n, k, 1, x1, w, 0, new Float32Array(n)), 1e-6, 'one row');
    const c2 = new Float32Array(n * m);
    wb.gemm(false, true, n, m, k, 0.5, w, x, 0, c2);
    close(c2, refGemm(false, true, n, m, k, 0.5, w, x, 0, new Float32Array(n * m)), 1e-6, 'parameter as A');
  });

  test('wasm resident: a parameter as the output is written in place, also when it is an input too', () => {
    const w = wb.resident!(rand(4 * 4));
    const x = rand(4 * 4);
    const c0 = Float32Array.from(w);
    // w = 0.5·w + x·wᵀ: C overlaps B, so the product must read the old w
    const want = refGemm(false, true, 4, 4, 4, 1, x, c0, 0.5, c0);
    wb.gemm(false, true, 4, 4, 4, 1, x, w, 0.5, w);
    close(w, want, 1e-6, 'aliased output');
    const out = wb.resident!(new Float32Array(16).fill(Number.NaN));
    wb.gemm(false, false, 4, 4, 4, 1, x, x, 0, out);
    close(out, refGemm(false, false, 4, 4, 4, 1, x, x, 0, new Float32Array(16)), 1e-6, 'beta 0 ignores NaN');
    // kernels other than GEMM take it as any other array
    const r = wb.resident!(Float32Array.of(-1, 2, -3));
    wb.unary('relu', r, r, 0);
    assert.deepEqual([...r], [0, 2, 0]);
  });

  test('wasm resident: parameters stay valid when the memory grows, and split GEMMs read them', () => {
    const [m, n, k] = [64, 300, 200]; // above a megaflop: split over the threads where there are several
    const w = wb.resident!(rand(n * k));
    const keep = Float32Array.from(w);
    // operands of ~17 MB grow the memory several times over
    const big = 1200;
    const a = new Float32Array(big * big).fill(1);
    const cb = new Float32Array(big * big);
    wb.gemm(false, false, big, big, 1, 1, a, a, 0, cb);
    assert.deepEqual(w, keep, 'values kept across the growth');
    const x = rand(m * k);
    const c = new Float32Array(m * n);
    wb.gemm(false, true, m, n, k, 1, x, w, 0, c);
    const one = loadWasm(undefined, { threads: 1 });
    assert.ok('backend' in one);
    const c1 = new Float32Array(m * n);
    one.backend.gemm(false, true, m, n, k, 1, x, keep, 0, c1);
    assert.deepEqual(c, c1, 'the bits of the one-thread build on a copy');
    const later = wb.resident!(Float32Array.of(7, 8));
    assert.deepEqual([...later], [7, 8]);
  });

  /** softmax(relu(x·W1ᵀ + b1)·W2ᵀ + b2) in plain loops, from the model's current weights. */
  function reference(model: Model, x: Float32Array, rows: number): Float32Array {
    const p = model.net.parameters();
    const layer = (h: Float32Array, w: Tensor, b: Tensor, relu: boolean): Float32Array => {
      const [units, inputs] = w.shape;
      const out = new Float32Array(rows * units);
      for (let i = 0; i < rows; i++) {
        for (let u = 0; u < units; u++) {
          let s = b.data[u];
          for (let j = 0; j < inputs; j++) s += h[i * inputs + j] * w.data[u * inputs + j];
          out[i * units + u] = relu ? Math.max(0, s) : s;
        }
      }
      return out;
    };
    const z = layer(layer(x, p[0], p[1], true), p[2], p[3], false);
    const units = p[2].shape[0];
    for (let i = 0; i < rows; i++) {
      const row = z.subarray(i * units, (i + 1) * units);
      const top = Math.max(...row);
      let sum = 0;
      for (let u = 0; u < units; u++) sum += (row[u] = Math.exp(row[u] - top));
      for (let u = 0; u < units; u++) row[u] /= sum;
    }
    return z;
  }

  test('wasm resident: predictions follow the weights: writes, setWeights, an optimiser step, a loaded model', async () => {
    const before = getBackend().name;
    setBackend('wasm');
    try {
      const net = new Sequential([
        new Dense({ units: 8, activation: 'relu', name: 'h' }),
        new Dense({ units: 3, activation: 'softmax', name: 'out' }),
      ], { inputShape: [6], seed: 3 });
      const model = new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.5 }), seed: 3 });
      const w = net.parameters()[0];
      assert.equal(getBackend().resident!(w.data), w.data, 'the weights live in the wasm memory');
      const rows = 2;
      const xs = rand(rows * 6);
      const x = tensor(xs, { shape: [rows, 6] });
      const check = (what: string): Float32Array => {
        const got = model.predict(x).data;
        close(got, reference(model, xs, rows), 1e-5, what);
        return Float32Array.from(got);
      };
      const x1 = tensor(xs.subarray(0, 6), { shape: [1, 6] });
      const check1 = (what: string): void => close(model.predict(x1).data, reference(model, xs.subarray(0, 6), 1), 1e-5, what);
      const p0 = check('initial');
      check1('initial, one example');

      w.data[0] += 3; // a write into .data
      w.data[7] -= 2;
      const p1 = check('after writing into .data');
      check1('after writing into .data, one example');
      assert.notDeepEqual(p1, p0);

      net.setWeights({ h: { weight: rand(8 * 6), bias: rand(8) }, out: { weight: rand(3 * 8) } });
      const p2 = check('after setWeights');
      check1('after setWeights, one example');
      assert.notDeepEqual(p2, p1);

      const y = tensor([[1, 0, 0], [0, 0, 1]]);
      model.fit(x, y, { epochs: 3, batchSize: 2, shuffle: false });
      const p3 = check('after three optimiser steps');
      check1('after three optimiser steps, one example');
      assert.notDeepEqual(p3, p2);

      // a network built only to be compared (a spec checked at every checkpoint) keeps ordinary arrays
      const probe = withPlainStorage(() => new Sequential([new Dense({ units: 2 })], { inputShape: [3], seed: 1 }));
      const pw = probe.parameters()[0].data;
      assert.notEqual(getBackend().resident!(pw), pw);
      assert.ok(!(pw.buffer instanceof SharedArrayBuffer));

      const { model: again } = await loadModelFromBytes(await modelToBytes(model));
      close(again.predict(x).data, p3, 0, 'the loaded model predicts the same');
      w.data.fill(0); // the original changes; the loaded one has storage of its own
      check('after zeroing the original');
      close(again.predict(x).data, p3, 0, 'the loaded model is unchanged');
      close(again.predict(x1).data, reference(again, xs.subarray(0, 6), 1), 1e-5, 'the loaded model, one example');
    } finally {
      setBackend(before as 'js' | 'native' | 'wasm');
    }
  });
}
