import { ShapeError } from '../errors.js';
import type { Backend, BinaryOp, ConvGeometry, LossKind, PoolGeometry } from './backend.js';
import { STEP_RULE_CODE } from './backend.js';
import { runGeometry } from './runs.js';
import { unaryCodes } from './unary.js';
import { pooledAllocation } from './buffer-pool.js';

/**
 * Result of trying to load the native backend: the backend, or why it is not available.
 *
 * @example
 * ```ts
 * const r: NativeLoad = loadNative();
 * const backend = 'backend' in r ? r.backend : jsBackend;
 * ```
 */
export type NativeLoad = { backend: NativeBackend } | { error: string };

/**
 * What the native addon reports about itself.
 *
 * @example
 * ```ts
 * const r = loadNative();
 * if ('backend' in r) console.log(`oneDNN ${r.backend.info().onednn}, ${r.backend.info().maxThreads} threads`);
 * ```
 */
export interface NativeInfo {
  /** oneDNN version, e.g. `'2.6.3'`. */
  onednn: string;
  /** oneDNN's `dnnl_cpu_isa_t` code for the instruction set its kernels use (e.g. 231 = AVX-512 core + bf16). */
  cpuIsa: number;
  /** Threads used for ops above about 0.3 MFLOP (and big elementwise loops). */
  maxThreads: number;
  /** Processors OpenMP sees. */
  procs: number;
  /** The `-march` level our own loops were compiled for at install time. */
  march: string;
}

/**
 * The native backend: the {@link Backend} kernels over oneDNN (GEMM, convolution) and vectorised
 * C++ loops, plus a few controls that only it has. Big ops are split over helper threads that
 * take work only when they are free (a busy or descheduled helper never delays an op).
 *
 * @example
 * ```ts
 * const r = loadNative();
 * if ('backend' in r) {
 *   r.backend.setMaxThreads(1); // big ops on one thread (e.g. to compare)
 *   console.log(r.backend.info().onednn);
 * }
 * ```
 */
export interface NativeBackend extends Backend {
  /** Threads for big ops (1 … the processor count; small ops always run on the calling thread). */
  setMaxThreads(n: number): void;
  /** The current team size for big ops. */
  maxThreads(): number;
  /** Versions and settings of the addon. */
  info(): NativeInfo;
  /** Number of cached convolution primitives (bounded; each shape and direction builds one). */
  convCacheSize(): number;
}

/** Kernels the addon exports with exactly the backend's arguments. */
type SameAsBackend = 'sgdUpdate' | 'adamUpdate' | 'rmspropUpdate' | 'clipValue' | 'batchNormTrain' | 'batchNormInference'
  | 'batchNormBackward' | 'movingAverage' | 'gruGates' | 'gruState' | 'gruStateBackward' | 'gruGatesBackward' | 'gatherRows'
  | 'scatterAddRows' | 'argmaxRows' | 'nonzeroIndices' | 'countMatchingRows';

