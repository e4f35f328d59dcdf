import { ShapeError } from '../errors.js';
import type { Backend, BinaryOp, ConvGeometry, LossKind, PoolGeometry, StepRule, UnaryOp } from './backend.js';
import { STEP_RULE_CODE } from './backend.js';
import { unaryCodes } from './unary.js';
import { wasmBase64, wasmBuildError, wasmThreadsBase64 } from './wasm-binary.js';
import { ThreadPool, threadSupport } from './wasm-threads.js';
import { checkRuns, runGeometry } from './runs.js';
import { pooledAllocation } from './buffer-pool.js';
import { jsBackend } from './js.js';

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
  affine_act(m: number, n: number, k: number, x: number, w: number, b: number, op: number, param: number, out: number,
    z: number): void;
  unary_grad(op: number, x: number, y: number, dy: number, dx: number, n: number, param: number, acc: number): void;
  unary_op_count(): number;
  unary_op_name(i: number): number;
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
  sgd_update(n: number, w: number, g: number, vel: number, lr: number, mu: number, nesterov: number): void;
  adam_update(n: number, w: number, g: number, m: number, v: number, lr: number, b1: number, b2: number, eps: number,
    c1: number, c2: number, keep: number): void;
  rmsprop_update(n: number, w: number, g: number, ms: number, mg: number, mom: number, lr: number, rho: number,
    mu: number, eps: number): void;
  clip_value(n: number, x: number, limit: number): void;
  batch_norm_train(x: number, gamma: number, beta: number, outer: number, C: number, inner: number, eps: number,
    y: number, xhat: number, mean: number, variance: number, invStd: number): void;
  batch_norm_inference(x: number, mean: number, variance: number, gamma: number, beta: number, outer: number,
    C: number, inner: number, eps: number, y: number, xhat: number, invStd: number): void;
  batch_norm_backward(training: number, dy: number, xhat: number, invStd: number, gamma: number, outer: number,
    C: number, inner: number, dx: number, dGamma: number, dBeta: number): void;
  moving_average(n: number, avg: number, x: number, mu: number): void;
  loss_value(kind: number, n: number, pred: number, target: number): number;
  loss_grad(kind: number, n: number, pred: number, target: number, scale: number, dx: number): void;
  copy_runs(src: number, dst: number, geo: number): void;
  gru_gates(B: number, H: number, pre: number, h: number, gates: number, resetHidden: number): void;
  gru_state(B: number, H: number, gates: number, hPrev: number, preCandidate: number, candidate: number, h: number): void;
  gru_state_backward(B: number, H: number, gates: number, hPrev: number, candidate: number, dh: number, dhPrev: number,
    dPreCandidate: number, dPreGates: number): void;
  gru_gates_backward(B: number, H: number, gates: number, h: number, dResetHidden: number, dPreGates: number, dh: number): void;
  gather_rows(src: number, rows: number, cols: number, index: number, n: number, out: number): number;
  scatter_add_rows(src: number, cols: number, index: number, n: number, out: number): void;
  argmax_rows(x: number, rows: number, cols: number, out: number): void;
  nonzero_indices(x: number, n: number, out: number): number;
  optimizer_step(rule: number, hyper: number, params: number, count: number): number;
  count_matching_rows(a: number, b: number, rows: number, cols: number): number;
}

/** What the module imports from its host: the reference backend's transcendental functions. */
const HOST = { log: Math.log, exp: Math.exp, log1p: Math.log1p };

/** Loss kinds: the order of the enum in wasm/src/training.h. */
const LOSS_CODE: Record<LossKind, number> = { squared: 0, crossEntropy: 1, binaryCrossEntropy: 2, sigmoidCrossEntropy: 3 };

// Binary op codes: the order of binary_row's cases in wasm/src/elementwise.c, checked op by op
// against the reference in test/helpers/backend-comparisons.ts (unary codes come from the
// module's own list, see wasmUnaryOps).

/** The names of the module's unary op codes 0, 1, … (native/src/unary.h's table, compiled in). */
function wasmUnaryOps(ex: Exports): string[] {
  const names: string[] = [];
  for (let i = 0; i < ex.unary_op_count(); i++) {
    const bytes = new Uint8Array(ex.memory.buffer);
    let end = ex.unary_op_name(i);
    let s = '';
    while (bytes[end] !== 0) s += String.fromCharCode(bytes[end++]);
    names.push(s);
  }
  return names;
}
const BINARY_CODE: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5 };

type View = Float32Array | Int32Array | Float64Array;

/** A kernel's buffer operand for {@link Marshal.operands}: its name, the buffer, its length and its role. */
type Operand = readonly [name: string, buffer: View | null, n: number, role: 'in' | 'out' | 'inout'];

/**
 * Operands live in the module's memory only for the duration of a call: inputs are copied in
 * above `base`, outputs copied back out. Tensors stay ordinary `Float32Array`s that the
 * garbage collector owns (no `dispose()`), and a memory growth never invalidates them. The one
 * exception is an array that already lives in this (shared) memory — a parameter placed by
 * {@link ResidentHeap}: kernels read and write it in place.
 */
