import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { Tensor, noGrad } from '../tensor/tensor.js';
import type { NestedArray } from '../tensor/tensor.js';
import { softmax } from '../ops/activations.js';
import type { ActivationName } from '../ops/activations.js';
import { unaryRow } from '../backend/unary.js';
import type { AppliedActivation, Layer } from '../nn/module.js';
import type { Batch, Model } from '../train/model.js';

/** Whether a trace runs the network in training mode (dropout active) or inference mode. */
export type TraceMode = 'train' | 'eval';

/** Options of {@link traceModel} and the inspection functions built on it. */
export interface TraceOptions {
  /**
   * `'train'` (default): the pass a training iteration makes (dropout masks drawn, then the
   * model's generator is put back, so training stays bit-identical); `'eval'`: inference mode.
   */
  mode?: TraceMode;
}

/** What one layer did in a {@link RawTrace}: tensors, not nested arrays. */
export interface RawLayerTrace {
  layer: Layer;
  /** The layer's input (the previous layer's output, or x). */
  input: Tensor;
  /** Weighted sums, or null for layers without one (pooling, flatten…). */
  z: Tensor | null;
  /** Activations (the layer's output; probabilities for a final softmax). */
  a: Tensor;
  /** δ = ∂E/∂z per example (E summed over the rows), or null. */
  delta: Tensor | null;
  /** ∂a/∂z for elementwise activations, else null. */
  dadz: Float32Array | null;
  /** Extra recorded tensors (recurrent layers: hidden states per step). */
  extra: Record<string, Tensor>;
  /** ∂E/∂θ per parameter of this layer, summed over the rows (copies). */
  grads: Map<string, Tensor>;
}

/** One forward + backward pass with every layer's tensors (see {@link captureTrace}). */
export interface RawTrace {
  /** Loss of the batch with the model's reduction. */
  loss: number;
  /** Rows traced. */
  examples: number;
  /** Factor the backward pass was seeded with so δ and gradients are those of the summed loss (N for a mean loss, else 1). */
  scale: number;
  /** The traced inputs. */
  x: Tensor;
  layers: RawLayerTrace[];
}

/** Per-layer trace as JSON-friendly nested arrays (the `dendrite trace --json` format). */
export interface LayerTrace {
  name: string;
  type: string;
  /** Activation name where the layer has one. */
  activation?: string;
  /** Weighted sums, `[example][neuron]` for dense layers, the layer's own shape otherwise (null if none). */
  z: NestedArray | null;
  /** Activations, same indexing. */
  a: NestedArray;
  /** δ = ∂E/∂z, same indexing (null if the layer has no z). */
  delta: NestedArray | null;
  /** ∂a/∂z for elementwise activations. */
  dadz?: NestedArray;
  /** ∂E/∂θ for every parameter, summed over the rows, in the parameter's layout. */
  grad: Record<string, NestedArray>;
  /** Extra per-layer values (recurrent layers: hidden states per step). */
  extra?: Record<string, NestedArray>;
}

/** Result of {@link traceModel}. */
export interface TraceResult {
  /** Loss of the traced rows with the model's reduction (for `sse` the lecture's ½Σ(t − a)²). */
  loss: number;
  /** Loss name and reduction, for readers of the JSON. */
  lossName: string;
  reduction: string;
  /** Number of rows traced. */
  examples: number;
  /** The traced inputs (the first layer's a_k in ∂E/∂w = δ_i·a_k). */
  x: NestedArray;
  layers: LayerTrace[];
  /** Current parameter values per layer (for the ∂E/∂w tables). */
  params: Record<string, Record<string, NestedArray>>;
}

/**
 * Throws a `ConfigError` naming `what` unless both inputs and targets are given and non-empty
 * (inspecting without data).
 *
 * @example
 * ```ts
 * requireData(x, y, 'dendrite inspect');
 * ```
 */
export function requireData(x: Tensor | null | undefined, y: Tensor | null | undefined, what: string): void {
  if (!(x instanceof Tensor) || !(y instanceof Tensor)) {
    throw new ConfigError(`${what} needs data: pass the inputs x and the targets y (CLI: --data FILE.csv --target COL), received ${x instanceof Tensor ? 'inputs only' : 'no inputs'}${y instanceof Tensor ? '' : ' and no targets'}`);
  }
  if (x.rank < 1 || x.shape[0] === 0) throw new ConfigError(`${what} needs at least one example, received inputs of shape ${fmtShape(x.shape)}`);
}

/**
 * The activation a layer applies (its name and ∂a/∂z), or null for layers without one (pooling,
 * flatten): the layer's own {@link Layer.activationOf}.
 *
 * @example
 * ```ts
 * layerActivation(model.net.layers[0])?.name; // 'relu'
 * ```
 */
