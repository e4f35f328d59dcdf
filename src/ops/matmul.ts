import { ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { be, record, wants } from './graph.js';

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** Use aᵀ (a stored [k, m]). */
  transA?: boolean;
  /** Use bᵀ (b stored [n, k]). */
  transB?: boolean;
}

/**
 * Matrix product of two 2-D tensors, optionally transposing either: C = op(a)·op(b).
 * Backward: ∂a = g·op(b)ᵀ, ∂b = op(a)ᵀ·g (with the transpositions folded into the GEMM flags).
 *
 * @example
 * ```ts
 * matmul(tensor([[1, 2]]), tensor([[3], [4]])).item(); // 11
 * ```
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const ta = opts.transA ?? false;
  const tb = opts.transB ?? false;
  if (a.rank !== 2 || b.rank !== 2) {
    throw new ShapeError(`matmul expects two 2-D tensors, received ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const m = ta ? a.shape[1] : a.shape[0];
  const k = ta ? a.shape[0] : a.shape[1];
  const k2 = tb ? b.shape[1] : b.shape[0];
  const n = tb ? b.shape[0] : b.shape[1];
  if (k !== k2) {
    throw new ShapeError(`matmul inner dimensions differ: ${fmtShape(a.shape)}${ta ? 'ᵀ' : ''} · ${fmtShape(b.shape)}${tb ? 'ᵀ' : ''}`);
  }
  const B = be();
  const out = B.alloc(m * n);
  B.gemm(ta, tb, m, n, k, 1, a.data, b.data, 0, out);
  return record('matmul', out, [m, n], [a, b], (g) => {
    let ga: Float32Array | null = null;
    let gb: Float32Array | null = null;
    if (wants(a)) {
      ga = B.alloc(a.size);
      // a plain: ga[m,k] = g[m,n]·op(b)ᵀ ; a transposed: ga[k,m] = op(b)·gᵀ
      if (!ta) B.gemm(false, !tb, m, k, n, 1, g, b.data, 0, ga);
      else B.gemm(tb, true, k, m, n, 1, b.data, g, 0, ga);
    }
    if (wants(b)) {
      gb = B.alloc(b.size);
      // b plain: gb[k,n] = op(a)ᵀ·g ; b transposed: gb[n,k] = gᵀ·op(a)
      if (!tb) B.gemm(!ta, false, k, n, m, 1, a.data, g, 0, gb);
      else B.gemm(true, ta, n, k, m, 1, g, a.data, 0, gb);
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
  if (x.rank !== 2 || w.rank !== 2 || x.shape[1] !== w.shape[1]) {
    throw new ShapeError(`affine expects x [*, ${w.shape[1]}] for weight ${fmtShape(w.shape)}, received ${fmtShape(x.shape)}`);
  }
  const [rows, inp] = x.shape;
  const outF = w.shape[0];
  if (b && (b.rank !== 1 || b.shape[0] !== outF)) {
    throw new ShapeError(`affine expects bias [${outF}], received ${fmtShape(b.shape)}`);
  }
  const B = be();
  const out = B.alloc(rows * outF);
  B.gemm(false, true, rows, outF, inp, 1, x.data, w.data, 0, out);
  if (b) B.addBroadcast(out, b.data, 1, rows, outF, out);
  const parents = b ? [x, w, b] : [x, w];
  return record('affine', out, [rows, outF], parents, (g) => {
    let gx: Float32Array | null = null;
    let gw: Float32Array | null = null;
    let gb: Float32Array | null = null;
    if (wants(x)) {
      gx = B.alloc(x.size);
      B.gemm(false, false, rows, inp, outF, 1, g, w.data, 0, gx);
    }
    if (wants(w)) {
      gw = B.alloc(w.size);
      B.gemm(true, false, outF, inp, rows, 1, g, x.data, 0, gw);
    }
    if (b && wants(b)) {
      gb = B.alloc(outF);
      B.sumAxis(g, 1, rows, outF, gb, false);
    }
    return b ? [gx, gw, gb] : [gx, gw];
  });
}
