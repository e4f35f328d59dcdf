import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { Tensor, isGradEnabled, noGrad, releaseTensors, shapeSize } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import type { NestedArray } from '../tensor/tensor.js';
import { tensor } from '../tensor/create.js';
import { softmax } from '../ops/activations.js';
import { Layer, Module } from './module.js';
import type { BuildContext } from './module.js';

/** Weights keyed by layer name, then parameter name (the layouts each layer documents). */
export type WeightMap = Record<string, Record<string, Tensor>>;
/** Weights as plain nested arrays (the JSON weights-file form). */
export type WeightJson = Record<string, Record<string, NestedArray | Float32Array | Tensor>>;

/** Options of {@link Sequential}. */
export interface SequentialOptions {
  /** Input shape without the batch dimension, e.g. `[2]` or `[1, 28, 28]`. */
  inputShape: readonly number[];
  /** Seed for parameter initialisation and the model's runtime generator (dropout). Default 1. */
  seed?: number;
  /** Model name. */
  name?: string;
}

/**
 * One layer's step in a network (Sequential or graph): its output, or with `logits` its output
 * before a final softmax (a ConfigError if it has none; a tracing layer records the softmax as
 * a). The padding mask of a sequence input flows on with the sequence: an output that still has
 * the input's [batch, T] steps carries the input's mask (unless the layer set its own); a layer
 * that collapses the steps must declare `consumesMask`, else a masked input is a ConfigError, so
 * no layer can drop a mask silently.
 *
 * @example
 * ```ts
 * let h = x;
 * for (const l of net.layers) h = applyLayer(l, h); // what net.forward(x) does
 * ```
 */
export function applyLayer(layer: Layer, x: Tensor, logits = false): Tensor {
  let out: Tensor;
  if (logits) {
    const z = layer.forwardLogits(x);
    if (!z) throw new ConfigError(`${layer.name} does not end in a softmax, so there are no logits to return`);
    if (layer.tracing && layer.record) layer.record.a = noGrad(() => softmax(z));
    out = z;
  } else out = layer.forward(x);
  return carryMask(layer, [x], out);
}

/**
 * {@link applyLayer} for a layer of several inputs (a merge in a graph): the mask of the first
 * masked input flows on by the same rule.
 *
 * @example
 * ```ts
 * const sum = applyLayerMany(new Add(), [a, b]); // a's mask, when a is a masked sequence
 * ```
 */
export function applyLayerMany(layer: Layer & { forwardMany(xs: readonly Tensor[]): Tensor }, xs: readonly Tensor[]): Tensor {
  return carryMask(layer, xs, layer.forwardMany(xs));
}

/** The mask rule of {@link applyLayer}: `out` of `layer` on `inputs`, with the first input mask handed on. */
function carryMask(layer: Layer, inputs: readonly Tensor[], out: Tensor): Tensor {
  const x = inputs.find((t) => t.mask);
  if (!x || out.mask) return out;
  if (out.rank >= 2 && out.shape[0] === x.shape[0] && out.shape[1] === x.shape[1]) {
    out.mask = x.mask;
    return out;
  }
  if (layer.consumesMask) return out;
  throw new ConfigError(`${layer.name} (${layer.type}) received a padded sequence ${fmtShape(x.shape)} with a mask, but it does not read masks and its output ${fmtShape(out.shape)} no longer has the steps; put a recurrent layer (or one that reads the mask) before it, or remove the masking`);
}

/**
 * A stack of layers, each feeding the next. Builds every layer for the input shape at
 * construction, so shapes and parameter counts are known (see {@link Sequential.summary}).
 * Unnamed layers are called `<type>_<n>`.
 *
 * @example
 * ```ts
 * const net = new Sequential([
 *   new Dense({ units: 3, activation: 'logistic' }),
 *   new Dense({ units: 1, activation: 'logistic' }),
 * ], { inputShape: [2], seed: 1 });
 * net.forward(tensor([[0.04, 0.81]]));
 * ```
 */
export class Sequential extends Module {
  readonly layers: Layer[];
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  /** The model's runtime generator (dropout masks); its state is saved in checkpoints. */
  readonly rng: Rng;
  /** The seed the parameters were initialised from (the spec's `train.seed`). */
  readonly seed: number;