class Marshal {
  private top = 0;
  private readonly outs: { src: number; dst: View; n: number }[] = [];
  private f32: Float32Array;
  private i32: Int32Array;
  private f64: Float64Array;
  /** This memory's buffers whose views are used in place (a grown shared memory has a new one). */
  private readonly own = new WeakSet<ArrayBufferLike>();

  /** `base`: the first byte of the per-call operands (moved up by {@link ResidentHeap}). */
  constructor(private readonly ex: Exports, public base: number) {
    this.f32 = new Float32Array(ex.memory.buffer);
    this.i32 = new Int32Array(ex.memory.buffer);
    this.f64 = new Float64Array(ex.memory.buffer);
  }

  /** Views of `buffer` (this memory's) are used in place from now on. */
  adopt(buffer: ArrayBufferLike): void {
    this.own.add(buffer);
  }

  /** Whether `a` lives in this memory (is used in place). */
  holds(a: View): boolean {
    return this.own.has(a.buffer);
  }

  begin(): this {
    this.top = this.base;
    this.outs.length = 0;
    return this;
  }

  private reserve(n: number): number {
    const p = (this.top + 15) & ~15;
    this.top = p + 4 * n;
    // the memory is only looked at when the views fall short (reading memory.buffer costs, above
    // all for a shared memory): grown since (a shared memory's old buffer stays valid below its
    // old length) or detached by a growth (an ordinary memory's, length 0)
    if (this.top > this.f32.byteLength) {
      const mem = this.ex.memory;
      if (this.top > mem.buffer.byteLength) mem.grow(Math.ceil((this.top - mem.buffer.byteLength) / 65536));
      this.refresh();
    }
    return p;
  }

  private refresh(): void {
    const buf = this.ex.memory.buffer;
    if (this.f32.buffer !== buf) {
      this.f32 = new Float32Array(buf);
      this.i32 = new Int32Array(buf);
      this.f64 = new Float64Array(buf);
    }
  }

  /** Copies the first n elements of `a` in (unless it lives here); returns the byte offset. */
  in(a: View, n: number): number {
    if (this.own.has(a.buffer)) return a.byteOffset;
    return this.copyIn(a, n);
  }

  private copyIn(a: View, n: number): number {
    const p = this.reserve(a instanceof Float64Array ? 2 * n : n);
    if (a instanceof Float64Array) this.f64.set(a.length === n ? a : a.subarray(0, n), p >> 3);
    else (a instanceof Int32Array ? this.i32 : this.f32).set(a.length === n ? a : a.subarray(0, n), p >> 2);
    return p;
  }

  /** {@link Marshal.in}, or 0 (the kernels' null) for no buffer. */
  inOrNull(a: View | null, n: number): number {
    return a ? this.in(a, n) : 0;
  }

  /**
   * Space for n elements copied back into `a` by {@link Marshal.end}; copied in first when `load`.
   * An `a` that lives here is written in place, unless `inPlace` is false (it overlaps an input).
   */
  out(a: View, n: number, load: boolean, inPlace = true): number {
    if (inPlace && this.own.has(a.buffer)) return a.byteOffset;
    const p = load ? this.copyIn(a, n) : this.reserve(a instanceof Float64Array ? 2 * n : n);
    this.outs.push({ src: p, dst: a, n });
    return p;
  }

  /**
   * Marshals a kernel's buffer operands in order, after checking that each holds its n elements
   * (a RangeError names the kernel and the buffer): `in` is copied in, `out` written and copied
   * back, `inout` copied in and back (each used in place where it lives here); a null buffer is
   * the kernels' null, 0.
   */
  operands(kernel: string, list: readonly Operand[]): number[] {
    for (const [name, a, n] of list) need(kernel, name, a, n);
    return list.map(([, a, n, mode]) => (!a ? 0 : mode === 'in' ? this.in(a, n) : this.out(a, n, mode === 'inout')));
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
    if (this.f32.byteLength === 0) this.refresh(); // a kernel's scratch grew (and detached) it
    for (const { src, dst, n } of this.outs) {
      if (dst instanceof Float64Array) dst.set(this.f64.subarray(src >> 3, (src >> 3) + n));
      else dst.set((dst instanceof Int32Array ? this.i32 : this.f32).subarray(src >> 2, (src >> 2) + n));
    }
    this.outs.length = 0;
  }
}

/**
 * Parameters kept in the shared memory (see `Backend.resident`): blocks between the fixed regions
 * (helpers' stacks, GEMM workspaces) and the per-call operands, whose start moves up when the
 * blocks need room (operands only live during a call, and no block is placed during one). A block
 * is freed when its array is garbage-collected; free neighbours merge, and a free block at the
 * top gives its room back to the operands. A shared memory's old buffers stay valid when it grows,
 * so the arrays handed out never go stale. Finalizers only run between tasks, so networks built
 * and dropped inside one long synchronous run stay placed until it ends: past {@link RESIDENT_CAP}
 * bytes held, parameters keep their ordinary arrays (copied per call, as any operand).
 */
class ResidentHeap {
  private readonly free: { at: number; bytes: number }[] = [];
  private readonly registry = new FinalizationRegistry<[number, number]>(([at, bytes]) => this.release(at, bytes));
  /** Bytes in blocks not yet freed. */
  private held = 0;

