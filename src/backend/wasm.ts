import type { Backend, BinaryOp, ConvGeometry, PoolGeometry, UnaryOp } from './backend.js';
import { wasmBase64, wasmBuildError, wasmThreadsBase64 } from './wasm-binary.js';
import { ThreadPool, threadSupport } from './wasm-threads.js';

/**
 * Result of trying to load the WebAssembly backend: the backend, or why it is not available
 * (not built, or the engine cannot compile it, e.g. a browser without WebAssembly SIMD).
 *
 * @example
 * ```ts
 * const r: WasmLoad = loadWasm();
 * const backend = 'backend' in r ? r.backend : jsBackend;
 * ```
 */
export type WasmLoad = { backend: WasmBackend } | { error: string };

/**
 * The WebAssembly backend: the {@link Backend} kernels plus its thread controls. Threads (helpers
 * sharing the module's memory) exist in Node and in cross-origin isolated pages; elsewhere it runs
 * on one thread. Results are bit-identical for any thread count.
 *
 * @example
 * ```ts
 * const r = loadWasm();
 * if ('backend' in r) console.log(r.backend.threads(), r.backend.threadInfo());
 * ```
 */
export interface WasmBackend extends Backend {
  /** Threads used for big GEMMs now (1 … {@link WasmBackend.maxThreads}). */
  threads(): number;
  /** Threads started (1 where the host allows none). */
  maxThreads(): number;
  /** Uses n threads for big GEMMs (1 … maxThreads). */
  setThreads(n: number): void;
  /** Why there is only one thread, or '' when there are more. */
  threadInfo(): string;
}

/** The raw exports of wasm/src/*.c (pointers are byte offsets into the memory). */
interface Exports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  gemm_ws_bytes(): number;
  gemm_beta(c: number, mn: number, beta: number): void;
  gemm_cols(ta: number, tb: number, m: number, n: number, k: number, alpha: number, a: number, b: number, c: number,
    j0: number, j1: number, ws: number): void;
  scratch_set(p: number): void;
  gemm(ta: number, tb: number, m: number, n: number, k: number, alpha: number, a: number, b: number, beta: number,
    c: number): void;
  unary(op: number, x: number, out: number, n: number, param: number): void;
  unary_grad(op: number, x: number, y: number, dy: number, dx: number, n: number, param: number, acc: number): void;
  binary(op: number, a: number, b: number, out: number, geo: number): void;
  axpy(n: number, alpha: number, b: number, a: number, out: number): void;
  scale(x: number, n: number, s: number, out: number): void;
  sum_axis(x: number, outer: number, axis: number, inner: number, out: number, acc: number): void;
  add_broadcast(x: number, y: number, outer: number, axis: number, inner: number, out: number): void;
  softmax(x: number, rows: number, cols: number, out: number): void;
  softmax_cross_entropy(l: number, t: number, rows: number, cols: number, p: number): number;
  sum(x: number, n: number): number;
  sum_squares(x: number, n: number): number;
  all_finite(x: number, n: number): number;
  conv2d(x: number, w: number, bias: number, y: number, ...g: number[]): void;
  conv2d_backward_data(dy: number, w: number, dx: number, ...g: number[]): void;
  conv2d_backward_filter(x: number, dy: number, dw: number, db: number, ...g: number[]): void;
  max_pool(x: number, y: number, argmax: number, ...g: number[]): void;
  max_pool_backward(dy: number, argmax: number, dx: number, ...g: number[]): number;
  avg_pool(x: number, y: number, ...g: number[]): void;
  avg_pool_backward(dy: number, dx: number, ...g: number[]): void;
  gemm_batched(ta: number, tb: number, m: number, n: number, k: number, alpha: number, a: number, aoff: number,
    b: number, boff: number, beta: number, c: number, coff: number, count: number): void;
  softmax_backward(y: number, dy: number, rows: number, cols: number, dx: number): void;
  layer_norm(x: number, gamma: number, beta: number, rows: number, cols: number, eps: number, y: number, xhat: number,
    rstd: number): void;
  layer_norm_backward(dy: number, xhat: number, rstd: number, gamma: number, rows: number, cols: number, dx: number): void;
  permute(x: number, geo: number, out: number): void;
  lstm_cell(B: number, H: number, pre: number, cPrev: number, gates: number, c: number, h: number): void;
  lstm_cell_backward(B: number, H: number, gates: number, cPrev: number, c: number, dh: number, dc: number,
    dPre: number, dcPrev: number): void;
  gru_gates(B: number, H: number, pre: number, h: number, gates: number, resetHidden: number): void;
  gru_state(B: number, H: number, gates: number, hPrev: number, preCandidate: number, candidate: number, h: number): void;
  gru_state_backward(B: number, H: number, gates: number, hPrev: number, candidate: number, dh: number, dhPrev: number,
    dPreCandidate: number, dPreGates: number): void;
  gru_gates_backward(B: number, H: number, gates: number, h: number, dResetHidden: number, dPreGates: number, dh: number): void;
  gather_rows(src: number, rows: number, cols: number, index: number, n: number, out: number): number;
  scatter_add_rows(src: number, cols: number, index: number, n: number, out: number): void;
  argmax_rows(x: number, rows: number, cols: number, out: number): void;
  nonzero_indices(x: number, n: number, out: number): number;
}