export function layerActivation(layer: Layer): AppliedActivation | null {
  return layer.activationOf();
}

/**
 * ∂a/∂z of an elementwise activation from z and a = φ(z), read from the rows of
 * `backend/unary.ts` (null for softmax and threshold, whose derivative is not elementwise or not
 * defined). ReLU's derivative at 0 is 0; `alpha` is the leaky slope; PReLU slopes λ run over the
 * last axis, as a dense layer applies them.
 *
 * @example
 * ```ts
 * activationDerivative('logistic', z.data, a.data); // a(1 − a)
 * ```
 */
export function activationDerivative(name: ActivationName, z: ArrayLike<number>, a: ArrayLike<number>, alpha = 0.01, lambda?: ArrayLike<number>): Float32Array | null {
  const n = z.length;
  const out = new Float32Array(n);
  if (name === 'prelu') {
    if (!lambda) return null;
    for (let i = 0; i < n; i++) out[i] = z[i] > 0 ? 1 : lambda[i % lambda.length];
    return out;
  }
  if (name === 'softmax') return null;
  const row = unaryRow(name === 'sigmoid' ? 'logistic' : name);
  if (row.differentiable === false) return null;
  const p = row.param ? (row.param.key === 'alpha' ? alpha : row.param.default) : 0;
  for (let i = 0; i < n; i++) out[i] = row.df(z[i], a[i], p);
  return out;
}

type Forward = (x: Tensor) => Tensor;
type ForwardLogits = (x: Tensor) => Tensor | null;

/**
 * Runs one forward and backward pass of `model` over the rows of x and y with every layer
 * recording (z, a, δ = ∂E/∂z, parameter gradients, inputs), and puts the model back as it was:
 * mode, tracing flags, gradients, layer state (batch-norm statistics) and the runtime generator.
 * Softmax + cross-entropy models keep their fused path, so the last layer's δ is P̂ − t.
 * δs and gradients are those of the loss summed over the rows (a mean loss is scaled by N).
 * A graph model with several inputs or outputs takes one tensor per input (and target per
 * output); a shared layer reports its last call, with the gradients of all its calls.
 *
 * @example
 * ```ts
 * const raw = captureTrace(model, x, y);
 * raw.layers[0].delta!.data; // δ of the first layer, [example][neuron]
 * ```
 */
