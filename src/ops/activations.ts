import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { be, record } from './graph.js';
import { add, mul, rowOp, sub, unaryOp } from './elementwise.js';
import { permute, reshape } from './shape.js';
import { checkOneOf } from '../validate.js';
import { UNARY_OPS, unaryRow } from '../backend/unary.js';
import type { UnaryActivation } from '../backend/unary.js';

/**
 * Logistic sigmoid φ(z) = 1 / (1 + e^−z) (eq 14); φ' = φ(1 − φ) (eq 15).
 * @example `logistic(tensor([0])).item() // 0.5`
 */
export const logistic = rowOp('logistic');

/**
 * Hyperbolic tangent; φ' = 1 − φ².
 * @example `tanh(tensor([0])).item() // 0`
 */
export const tanh = rowOp('tanh');

/**
 * Rectified linear unit max(0, z); derivative 1 for z > 0 and 0 for z ≤ 0 (the lecture's choice at 0).
 * @example `relu(tensor([-1, 2])).toArray() // [0, 2]`
 */
export const relu = rowOp('relu');

/**
 * GELU, the Gaussian error linear unit of Transformers, in its exact form (PyTorch's default):
 * x·Φ(x) with Φ the standard normal distribution function; φ' = Φ(x) + x·φ(x) (φ the normal density).
 * @example `gelu(tensor([0, 1])).toArray() // [0, 0.8413]`
 */
export const gelu = rowOp('gelu');

/**
 * Leaky ReLU: z for z > 0, slope·z otherwise (default slope 0.01).
 * @example `leakyRelu(tensor([-1])).item() // -0.01`
 */
export function leakyRelu(z: Tensor, slope = 0.01): Tensor {
  return unaryOp('leakyRelu', z, slope);
}

/**
 * The identity activation of a linear neuron.
 * @example `identity(tensor([3])).item() // 3`
 */
export const identity = rowOp('linear');

/**
 * McCulloch–Pitts threshold unit: 1 if z ≥ θ, else 0 (eq 3). Forward only: its derivative is zero
 * almost everywhere, so backpropagating through it throws a `ConfigError`.
 * @example `threshold(tensor([0.2, 0.7]), 0.5).toArray() // [0, 1]`
 */
export function threshold(z: Tensor, theta = 0): Tensor {
  return unaryOp('threshold', z, theta);
}

/**
 * Parametric ReLU (eq 53–57): z for z > 0, λ·z otherwise, with a learned slope per neuron or per
 * filter: `lambda` holds one slope per entry of z's axis `axis` (default −1, the neurons of a
 * dense layer; 1 for the filters of a convolution, shared by every position of a feature map).
 * Composed from existing ops as a = relu(z) + λ ⊙ (z − relu(z)): exact forward values, and
 * ∂a/∂z = 1 or λ (λ at z = 0, like the leaky ReLU), ∂a/∂λ = z for z ≤ 0, else 0 (eq 56).
 *
 * @example
 * ```ts
 * prelu(tensor([[-2, 3]]), tensor([0.25, 0.25])).toArray(); // [[-0.5, 3]]
 * prelu(tensor([[[-2], [-2]]]), tensor([0.5, 0.25]), 1).toArray(); // [[[-1], [-0.5]]]
 * ```
 */
export function prelu(z: Tensor, lambda: Tensor, axis = -1): Tensor {
  const r = relu(z);
  return add(r, mul(slopesAlong(z, lambda, axis), sub(z, r)));
}

/**
 * PReLU's slopes λ (one per entry of z's axis `axis`) shaped to broadcast against z; a
 * ShapeError when the axis does not exist or λ has another length.
 *
 * @example
 * ```ts
 * slopesAlong(zeros([2, 3, 4, 4]), tensor([1, 2, 3]), 1).shape; // [3, 1, 1]
 * ```
 */
export function slopesAlong(z: Tensor, lambda: Tensor, axis: number): Tensor {
  const ax = axis < 0 ? axis + z.rank : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= z.rank) {
    throw new ShapeError(`prelu: axis ${axis} does not exist in ${fmtShape(z.shape)}`);
  }
  const units = z.shape[ax];
  if (lambda.rank !== 1 || lambda.shape[0] !== units) {
    throw new ShapeError(`prelu expects a slope per neuron [${units}], received ${fmtShape(lambda.shape)}`);
  }
  return ax === z.rank - 1 ? lambda : reshape(lambda, [units, ...new Array<number>(z.rank - 1 - ax).fill(1)]);
}