// Op codes: the order of the enums in wasm/src/elementwise.c.
const UNARY_CODE: Record<UnaryOp, number> = {
  linear: 0, logistic: 1, tanh: 2, relu: 3, leakyRelu: 4, threshold: 5, exp: 6, log: 7, neg: 8, sqrt: 9,
  square: 10, abs: 11, gelu: 12,
};
const BINARY_CODE: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5 };

type View = Float32Array | Int32Array;

/**
 * Operands live in the module's memory only for the duration of a call: inputs are copied in
 * above the static data, outputs copied back out. Tensors stay ordinary `Float32Array`s that the
 * garbage collector owns (no `dispose()`), and a memory growth never invalidates them.
 */
class Marshal {
  private top = 0;
  private readonly outs: { src: number; dst: View; n: number }[] = [];
  private f32: Float32Array;
  private i32: Int32Array;

  constructor(private readonly ex: Exports, private readonly base: number) {
    this.f32 = new Float32Array(ex.memory.buffer);
    this.i32 = new Int32Array(ex.memory.buffer);
  }

  begin(): this {
    this.top = this.base;
    this.outs.length = 0;
    return this;
  }

  private reserve(n: number): number {
    const p = (this.top + 15) & ~15;
    this.top = p + 4 * n;
    const mem = this.ex.memory;
    if (this.top > mem.buffer.byteLength) mem.grow(Math.ceil((this.top - mem.buffer.byteLength) / 65536));
    this.refresh();
    return p;
  }

  private refresh(): void {
    const buf = this.ex.memory.buffer;
    if (this.f32.buffer !== buf) {
      this.f32 = new Float32Array(buf);
      this.i32 = new Int32Array(buf);
    }
  }

  /** Copies the first n elements of `a` in; returns the byte offset. */
  in(a: View, n: number): number {
    const p = this.reserve(n);
    const view = a instanceof Int32Array ? this.i32 : this.f32;
    view.set(a.length === n ? a : a.subarray(0, n), p >> 2);
    return p;
  }

  /** Space for n elements copied back into `a` by {@link Marshal.end}; copied in first when `load`. */
  out(a: View, n: number, load: boolean): number {
    const p = load ? this.in(a, n) : this.reserve(n);
    this.outs.push({ src: p, dst: a, n });
    return p;
  }

  ints(values: readonly number[]): number {
    const p = this.reserve(values.length);
    this.i32.set(values, p >> 2);
    return p;
  }

  /** Hands the first free byte to the module's scratch allocator. */
  scratch(): void {
    this.ex.scratch_set((this.top + 15) & ~15);
  }

  end(): void {
    this.refresh();
    for (const { src, dst, n } of this.outs) {
      const view = dst instanceof Int32Array ? this.i32 : this.f32;
      dst.set(view.subarray(src >> 2, (src >> 2) + n));
    }
    this.outs.length = 0;
  }
}

function need(kernel: string, name: string, a: ArrayLike<number> | null, n: number): void {
  if (a && a.length < n) throw new RangeError(`${kernel}: buffer ${name} has ${a.length} elements, needs ${n}`);
}

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * Instantiates the WebAssembly SIMD backend synchronously (the module is about 70 KB, shipped
 * inside the package as base64, so nothing is read from disk or the network). `bytes` replaces the
 * built module (tests use it to check that a module which fails to compile is reported, not thrown).
 *
 * @example
 * ```ts
 * const r = loadWasm();
 * if ('backend' in r) r.backend.gemm(false, false, 1, 1, 1, 1, Float32Array.of(2), Float32Array.of(3), 0, out);
 * else console.log(r.error);
 * ```
 */