/** The raw addon exports (argument order as in native/src/addon.cc). */
interface Addon extends Pick<Backend, SameAsBackend> {
  optimizerStep(rule: number, hyper: Float64Array, buffers: readonly (Float32Array | null)[]): number;
  gemm(ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number, a: Float32Array,
    b: Float32Array, beta: number, c: Float32Array): void;
  unary(op: number, x: Float32Array, out: Float32Array, param: number): void;
  /** The names of the unary op codes 0, 1, … (native/src/unary.h's table). */
  unaryOps(): string[];
  unaryGrad(op: number, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, param: number,
    accumulate: boolean): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, geometry: Int32Array): void;
  axpy(n: number, alpha: number, b: Float32Array, a: Float32Array, out: Float32Array): void;
  scale(x: Float32Array, s: number, out: Float32Array): void;
  fill(out: Float32Array, v: number): void;
  sumAxis(x: Float32Array, outer: number, axis: number, inner: number, out: Float32Array, accumulate: boolean): void;
  addBroadcast(x: Float32Array, y: Float32Array, outer: number, axis: number, inner: number, out: Float32Array): void;
  softmax(x: Float32Array, rows: number, cols: number, out: Float32Array): void;
  softmaxCrossEntropy(logits: Float32Array, targets: Float32Array, rows: number, cols: number, probs: Float32Array): number;
  sum(x: Float32Array): number;
  sumSquares(x: Float32Array): number;
  allFinite(x: Float32Array): boolean;
  /** y = f(conv2d(x, w) + bias) for the unary op code `op` ("linear" for the plain convolution). */
  conv2d(x: Float32Array, w: Float32Array, y: Float32Array, bias: Float32Array | null, op: number, param: number, ...g: number[]): void;
  conv2dBackwardData(dy: Float32Array, w: Float32Array, dx: Float32Array, ...g: number[]): void;
  conv2dBackwardFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, db: Float32Array | null, ...g: number[]): void;
  maxPool(x: Float32Array, y: Float32Array, argmax: Int32Array, ...g: number[]): void;
  convPoolPlan(bias: boolean, op: number, param: number, ...g: number[]): number[] | null;
  convPoolForward(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, a: Float32Array,
    idx: Int32Array | null, xb: Float32Array | null, max: boolean, op: number, param: number, ...g: number[]): void;
  convPoolBackward(dy: Float32Array, a: Float32Array, idx: Int32Array | null, xin: Float32Array, w: Float32Array,
    dz: Float32Array, dx: Float32Array | null, dw: Float32Array | null, db: Float32Array | null, max: boolean, op: number,
    param: number, ...g: number[]): void;
  maxPoolBackward(dy: Float32Array, argmax: Int32Array, dx: Float32Array, ...g: number[]): void;
  avgPool(x: Float32Array, y: Float32Array, ...g: number[]): void;
  avgPoolBackward(dy: Float32Array, dx: Float32Array, ...g: number[]): void;
  lstmCell(B: number, H: number, pre: Float32Array, cPrev: Float32Array, gates: Float32Array, c: Float32Array,
    h: Float32Array): void;
  lstmCellBackward(B: number, H: number, gates: Float32Array, cPrev: Float32Array, c: Float32Array, dh: Float32Array,
    dc: Float32Array, dPre: Float32Array, dcPrev: Float32Array): void;
  gemmBatched(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: Float32Array,
    aOffsets: Int32Array, b: Float32Array, bOffsets: Int32Array, beta: number, c: Float32Array,
    cOffsets: Int32Array): void;
  softmaxBackward(y: Float32Array, dy: Float32Array, rows: number, cols: number, dx: Float32Array): void;
  permute(x: Float32Array, out: Float32Array, geometry: Int32Array): void;
  layerNorm(x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, rows: number, cols: number,
    eps: number, y: Float32Array, xhat: Float32Array, rstd: Float32Array): void;
  layerNormBackward(dy: Float32Array, xhat: Float32Array, rstd: Float32Array, gamma: Float32Array | null,
    rows: number, cols: number, dx: Float32Array): void;
  lossValue(kind: number, pred: Float32Array, target: Float32Array): number;
  lossGrad(kind: number, pred: Float32Array, target: Float32Array, scale: number, dx: Float32Array): void;
  copyRuns(src: Float32Array, dst: Float32Array, geometry: Int32Array): void;
  setMaxThreads(n: number): void;
  getMaxThreads(): number;
  convCacheSize(): number;
  info(): NativeInfo;
  affineAct(rows: number, units: number, inputs: number, x: Float32Array, w: Float32Array, b: Float32Array | null,
    op: number, param: number, out: Float32Array, z: Float32Array | null): void;
}

// Binary op codes: the order of the enum in native/src/kernels.h, checked op by op against the
// reference in test/helpers/backend-comparisons.ts (unary codes come from the addon's name list).
const BINARY_CODE: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5 };
/** Loss kinds: the order of the enum in wasm/src/training.h (shared with native/src/training.cc). */
const LOSS_CODE: Record<LossKind, number> = { squared: 0, crossEntropy: 1, binaryCrossEntropy: 2, sigmoidCrossEntropy: 3 };

/** Where the install step puts the addon, relative to this file (dist/src/backend/native.js). */
const ADDON_PATH = '../../../native/build/Release/dendrite_native.node';
/** Where the install step leaves the reason when the build failed. */
const BUILD_ERROR_PATH = '../../../native/build/dendrite-build-error.txt';
/** Left by the install step (or by {@link claimFallbackNotice}) once the user has seen the notice. */
const NOTICE_PATH = '../../../native/build/dendrite-notice-shown';
/** What fixes a missing native backend. */
const REBUILD_HINT = 'install libdnnl-dev (with g++, make, python3), then run `npm rebuild dendrite`';

interface NodeRequire {
  (id: string): unknown;
}
interface NodeProcess {
  getBuiltinModule?: (id: string) => unknown;
  versions?: { node?: string };
}