export function captureTrace(model: Model, xs: Batch, ys: Batch, opts: TraceOptions = {}): RawTrace {
  // a graph with several inputs/outputs: one tensor each; the first input stands for x
  const first = (b: Batch): Tensor => (Array.isArray(b) ? b[0] : b as Tensor);
  const x = first(xs);
  requireData(x, first(ys), 'tracing a model');
  const mode = opts.mode ?? 'train';
  if (mode !== 'train' && mode !== 'eval') throw new ConfigError(`trace mode must be 'train' or 'eval', received ${JSON.stringify(mode)}`);
  const net = model.net;
  const layers = net.layers;
  const n = x.shape[0];
  const wasTraining = net.training;
  const wasTracing = layers.map((l) => l.tracing);
  const rngState = net.rng.getState();
  const params = net.namedParameters();
  const savedGrads = params.map(([, p]) => p.grad);
  const savedState = layers.map((l) => [...l.state.values()].map((t) => Float32Array.from(t.data)));
  const inputs: (Tensor | null)[] = layers.map(() => null);
  const outputs: (Tensor | null)[] = layers.map(() => null);
  const logits: (Tensor | null)[] = layers.map(() => null);
  const patched: Layer[] = [];
  try {
    net.setTracing(false);
    net.setTracing(true);
    net.train(mode === 'train');
    for (const p of params) p[1].grad = null;
    layers.forEach((l, i) => {
      const fwd = l.forward as Forward;
      const fwdLogits = l.forwardLogits as ForwardLogits;
      const own = l as unknown as { forward: Forward; forwardLogits: ForwardLogits };
      own.forward = (h: Tensor) => {
        inputs[i] = h;
        const out = fwd.call(l, h);
        outputs[i] = out;
        return out;
      };
      const fwdMany = (l as Partial<{ forwardMany: (xs: readonly Tensor[]) => Tensor }>).forwardMany;
      if (fwdMany) {
        // merge layers of a graph model: the first input stands for the layer's input
        (own as unknown as { forwardMany: typeof fwdMany }).forwardMany = (hs: readonly Tensor[]) => {
          inputs[i] = hs[0];
          const out = fwdMany.call(l, hs);
          outputs[i] = out;
          return out;
        };
      }
      own.forwardLogits = (h: Tensor) => {
        inputs[i] = h;
        const zl = fwdLogits.call(l, h);
        if (zl?.requiresGrad) zl.retainGrad();
        logits[i] = zl;
        return zl;
      };
      patched.push(l);
    });
    // the inputs take part in the graph, so δ is traced even through a model with no trainable
    // parameters (a lone softmax layer); their own gradient is not reported
    const joined = (t: Tensor) => new Tensor(t.data, t.shape, true);
    const { loss } = model.lossOf(xs instanceof Tensor ? joined(xs) : xs.map(joined), ys);
    const lossValue = loss.item();
    const scale = model.loss.reduction === 'mean' ? n : 1;
    if (loss.requiresGrad) loss.backward(Float32Array.of(scale));
    const out: RawLayerTrace[] = layers.map((l, i) => {
      const rec = l.record;
      const input = inputs[i] ?? (i === 0 ? x : outputs[i - 1]);
      const z = rec?.z ?? logits[i];
      let a = rec?.a ?? outputs[i];
      if (!a && z) a = noGrad(() => softmax(z));
      if (!input || !a) throw new ShapeError(`layer ${l.name} did not run during the traced forward pass`);
      const act = l.activationOf();
      const dadz = act && z && z.size === a.size ? act.derivative(z, a) : null;
      const grads = new Map<string, Tensor>();
      for (const [k, p] of l.ownParameters()) grads.set(k, p.grad ? p.grad.clone() : new Tensor(new Float32Array(p.size), p.shape));
      const extra: Record<string, Tensor> = {};
      for (const [k, t] of Object.entries(rec?.extra ?? {})) extra[k] = t.detach();
      return {
        layer: l,
        input: input.detach(),
        z: z ? z.detach() : null,
        a: a.detach(),
        delta: z?.grad ? z.grad.detach() : null,
        dadz,
        extra,
        grads,
      };
    });
    return { loss: lossValue, examples: n, scale, x: x.detach(), layers: out };
  } finally {
    for (const l of patched) {
      const own = l as unknown as Record<string, unknown>;
      delete own.forward;
      delete own.forwardLogits;
      delete own.forwardMany;
    }
    net.setTracing(false);
    layers.forEach((l, i) => { l.tracing = wasTracing[i]; });
    net.train(wasTraining);
    net.rng.setState(rngState);
    params.forEach(([, p], i) => { p.grad = savedGrads[i]; });
    layers.forEach((l, i) => [...l.state.values()].forEach((t, j) => t.data.set(savedState[i][j])));
  }
}

/**
 * One forward and backward pass over the rows of x and y, reporting for every layer z, a,
 * δ = ∂E/∂z (per example) and the gradient of every parameter summed over the rows — the
 * lecture's Tables 5 and 6 (and the `dendrite trace --json` format). The model is left exactly
 * as it was (mode, gradients, generator state). See {@link formatTrace} for aligned tables.
 *
 * @example
 * ```ts
 * const t = traceModel(model, tensor([[0.84, 0.58]]), tensor([[0.13]]));
 * t.layers[2].delta; // [[0.0852]]  (δ8 of eq 38)
 * console.log(formatTrace(t));
 * ```
 */
export function traceModel(model: Model, x: Batch, y: Batch, opts: TraceOptions = {}): TraceResult {
  const raw = captureTrace(model, x, y, opts);
  const params: Record<string, Record<string, NestedArray>> = {};
  const layers = raw.layers.map((r): LayerTrace => {
    const l = r.layer;
    const grad: Record<string, NestedArray> = {};
    for (const [k, g] of r.grads) grad[k] = g.toArray();
    if (l.ownParameters().size) {
      params[l.name] = {};
      for (const [k, p] of l.ownParameters()) params[l.name][k] = p.toArray();
    }
    const act = layerActivation(l);
    const t: LayerTrace = {
      name: l.name,
      type: l.type,
      z: r.z ? r.z.toArray() : null,
      a: r.a.toArray(),
      delta: r.delta ? r.delta.toArray() : null,
      grad,
    };
    if (act) t.activation = act.name;
    if (r.dadz && r.z) t.dadz = new Tensor(r.dadz, r.z.shape).toArray();
    const keys = Object.keys(r.extra);
    if (keys.length) t.extra = Object.fromEntries(keys.map((k) => [k, r.extra[k].toArray()]));
    return t;
  });
  return { loss: raw.loss, lossName: model.loss.name, reduction: model.loss.reduction, examples: raw.examples, x: raw.x.toArray(), layers, params };
}