  constructor(private readonly memory: WebAssembly.Memory, private readonly marshal: Marshal, private end: number) {
    marshal.base = end;
  }

  place(data: Float32Array): Float32Array {
    if (this.marshal.holds(data) || data.length === 0) return data;
    const bytes = (4 * data.length + 15) & ~15;
    if (this.held + bytes > RESIDENT_CAP) return data;
    this.held += bytes;
    let at: number;
    const i = this.free.findIndex((f) => f.bytes >= bytes);
    if (i >= 0) {
      const f = this.free[i];
      at = f.at;
      f.at += bytes;
      f.bytes -= bytes;
      if (f.bytes === 0) this.free.splice(i, 1);
    } else {
      at = this.end;
      this.end += bytes;
      this.marshal.base = this.end;
      const have = this.memory.buffer.byteLength;
      if (this.end > have) this.memory.grow(Math.ceil((this.end - have) / 65536));
    }
    const buf = this.memory.buffer;
    this.marshal.adopt(buf);
    const view = new Float32Array(buf, at, data.length);
    view.set(data);
    this.registry.register(view, [at, bytes]);
    return view;
  }

  private release(at: number, bytes: number): void {
    this.held -= bytes;
    const f = this.free;
    let i = 0;
    while (i < f.length && f[i].at < at) i++;
    f.splice(i, 0, { at, bytes });
    if (i + 1 < f.length && f[i].at + f[i].bytes === f[i + 1].at) f.splice(i, 2, { at, bytes: f[i].bytes + f[i + 1].bytes });
    if (i > 0 && f[i - 1].at + f[i - 1].bytes === f[i].at) f.splice(i - 1, 2, { at: f[i - 1].at, bytes: f[i - 1].bytes + f[i].bytes });
    const last = f[f.length - 1];
    if (last && last.at + last.bytes === this.end) {
      this.end = last.at;
      this.marshal.base = this.end;
      f.pop();
    }
  }
}

/** Most bytes of parameters kept in the shared memory at once (see {@link ResidentHeap}). */
const RESIDENT_CAP = 256 * 1024 * 1024;

/** Whether two views share bytes. */
function overlaps(x: View, y: View): boolean {
  return x.buffer === y.buffer && x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength;
}

/** Whether two views share bytes at different offsets (an elementwise kernel may write in place over an input at the same offset). */
function partlyOverlaps(x: View, y: View): boolean {
  return overlaps(x, y) && x.byteOffset !== y.byteOffset;
}

function need(kernel: string, name: string, a: ArrayLike<number> | null, n: number): void {
  if (a && a.length < n) throw new RangeError(`${kernel}: buffer ${name} has ${a.length} elements, needs ${n}`);
}

/** {@link need} for several buffers of n elements each, by name. */
function needAll(kernel: string, n: number, buffers: Record<string, ArrayLike<number> | null>): void {
  for (const [name, a] of Object.entries(buffers)) need(kernel, name, a, n);
}