function nodeRequire(): NodeRequire | string {
  const p = (globalThis as { process?: NodeProcess }).process;
  if (!p?.versions?.node) return 'the native backend needs Node.js';
  if (typeof p.getBuiltinModule !== 'function') {
    return `loading the native addon needs Node.js ≥ 20.16 (process.getBuiltinModule), this is ${p.versions.node}`;
  }
  const mod = p.getBuiltinModule('node:module') as { createRequire(url: string): NodeRequire };
  return mod.createRequire(import.meta.url);
}

interface NodeFs {
  readFileSync(path: URL, enc: 'utf8'): string;
  existsSync(path: URL): boolean;
  mkdirSync(path: URL, opts: { recursive: boolean }): void;
  writeFileSync(path: URL, data: string): void;
}

function nodeFs(): NodeFs | undefined {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.getBuiltinModule?.('node:fs') as NodeFs | undefined;
}

function buildFailure(): string | null {
  const fs = nodeFs();
  try {
    return fs ? fs.readFileSync(new URL(BUILD_ERROR_PATH, import.meta.url), 'utf8').trim() : null;
  } catch {
    return null;
  }
}

/**
 * Whether the "native backend not built" notice is still due for this install, marking it shown:
 * true once per install (the install step marks it when it could show it on the terminal), and
 * every time where the package directory is read-only. Internal: used by the backend chooser.
 */
export function claimFallbackNotice(): boolean {
  const fs = nodeFs();
  if (!fs) return true;
  const marker = new URL(NOTICE_PATH, import.meta.url);
  try {
    if (fs.existsSync(marker)) return false;
    fs.mkdirSync(new URL('.', marker), { recursive: true });
    fs.writeFileSync(marker, 'shown on first use\n');
  } catch {
    // a read-only install: the notice is shown every time
  }
  return true;
}

/**
 * Loads the native (N-API) backend that `npm install` built from native/ (C++ over oneDNN).
 * Never throws: returns the backend, or a one-line reason it is not available (addon not built
 * and why, shared library missing, not running in Node.js). Ops above about 0.3 MFLOP run on
 * all processors; `OMP_NUM_THREADS=n` or `DENDRITE_THREADS=n` in the environment caps that.
 *
 * @example
 * ```ts
 * const r = loadNative();
 * console.log('backend' in r ? 'native available' : `no native backend: ${r.error}`);
 * ```
 */
export function loadNative(): NativeLoad {
  const req = nodeRequire();
  if (typeof req === 'string') return { error: req };
  let addon: Addon;
  try {
    addon = req(ADDON_PATH) as Addon;
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    if ((e as { code?: string }).code === 'MODULE_NOT_FOUND') {
      const why = buildFailure();
      return {
        error: why
          ? `the native addon was not built at install time: ${why}; once that is fixed, run \`npm rebuild dendrite\``
          : `the native addon is not built (native/build/Release/dendrite_native.node is missing; ${REBUILD_HINT})`,
      };
    }
    return { error: `the native addon failed to load: ${msg}` };
  }
  if (typeof addon.unaryOps !== 'function') {
    return { error: `the native addon was built from older sources (it does not list its elementwise kernels); ${REBUILD_HINT}` };
  }
  const backend = makeBackend(addon);
  // DENDRITE_THREADS=n caps the team for big ops (like OMP_NUM_THREADS, which the addon also obeys)
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const t = Number(env?.DENDRITE_THREADS);
  if (Number.isInteger(t) && t >= 1) backend.setMaxThreads(Math.min(t, backend.info().procs));
  return { backend };
}

/** The highest rank the addon's strided kernels (permute, binary) take. */
const MAX_RANK = 16;

