/**
 * The elementwise functions, one row each: the forward f(x) and its derivative f'(x) side by side
 * (given x and y = f(x), whichever is cheaper), the parameter a layer passes (leaky slope α,
 * threshold θ) and whether layers accept it as an `activation`. The reference backend evaluates
 * these rows; inspect reads ∂a/∂z from them; the list of activation names, their type and their
 * validation derive from them. The native and WebAssembly kernels compute the same rows from one
 * C definition (`native/src/unary.h`), and `test/backend/unary-table.test.ts` walks every row
 * against both, so a row without a kernel fails the suite.
 *
 * Adding a function: a row here, a row in `native/src/unary.h` (with its C definition), a line in
 * the docs (README's activation list) — and its tests. Validation, the spec format, the CLI help,
 * inspect's ∂a/∂z and the PyTorch/ONNX exporters (through `export`) follow from the row.
 */

/** One elementwise function. */
export interface UnaryRow {
  /** f(x); `p` is the row's parameter (0 when it has none). */
  readonly f: (x: number, p: number) => number;
  /** f'(x), given x and y = f(x). */
  readonly df: (x: number, y: number, p: number) => number;
  /** The layer option that supplies `p`, with its default (leaky ReLU's α, the threshold θ). */
  readonly param?: { readonly key: 'alpha' | 'theta'; readonly default: number };
  /** True when layers accept it as `activation: name`. */
  readonly activation: boolean;
  /** False when backpropagation must refuse it (the threshold step, whose derivative is 0 almost everywhere). */
  readonly differentiable?: boolean;
  /**
   * True (for the parameter `p`) when the derivative follows from the output alone: df(a, a, p) =
   * f'(z) for a = f(z), so a fused kernel (dense, convolution) keeps no copy of z for backward.
   */
  readonly fromOutput?: (p: number) => boolean;
  /**
   * How the exporters write it when it is one call: a PyTorch expression of `x` and the ONNX
   * operator (absent: the exporter has its own code for it, or the row is no activation).
   */
  readonly export?: { readonly torch: string; readonly onnx?: string };
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/**
 * The complementary error function erfc(z) for z ≥ 0, as t·e^(−z² + P(t)) with t = 1/(1 + z/2)
 * and the degree-9 polynomial P of Numerical Recipes' `erfcc` (relative error < 1.2e-7 everywhere).
 */
function erfcPositive(z: number): number {
  const t = 1 / (1 + 0.5 * z);
  const p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return t * Math.exp(-z * z + p);
}

/** Φ(x), the standard normal distribution function, with small relative error in both tails. */
function normalCdf(x: number): number {
  const h = 0.5 * erfcPositive(Math.abs(x) * Math.SQRT1_2);
  return x < 0 ? h : 1 - h;
}

/**
 * Every elementwise function with a kernel (`Backend.unary` / `Backend.unaryGrad`), by name.
 *
 * @example
 * ```ts
 * UNARY.logistic.f(0, 0);        // 0.5
 * UNARY.logistic.df(0, 0.5, 0);  // 0.25 (eq 16)
 * ```
 */
export const UNARY = {
  /** The identity of a linear neuron; f' = 1. */
  linear: { f: (x) => x, df: () => 1, activation: true, fromOutput: () => true },
  /** Logistic sigmoid 1/(1 + e^−z) (eq 14); f' = f(1 − f) (eq 15). Also spelled `sigmoid` by layers. */
  logistic: {
    f: (x) => sigmoid(x), df: (_x, y) => y * (1 - y), activation: true, fromOutput: () => true,
    export: { torch: 'torch.sigmoid(x)', onnx: 'Sigmoid' },
  },
  /** Hyperbolic tangent (the LSTM's φ_tanh, eq 117); f' = 1 − f². */
  tanh: { f: (x) => Math.tanh(x), df: (_x, y) => 1 - y * y, activation: true, fromOutput: () => true, export: { torch: 'torch.tanh(x)', onnx: 'Tanh' } },
  /** Rectifier max(0, z) (eq 4, 48); f' = 1 for z > 0, else 0 — 0 at z = 0, the lecture's choice (eq 49). */
  relu: {
    f: (x) => (x > 0 ? x : 0), df: (x) => (x > 0 ? 1 : 0), activation: true, fromOutput: () => true,
    export: { torch: 'torch.relu(x)', onnx: 'Relu' },
  },
  /** Leaky rectifier: z for z > 0, α·z otherwise (eq 51, α = 0.01 by default); f' = 1 or α (eq 52). */
  leakyRelu: {
    f: (x, p) => (x > 0 ? x : p * x), df: (x, _y, p) => (x > 0 ? 1 : p),
    // with α ≥ 0, a > 0 exactly where z > 0
    param: { key: 'alpha', default: 0.01 }, activation: true, fromOutput: (p) => p >= 0,
  },
  /** McCulloch–Pitts threshold unit: 1 if z ≥ θ, else 0 (eq 3). Forward only. */
  threshold: {
    f: (x, p) => (x >= p ? 1 : 0), df: () => 0,
    param: { key: 'theta', default: 0 }, activation: true, differentiable: false,
  },
  /** GELU in its exact form (PyTorch's default): x·Φ(x); f' = Φ(x) + x·φ(x). −0 below −40, f' = 1 above 40. */
  gelu: {
    f: (x) => (x < -40 ? -0 : x * normalCdf(x)),
    df: (x) => (x < -40 ? 0 : x > 40 ? 1 : normalCdf(x) + x * Math.exp(-0.5 * x * x) * 0.3989422804014327),
    activation: true, export: { torch: 'F.gelu(x)' },
  },
  /** Softplus ln(1 + eˣ), a smooth ReLU (PyTorch's `F.softplus`, β = 1); f' = 1/(1 + e^−x), the logistic. */
  softplus: {
    f: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), df: (x) => sigmoid(x),
    activation: true, export: { torch: 'F.softplus(x)', onnx: 'Softplus' },
  },
  /** eˣ; f' = f. */
  exp: { f: (x) => Math.exp(x), df: (_x, y) => y, activation: false },
  /** ln x; f' = 1/x. */
  log: { f: (x) => Math.log(x), df: (x) => 1 / x, activation: false },
  /** −x; f' = −1. */
  neg: { f: (x) => -x, df: () => -1, activation: false },
  /** √x; f' = 1/(2√x). */
  sqrt: { f: (x) => Math.sqrt(x), df: (_x, y) => 0.5 / y, activation: false },
  /** x²; f' = 2x. */
  square: { f: (x) => x * x, df: (x) => 2 * x, activation: false },
  /** |x|; f' = sign(x) (0 at 0). */
  abs: { f: (x) => Math.abs(x), df: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0), activation: false },
} as const satisfies Record<string, UnaryRow>;

