// Every kernel of the WebAssembly backend against the reference (js) backend (test/helpers/
// backend-comparisons.ts) on its threads build, plus what only it has: big GEMMs split over
// helper threads give the bits of the one-thread build; a module that fails to compile is reported,
// not thrown; short buffers are RangeErrors; operands far beyond the initial memory grow it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, ShapeError, jsBackend } from '../../src/index.js';
import { loadWasm } from '../../src/backend/wasm.js';
import { registerComparisons } from '../helpers/backend-comparisons.js';
import { registerTrainingComparisons } from '../helpers/training-kernel-comparisons.js';

const loaded = loadWasm();

test('the WebAssembly backend loads', () => {
  assert.ok('backend' in loaded, 'error' in loaded ? loaded.error : '');
});

if ('backend' in loaded) {
  const wb = loaded.backend;
  // exp-based functions use the same algorithms as the native backend; log is our own
  registerComparisons(wb, { log: 2 });
  registerTrainingComparisons(wb);

  test('wasm: a module that does not compile is an error message, not an exception', () => {
    // a valid header followed by garbage, and a module using an instruction this engine lacks
    const bad = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff]);
    const r = loadWasm(bad);
    assert.ok('error' in r);
    assert.match(r.error, /^the WebAssembly module failed to load \(.+\); WebAssembly SIMD is needed$/);
  });

  test('wasm: permute above rank 16 and binary above rank 32 are ShapeErrors naming the kernel, the rank and the limit', () => {
    const one = (): Float32Array => new Float32Array(1);
    const ones = (n: number): number[] => new Array<number>(n).fill(1);
    assert.throws(() => wb.permute(one(), ones(17), ones(17).map((_, i) => i), one()), (e: unknown) =>
      e instanceof ShapeError && e.message === 'permute: rank 17 exceeds the wasm limit of 16');
    assert.throws(() => wb.binary('add', one(), ones(33), one(), ones(33), one(), ones(33)), (e: unknown) =>
      e instanceof ShapeError && e.message === 'binary: rank 33 exceeds the wasm limit of 32');
    const out = one();
    wb.binary('add', Float32Array.of(2), ones(32), Float32Array.of(3), ones(32), out, ones(32));
    assert.equal(out[0], 5);
  });

  test('wasm: short buffers are RangeErrors naming the kernel and buffer; bad argmax is caught', () => {
    const f = (n: number): Float32Array => new Float32Array(n);
    assert.throws(() => wb.gemm(false, false, 2, 2, 3, 1, f(4), f(6), 0, f(4)),
      (e: unknown) => e instanceof RangeError && e.message === 'gemm: buffer a has 4 elements, needs 6');
    assert.throws(() => wb.unary('relu', f(10), f(9), 0), /^RangeError: unary: buffer out has 9 elements, needs 10$/);
    const p = { n: 1, c: 1, h: 4, w: 4, ph: 2, pw: 2, sh: 2, sw: 2, oh: 2, ow: 2 };
    const dx = f(16).fill(7);
    assert.throws(() => wb.maxPoolBackward(p, f(4), new Int32Array(4).fill(99), dx),
      /^RangeError: maxPoolBackward: argmax\[0\] = 99 is outside the input gradient \(16 elements\)$/);
    assert.ok(dx.every((v) => v === 7), 'nothing written');
    const g = { n: 1, c: 1, h: 3, w: 3, k: 1, kh: 1, kw: 1, sh: 0, sw: 1, padTop: 0, padLeft: 0, oh: 3, ow: 3 };
    assert.throws(() => wb.conv2d(g, f(9), f(1), null, f(9)), /conv2d: kernel, stride and channel counts must be ≥ 1/);
  });

  test('wasm threads: the threads build splits big GEMMs and gives the bits of the one-thread build', () => {
    const one = loadWasm(undefined, { threads: 1 });
    assert.ok('backend' in one);
    const single = one.backend;
    assert.equal(single.maxThreads(), 1);
    assert.equal(single.threadInfo(), 'one thread requested');
    // Node always offers worker_threads: as many threads as processors (at most 8)
    assert.ok(wb.maxThreads() >= 1 && wb.maxThreads() <= 8);
    assert.equal(wb.threadInfo() === '', wb.maxThreads() > 1);
    assert.throws(() => wb.setThreads(0), /^RangeError: setThreads: n must be 1…\d, received 0$/);
    const rng = new Rng(31);
    const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
    // above a megaflop: split in column chunks (odd widths, every transposition, beta kept or dropped)
    const shapes: [number, number, number][] = [[64, 256, 784], [256, 784, 64], [97, 131, 203], [5, 1000, 300], [300, 17, 400]];
    for (const [m, n, k] of shapes) {
      for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]]) {
        const a = rand(m * k);
        const b = rand(k * n);
        const c0 = rand(m * n);
        const outs = [single, wb].map((be) => {
          const c = Float32Array.from(c0);
          be.gemm(ta, tb, m, n, k, 0.75, a, b, 0.5, c);
          return c;
        });
        assert.deepEqual(outs[1], outs[0], `gemm ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} ${m}×${n}×${k}: threads vs one thread`);
      }
    }
    const before = wb.threads();
    wb.setThreads(1);
    try {
      const a = rand(64 * 300);
      const b = rand(300 * 200);
      const c1 = new Float32Array(64 * 200);
      wb.gemm(false, false, 64, 200, 300, 1, a, b, 0, c1);
      wb.setThreads(before);
      const c2 = new Float32Array(64 * 200);
      wb.gemm(false, false, 64, 200, 300, 1, a, b, 0, c2);
      assert.deepEqual(c2, c1);
    } finally {
      wb.setThreads(before);
    }
  });

  test('wasm: operands larger than the memory grow it; later calls still see fresh views', () => {
    // 3 × 1200² floats ≈ 17 MB: several times the initial memory
    const n = 1200;
    const a = new Float32Array(n * n).map((_, i) => ((i * 7) % 13) - 6);
    const b = new Float32Array(n * n).map((_, i) => ((i * 5) % 11) - 5);
    const c = new Float32Array(n * n);
    wb.gemm(false, false, n, n, 3, 1, a, b, 0, c); // k = 3: cheap, but all of a and c pass through
    const r = new Float32Array(n * n);
    jsBackend.gemm(false, false, n, n, 3, 1, a, b, 0, r);
    assert.deepEqual(c, r); // small integers: exact
    const s = new Float32Array(3);
    wb.unary('abs', Float32Array.of(-1, 2, -3), s, 0);
    assert.deepEqual([...s], [1, 2, 3]);
  });
}
