import { ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { shapeSize } from '../tensor/tensor.js';
import { be, record, wants } from './graph.js';
import { broadcastShape, reduceTo } from './elementwise.js';
import { reshape } from './shape.js';

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** Use aᵀ (a stored [k, m]). */
  transA?: boolean;
  /** Use bᵀ (b stored [n, k]). */
  transB?: boolean;
  /** A factor on the product, C = alpha·op(a)·op(b), folded into the GEMM (default 1). */
  alpha?: number;
}

/**
 * Matrix product C = op(a)·op(b), optionally transposing either operand's last two dimensions.
 * Two 2-D tensors give one GEMM; tensors of rank ≥ 2 are batches of matrices over their leading
 * dimensions, which broadcast as in elementwise ops (`[B, H, T, d] · [B, H, d, T]`, or
 * `[B, T, F] · [F, U]` with one weight for every batch). Backward: ∂a = g·op(b)ᵀ, ∂b = op(a)ᵀ·g per
 * matrix (transpositions folded into the GEMM flags), summed over the dimensions an operand was
 * broadcast along.
 *
 * @example
 * ```ts
 * matmul(tensor([[1, 2]]), tensor([[3], [4]])).item(); // 11
 * matmul(zeros([2, 4, 3, 5]), zeros([5, 6])).shape;    // [2, 4, 3, 6]
 * matmul(tensor([[1, 2]]), tensor([[3], [4]]), { alpha: 0.5 }).item(); // 5.5
 * ```
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const ta = opts.transA ?? false;
  const tb = opts.transB ?? false;
  const alpha = opts.alpha ?? 1;
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError(`matmul expects tensors of rank ≥ 2 (matrices or batches of them), received ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const ra = a.shape.length - 2;
  const rb = b.shape.length - 2;
  const m = ta ? a.shape[ra + 1] : a.shape[ra];
  const k = ta ? a.shape[ra] : a.shape[ra + 1];
  const k2 = tb ? b.shape[rb + 1] : b.shape[rb];
  const n = tb ? b.shape[rb] : b.shape[rb + 1];
  if (k !== k2) {
    throw new ShapeError(`matmul inner dimensions differ: ${fmtShape(a.shape)}${ta ? 'ᵀ' : ''} · ${fmtShape(b.shape)}${tb ? 'ᵀ' : ''}`);
  }
  if (a.rank === 2 && b.rank === 2) return matmul2d(a, b, ta, tb, m, n, k, alpha);
  // one weight matrix for every row of a batch: a single GEMM over the stacked rows
  if (b.rank === 2 && !ta) {
    const rows = a.size / k;
    const flat = matmul2d(reshape(a, [rows, k]), b, false, tb, rows, n, k, alpha);
    return reshape(flat, [...a.shape.slice(0, ra + 1), n]);
  }
  return matmulBatched(a, b, ta, tb, m, n, k, alpha);
}

function matmul2d(a: Tensor, b: Tensor, ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number): Tensor {
  const B = be();
  const out = B.allocUninit(m * n);
  B.gemm(ta, tb, m, n, k, alpha, a.data, b.data, 0, out);
  return record('matmul', out, [m, n], [a, b], (g) => {
    let ga: Float32Array | null = null;
    let gb: Float32Array | null = null;
    if (wants(a)) {
      ga = B.allocUninit(a.size);
      // a plain: ga[m,k] = g[m,n]·op(b)ᵀ ; a transposed: ga[k,m] = op(b)·gᵀ
      if (!ta) B.gemm(false, !tb, m, k, n, alpha, g, b.data, 0, ga);
      else B.gemm(tb, true, k, m, n, alpha, b.data, g, 0, ga);
    }
    if (wants(b)) {
      gb = B.allocUninit(b.size);
      // b plain: gb[k,n] = op(a)ᵀ·g ; b transposed: gb[n,k] = gᵀ·op(a)
      if (!tb) B.gemm(!ta, false, k, n, m, alpha, a.data, g, 0, gb);
      else B.gemm(true, ta, n, k, m, alpha, g, a.data, 0, gb);
    }
    return [ga, gb];
  });
}

/** Element offset of each matrix of `shape` (rank ≥ 2) for every matrix of the broadcast batch. */
function batchOffsets(shape: readonly number[], batch: readonly number[]): Int32Array {
  const own = shape.slice(0, shape.length - 2);
  const mat = shape[shape.length - 2] * shape[shape.length - 1];
  const count = shapeSize(batch);
  const strides = new Array<number>(batch.length).fill(0);
  let s = mat;
  for (let i = own.length - 1; i >= 0; i--) {
    const d = batch.length - own.length + i;
    strides[d] = own[i] === 1 && batch[d] !== 1 ? 0 : s;
    s *= own[i];
  }
  return Int32Array.from({ length: count }, (_, i) => {
    let rest = i;
    let o = 0;
    for (let d = batch.length - 1; d >= 0; d--) {
      o += (rest % batch[d]) * strides[d];
      rest = Math.floor(rest / batch[d]);
    }
    return o;
  });
}

