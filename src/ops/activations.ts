import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { be, record, wants } from './graph.js';
import { add, unaryOp } from './elementwise.js';
import { permute } from './shape.js';

/**
 * Logistic sigmoid φ(z) = 1 / (1 + e^−z); φ' = φ(1 − φ).
 * @example `logistic(tensor([0])).item() // 0.5`
 */
export function logistic(z: Tensor): Tensor {
  return unaryOp('logistic', z);
}

/**
 * Hyperbolic tangent; φ' = 1 − φ².
 * @example `tanh(tensor([0])).item() // 0`
 */
export function tanh(z: Tensor): Tensor {
  return unaryOp('tanh', z);
}

/**
 * Rectified linear unit max(0, z); derivative 1 for z > 0 and 0 for z ≤ 0 (the lecture's choice at 0).
 * @example `relu(tensor([-1, 2])).toArray() // [0, 2]`
 */
export function relu(z: Tensor): Tensor {
  return unaryOp('relu', z);
}

/**
 * GELU, the Gaussian error linear unit of Transformers, in its exact form (PyTorch's default):
 * x·Φ(x) with Φ the standard normal distribution function; φ' = Φ(x) + x·φ(x) (φ the normal density).
 * @example `gelu(tensor([0, 1])).toArray() // [0, 0.8413]`
 */
export function gelu(z: Tensor): Tensor {
  return unaryOp('gelu', z);
}

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
export function identity(z: Tensor): Tensor {
  return unaryOp('linear', z);
}

/**
 * McCulloch–Pitts threshold unit: 1 if z ≥ θ, else 0. Forward only: its derivative is zero
 * almost everywhere, so backpropagating through it throws a `ConfigError`.
 * @example `threshold(tensor([0.2, 0.7]), 0.5).toArray() // [0, 1]`
 */
export function threshold(z: Tensor, theta = 0): Tensor {
  const B = be();
  const out = B.alloc(z.size);
  B.unary('threshold', z.data, out, theta);
  return record('threshold', out, z.shape, [z], () => {
    throw new ConfigError('the threshold activation has no gradient (its derivative is 0 everywhere it exists), so a network with threshold units cannot be trained by backpropagation; use "logistic", "tanh" or "relu" for trainable layers');
  });
}

/**
 * Parametric ReLU (eq 53–57): z for z > 0, λ_j·z otherwise, with a learned slope λ per neuron
 * (`lambda` has the size of z's last dimension). ∂a/∂λ_j = z for z ≤ 0, else 0.
 *
 * @example
 * ```ts
 * prelu(tensor([[-2, 3]]), tensor([0.25, 0.25])).toArray(); // [[-0.5, 3]]
 * ```
 */
export function prelu(z: Tensor, lambda: Tensor): Tensor {
  const units = z.shape[z.rank - 1];
  if (lambda.rank !== 1 || lambda.shape[0] !== units) {
    throw new ShapeError(`prelu expects a slope per neuron [${units}], received ${fmtShape(lambda.shape)}`);
  }
  const B = be();
  const out = B.alloc(z.size);
  const zd = z.data;
  const ld = lambda.data;
  for (let i = 0; i < zd.length; i++) {
    const v = zd[i];
    out[i] = v > 0 ? v : ld[i % units] * v;
  }
  return record('prelu', out, z.shape, [z, lambda], (g) => {
    let gz: Float32Array | null = null;
    let gl: Float32Array | null = null;
    if (wants(z)) {
      gz = B.alloc(z.size);
      for (let i = 0; i < zd.length; i++) gz[i] = zd[i] > 0 ? g[i] : g[i] * ld[i % units];
    }
    if (wants(lambda)) {
      gl = B.alloc(units);
      for (let i = 0; i < zd.length; i++) if (zd[i] <= 0) gl[i % units] += g[i] * zd[i];
    }
    return [gz, gl];
  });
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
  const out = B.alloc(z.size);
  B.softmax(z.data, rows, cols, out);
  return record('softmax', out, z.shape, [z], (g) => {
    const dz = B.alloc(z.size);
    B.softmaxBackward(out, g, rows, cols, dz);
    return [dz];
  });
}

/** Names of the activation functions that layers accept. */
export type ActivationName =
  | 'linear' | 'logistic' | 'sigmoid' | 'tanh' | 'relu' | 'leakyRelu' | 'prelu' | 'threshold' | 'softmax' | 'gelu';

/** Every accepted activation name (for validation messages). */
export const ACTIVATION_NAMES: readonly ActivationName[] = [
  'linear', 'logistic', 'sigmoid', 'tanh', 'relu', 'leakyRelu', 'prelu', 'threshold', 'softmax', 'gelu',
];

/** Throws a `ConfigError` naming `where` unless `name` is a known activation. */
export function checkActivation(name: unknown, where: string): ActivationName {
  if (typeof name !== 'string' || !(ACTIVATION_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(`${where}: unknown activation ${JSON.stringify(name)}; expected one of ${ACTIVATION_NAMES.join(', ')}`);
  }
  return name as ActivationName;
}