/** Options of {@link softmax}. */
export interface SoftmaxOptions {
  /** The axis the probabilities sum to 1 along (default −1, the last). */
  axis?: number;
  /**
   * Added to the logits before the softmax, broadcasting like `add` (e.g. `[T, S]` or
   * `[B, 1, 1, S]` against attention scores `[B, H, T, S]`): 0 keeps a position, −∞ (or a large
   * negative number) removes it. A row with every position removed comes out NaN.
   */
  mask?: Tensor;
}

/**
 * Softmax along an axis (default the last), computed stably (max subtracted), after adding an
 * optional additive mask. Backward: ∂z = a ⊙ (g − Σ g⊙a) along the axis (the mask, a constant,
 * receives its gradient like any addend when it requires one).
 *
 * @example
 * ```ts
 * softmax(tensor([[1.5, -0.9, 0.6]])).toArray(); // [[0.6679, 0.0606, 0.2715]] (Table 15)
 * softmax(tensor([[1, 2], [3, 4]]), { axis: 0 }).toArray(); // columns sum to 1
 * softmax(tensor([[1, 2]]), { mask: tensor([[0, -Infinity]]) }).toArray(); // [[1, 0]]
 * ```
 */
export function softmax(z: Tensor, opts: SoftmaxOptions = {}): Tensor {
  const r = z.rank;
  const axis = opts.axis ?? -1;
  const a = axis < 0 ? axis + r : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(r, 1)) {
    throw new ShapeError(`softmax: axis ${axis} does not exist in ${fmtShape(z.shape)}`);
  }
  const x = opts.mask ? add(z, opts.mask) : z;
  if (opts.mask && x.size !== z.size) {
    throw new ShapeError(`softmax: the mask ${fmtShape(opts.mask.shape)} must broadcast to the logits ${fmtShape(z.shape)}, not enlarge them`);
  }
  if (r === 0 || a === r - 1) return softmaxLast(x);
  // move the axis last, normalise, move it back
  const axes = x.shape.map((_, i) => i).filter((i) => i !== a).concat([a]);
  const back = new Array<number>(r);
  axes.forEach((d, i) => { back[d] = i; });
  return permute(softmaxLast(permute(x, axes)), back);
}

function softmaxLast(z: Tensor): Tensor {
  const cols = z.rank === 0 ? 1 : z.shape[z.rank - 1];
  const rows = cols === 0 ? 0 : z.size / cols;
  const B = be();
  const out = B.allocUninit(z.size);
  B.softmax(z.data, rows, cols, out);
  return record('softmax', out, z.shape, [z], (g) => {
    const dz = B.allocUninit(z.size);
    B.softmaxBackward(out, g, rows, cols, dz);
    return [dz];
  });
}

/**
 * Names of the activation functions that layers accept: the rows of `backend/unary.ts` marked
 * `activation`, `sigmoid` (logistic's other name), and the two that are not one elementwise
 * kernel: `prelu` (learned slopes) and `softmax` (a row function).
 *
 * @example
 * ```ts
 * const a: ActivationName = 'leakyRelu';
 * ```
 */
export type ActivationName = UnaryActivation | 'sigmoid' | 'prelu' | 'softmax';

/** Every accepted activation name (for validation messages), derived from the kernel table. @example `ACTIVATION_NAMES.includes('gelu') // true` */
export const ACTIVATION_NAMES: readonly ActivationName[] = [
  ...UNARY_OPS.filter((op): op is UnaryActivation => unaryRow(op).activation)
    .flatMap((op): ActivationName[] => (op === 'logistic' ? [op, 'sigmoid'] : [op])),
  'prelu', 'softmax',
];

/**
 * Throws a `ConfigError` naming `where` unless `name` is a known activation.
 * @example `checkActivation('relu', 'dense_1.activation') // 'relu'`
 */
export function checkActivation(name: unknown, where: string): ActivationName {
  return checkOneOf(name, ACTIVATION_NAMES, where);
}

/**
 * How the exporters write an elementwise activation as one call: its PyTorch expression of `x`
 * and ONNX operator, from its row of the kernel table; a `ConfigError` when it has none.
 *
 * @example
 * ```ts
 * activationExport('sigmoid'); // { torch: 'torch.sigmoid(x)', onnx: 'Sigmoid' }
 * ```
 */
export function activationExport(name: ActivationName): { readonly torch: string; readonly onnx?: string } {
  const op = name === 'sigmoid' ? 'logistic' : name;
  const e = op === 'prelu' || op === 'softmax' ? undefined : unaryRow(op).export;
  if (!e) throw new ConfigError(`export: the ${name} activation has no one-call equivalent`);
  return e;
}