function makeBackend(m: Addon): NativeBackend {
  // [rank, shape…, then each further column: axes… (permute) or aStrides…, bStrides… (binary)]
  const geo = new Int32Array(1 + 3 * MAX_RANK);
  const strided = (kernel: string, shape: readonly number[], ...columns: (readonly number[])[]): Int32Array => {
    const nd = shape.length;
    if (nd > MAX_RANK) throw new ShapeError(`${kernel}: rank ${nd} exceeds the native limit of ${MAX_RANK}`);
    geo[0] = nd;
    [shape, ...columns].forEach((col, c) => {
      for (let d = 0; d < nd; d++) geo[1 + c * nd + d] = col[d];
    });
    return geo;
  };
  const conv = (g: ConvGeometry): number[] =>
    [g.n, g.c, g.h, g.w, g.k, g.kh, g.kw, g.sh, g.sw, g.padTop, g.padLeft, g.oh, g.ow];
  const pool = (g: PoolGeometry): number[] => [g.n, g.c, g.h, g.w, g.ph, g.pw, g.sh, g.sw, g.oh, g.ow];
  const unaryCode = unaryCodes(m.unaryOps(), 'native');
  const linear = unaryCode('linear');
  return {
    name: 'native',

    ...pooledAllocation,

    gemm(transA, transB, mm, n, k, alpha, a, b, beta, c) {
      m.gemm(transA, transB, mm, n, k, alpha, a, b, beta, c);
    },

    gemmBatched(transA, transB, mm, n, k, alpha, a, aOffsets, b, bOffsets, beta, c, cOffsets) {
      m.gemmBatched(transA, transB, mm, n, k, alpha, a, aOffsets, b, bOffsets, beta, c, cOffsets);
    },

    softmaxBackward(y, dy, rows, cols, dx) {
      m.softmaxBackward(y, dy, rows, cols, dx);
    },

    permute(x, shape, axes, out) {
      m.permute(x, out, strided('permute', shape, axes));
    },

    layerNorm(x, gamma, beta, rows, cols, eps, y, xhat, rstd) {
      m.layerNorm(x, gamma, beta, rows, cols, eps, y, xhat, rstd);
    },

    layerNormBackward(dy, xhat, rstd, gamma, rows, cols, dx) {
      m.layerNormBackward(dy, xhat, rstd, gamma, rows, cols, dx);
    },

    sgdUpdate: (w, g, velocity, lr, momentum, nesterov) => m.sgdUpdate(w, g, velocity, lr, momentum, nesterov),
    adamUpdate: (w, g, mt, v, lr, b1, b2, eps, c1, c2, keep) => m.adamUpdate(w, g, mt, v, lr, b1, b2, eps, c1, c2, keep),
    rmspropUpdate: (w, g, ms, mg, mom, lr, rho, mu, eps) => m.rmspropUpdate(w, g, ms, mg, mom, lr, rho, mu, eps),
    clipValue: (x, limit) => m.clipValue(x, limit),
    batchNormTrain: (x, gamma, beta, outer, C, inner, eps, y, xhat, mean, variance, invStd) =>
      m.batchNormTrain(x, gamma, beta, outer, C, inner, eps, y, xhat, mean, variance, invStd),
    batchNormInference: (x, mean, variance, gamma, beta, outer, C, inner, eps, y, xhat, invStd) =>
      m.batchNormInference(x, mean, variance, gamma, beta, outer, C, inner, eps, y, xhat, invStd),
    batchNormBackward: (training, dy, xhat, invStd, gamma, outer, C, inner, dx, dGamma, dBeta) =>
      m.batchNormBackward(training, dy, xhat, invStd, gamma, outer, C, inner, dx, dGamma, dBeta),
    movingAverage: (avg, x, momentum) => m.movingAverage(avg, x, momentum),
    lossValue: (kind, pred, target) => m.lossValue(LOSS_CODE[kind], pred, target),
    lossGrad: (kind, pred, target, scale, dx) => m.lossGrad(LOSS_CODE[kind], pred, target, scale, dx),
    copyRuns: (src, srcOffset, srcStrides, dst, dstOffset, dstStrides, counts, len) =>
      m.copyRuns(src, dst, runGeometry(srcOffset, srcStrides, dstOffset, dstStrides, counts, len)),

    unary(op, x, out, param) {
      m.unary(unaryCode(op), x, out, param);
    },

    unaryGrad(op, x, y, dy, dx, param, accumulate) {
      m.unaryGrad(unaryCode(op), x, y, dy, dx, param, accumulate);
    },

    binary(op, a, aStrides, b, bStrides, out, shape) {
      m.binary(BINARY_CODE[op], a, b, out, strided('binary', shape, aStrides, bStrides));
    },

    axpy(n, alpha, b, a, out) {
      m.axpy(n, alpha, b, a, out);
    },

    scale(x, s, out) {
      m.scale(x, s, out);
    },

    fill(out, v) {
      m.fill(out, v);
    },

    sumAxis(x, outer, axis, inner, out, accumulate) {
      m.sumAxis(x, outer, axis, inner, out, accumulate);
    },

    addBroadcast(x, y, outer, axis, inner, out) {
      m.addBroadcast(x, y, outer, axis, inner, out);
    },

    softmax(x, rows, cols, out) {
      m.softmax(x, rows, cols, out);
    },

    softmaxCrossEntropy(logits, targets, rows, cols, probs) {
      return m.softmaxCrossEntropy(logits, targets, rows, cols, probs);
    },

    sum(x) {
      return m.sum(x);
    },

    sumSquares(x) {
      return m.sumSquares(x);
    },

    allFinite(x) {
      return m.allFinite(x);
    },

    conv2d(g, x, w, bias, y) {
      m.conv2d(x, w, y, bias, linear, 0, ...conv(g));
    },

    conv2dAct(g, x, w, bias, y, op, param) {
      m.conv2d(x, w, y, bias, unaryCode(op), param, ...conv(g));
    },

    conv2dBackwardData(g, dy, w, dx) {
      m.conv2dBackwardData(dy, w, dx, ...conv(g));
    },

    conv2dBackwardFilter(g, x, dy, dw, db) {
      m.conv2dBackwardFilter(x, dy, dw, db, ...conv(g));
    },

    maxPool(g, x, y, argmax) {
      m.maxPool(x, y, argmax, ...pool(g));
    },

    convPool: {
      plan(g, p, bias, op, param) {
        const r = m.convPoolPlan(bias, unaryCode(op), param, ...conv(g), ...pool(p));
        return r && { aSize: r[1], xSize: r[2], idxSize: r[3] };
      },
      forward(g, p, max, x, w, bias, op, param, y, a, idx, xb) {
        m.convPoolForward(x, w, bias, y, a, idx, xb, max, unaryCode(op), param, ...conv(g), ...pool(p));
      },
      backward(g, p, max, op, param, dy, a, idx, xin, w, dz, dx, dw, db) {
        m.convPoolBackward(dy, a, idx, xin, w, dz, dx, dw, db, max, unaryCode(op), param, ...conv(g), ...pool(p));
      },
    },

    maxPoolBackward(g, dy, argmax, dx) {
      m.maxPoolBackward(dy, argmax, dx, ...pool(g));
    },

    avgPool(g, x, y) {
      m.avgPool(x, y, ...pool(g));
    },

    avgPoolBackward(g, dy, dx) {
      m.avgPoolBackward(dy, dx, ...pool(g));
    },

    lstmCell(B, H, pre, cPrev, gates, c, h) {
      m.lstmCell(B, H, pre, cPrev, gates, c, h);
    },

    lstmCellBackward(B, H, gates, cPrev, c, dh, dc, dPre, dcPrev) {
      m.lstmCellBackward(B, H, gates, cPrev, c, dh, dc, dPre, dcPrev);
    },

    gruGates(B, H, pre, h, gates, resetHidden) {
      m.gruGates(B, H, pre, h, gates, resetHidden);
    },

    gruState(B, H, gates, hPrev, preCandidate, candidate, h) {
      m.gruState(B, H, gates, hPrev, preCandidate, candidate, h);
    },

    gruStateBackward(B, H, gates, hPrev, candidate, dh, dhPrev, dPreCandidate, dPreGates) {
      m.gruStateBackward(B, H, gates, hPrev, candidate, dh, dhPrev, dPreCandidate, dPreGates);
    },

    gruGatesBackward(B, H, gates, h, dResetHidden, dPreGates, dh) {
      m.gruGatesBackward(B, H, gates, h, dResetHidden, dPreGates, dh);
    },

    gatherRows(src, cols, index, out) {
      return m.gatherRows(src, cols, index, out);
    },

    scatterAddRows(src, cols, index, out) {
      m.scatterAddRows(src, cols, index, out);
    },

    argmaxRows(x, rows, cols, out) {
      m.argmaxRows(x, rows, cols, out);
    },

    nonzeroIndices(x, out) {
      return m.nonzeroIndices(x, out);
    },

    optimizerStep: (rule, hyper, buffers) => m.optimizerStep(STEP_RULE_CODE[rule], hyper, buffers),
    countMatchingRows: (a, b, rows, cols) => m.countMatchingRows(a, b, rows, cols),

    setMaxThreads(n) {
      m.setMaxThreads(n);
    },

    maxThreads() {
      return m.getMaxThreads();
    },

    info() {
      return m.info();
    },

    convCacheSize() {
      return m.convCacheSize();
    },

    affineAct(rows, units, inputs, x, w, b, op, param, out, z) {
      m.affineAct(rows, units, inputs, x, w, b, unaryCode(op), param, out, z);
    },
  };
}