  /**
   * `buildLayers` (used by {@link GraphNetwork}) replaces the chain: it builds the (already named)
   * layers itself and returns the output shape.
   */
  constructor(layers: Layer[], opts: SequentialOptions, buildLayers?: (ctx: BuildContext) => readonly number[]) {
    super(opts.name ?? 'sequential');
    if (!Array.isArray(layers) || layers.length === 0) throw new ConfigError('a model needs at least one layer');
    if (!Array.isArray(opts.inputShape) || opts.inputShape.length === 0 || opts.inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ConfigError(`input shape must be a list of positive integers, received ${JSON.stringify(opts.inputShape)}`);
    }
    this.layers = layers;
    this.inputShape = [...opts.inputShape];
    this.seed = opts.seed ?? 1;
    const initRng = new Rng(opts.seed ?? 1);
    this.rng = new Rng((opts.seed ?? 1) + 0x5bd1e995);
    const counts = new Map<string, number>();
    const names = new Set<string>();
    for (const l of layers) {
      if (l.autoNamed) {
        const n = (counts.get(l.type) ?? 0) + 1;
        counts.set(l.type, n);
        l.name = `${l.type}_${n}`;
      }
      if (names.has(l.name)) throw new ConfigError(`layer name "${l.name}" is used twice; layer names must be unique`);
      names.add(l.name);
    }
    let shape: readonly number[] = this.inputShape;
    const ctx = { rng: initRng, runtimeRng: this.rng };
    if (buildLayers) shape = buildLayers(ctx);
    for (const l of layers) {
      if (!buildLayers) shape = l.build(shape, ctx);
      this.children.push(l);
    }
    this.outputShape = shape;
  }

  /** Checks a batch against the input shape. */
  private checkBatch(x: Tensor): void {
    const ok = x.rank === this.inputShape.length + 1 && this.inputShape.every((d, i) => d === x.shape[i + 1]);
    if (!ok) {
      throw new ShapeError(`${this.layers[0].name} expects input ${fmtShape(['*', ...this.inputShape])}, received ${fmtShape(x.shape)}`);
    }
  }

  forward(x: Tensor): Tensor {
    this.checkBatch(x);
    return this.runLayers(x, false);
  }

  /** Whether the last layer ends in a softmax (training fuses it with cross-entropy). */
  endsInSoftmax(): boolean {
    return this.layers[this.layers.length - 1].endsInSoftmax();
  }

  /**
   * Forward pass that stops before a final softmax and returns its logits (for the fused
   * softmax + cross-entropy loss). Throws if the model does not end in a softmax.
   */
  forwardLogits(x: Tensor): Tensor {
    this.checkBatch(x);
    return this.runLayers(x, true);
  }

  /**
   * Runs the layers in turn on x without checking it against the input shape (recurrent,
   * embedding and per-step dense layers take sequences of any length): the one forward path of
   * `forward`, `forwardLogits` and `forwardSequence`. With `logits`, the last layer stops before
   * its softmax (a ConfigError if it has none) and a tracing last layer records the softmax as a.
   *
   * @example
   * ```ts
   * net.runLayers(tensor([[[1], [2]]]), false); // a sequence of 2 steps through a net built for 20
   * ```
   */
  runLayers(x: Tensor, logits: boolean): Tensor {
    let h = x;
    const last = this.layers.length - 1;
    // without gradients nothing else reads a layer's output once the next layer has run: it goes
    // back to the buffer pool when the scope around (a prediction) handed it out
    const reuse = !isGradEnabled();
    for (let i = 0; i <= last; i++) {
      // a convolution and the pooling after it run as one op where they fuse (not when the
      // pooling is the last layer asked for logits, nor on a masked sequence)
      const fused = i < last && !(logits && i + 1 === last) && !h.mask ? this.layers[i].forwardFused(h, this.layers[i + 1]) : null;
      if (fused) i++;
      const next = fused ?? applyLayer(this.layers[i], h, logits && i === last);
      if (reuse && h !== x && next.data.buffer !== h.data.buffer && next.mask?.data.buffer !== h.data.buffer) releaseTensors([h]);
      h = next;
    }
    return h;
  }

  /** Turns z/a/δ recording on or off for every layer. */
  setTracing(on: boolean): void {
    for (const l of this.layers) {
      l.tracing = on;
      if (!on) l.record = null;
    }
  }

