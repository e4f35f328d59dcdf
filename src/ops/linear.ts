import { ConfigError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { isGradEnabled } from '../tensor/tensor.js';
import { derivativeFromOutput, unaryRow } from '../backend/unary.js';
import type { UnaryOp } from '../backend/unary.js';
import { be, record, releaseScratch } from './graph.js';
import { affineGrads, affineShape } from './matmul.js';

/**
 * A dense layer's forward pass as one op and one kernel: a = φ(x·Wᵀ + b), with x [batch, in],
 * W [out, in] (row j holds neuron j's weights), b [out] (or null) and φ an elementwise row of
 * `backend/unary.ts` (`'relu'`, `'logistic'`, `'tanh'`, `'leakyRelu'` with its slope as `param`,
 * …). The same values as `unaryOp(op, affine(x, W, b), param)` without the intermediate tensor z.
 * Backward: δ = g ⊙ φ'(z) — from a alone for linear, logistic, tanh and the rectifiers, else from a
 * copy of z the kernel writes while recording — then ∂x = δ·W, ∂W = δᵀ·x, ∂b = Σ_rows δ.
 *
 * @example
 * ```ts
 * affineAct(tensor([[1, 1]]), tensor([[1, 2], [-3, -4]]), tensor([0.5, 0]), 'relu').toArray(); // [[3.5, 0]]
 * ```
 */
export function affineAct(x: Tensor, w: Tensor, b: Tensor | null, op: UnaryOp, param = 0): Tensor {
  const [rows, inp, outF] = affineShape('affineAct', x, w, b);
  const B = be();
  const out = B.allocUninit(rows * outF);
  const recording = isGradEnabled() && (x.requiresGrad || w.requiresGrad || (b !== null && b.requiresGrad));
  const z = recording && !derivativeFromOutput(op, param) ? B.allocUninit(rows * outF) : null;
  B.affineAct(rows, outF, inp, x.data, w.data, b ? b.data : null, op, param, out, z);
  return record('affineAct', out, [rows, outF], b ? [x, w, b] : [x, w], (g) => {
    if (op === 'linear') return affineGrads(x, w, b, g);
    if (unaryRow(op).differentiable === false) {
      throw new ConfigError(`the ${op} activation has no gradient (its derivative is 0 everywhere it exists), so a network with ${op} units cannot be trained by backpropagation`);
    }
    const dz = B.allocUninit(out.length);
    B.unaryGrad(op, z ?? out, out, g, dz, param, false);
    const grads = affineGrads(x, w, b, dz);
    releaseScratch(dz);
    return grads;
  }, z ? [z] : undefined);
}
