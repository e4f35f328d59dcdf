/**
 * Helper threads for the WebAssembly backend: `worker_threads` in Node, Web Workers in a
 * cross-origin isolated page. Each helper instantiates the threads build of the module on the
 * same shared memory, with its own stack and GEMM workspace, and sleeps in `Atomics.wait`.
 *
 * A big GEMM is cut into column chunks; the calling thread and the helpers claim chunks from a
 * shared counter (compare-and-swap on `job · 2¹⁶ + chunk`), so a helper that is slow to wake (the
 * machine is busy, or it is still starting) simply claims nothing and the caller does the work:
 * an op never waits for a thread that has not started on it. Every element of C is computed by
 * the same sequence of operations whichever thread takes its chunk, so results are bit-identical
 * for any number of threads.
 */
import { nodeBuiltin } from '../node-edge.js';

// control block (Int32 slots; alpha as float32 bits)
const SEQ = 0, NEXT = 1, DONE = 2, TOTAL = 3, TA = 4, TB = 5, M = 6, N = 7, K = 8, ALPHA = 9, A = 10, B = 11, C = 12, CW = 13;
const SLOTS = 16;

/** The source each helper runs (Node `eval` worker or a Blob-URL Web Worker). */
const HELPER = `
const run = (d) => {
  const ex = new WebAssembly.Instance(d.module, { env: { memory: d.memory, log: Math.log } }).exports;
  ex.__stack_pointer.value = d.stackTop;
  const ctl = new Int32Array(d.ctl), f = new Float32Array(d.ctl);
  let seen = 0;
  for (;;) {
    Atomics.wait(ctl, ${SEQ}, seen);
    const seq = Atomics.load(ctl, ${SEQ});
    if (seq < 0) return;
    seen = seq;
    for (;;) {
      const v = Atomics.load(ctl, ${NEXT});
      if ((v >>> 16) !== seq || (v & 0xffff) >= Atomics.load(ctl, ${TOTAL})) break;
      if (Atomics.compareExchange(ctl, ${NEXT}, v, v + 1) !== v) continue;
      const j0 = (v & 0xffff) * ctl[${CW}], n = ctl[${N}];
      ex.gemm_cols(ctl[${TA}], ctl[${TB}], ctl[${M}], n, ctl[${K}], f[${ALPHA}], ctl[${A}], ctl[${B}], ctl[${C}], j0,
        Math.min(n, j0 + ctl[${CW}]), d.ws);
      Atomics.add(ctl, ${DONE}, 1);
      Atomics.notify(ctl, ${DONE});
    }
  }
};
if (typeof self !== 'undefined' && typeof self.postMessage === 'function' && typeof require === 'undefined') {
  self.onmessage = (e) => run(e.data);
} else {
  const { parentPort } = require('worker_threads');
  parentPort.once('message', run);
}
`;

interface Exports {
  gemm_cols(ta: number, tb: number, m: number, n: number, k: number, alpha: number, a: number, b: number, c: number,
    j0: number, j1: number, ws: number): void;
}

type Host = { hardwareConcurrency?: number; crossOriginIsolated?: boolean; Worker?: unknown };
type NodeProcess = { versions?: { node?: string }; env?: Record<string, string | undefined> };

/**
 * Threads this host offers (1 when helpers cannot share memory here) and why.
 *
 * @example
 * ```ts
 * threadSupport(); // { threads: 2, why: '' } in Node on 2 cores; { threads: 1, why: 'the page is not cross-origin isolated' }
 * ```
 */
export function threadSupport(): { threads: number; why: string } {
  const g = globalThis as Host & { process?: NodeProcess; navigator?: { hardwareConcurrency?: number } };
  const node = Boolean(g.process?.versions?.node);
  if (!node && !g.crossOriginIsolated) return { threads: 1, why: 'the page is not cross-origin isolated' };
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return { threads: 1, why: 'no SharedArrayBuffer' };
  let procs: number;
  if (node) {
    try {
      procs = nodeBuiltin('node:os', 'wasm threads').availableParallelism();
    } catch {
      return { threads: 1, why: 'worker_threads unavailable' };
    }
  } else {
    if (typeof g.Worker !== 'function') return { threads: 1, why: 'no Web Workers' };
    procs = g.navigator?.hardwareConcurrency ?? 1;
  }
  const cap = Number(g.process?.env?.DENDRITE_THREADS);
  const n = Number.isInteger(cap) && cap >= 1 ? Math.min(cap, procs) : procs;
  return { threads: Math.max(1, Math.min(n, 8)), why: n <= 1 ? 'one processor' : '' };
}