  /** Layer by name (ConfigError naming the known layers if absent). */
  layer(name: string): Layer {
    const l = this.layers.find((x) => x.name === name);
    if (!l) throw new ConfigError(`no layer named "${name}"; layers: ${this.layers.map((x) => x.name).join(', ')}`);
    return l;
  }

  /** Parameters and state of every layer, by layer name and parameter name (copies). */
  getWeights(): WeightMap {
    const out: WeightMap = {};
    for (const l of this.layers) {
      const entries = [...l.ownParameters(), ...l.state];
      if (entries.length === 0) continue;
      out[l.name] = {};
      for (const [k, t] of entries) out[l.name][k] = t.clone();
    }
    return out;
  }

  /**
   * Sets weights from a map keyed by layer and parameter name (nested arrays, Float32Arrays or
   * tensors, in the documented layouts). Every layer and parameter named must exist and every
   * shape must match: `ShapeError`/`ConfigError` otherwise, with nothing changed. Layers or
   * parameters not mentioned keep their values unless `strict` is set, which requires all.
   */
  setWeights(weights: WeightJson, strict = false): void {
    if (!weights || typeof weights !== 'object') throw new ConfigError('weights must be an object keyed by layer name');
    const updates: [Tensor, Float32Array][] = [];
    for (const [lname, params] of Object.entries(weights)) {
      const l = this.layers.find((x) => x.name === lname);
      if (!l) throw new ConfigError(`weights name layer "${lname}", which the model does not have; layers: ${this.layers.map((x) => x.name).join(', ')}`);
      const own = new Map([...l.ownParameters(), ...l.state]);
      for (const [pname, value] of Object.entries(params ?? {})) {
        const t = own.get(pname);
        if (!t) throw new ConfigError(`weights for ${lname}.${pname}: layer ${lname} has no parameter "${pname}" (it has: ${[...own.keys()].join(', ')})`);
        let v: Tensor;
        try {
          v = value instanceof Tensor ? value : value instanceof Float32Array ? tensor(value, { shape: t.shape }) : tensor(value as NestedArray);
        } catch (e) {
          // a value that does not form a tensor is a shape problem of these weights; anything else is not ours to relabel
          if (e instanceof ShapeError) throw new ShapeError(`weights for ${lname}.${pname}: ${e.message}`);
          throw e;
        }
        const sameShape = v.rank === t.rank && v.shape.every((d, i) => d === t.shape[i]);
        if (!sameShape) {
          throw new ShapeError(`weights for ${lname}.${pname}: expected shape ${fmtShape(t.shape)}, received ${fmtShape(v.shape)}`);
        }
        updates.push([t, v.data]);
      }
      if (strict) {
        for (const k of own.keys()) if (!Object.hasOwn(params ?? {}, k)) throw new ConfigError(`weights for layer ${lname} lack "${k}"`);
      }
    }
    if (strict) {
      for (const l of this.layers) {
        if ((l.ownParameters().size || l.state.size) && !Object.hasOwn(weights, l.name)) throw new ConfigError(`weights lack layer "${l.name}"`);
      }
    }
    for (const [t, d] of updates) t.data.set(d);
  }

  /** Trainable scalars in the whole model. */
  paramCount(): number {
    return this.layers.reduce((s, l) => s + l.paramCount(), 0);
  }

  /**
   * A Keras-like table: layer, type, output shape, parameter count, and the totals.
   *
   * @example
   * ```ts
   * console.log(net.summary());
   * ```
   */
  summary(): string {
    const rows = this.layers.map((l) => [l.name, l.type, fmtShape(['N', ...l.outputShape]), String(l.paramCount())]);
    const head = ['layer', 'type', 'output shape', 'params'];
    const all = [head, ...rows];
    const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
    const line = (r: string[]) => r.map((c, i) => (i === 3 ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ');
    const sep = '-'.repeat(line(head).length);
    return [
      `model ${this.name}: input ${fmtShape(['N', ...this.inputShape])}`,
      sep, line(head), sep, ...rows.map(line), sep,
      `total params: ${this.paramCount()}`,
    ].join('\n');
  }

  /** Output size per example. */
  outputSize(): number {
    return shapeSize(this.outputShape);
  }
}