function contiguousOffsets(count: number, mat: number): Int32Array {
  return Int32Array.from({ length: count }, (_, i) => i * mat);
}

function matmulBatched(a: Tensor, b: Tensor, ta: boolean, tb: boolean, m: number, n: number, k: number, alpha: number): Tensor {
  const batch = broadcastShape('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const count = shapeSize(batch);
  const aOff = batchOffsets(a.shape, batch);
  const bOff = batchOffsets(b.shape, batch);
  const outOff = contiguousOffsets(count, m * n);
  const B = be();
  const out = B.allocUninit(count * m * n);
  B.gemmBatched(ta, tb, m, n, k, alpha, a.data, aOff, b.data, bOff, 0, out, outOff);
  return record('matmul', out, [...batch, m, n], [a, b], (g) => {
    let ga: Float32Array | null = null;
    let gb: Float32Array | null = null;
    if (wants(a)) {
      // per matrix as in the 2-D case, into one matrix per batch entry, then summed over broadcasts
      const full = B.allocUninit(count * m * k);
      const off = contiguousOffsets(count, m * k);
      if (!ta) B.gemmBatched(false, !tb, m, k, n, alpha, g, outOff, b.data, bOff, 0, full, off);
      else B.gemmBatched(tb, true, k, m, n, alpha, b.data, bOff, g, outOff, 0, full, off);
      ga = reduceTo(full, [...batch, ...a.shape.slice(-2)], a.shape);
    }
    if (wants(b)) {
      const full = B.allocUninit(count * k * n);
      const off = contiguousOffsets(count, k * n);
      if (!tb) B.gemmBatched(!ta, false, k, n, m, alpha, a.data, aOff, g, outOff, 0, full, off);
      else B.gemmBatched(true, ta, n, k, m, alpha, g, outOff, a.data, aOff, 0, full, off);
      gb = reduceTo(full, [...batch, ...b.shape.slice(-2)], b.shape);
    }
    return [ga, gb];
  });
}

/**
 * The dense layer's affine map in one op: z = x·Wᵀ + b, with x [batch, in], W [out, in], b [out]
 * (b may be null). Backward: ∂x = g·W, ∂W = gᵀ·x, ∂b = Σ_rows g.
 *
 * @example
 * ```ts
 * affine(tensor([[1, 1]]), tensor([[1, 2], [3, 4]]), tensor([0.5, 0])).toArray(); // [[3.5, 7]]
 * ```
 */
export function affine(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  const [rows, inp, outF] = affineShape('affine', x, w, b);
  const B = be();
  const out = B.allocUninit(rows * outF);
  B.gemm(false, true, rows, outF, inp, 1, x.data, w.data, 0, out);
  if (b) B.addBroadcast(out, b.data, 1, rows, outF, out);
  return record('affine', out, [rows, outF], b ? [x, w, b] : [x, w], (g) => affineGrads(x, w, b, g));
}

/**
 * The sizes [rows, in, out] of z = x·Wᵀ + b (x [rows, in], W [out, in], b [out] or null), or a
 * ShapeError naming `op`. Shared by {@link affine} and the fused `affineAct`.
 */
export function affineShape(op: string, x: Tensor, w: Tensor, b: Tensor | null): [number, number, number] {
  if (x.rank !== 2 || w.rank !== 2 || x.shape[1] !== w.shape[1]) {
    throw new ShapeError(`${op} expects x [*, ${w.shape[1]}] for weight ${fmtShape(w.shape)}, received ${fmtShape(x.shape)}`);
  }
  const outF = w.shape[0];
  if (b && (b.rank !== 1 || b.shape[0] !== outF)) {
    throw new ShapeError(`${op} expects bias [${outF}], received ${fmtShape(b.shape)}`);
  }
  return [x.shape[0], x.shape[1], outF];
}

/**
 * Gradients of z = x·Wᵀ + b from δ = ∂E/∂z (null where a parent wants none): ∂x = δ·W,
 * ∂W = δᵀ·x, ∂b = Σ_rows δ. The backward of {@link affine} and of the fused `affineAct`.
 */
export function affineGrads(x: Tensor, w: Tensor, b: Tensor | null, delta: Float32Array): (Float32Array | null)[] {
  const B = be();
  const [rows, inp] = x.shape;
  const outF = w.shape[0];
  let gx: Float32Array | null = null;
  let gw: Float32Array | null = null;
  let gb: Float32Array | null = null;
  if (wants(x)) {
    gx = B.allocUninit(x.size);
    B.gemm(false, false, rows, inp, outF, 1, delta, w.data, 0, gx);
  }
  if (wants(w)) {
    gw = B.allocUninit(w.size);
    B.gemm(true, false, outF, inp, rows, 1, delta, x.data, 0, gw);
  }
  if (b && wants(b)) {
    gb = B.allocUninit(outF);
    B.sumAxis(delta, 1, rows, outF, gb, false);
  }
  return b ? [gx, gw, gb] : [gx, gw];
}