/**
 * The helpers of one instance and the shared control block.
 *
 * @example
 * ```ts
 * const pool = new ThreadPool(2, module, sharedMemory, helperBase, stackBytes + wsBytes, wsBytes);
 * pool.gemm(exports, 0, 1, 64, 256, 784, 1, a, b, c, callerWorkspace);
 * ```
 */
export class ThreadPool {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(4 * SLOTS));
  private readonly f32 = new Float32Array(this.ctl.buffer);
  private seq = 0;
  private readonly canBlock: boolean;
  /** Threads taking part in big GEMMs (1 … size); the caller is one of them. */
  active: number;

  /**
   * Starts size − 1 helpers on `memory` (a region of `perHelper` bytes each at `base`: stack,
   * then GEMM workspace of `wsBytes`).
   */
  constructor(readonly size: number, module: WebAssembly.Module, memory: WebAssembly.Memory, base: number,
    perHelper: number, wsBytes: number) {
    this.active = size;
    this.canBlock = canBlock();
    const g = globalThis as { process?: NodeProcess };
    for (let t = 0; t < size - 1; t++) {
      const at = base + t * perHelper;
      // the stack grows down from the start of the workspace
      const ws = at + perHelper - wsBytes;
      const msg = { module, memory, ctl: this.ctl.buffer, stackTop: ws, ws };
      if (g.process?.versions?.node) {
        const { Worker } = nodeBuiltin('node:worker_threads', 'wasm threads');
        const w = new Worker(HELPER, { eval: true });
        w.unref();
        w.postMessage(msg);
      } else {
        const url = URL.createObjectURL(new Blob([HELPER], { type: 'text/javascript' }));
        const w = new Worker(url);
        w.postMessage(msg);
        URL.revokeObjectURL(url);
      }
    }
  }

  /**
   * C (columns split in chunks) += alpha·op(A)·op(B) on the active threads; `ws` is the caller's
   * workspace. Returns when every chunk is done.
   */
  gemm(ex: Exports, ta: number, tb: number, m: number, n: number, k: number, alpha: number, a: number, b: number,
    c: number, ws: number): void {
    const c8 = Math.ceil(n / 8);
    const cw = 8 * Math.max(1, Math.ceil(c8 / (3 * this.active)));
    const total = Math.ceil(n / cw);
    const ctl = this.ctl;
    ctl[TA] = ta; ctl[TB] = tb; ctl[M] = m; ctl[N] = n; ctl[K] = k; this.f32[ALPHA] = alpha;
    ctl[A] = a; ctl[B] = b; ctl[C] = c; ctl[CW] = cw; ctl[TOTAL] = total;
    Atomics.store(ctl, DONE, 0);
    this.seq = (this.seq % 0x7fff) + 1;
    const seq = this.seq;
    Atomics.store(ctl, NEXT, seq << 16);
    Atomics.store(ctl, SEQ, seq);
    Atomics.notify(ctl, SEQ, this.active - 1);
    for (;;) {
      const v = Atomics.load(ctl, NEXT);
      if ((v & 0xffff) >= total) break;
      if (Atomics.compareExchange(ctl, NEXT, v, v + 1) !== v) continue;
      const j0 = (v & 0xffff) * cw;
      ex.gemm_cols(ta, tb, m, n, k, alpha, a, b, c, j0, Math.min(n, j0 + cw), ws);
      Atomics.add(ctl, DONE, 1);
    }
    for (;;) {
      const d = Atomics.load(ctl, DONE);
      if (d >= total) return;
      if (this.canBlock) Atomics.wait(ctl, DONE, d, 5);
    }
  }
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
function canBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}