/** The name of an elementwise function with a kernel-level forward and derivative (a row of {@link UNARY}). @example `const op: UnaryOp = 'relu';` */
export type UnaryOp = keyof typeof UNARY;

/** The rows layers accept as an `activation`. @example `const a: UnaryActivation = 'gelu';` */
export type UnaryActivation = { [K in UnaryOp]: (typeof UNARY)[K]['activation'] extends true ? K : never }[UnaryOp];

/** Every row name, in the table's order. @example `UNARY_OPS.includes('relu') // true` */
export const UNARY_OPS = Object.keys(UNARY) as UnaryOp[];

/** The row of `op` (typed as the general {@link UnaryRow}). @example `unaryRow('relu').f(-1, 0) // 0` */
export function unaryRow(op: UnaryOp): UnaryRow {
  return UNARY[op];
}

/**
 * Whether ∂a/∂z of `op` (with parameter `param`) follows from a = f(z) alone (see
 * {@link UnaryRow.fromOutput}): the activations a fused dense or convolution kernel applies
 * without keeping z.
 *
 * @example
 * ```ts
 * derivativeFromOutput('tanh', 0);       // true: 1 − a²
 * derivativeFromOutput('leakyRelu', -1); // false: a > 0 also where z < 0
 * derivativeFromOutput('gelu', 0);       // false
 * ```
 */
export function derivativeFromOutput(op: UnaryOp, param: number): boolean {
  return unaryRow(op).fromOutput?.(param) ?? false;
}

/**
 * The op-code lookup of a compiled backend, from the list of names its kernels were built with
 * (code i is `names[i]`): no enum order is assumed on either side. An op the kernels lack (built
 * before its row was added) is a RangeError saying so, never a wrong function.
 *
 * @example
 * ```ts
 * const code = unaryCodes(['linear', 'relu'], 'native');
 * code('relu'); // 1
 * ```
 */
export function unaryCodes(names: readonly string[], backend: string): (op: UnaryOp) => number {
  const codes = new Map(names.map((n, i) => [n, i]));
  return (op) => {
    const c = codes.get(op);
    if (c === undefined) {
      throw new RangeError(`unary: the ${backend} kernels have no '${op}' (they were built before its row of src/backend/unary.ts; rebuild them)`);
    }
    return c;
  };
}