export function loadWasm(bytes?: Uint8Array<ArrayBuffer>, opts: { threads?: number } = {}): WasmLoad {
  const WA = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (!WA) return { error: 'this JavaScript runtime has no WebAssembly' };
  const support = threadSupport();
  const want = Math.min(opts.threads ?? support.threads, support.threads);
  let threadError = '';
  if (!bytes && want > 1 && wasmThreadsBase64 && wasmBase64) {
    try {
      return { backend: threaded(WA, decode(wasmBase64), decode(wasmThreadsBase64), want) };
    } catch (e) {
      // fall through to one thread
      threadError = e instanceof Error ? e.message.split('\n')[0] : String(e);
    }
  }
  let code = bytes;
  if (!code) {
    if (wasmBase64 === null) return { error: wasmBuildError ?? 'the WebAssembly module is not built' };
    code = decode(wasmBase64);
  }
  let ex: Exports;
  try {
    const mod = new WA.Module(code);
    const inst = new WA.Instance(mod, { env: { log: Math.log } });
    ex = inst.exports as unknown as Exports;
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return { error: `the WebAssembly module failed to load (${msg}); WebAssembly SIMD is needed` };
  }
  const why = want > 1 ? `the threads build did not load${threadError ? ` (${threadError})` : ''}` : support.why || 'one thread requested';
  return { backend: makeBackend(ex, Number(ex.__heap_base.value), null, why) };
}

/** Stack of each helper thread. */
const HELPER_STACK = 256 * 1024;

/** The threads build on its shared memory: the helpers, and the caller's side of split GEMMs. */
interface Threaded {
  ex: Exports;
  marshal: Marshal;
  pool: ThreadPool;
  /** The caller's GEMM workspace. */
  ws: number;
}

/**
 * The one-thread build for every kernel, plus the threads build on a shared memory with
 * threads − 1 helpers for big GEMMs. (Copies into shared memory cost V8 about 2.5× copies into
 * ordinary memory — measured 12 vs 30 µs for 800 KB — so only split GEMMs, where the copy is a
 * few per cent of the work, pay it.)
 */
function threaded(WA: typeof WebAssembly, plain: Uint8Array<ArrayBuffer>, code: Uint8Array<ArrayBuffer>, threads: number): WasmBackend {
  const one = new WA.Instance(new WA.Module(plain), { env: { log: Math.log } }).exports as unknown as Exports;
  const mod = new WA.Module(code);
  const memory = new WA.Memory({ initial: 16, maximum: 32768, shared: true });
  const ex = { ...new WA.Instance(mod, { env: { memory, log: Math.log } }).exports, memory } as unknown as Exports;
  const wsBytes = ex.gemm_ws_bytes();
  const perHelper = HELPER_STACK + wsBytes;
  const base = (Number(ex.__heap_base.value) + 15) & ~15;
  // helpers' stacks and workspaces, then the caller's workspace, then the operands of each call
  const mainWs = base + (threads - 1) * perHelper;
  const top = mainWs + wsBytes;
  if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
  const pool = new ThreadPool(threads, mod, memory, base, perHelper, wsBytes);
  return makeBackend(one, Number(one.__heap_base.value), { ex, marshal: new Marshal(ex, top), pool, ws: mainWs }, '');
}

