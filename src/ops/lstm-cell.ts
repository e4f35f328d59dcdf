import { ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { affine } from './matmul.js';
import { add, mul } from './elementwise.js';
import { logistic, tanh } from './activations.js';
import { concat } from './shape.js';
import { checkLstmWeights } from './lstm.js';
import type { LstmWeights } from './lstm.js';

/**
 * One LSTM step built from elementary ops, every intermediate named as in the lecture, so the
 * backward pass of eq 124–144 can be followed value by value: call `retainGrad()` on the
 * intermediates of interest, backpropagate, and read their `.grad`. (The `lstm` op computes the
 * same thing fused; this form is for teaching, tests and custom cells.) x [B, I], hPrev/cPrev [B, H].
 *
 * @example
 * ```ts
 * const s = lstmCellStep(x, h, c, weights);
 * s.f.retainGrad(); s.zf.retainGrad();
 * add(sum(s.h), sum(s.c)).backward();
 * s.zf.grad; // δ_f (eq 133)
 * ```
 */
export function lstmCellStep(x: Tensor, hPrev: Tensor, cPrev: Tensor, w: LstmWeights): LstmCellTrace {
  const H = w.Wf.shape[0];
  if (x.rank !== 2 || hPrev.rank !== 2 || cPrev.rank !== 2 || hPrev.shape[1] !== H || cPrev.shape[1] !== H) {
    throw new ShapeError(`lstmCellStep expects x [B, I], h and c [B, ${H}], received ${fmtShape(x.shape)}, ${fmtShape(hPrev.shape)}, ${fmtShape(cPrev.shape)}`);
  }
  checkLstmWeights('lstmCellStep', w, H, x.shape[1]);
  const hx = concat([hPrev, x], 1);
  const zf = affine(hx, w.Wf, w.bf);
  const f = logistic(zf);
  const cDagger = mul(cPrev, f);
  const zi = affine(hx, w.Wi, w.bi);
  const iDagger = logistic(zi);
  const zc = affine(hx, w.Wc, w.bc);
  const iDDagger = tanh(zc);
  const i = mul(iDagger, iDDagger);
  const c = add(cDagger, i);
  const zo = affine(hx, w.Wo, w.bo);
  const oDagger = logistic(zo);
  const oDDagger = tanh(c);
  const h = mul(oDagger, oDDagger);
  return { hx, zf, f, cDagger, zi, iDagger, zc, iDDagger, i, c, zo, oDagger, oDDagger, h };
}

/** Every intermediate of {@link lstmCellStep}, named as in the lecture (eq 112–123). */
export interface LstmCellTrace {
  /** [h_{t−1}; x_t]. */
  hx: Tensor;
  /** Forget gate weighted sum and activation f_t (eq 112). */
  zf: Tensor; f: Tensor;
  /** c†_t = c_{t−1} ⊙ f_t (eq 113). */
  cDagger: Tensor;
  /** Input gate: z and sigmoid i†_t (eq 116), z and tanh i‡_t (eq 117), i_t = i† ⊙ i‡ (eq 118). */
  zi: Tensor; iDagger: Tensor; zc: Tensor; iDDagger: Tensor; i: Tensor;
  /** c_t = c†_t + i_t (eq 119). */
  c: Tensor;
  /** Output gate: z and o†_t (eq 120), o‡_t = tanh(c_t) (eq 121). */
  zo: Tensor; oDagger: Tensor; oDDagger: Tensor;
  /** o_t = h_t = o† ⊙ o‡ (eq 122–123). */
  h: Tensor;
}