/** The checks of {@link Backend.optimizerStep}'s arguments that the module cannot make (as the native addon's). */
function checkStepBuffers(rule: StepRule, hyper: Float64Array, buffers: readonly (Float32Array | null)[]): void {
  if (!Object.hasOwn(STEP_RULE_CODE, rule)) throw new RangeError(`optimizerStep: rule must be sgd, adam or rmsprop, received ${String(rule)}`);
  need('optimizerStep', 'hyper', hyper, 8);
  if (buffers.length % 5 !== 0) throw new RangeError(`optimizerStep: buffers must hold 5 entries per parameter, received ${buffers.length}`);
  const required = rule === 'adam' ? 2 : rule === 'rmsprop' ? 1 : 0;
  const names = ['w', 'g', 'state 0', 'state 1', 'state 2'];
  for (let k = 0; k < buffers.length / 5; k++) {
    for (let j = 0; j < 5; j++) {
      const b = buffers[5 * k + j];
      if (b === null || b === undefined) {
        if (j < 2 + required) throw new TypeError(`optimizerStep: parameter ${k} has no ${names[j]}`);
        continue;
      }
      if (!(b instanceof Float32Array)) throw new TypeError(`optimizerStep: ${names[j]} of parameter ${k} must be a Float32Array`);
      need('optimizerStep', `${names[j]} of parameter ${k}`, b, buffers[5 * k]!.length);
    }
  }
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
  const oneWhy = support.why || 'one thread requested';
  // the threads build also at one thread where memory can be shared: parameters live in it
  if (!bytes && wasmThreadsBase64 && wasmBase64 && typeof SharedArrayBuffer === 'function') {
    try {
      return { backend: threaded(WA, decode(wasmBase64), decode(wasmThreadsBase64), Math.max(1, want), want > 1 ? '' : oneWhy) };
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
    const inst = new WA.Instance(mod, { env: HOST });
    ex = inst.exports as unknown as Exports;
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return { error: `the WebAssembly module failed to load (${msg}); WebAssembly SIMD is needed` };
  }
  const why = want > 1 ? `the threads build did not load${threadError ? ` (${threadError})` : ''}` : oneWhy;
  return { backend: makeBackend(ex, Number(ex.__heap_base.value), null, why) };
}

/** Stack of each helper thread. */
const HELPER_STACK = 256 * 1024;

/**
 * The threads build on its shared memory: the helpers, the caller's side of split GEMMs, and the
 * parameters kept there.
 */
interface Threaded {
  ex: Exports;
  marshal: Marshal;
  pool: ThreadPool;
  /** The caller's GEMM workspace. */
  ws: number;
  heap: ResidentHeap;
}

/**
 * The one-thread build for every kernel, plus the threads build on a shared memory with
 * threads − 1 helpers (none at one thread) for big GEMMs and for GEMMs on parameters, which live
 * in the shared memory. (Copies into shared memory cost V8 about 2.5× copies into ordinary memory
 * — measured 12 vs 30 µs for 800 KB — so only those GEMMs run there: a split one, where the copy
 * is a few per cent of the work, and one reading a parameter, whose copy is saved.)
 */
function threaded(WA: typeof WebAssembly, plain: Uint8Array<ArrayBuffer>, code: Uint8Array<ArrayBuffer>, threads: number,
  why: string): WasmBackend {
  const one = new WA.Instance(new WA.Module(plain), { env: HOST }).exports as unknown as Exports;
  const mod = new WA.Module(code);
  const memory = new WA.Memory({ initial: 16, maximum: 32768, shared: true });
  const ex = { ...new WA.Instance(mod, { env: { memory, ...HOST } }).exports, memory } as unknown as Exports;
  const wsBytes = ex.gemm_ws_bytes();
  const perHelper = HELPER_STACK + wsBytes;
  const base = (Number(ex.__heap_base.value) + 15) & ~15;
  // helpers' stacks and workspaces, then the caller's workspace, then the operands of each call
  const mainWs = base + (threads - 1) * perHelper;
  const top = mainWs + wsBytes;
  if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
  const pool = new ThreadPool(threads, mod, memory, base, perHelper, wsBytes);
  const marshal = new Marshal(ex, top);
  const heap = new ResidentHeap(memory, marshal, top);
  return makeBackend(one, Number(one.__heap_base.value), { ex, marshal, pool, ws: mainWs, heap }, why);
}

function makeBackend(ex: Exports, heapStart: number, mt: Threaded | null, why: string): WasmBackend {
  const M = new Marshal(ex, heapStart);
  const unaryCode = unaryCodes(wasmUnaryOps(ex), 'wasm');
  const pool = mt?.pool;
  const conv = (g: ConvGeometry): number[] =>
    [g.n, g.c, g.h, g.w, g.k, g.kh, g.kw, g.sh, g.sw, g.padTop, g.padLeft, g.oh, g.ow];
  /** y = f(conv2d(x, w) + bias), f applied in the module's memory right after the convolution (none when `op` is null). */
  const convForward = (kernel: string, g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array | null,
    y: Float32Array, op: UnaryOp | null, param: number): void => {
    checkConv(kernel, g);
    run(kernel, (m) => {
      const [px, pw, pb, py] = m.operands(kernel, [['x', x, nx(g), 'in'], ['w', w, nw(g), 'in'], ['bias', bias, g.k, 'in'], ['y', y, ny(g), 'out']]);
      m.scratch();
      ex.conv2d(px, pw, pb, py, ...conv(g));
      if (op !== null) ex.unary(unaryCode(op), py, py, ny(g), param);
    });
  };
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
  /** Elements of a convolution's filters [k, c, kh, kw]. */
  const nw = (g: ConvGeometry): number => g.k * g.c * g.kh * g.kw;
  /** Elements of a convolution's or a pooling's output [n, k or c, oh, ow]. */
  const ny = (g: ConvGeometry | PoolGeometry): number => g.n * ('k' in g ? g.k : g.c) * g.oh * g.ow;
  /**
   * Runs a convolution or pooling kernel: checks the geometry, marshals the operands, hands the
   * module its scratch space and calls `kernel` with the operands' offsets and then the geometry.
   */
  function spatial<T>(name: string, g: ConvGeometry | PoolGeometry, operands: readonly Operand[], kernel: (...args: number[]) => T): T {
    if ('k' in g) checkConv(name, g);
    else checkPool(name, g);
    return run(name, (m) => {
      const p = m.operands(name, operands);
      m.scratch();
      return kernel(...p, ...('k' in g ? conv(g) : poolGeo(g)));
    });
  }
  /**
   * Where a kernel that updates `w` in place runs: in the shared-memory instance when `w` is a
   * parameter living there (so it is read and written where it lies, not copied in and out),
   * else in the one-thread instance.
   */
  const updating = (w: View): { x: Exports; on: Marshal } => (mt?.marshal.holds(w) ? { x: mt.ex, on: mt.marshal } : { x: ex, on: M });

  const backend: WasmBackend = {
    name: 'wasm',

    threads: () => (pool ? pool.active : 1),
    maxThreads: () => (pool ? pool.size : 1),
    setThreads(n) {
      const max = pool ? pool.size : 1;
      if (!Number.isInteger(n) || n < 1 || n > max) throw new RangeError(`setThreads: n must be 1…${max}, received ${n}`);
      if (pool) pool.active = n;
    },
    threadInfo: () => why,

    resident: mt ? (data: Float32Array) => mt.heap.place(data) : undefined,

    ...pooledAllocation,

    gemm(transA, transB, mm, n, k, alpha, a, b, beta, c) {
      need('gemm', 'a', a, mm * k);
      need('gemm', 'b', b, k * n);
      need('gemm', 'c', c, mm * n);
      if (mm === 0 || n === 0) return;
      // split over the threads from about a megaflop (below, waking a helper costs more than it saves)
      const split = mt && mt.pool.active > 1 && mm > 4 && n >= 16 && 2 * mm * n * k >= 1 << 20 ? mt : null;
      // a product on a parameter (in the shared memory) runs there, reading it in place
      const at = split ?? (mt && (mt.marshal.holds(a) || mt.marshal.holds(b) || mt.marshal.holds(c)) ? mt : null);
      const on = at ? at.ex : ex;
      run('gemm', (m) => {
        const pa = m.in(a, mm * k);
        const pb = m.in(b, k * n);
        const pc = m.out(c, mm * n, beta !== 0, !overlaps(c, a) && !overlaps(c, b));
        m.scratch();
        if (split) {
          on.gemm_beta(pc, mm * n, beta);
          split.pool.gemm(on, transA ? 1 : 0, transB ? 1 : 0, mm, n, k, alpha, pa, pb, pc, split.ws);
        } else {
          on.gemm(transA ? 1 : 0, transB ? 1 : 0, mm, n, k, alpha, pa, pb, beta, pc);
        }
      }, at ? at.marshal : M);
    },

    affineAct(rows, units, inputs, x, w, b, op, param, out, z) {
      const mn = rows * units;
      // a product big enough to split over the threads: the three kernels one after another, which
      // measured 10–20% faster here than the fused call on the shared-memory instance (1000×128×256:
      // 2.2–3.1 against 2.5–3.5 ms, cause not found); the fused call serves the small products, where
      // the calls it saves are most of the time
      if (mt && mt.pool.active > 1 && rows > 4 && units >= 16 && 2 * mn * inputs >= 1 << 20) {
        const dst = z ?? out;
        backend.gemm(false, true, rows, units, inputs, 1, x, w, 0, dst);
        if (b) backend.addBroadcast(dst, b, 1, rows, units, dst);
        if (op !== 'linear' || z) backend.unary(op, dst, out, param);
        return;
      }
      // run where a parameter lives (read in place)
      const at = mt && (mt.marshal.holds(x) || mt.marshal.holds(w) || (b && mt.marshal.holds(b))) ? mt : null;
      const on = at ? at.ex : ex;
      run('affineAct', (m) => {
        const [px, pw, pb, po, pz] = m.operands('affineAct', [['x', x, rows * inputs, 'in'], ['w', w, units * inputs, 'in'],
          ['b', b, units, 'in'], ['out', out, mn, 'out'], ['z', z, mn, 'out']]);
        m.scratch();
        on.affine_act(rows, units, inputs, px, pw, pb, unaryCode(op), param, po, pz);
      }, at ? at.marshal : M);
    },

    unary(op, x, out, param) {
      const n = x.length;
      run('unary', (m) => {
        const [px, po] = m.operands('unary', [['x', x, n, 'in'], ['out', out, n, 'out']]);
        ex.unary(unaryCode(op), px, po, n, param);
      });
    },

    unaryGrad(op, x, y, dy, dx, param, accumulate) {
      const n = x.length;
      run('unaryGrad', (m) => {
        const p = m.operands('unaryGrad', [['x', x, n, 'in'], ['y', y, n, 'in'], ['dy', dy, n, 'in'], ['dx', dx, n, accumulate ? 'inout' : 'out']]);
        ex.unary_grad(unaryCode(op), p[0], p[1], p[2], p[3], n, param, accumulate ? 1 : 0);
      });
    },

    binary(op, a, aStrides, b, bStrides, out, shape) {
      const nd = shape.length;
      if (nd > 32) throw new ShapeError(`binary: rank ${nd} exceeds the wasm limit of 32`);
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
      const { x, on } = updating(mt?.marshal.holds(a) ? a : out);
      run('axpy', (m) => {
        const pb = m.in(b, n);
        const pa = m.in(a, n);
        x.axpy(n, alpha, pb, pa, m.out(out, n, false, !partlyOverlaps(out, a) && !partlyOverlaps(out, b)));
      }, on);
    },

    scale(x, s, out) {
      const n = x.length;
      run('scale', (m) => {
        const [px, po] = m.operands('scale', [['x', x, n, 'in'], ['out', out, n, 'out']]);
        ex.scale(px, n, s, po);
      });
    },

    fill(out, v) {
      out.fill(v);
    },

    sumAxis(x, outer, axis, inner, out, accumulate) {
      run('sumAxis', (m) => {
        const [px, po] = m.operands('sumAxis', [['x', x, outer * axis * inner, 'in'], ['out', out, outer * inner, accumulate ? 'inout' : 'out']]);
        ex.sum_axis(px, outer, axis, inner, po, accumulate ? 1 : 0);
      });
    },

    addBroadcast(x, y, outer, axis, inner, out) {
      const n = outer * axis * inner;
      run('addBroadcast', (m) => {
        const [px, py, po] = m.operands('addBroadcast', [['x', x, n, 'in'], ['y', y, outer * inner, 'in'], ['out', out, n, 'out']]);
        ex.add_broadcast(px, py, outer, axis, inner, po);
      });
    },

    softmax(x, rows, cols, out) {
      run('softmax', (m) => {
        const [px, po] = m.operands('softmax', [['x', x, rows * cols, 'in'], ['out', out, rows * cols, 'out']]);
        ex.softmax(px, rows, cols, po);
      });
    },

    softmaxCrossEntropy(logits, targets, rows, cols, probs) {
      const n = rows * cols;
      return run('softmaxCrossEntropy', (m) => {
        const [pl, pt, pp] = m.operands('softmaxCrossEntropy', [['logits', logits, n, 'in'], ['targets', targets, n, 'in'], ['probs', probs, n, 'out']]);
        return ex.softmax_cross_entropy(pl, pt, rows, cols, pp);
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
      convForward('conv2d', g, x, w, bias, y, null, 0);
    },

    conv2dAct(g, x, w, bias, y, op, param) {
      convForward('conv2dAct', g, x, w, bias, y, op, param);
    },

    conv2dBackwardData(g, dy, w, dx) {
      spatial('conv2dBackwardData', g, [['dy', dy, ny(g), 'in'], ['w', w, nw(g), 'in'], ['dx', dx, nx(g), 'out']], ex.conv2d_backward_data);
    },

    conv2dBackwardFilter(g, x, dy, dw, db) {
      spatial('conv2dBackwardFilter', g, [['x', x, nx(g), 'in'], ['dy', dy, ny(g), 'in'], ['dw', dw, nw(g), 'inout'],
        ['db', db, g.k, 'inout']], ex.conv2d_backward_filter);
    },

    maxPool(g, x, y, argmax) {
      spatial('maxPool', g, [['x', x, nx(g), 'in'], ['y', y, ny(g), 'out'], ['argmax', argmax, ny(g), 'out']], ex.max_pool);
    },

    maxPoolBackward(g, dy, argmax, dx) {
      const bad = spatial('maxPoolBackward', g, [['dy', dy, ny(g), 'in'], ['argmax', argmax, ny(g), 'in'], ['dx', dx, nx(g), 'inout']],
        ex.max_pool_backward);
      if (bad >= 0) {
        throw new RangeError(`maxPoolBackward: argmax[${bad}] = ${argmax[bad]} is outside the input gradient (${nx(g)} elements)`);
      }
    },

    avgPool(g, x, y) {
      spatial('avgPool', g, [['x', x, nx(g), 'in'], ['y', y, ny(g), 'out']], ex.avg_pool);
    },

    avgPoolBackward(g, dy, dx) {
      spatial('avgPoolBackward', g, [['dy', dy, ny(g), 'in'], ['dx', dx, nx(g), 'out']], ex.avg_pool_backward);
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
      run('softmaxBackward', (m) => {
        const [py, pdy, pdx] = m.operands('softmaxBackward', [['y', y, n, 'in'], ['dy', dy, n, 'in'], ['dx', dx, n, 'out']]);
        ex.softmax_backward(py, pdy, rows, cols, pdx);
      });
    },

    layerNorm(x, gamma, beta, rows, cols, eps, y, xhat, rstd) {
      const n = rows * cols;
      run('layerNorm', (m) => {
        const p = m.operands('layerNorm', [['x', x, n, 'in'], ['gamma', gamma, cols, 'in'], ['beta', beta, cols, 'in'],
          ['y', y, n, 'out'], ['xhat', xhat, n, 'out'], ['rstd', rstd, rows, 'out']]);
        ex.layer_norm(p[0], p[1], p[2], rows, cols, eps, p[3], p[4], p[5]);
      });
    },

    layerNormBackward(dy, xhat, rstd, gamma, rows, cols, dx) {
      const n = rows * cols;
      run('layerNormBackward', (m) => {
        const p = m.operands('layerNormBackward', [['dy', dy, n, 'in'], ['xhat', xhat, n, 'in'], ['rstd', rstd, rows, 'in'],
          ['gamma', gamma, cols, 'in'], ['dx', dx, n, 'out']]);
        ex.layer_norm_backward(p[0], p[1], p[2], p[3], rows, cols, p[4]);
      });
    },

    permute(x, shape, axes, out) {
      if (shape.length > 16) throw new ShapeError(`permute: rank ${shape.length} exceeds the wasm limit of 16`);
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
      run('lstmCell', (m) => {
        const [pp, pcp, pg, pc, ph] = m.operands('lstmCell', [['pre', pre, 4 * n, 'in'], ['cPrev', cPrev, n, 'in'],
          ['gates', gates, 4 * n, 'out'], ['c', c, n, 'out'], ['h', h, n, 'out']]);
        ex.lstm_cell(B, H, pp, pcp, pg, pc, ph);
      });
    },

    lstmCellBackward(B, H, gates, cPrev, c, dh, dc, dPre, dcPrev) {
      const n = B * H;
      run('lstmCellBackward', (m) => {
        const p = m.operands('lstmCellBackward', [['gates', gates, 4 * n, 'in'], ['cPrev', cPrev, n, 'in'], ['c', c, n, 'in'],
          ['dh', dh, n, 'in'], ['dc', dc, n, 'in'], ['dPre', dPre, 4 * n, 'out'], ['dcPrev', dcPrev, n, 'out']]);
        ex.lstm_cell_backward(B, H, p[0], p[1], p[2], p[3], p[4], p[5], p[6]);
      });
    },

    sgdUpdate(w, g, velocity, learningRate, momentum, nesterov) {
      const n = w.length;
      need('sgdUpdate', 'g', g, n);
      need('sgdUpdate', 'velocity', velocity, n);
      const { x, on } = updating(w);
      run('sgdUpdate', (m) => {
        const pg = m.in(g, n);
        const pv = velocity ? m.out(velocity, n, true) : 0;
        x.sgd_update(n, m.out(w, n, true), pg, pv, learningRate, momentum, nesterov ? 1 : 0);
      }, on);
    },

    adamUpdate(w, g, m1, v, learningRate, beta1, beta2, epsilon, c1, c2, keep) {
      const n = w.length;
      needAll('adamUpdate', n, { g, m: m1, v });
      const { x, on } = updating(w);
      run('adamUpdate', (m) => {
        const pg = m.in(g, n);
        x.adam_update(n, m.out(w, n, true), pg, m.out(m1, n, true), m.out(v, n, true), learningRate, beta1, beta2,
          epsilon, c1, c2, keep);
      }, on);
    },

    rmspropUpdate(w, g, ms, mg, mom, learningRate, rho, momentum, epsilon) {
      const n = w.length;
      needAll('rmspropUpdate', n, { g, ms, mg, mom });
      const { x, on } = updating(w);
      run('rmspropUpdate', (m) => {
        const pg = m.in(g, n);
        const pmg = mg ? m.out(mg, n, true) : 0;
        const pmom = mom ? m.out(mom, n, true) : 0;
        x.rmsprop_update(n, m.out(w, n, true), pg, m.out(ms, n, true), pmg, pmom, learningRate, rho, momentum, epsilon);
      }, on);
    },

    optimizerStep(rule, hyper, buffers) {
      checkStepBuffers(rule, hyper, buffers);
      // where the parameters live (all of them, as a model's are, or none): a parameter living
      // elsewhere is copied in and back
      const first = buffers[0];
      const { x, on } = first ? updating(first) : { x: ex, on: M };
      return run('optimizerStep', (m) => {
        const table: number[] = [];
        for (let k = 0; k < buffers.length; k += 5) {
          const n = buffers[k]!.length;
          table.push(n, m.out(buffers[k]!, n, true), m.in(buffers[k + 1]!, n));
          for (let j = 2; j < 5; j++) table.push(buffers[k + j] ? m.out(buffers[k + j]!, n, true) : 0);
        }
        return x.optimizer_step(STEP_RULE_CODE[rule], m.in(hyper, 8), m.ints(table), buffers.length / 5);
      }, on);
    },

    countMatchingRows(a, b, rows, cols) {
      if (!(cols >= 1)) throw new RangeError('countMatchingRows: cols must be at least 1');
      needAll('countMatchingRows', rows * cols, { a, b });
      return run('countMatchingRows', (m) => ex.count_matching_rows(m.in(a, rows * cols), m.in(b, rows * cols), rows, cols));
    },

    clipValue(x, limit) {
      const { x: k, on } = updating(x);
      run('clipValue', (m) => k.clip_value(x.length, m.out(x, x.length, true), limit), on);
    },

    batchNormTrain(x, gamma, beta, outer, C, inner, eps, y, xhat, mean, variance, invStd) {
      const n = outer * C * inner;
      run('batchNormTrain', (m) => {
        const p = m.operands('batchNormTrain', [['x', x, n, 'in'], ['gamma', gamma, C, 'in'], ['beta', beta, C, 'in'],
          ['y', y, n, 'out'], ['xhat', xhat, n, 'out'], ['mean', mean, C, 'out'], ['variance', variance, C, 'out'], ['invStd', invStd, C, 'out']]);
        ex.batch_norm_train(p[0], p[1], p[2], outer, C, inner, eps, p[3], p[4], p[5], p[6], p[7]);
      });
    },

    batchNormInference(x, mean, variance, gamma, beta, outer, C, inner, eps, y, xhat, invStd) {
      const n = outer * C * inner;
      run('batchNormInference', (m) => {
        const p = m.operands('batchNormInference', [['x', x, n, 'in'], ['mean', mean, C, 'in'], ['variance', variance, C, 'in'],
          ['gamma', gamma, C, 'in'], ['beta', beta, C, 'in'], ['y', y, n, 'out'], ['xhat', xhat, n, 'out'], ['invStd', invStd, C, 'out']]);
        ex.batch_norm_inference(p[0], p[1], p[2], p[3], p[4], outer, C, inner, eps, p[5], p[6], p[7]);
      });
    },

    batchNormBackward(training, dy, xhat, invStd, gamma, outer, C, inner, dx, dGamma, dBeta) {
      const n = outer * C * inner;
      if (training && dx && !xhat) throw new TypeError('batchNormBackward: the training backward needs xhat');
      run('batchNormBackward', (m) => {
        const p = m.operands('batchNormBackward', [['dy', dy, n, 'in'], ['xhat', xhat, n, 'in'], ['invStd', invStd, C, 'in'],
          ['gamma', gamma, C, 'in'], ['dx', dx, n, 'out'], ['dGamma', dGamma, C, 'out'], ['dBeta', dBeta, C, 'out']]);
        m.scratch();
        ex.batch_norm_backward(training ? 1 : 0, p[0], p[1], p[2], p[3], outer, C, inner, p[4], p[5], p[6]);
      });
    },

    movingAverage(avg, x, momentum) {
      const n = avg.length;
      need('movingAverage', 'x', x, n);
      run('movingAverage', (m) => {
        const px = m.in(x, n);
        ex.moving_average(n, m.out(avg, n, true), px, momentum);
      });
    },

    copyRuns(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, counts, len) {
      if (!checkRuns(src.length, srcOffset, srcStrides, dst.length, dstOffset, dstStrides, counts, len)) return;
      run('copyRuns', (m) => {
        const ps = m.in(src, src.length);
        const pd = m.out(dst, dst.length, true);
        ex.copy_runs(ps, pd, m.in(runGeometry(srcOffset, srcStrides, dstOffset, dstStrides, counts, len), 4 + 3 * counts.length));
      });
    },

    lossValue(kind, pred, target) {
      const n = pred.length;
      need('lossValue', 'target', target, n);
      return run('lossValue', (m) => ex.loss_value(LOSS_CODE[kind], n, m.in(pred, n), m.in(target, n)));
    },

    lossGrad(kind, pred, target, scale, dx) {
      const n = pred.length;
      run('lossGrad', (m) => {
        const [pp, pt, pd] = m.operands('lossGrad', [['pred', pred, n, 'in'], ['target', target, n, 'in'], ['dx', dx, n, 'out']]);
        ex.loss_grad(LOSS_CODE[kind], n, pp, pt, scale, pd);
      });
    },

    gruGates(B, H, pre, h, gates, resetHidden) {
      const n = B * H;
      run('gruGates', (m) => {
        const [pp, ph, pg, pr] = m.operands('gruGates', [['pre', pre, 2 * n, 'in'], ['h', h, n, 'in'],
          ['gates', gates, 2 * n, 'out'], ['resetHidden', resetHidden, n, 'out']]);
        ex.gru_gates(B, H, pp, ph, pg, pr);
      });
    },

    gruState(B, H, gates, hPrev, preCandidate, candidate, h) {
      const n = B * H;
      run('gruState', (m) => {
        const p = m.operands('gruState', [['gates', gates, 2 * n, 'in'], ['hPrev', hPrev, n, 'in'],
          ['preCandidate', preCandidate, n, 'in'], ['candidate', candidate, n, 'out'], ['h', h, n, 'out']]);
        ex.gru_state(B, H, p[0], p[1], p[2], p[3], p[4]);
      });
    },

    gruStateBackward(B, H, gates, hPrev, candidate, dh, dhPrev, dPreCandidate, dPreGates) {
      const n = B * H;
      // the reset-gate block of dPreGates is kept, so it goes in as well as out
      run('gruStateBackward', (m) => {
        const p = m.operands('gruStateBackward', [['gates', gates, 2 * n, 'in'], ['hPrev', hPrev, n, 'in'],
          ['candidate', candidate, n, 'in'], ['dh', dh, n, 'in'], ['dhPrev', dhPrev, n, 'out'],
          ['dPreCandidate', dPreCandidate, n, 'out'], ['dPreGates', dPreGates, 2 * n, 'inout']]);
        ex.gru_state_backward(B, H, p[0], p[1], p[2], p[3], p[4], p[5], p[6]);
      });
    },

    gruGatesBackward(B, H, gates, h, dResetHidden, dPreGates, dh) {
      const n = B * H;
      run('gruGatesBackward', (m) => {
        const p = m.operands('gruGatesBackward', [['gates', gates, 2 * n, 'in'], ['h', h, n, 'in'],
          ['dResetHidden', dResetHidden, n, 'in'], ['dPreGates', dPreGates, 2 * n, 'inout'], ['dh', dh, n, 'out']]);
        ex.gru_gates_backward(B, H, p[0], p[1], p[2], p[3], p[4]);
      });
    },

    gatherRows(src, cols, index, out) {
      if (!(cols >= 1) || src.length % cols !== 0) throw new RangeError('gatherRows: src length is not a multiple of cols');
      const n = index.length;
      need('gatherRows', 'out', out, n * cols);
      if (n === 0) return -1;
      return run('gatherRows', (m) => {
        // a source outside this memory and much larger than the rows taken (a training set gathered
        // batch by batch) would be copied in whole for a few rows: they are copied from where it is
        if (!m.holds(src) && src.length > 2 * n * cols) return jsBackend.gatherRows(src, cols, index, out);
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
  return backend;
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