function makeBackend(ex: Exports, heapStart: number, mt: Threaded | null, why: string): WasmBackend {
  const M = new Marshal(ex, heapStart);
  const pool = mt?.pool;
  const conv = (g: ConvGeometry): number[] =>
    [g.n, g.c, g.h, g.w, g.k, g.kh, g.kw, g.sh, g.sw, g.padTop, g.padLeft, g.oh, g.ow];
  const poolGeo = (g: PoolGeometry): number[] => [g.n, g.c, g.h, g.w, g.ph, g.pw, g.sh, g.sw, g.oh, g.ow];
  /** Runs a kernel: marshals (body), then copies the outputs back; traps become RangeErrors. */
  function run<T>(kernel: string, body: (m: Marshal) => T, on = M): T {
    on.begin();
    try {
      const r = body(on);
      on.end();
      return r;
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) throw new RangeError(`${kernel}: the WebAssembly kernel failed (${e.message}); out of memory?`);
      throw e;
    }
  }
  const nx = (g: { n: number; c: number; h: number; w: number }): number => g.n * g.c * g.h * g.w;

  return {
    name: 'wasm',

    threads: () => (pool ? pool.active : 1),
    maxThreads: () => (pool ? pool.size : 1),
    setThreads(n) {
      const max = pool ? pool.size : 1;
      if (!Number.isInteger(n) || n < 1 || n > max) throw new RangeError(`setThreads: n must be 1…${max}, received ${n}`);
      if (pool) pool.active = n;
    },
    threadInfo: () => why,

    alloc(n) {
      return new Float32Array(n);
    },

    gemm(transA, transB, mm, n, k, alpha, a, b, beta, c) {
      need('gemm', 'a', a, mm * k);
      need('gemm', 'b', b, k * n);
      need('gemm', 'c', c, mm * n);
      if (mm === 0 || n === 0) return;
      // split over the threads from about a megaflop (below, waking a helper costs more than it saves)
      const split = mt && mt.pool.active > 1 && mm > 4 && n >= 16 && 2 * mm * n * k >= 1 << 20 ? mt : null;
      const on = split ? split.ex : ex;
      run('gemm', (m) => {
        const pa = m.in(a, mm * k);
        const pb = m.in(b, k * n);
        const pc = m.out(c, mm * n, beta !== 0);
        m.scratch();
        if (split) {
          on.gemm_beta(pc, mm * n, beta);
          split.pool.gemm(on, transA ? 1 : 0, transB ? 1 : 0, mm, n, k, alpha, pa, pb, pc, split.ws);
        } else {
          on.gemm(transA ? 1 : 0, transB ? 1 : 0, mm, n, k, alpha, pa, pb, beta, pc);
        }
      }, split ? split.marshal : M);
    },

    unary(op, x, out, param) {
      const n = x.length;
      need('unary', 'out', out, n);
      run('unary', (m) => {
        const px = m.in(x, n);
        ex.unary(UNARY_CODE[op], px, m.out(out, n, false), n, param);
      });
    },

    unaryGrad(op, x, y, dy, dx, param, accumulate) {
      const n = x.length;
      need('unaryGrad', 'y', y, n);
      need('unaryGrad', 'dy', dy, n);
      need('unaryGrad', 'dx', dx, n);
      run('unaryGrad', (m) => {
        const px = m.in(x, n);
        const py = m.in(y, n);
        const pdy = m.in(dy, n);
        ex.unary_grad(UNARY_CODE[op], px, py, pdy, m.out(dx, n, accumulate), n, param, accumulate ? 1 : 0);
      });
    },

    binary(op, a, aStrides, b, bStrides, out, shape) {
      const nd = shape.length;
      const n = shape.reduce((p, d) => p * d, 1);
      const span = (s: readonly number[]): number => 1 + shape.reduce((p, d, i) => p + (d - 1) * s[i], 0);
      const na = n === 0 ? 0 : span(aStrides);
      const nb = n === 0 ? 0 : span(bStrides);
      need('binary', 'a', a, na);
      need('binary', 'b', b, nb);
      need('binary', 'out', out, n);
      if (n === 0) return;
      run('binary', (m) => {
        const pa = m.in(a, na);
        const pb = m.in(b, nb);
        const geo = m.ints([nd, ...shape, ...aStrides, ...bStrides]);
        ex.binary(BINARY_CODE[op], pa, pb, m.out(out, n, false), geo);
      });
    },

    axpy(n, alpha, b, a, out) {
      need('axpy', 'a', a, n);
      need('axpy', 'b', b, n);
      need('axpy', 'out', out, n);
      run('axpy', (m) => {
        const pb = m.in(b, n);
        const pa = m.in(a, n);
        ex.axpy(n, alpha, pb, pa, m.out(out, n, false));
      });
    },

    scale(x, s, out) {
      const n = x.length;
      need('scale', 'out', out, n);
      run('scale', (m) => {
        const px = m.in(x, n);
        ex.scale(px, n, s, m.out(out, n, false));
      });
    },

    fill(out, v) {
      out.fill(v);
    },

    sumAxis(x, outer, axis, inner, out, accumulate) {
      need('sumAxis', 'x', x, outer * axis * inner);
      need('sumAxis', 'out', out, outer * inner);
      run('sumAxis', (m) => {
        const px = m.in(x, outer * axis * inner);
        ex.sum_axis(px, outer, axis, inner, m.out(out, outer * inner, accumulate), accumulate ? 1 : 0);
      });
    },

    addBroadcast(x, y, outer, axis, inner, out) {
      const n = outer * axis * inner;
      need('addBroadcast', 'x', x, n);
      need('addBroadcast', 'y', y, outer * inner);
      need('addBroadcast', 'out', out, n);
      run('addBroadcast', (m) => {
        const px = m.in(x, n);
        const py = m.in(y, outer * inner);
        ex.add_broadcast(px, py, outer, axis, inner, m.out(out, n, false));
      });
    },

    softmax(x, rows, cols, out) {
      need('softmax', 'x', x, rows * cols);
      need('softmax', 'out', out, rows * cols);
      run('softmax', (m) => {
        const px = m.in(x, rows * cols);
        ex.softmax(px, rows, cols, m.out(out, rows * cols, false));
      });
    },

    softmaxCrossEntropy(logits, targets, rows, cols, probs) {
      const n = rows * cols;
      need('softmaxCrossEntropy', 'logits', logits, n);
      need('softmaxCrossEntropy', 'targets', targets, n);
      need('softmaxCrossEntropy', 'probs', probs, n);
      return run('softmaxCrossEntropy', (m) => {
        const pl = m.in(logits, n);
        const pt = m.in(targets, n);
        return ex.softmax_cross_entropy(pl, pt, rows, cols, m.out(probs, n, false));
      });
    },

    sum(x) {
      return run('sum', (m) => ex.sum(m.in(x, x.length), x.length));
    },

    sumSquares(x) {
      return run('sumSquares', (m) => ex.sum_squares(m.in(x, x.length), x.length));
    },

    allFinite(x) {
      return run('allFinite', (m) => ex.all_finite(m.in(x, x.length), x.length) === 1);
    },

    conv2d(g, x, w, bias, y) {
      checkConv('conv2d', g);
      const nw = g.k * g.c * g.kh * g.kw;
      const ny = g.n * g.k * g.oh * g.ow;
      need('conv2d', 'x', x, nx(g));
      need('conv2d', 'w', w, nw);
      need('conv2d', 'bias', bias, g.k);
      need('conv2d', 'y', y, ny);
      run('conv2d', (m) => {
        const px = m.in(x, nx(g));
        const pw = m.in(w, nw);
        const pb = bias ? m.in(bias, g.k) : 0;
        const py = m.out(y, ny, false);
        m.scratch();
        ex.conv2d(px, pw, pb, py, ...conv(g));
      });
    },

    conv2dBackwardData(g, dy, w, dx) {
      checkConv('conv2dBackwardData', g);
      const nw = g.k * g.c * g.kh * g.kw;
      const ny = g.n * g.k * g.oh * g.ow;
      need('conv2dBackwardData', 'dy', dy, ny);
      need('conv2dBackwardData', 'w', w, nw);
      need('conv2dBackwardData', 'dx', dx, nx(g));
      run('conv2dBackwardData', (m) => {
        const pdy = m.in(dy, ny);
        const pw = m.in(w, nw);
        const pdx = m.out(dx, nx(g), false);
        m.scratch();
        ex.conv2d_backward_data(pdy, pw, pdx, ...conv(g));
      });
    },

    conv2dBackwardFilter(g, x, dy, dw, db) {
      checkConv('conv2dBackwardFilter', g);
      const nw = g.k * g.c * g.kh * g.kw;
      const ny = g.n * g.k * g.oh * g.ow;
      need('conv2dBackwardFilter', 'x', x, nx(g));
      need('conv2dBackwardFilter', 'dy', dy, ny);
      need('conv2dBackwardFilter', 'dw', dw, nw);
      need('conv2dBackwardFilter', 'db', db, g.k);
      run('conv2dBackwardFilter', (m) => {
        const px = m.in(x, nx(g));
        const pdy = m.in(dy, ny);
        const pdw = m.out(dw, nw, true);
        const pdb = db ? m.out(db, g.k, true) : 0;
        m.scratch();
        ex.conv2d_backward_filter(px, pdy, pdw, pdb, ...conv(g));
      });
    },

    maxPool(g, x, y, argmax) {
      checkPool('maxPool', g);
      const ny = g.n * g.c * g.oh * g.ow;
      need('maxPool', 'x', x, nx(g));
      need('maxPool', 'y', y, ny);
      need('maxPool', 'argmax', argmax, ny);
      run('maxPool', (m) => {
        const px = m.in(x, nx(g));
        ex.max_pool(px, m.out(y, ny, false), m.out(argmax, ny, false), ...poolGeo(g));
      });
    },

    maxPoolBackward(g, dy, argmax, dx) {
      checkPool('maxPoolBackward', g);
      const ny = g.n * g.c * g.oh * g.ow;
      need('maxPoolBackward', 'dy', dy, ny);
      need('maxPoolBackward', 'argmax', argmax, ny);
      need('maxPoolBackward', 'dx', dx, nx(g));
      const bad = run('maxPoolBackward', (m) => {
        const pdy = m.in(dy, ny);
        const pa = m.in(argmax, ny);
        return ex.max_pool_backward(pdy, pa, m.out(dx, nx(g), true), ...poolGeo(g));
      });
      if (bad >= 0) {
        throw new RangeError(`maxPoolBackward: argmax[${bad}] = ${argmax[bad]} is outside the input gradient (${nx(g)} elements)`);
      }
    },

    avgPool(g, x, y) {
      checkPool('avgPool', g);
      const ny = g.n * g.c * g.oh * g.ow;
      need('avgPool', 'x', x, nx(g));
      need('avgPool', 'y', y, ny);
      run('avgPool', (m) => {
        const px = m.in(x, nx(g));
        ex.avg_pool(px, m.out(y, ny, false), ...poolGeo(g));
      });
    },

    avgPoolBackward(g, dy, dx) {
      checkPool('avgPoolBackward', g);
      const ny = g.n * g.c * g.oh * g.ow;
      need('avgPoolBackward', 'dy', dy, ny);
      need('avgPoolBackward', 'dx', dx, nx(g));
      run('avgPoolBackward', (m) => {
        const pdy = m.in(dy, ny);
        ex.avg_pool_backward(pdy, m.out(dx, nx(g), false), ...poolGeo(g));
      });
    },

    gemmBatched(transA, transB, mm, n, k, alpha, a, aOffsets, b, bOffsets, beta, c, cOffsets) {
      const count = cOffsets.length;
      need('gemmBatched', 'aOffsets', aOffsets, count);
      need('gemmBatched', 'bOffsets', bOffsets, count);
      // every operand inside its buffer: the highest element each product touches
      const span = (which: string, buf: Float32Array, offs: Int32Array, size: number): number => {
        let hi = 0;
        for (let i = 0; i < count; i++) {
          const o = offs[i];
          if (!(o >= 0 && o + size <= buf.length)) {
            throw new RangeError(`gemmBatched: ${which} offset ${o} at index ${i} leaves no room for ${size} elements in ${buf.length}`);
          }
          hi = Math.max(hi, o + size);
        }
        return hi;
      };
      const na = span('a', a, aOffsets, mm * k);
      const nb = span('b', b, bOffsets, k * n);
      const nc = span('c', c, cOffsets, mm * n);
      if (count === 0 || mm === 0 || n === 0) return;
      run('gemmBatched', (m) => {
        const pa = m.in(a, na);
        const pb = m.in(b, nb);
        const pc = m.out(c, nc, true);
        const oa = m.in(aOffsets, count);
        const ob = m.in(bOffsets, count);
        const oc = m.in(cOffsets, count);
        m.scratch();
        ex.gemm_batched(transA ? 1 : 0, transB ? 1 : 0, mm, n, k, alpha, pa, oa, pb, ob, beta, pc, oc, count);
      });
    },

    softmaxBackward(y, dy, rows, cols, dx) {
      const n = rows * cols;
      need('softmaxBackward', 'y', y, n);
      need('softmaxBackward', 'dy', dy, n);
      need('softmaxBackward', 'dx', dx, n);
      run('softmaxBackward', (m) => {
        const py = m.in(y, n);
        const pdy = m.in(dy, n);
        ex.softmax_backward(py, pdy, rows, cols, m.out(dx, n, false));
      });
    },

    layerNorm(x, gamma, beta, rows, cols, eps, y, xhat, rstd) {
      const n = rows * cols;
      need('layerNorm', 'x', x, n);
      need('layerNorm', 'gamma', gamma, cols);
      need('layerNorm', 'beta', beta, cols);
      need('layerNorm', 'y', y, n);
      need('layerNorm', 'xhat', xhat, n);
      need('layerNorm', 'rstd', rstd, rows);
      run('layerNorm', (m) => {
        const px = m.in(x, n);
        const pg = gamma ? m.in(gamma, cols) : 0;
        const pb = beta ? m.in(beta, cols) : 0;
        ex.layer_norm(px, pg, pb, rows, cols, eps, m.out(y, n, false), m.out(xhat, n, false), m.out(rstd, rows, false));
      });
    },

    layerNormBackward(dy, xhat, rstd, gamma, rows, cols, dx) {
      const n = rows * cols;
      need('layerNormBackward', 'dy', dy, n);
      need('layerNormBackward', 'xhat', xhat, n);
      need('layerNormBackward', 'rstd', rstd, rows);
      need('layerNormBackward', 'gamma', gamma, cols);
      need('layerNormBackward', 'dx', dx, n);
      run('layerNormBackward', (m) => {
        const pdy = m.in(dy, n);
        const ph = m.in(xhat, n);
        const pr = m.in(rstd, rows);
        const pg = gamma ? m.in(gamma, cols) : 0;
        ex.layer_norm_backward(pdy, ph, pr, pg, rows, cols, m.out(dx, n, false));
      });
    },

    permute(x, shape, axes, out) {
      if (shape.length > 16) throw new RangeError(`permute: rank ${shape.length} is above 16`);
      const seen = new Set(axes);
      if (axes.length !== shape.length || seen.size !== axes.length || axes.some((a) => !(a >= 0 && a < shape.length))) {
        throw new RangeError('permute: axes are not a permutation');
      }
      const n = shape.reduce((p, d) => p * d, 1);
      need('permute', 'x', x, n);
      need('permute', 'out', out, n);
      if (n === 0) return;
      run('permute', (m) => {
        const px = m.in(x, n);
        const geo = m.ints([shape.length, ...shape, ...axes]);
        ex.permute(px, geo, m.out(out, n, false));
      });
    },

    lstmCell(B, H, pre, cPrev, gates, c, h) {
      const n = B * H;
      need('lstmCell', 'pre', pre, 4 * n);
      need('lstmCell', 'cPrev', cPrev, n);
      need('lstmCell', 'gates', gates, 4 * n);
      need('lstmCell', 'c', c, n);
      need('lstmCell', 'h', h, n);
      run('lstmCell', (m) => {
        const pp = m.in(pre, 4 * n);
        const pc = m.in(cPrev, n);
        ex.lstm_cell(B, H, pp, pc, m.out(gates, 4 * n, false), m.out(c, n, false), m.out(h, n, false));
      });
    },

    lstmCellBackward(B, H, gates, cPrev, c, dh, dc, dPre, dcPrev) {
      const n = B * H;
      need('lstmCellBackward', 'gates', gates, 4 * n);
      for (const [name, a] of [['cPrev', cPrev], ['c', c], ['dh', dh], ['dc', dc], ['dcPrev', dcPrev]] as const) {
        need('lstmCellBackward', name, a, n);
      }
      need('lstmCellBackward', 'dPre', dPre, 4 * n);
      run('lstmCellBackward', (m) => {
        const pg = m.in(gates, 4 * n);
        const pcp = m.in(cPrev, n);
        const pc = m.in(c, n);
        const pdh = m.in(dh, n);
        const pdc = m.in(dc, n);
        ex.lstm_cell_backward(B, H, pg, pcp, pc, pdh, pdc, m.out(dPre, 4 * n, false), m.out(dcPrev, n, false));
      });
    },

    gruGates(B, H, pre, h, gates, resetHidden) {
      const n = B * H;
      need('gruGates', 'pre', pre, 2 * n);
      need('gruGates', 'h', h, n);
      need('gruGates', 'gates', gates, 2 * n);
      need('gruGates', 'resetHidden', resetHidden, n);
      run('gruGates', (m) => {
        const pp = m.in(pre, 2 * n);
        const ph = m.in(h, n);
        ex.gru_gates(B, H, pp, ph, m.out(gates, 2 * n, false), m.out(resetHidden, n, false));
      });
    },

    gruState(B, H, gates, hPrev, preCandidate, candidate, h) {
      const n = B * H;
      need('gruState', 'gates', gates, 2 * n);
      for (const [name, a] of [['hPrev', hPrev], ['preCandidate', preCandidate], ['candidate', candidate], ['h', h]] as const) {
        need('gruState', name, a, n);
      }
      run('gruState', (m) => {
        const pg = m.in(gates, 2 * n);
        const php = m.in(hPrev, n);
        const ppc = m.in(preCandidate, n);
        ex.gru_state(B, H, pg, php, ppc, m.out(candidate, n, false), m.out(h, n, false));
      });
    },

    gruStateBackward(B, H, gates, hPrev, candidate, dh, dhPrev, dPreCandidate, dPreGates) {
      const n = B * H;
      need('gruStateBackward', 'gates', gates, 2 * n);
      for (const [name, a] of [['hPrev', hPrev], ['candidate', candidate], ['dh', dh], ['dhPrev', dhPrev], ['dPreCandidate', dPreCandidate]] as const) {
        need('gruStateBackward', name, a, n);
      }
      need('gruStateBackward', 'dPreGates', dPreGates, 2 * n);
      run('gruStateBackward', (m) => {
        const pg = m.in(gates, 2 * n);
        const php = m.in(hPrev, n);
        const pc = m.in(candidate, n);
        const pdh = m.in(dh, n);
        // the reset-gate block of dPreGates is kept, so it goes in as well as out
        const pd = m.out(dPreGates, 2 * n, true);
        ex.gru_state_backward(B, H, pg, php, pc, pdh, m.out(dhPrev, n, false), m.out(dPreCandidate, n, false), pd);
      });
    },

    gruGatesBackward(B, H, gates, h, dResetHidden, dPreGates, dh) {
      const n = B * H;
      need('gruGatesBackward', 'gates', gates, 2 * n);
      need('gruGatesBackward', 'dPreGates', dPreGates, 2 * n);
      for (const [name, a] of [['h', h], ['dResetHidden', dResetHidden], ['dh', dh]] as const) need('gruGatesBackward', name, a, n);
      run('gruGatesBackward', (m) => {
        const pg = m.in(gates, 2 * n);
        const ph = m.in(h, n);
        const pd = m.in(dResetHidden, n);
        const pdp = m.out(dPreGates, 2 * n, true);
        ex.gru_gates_backward(B, H, pg, ph, pd, pdp, m.out(dh, n, false));
      });
    },

    gatherRows(src, cols, index, out) {
      if (!(cols >= 1) || src.length % cols !== 0) throw new RangeError('gatherRows: src length is not a multiple of cols');
      const n = index.length;
      need('gatherRows', 'out', out, n * cols);
      if (n === 0) return -1;
      return run('gatherRows', (m) => {
        const ps = m.in(src, src.length);
        const pi = m.in(index, n);
        return ex.gather_rows(ps, src.length / cols, cols, pi, n, m.out(out, n * cols, false));
      });
    },

    scatterAddRows(src, cols, index, out) {
      if (!(cols >= 1) || out.length % cols !== 0) throw new RangeError('scatterAddRows: out length is not a multiple of cols');
      const n = index.length;
      need('scatterAddRows', 'src', src, n * cols);
      const rows = out.length / cols;
      if (!index.every((v) => v >= 0 && v < rows)) throw new RangeError('scatterAddRows: index outside out');
      if (n === 0) return;
      run('scatterAddRows', (m) => {
        const ps = m.in(src, n * cols);
        const pi = m.in(index, n);
        ex.scatter_add_rows(ps, cols, pi, n, m.out(out, out.length, true));
      });
    },

    argmaxRows(x, rows, cols, out) {
      if (!(cols >= 1)) throw new RangeError('argmaxRows: cols must be at least 1');
      need('argmaxRows', 'x', x, rows * cols);
      need('argmaxRows', 'out', out, rows);
      if (rows === 0) return;
      run('argmaxRows', (m) => {
        const px = m.in(x, rows * cols);
        ex.argmax_rows(px, rows, cols, m.out(out, rows, false));
      });
    },

    nonzeroIndices(x, out) {
      need('nonzeroIndices', 'out', out, x.length);
      if (x.length === 0) return 0;
      return run('nonzeroIndices', (m) => {
        const px = m.in(x, x.length);
        return ex.nonzero_indices(px, x.length, m.out(out, x.length, false));
      });
    },
  };
}

function checkConv(kernel: string, g: ConvGeometry): void {
  if (!(g.kh >= 1 && g.kw >= 1 && g.sh >= 1 && g.sw >= 1 && g.c >= 1 && g.k >= 1)) {
    throw new RangeError(`${kernel}: kernel, stride and channel counts must be ≥ 1`);
  }
}

function checkPool(kernel: string, g: PoolGeometry): void {
  if (!(g.ph >= 1 && g.pw >= 1 && g.sh >= 1 && g.sw >= 1)) {
    throw new RangeError(`${kernel}: window and stride must be ≥ 1`);
  }
}
