import { ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import type { Layer } from './module.js';

/** One call of a layer in a graph: the symbolic tensors it read and the one it produced. @example `net.nodes.map((n) => n.layer.name)` */
export interface GraphNode {
  readonly layer: Layer;
  readonly inputs: readonly SymbolicTensor[];
  readonly output: SymbolicTensor;
  /** 0 for the layer's first call, 1 for its second (a shared layer), … */
  readonly call: number;
}

/**
 * A placeholder for the batches that will flow through a graph: a shape (without the batch
 * dimension) and where it comes from — an {@link Input} or a layer's call. Made by `Input()` and
 * by `layer.apply()`; holds no values.
 *
 * @example
 * ```ts
 * const x = Input({ shape: [4], name: 'x' });
 * const h = new Dense({ units: 8, activation: 'relu' }).apply(x);
 * h.shape; // [8]
 * ```
 */
export class SymbolicTensor {
  /** Shape of one example (no batch dimension). */
  readonly shape: readonly number[];
  /** The layer call that produced it, or null for an input. */
  readonly node: GraphNode | null;
  /** The input's name (inputs only). */
  readonly inputName: string | null;

  /** @internal use {@link Input} or `layer.apply()`. */
  constructor(shape: readonly number[], node: GraphNode | null, inputName: string | null) {
    this.shape = Object.freeze([...shape]);
    this.node = node;
    this.inputName = inputName;
  }

  /** Who produced this tensor, for messages: the input's or the layer's name (with the call for shared layers). */
  get source(): string {
    if (!this.node) return `input "${this.inputName}"`;
    return this.node.call ? `${this.node.layer.name}#${this.node.call}` : this.node.layer.name;
  }
}

/** Options of {@link Input}. @example `const o: InputOptions = { shape: [1, 28, 28], name: 'image' };` */
export interface InputOptions {
  /** Shape of one example, without the batch dimension (e.g. `[1, 28, 28]`). */
  shape: readonly number[];
  /** Name (default `input_N`); a graph spec refers to the input by it. */
  name?: string;
}

let inputCount = 0;

/**
 * A symbolic input of a graph model (Keras's `Input`): layers are applied to it, and a
 * {@link GraphNetwork} is made from inputs and outputs.
 *
 * @example
 * ```ts
 * const x = Input({ shape: [1, 28, 28], name: 'image' });
 * ```
 */
export function Input(opts: InputOptions): SymbolicTensor {
  const shape = opts?.shape;
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ShapeError(`Input${opts?.name ? ` "${opts.name}"` : ''}: shape must be a non-empty list of positive integers, received ${JSON.stringify(shape)}`);
  }
  return new SymbolicTensor(shape, null, opts.name ?? `input_${++inputCount}`);
}

/** A layer that takes several inputs (the merge layers). */
export interface MultiInputLayer {
  /** Checks the input shapes (naming their producers) and returns the output shape. */
  outputShapeFor(inputs: readonly SymbolicTensor[]): readonly number[];
  /** Runs the layer on one batch per input. */
  forwardMany(xs: readonly Tensor[]): Tensor;
}

/** Whether a layer takes several inputs. */
export function isMultiInput(l: Layer): l is Layer & MultiInputLayer {
  return typeof (l as Partial<MultiInputLayer>).forwardMany === 'function';
}

const calls = new WeakMap<Layer, number>();
const autoNames = new Map<string, number>();

/**
 * Applies a layer to symbolic tensors (the implementation of `layer.apply`). The first call
 * builds the layer for the input shape (a graph model re-initialises it from its own seed);
 * later calls share its weights and must bring the same input shape.
 */
export function applyLayer(layer: Layer, inputs: readonly SymbolicTensor[]): SymbolicTensor {
  if (inputs.length === 0 || inputs.some((t) => !(t instanceof SymbolicTensor))) {
    throw new ShapeError(`${layer.name || layer.type}.apply expects symbolic tensors (from Input() or another layer's apply), received ${inputs.length === 0 ? 'none' : 'a non-symbolic value'}`);
  }
  if (layer.autoNamed && !layer.name) {
    const n = (autoNames.get(layer.type) ?? 0) + 1;
    autoNames.set(layer.type, n);
    layer.name = `${layer.type}_${n}`;
  }
  const call = calls.get(layer) ?? 0;
  const multi = isMultiInput(layer);
  let out: readonly number[];
  if (multi) {
    out = layer.outputShapeFor(inputs);
    if (call === 0) layer.build(inputs[0].shape, { rng: new Rng(1), runtimeRng: new Rng(1) });
  } else {
    if (inputs.length !== 1) throw new ShapeError(`${layer.name} takes one input, received ${inputs.length} (${inputs.map((t) => t.source).join(', ')})`);
    const shape = inputs[0].shape;
    if (call === 0) {
      out = layer.build(shape, { rng: new Rng(1), runtimeRng: new Rng(1) });
    } else {
      const want = layer.inputShape;
      if (want.length !== shape.length || want.some((d, i) => d !== shape[i])) {
        throw new ShapeError(`${layer.name} is reused with an incompatible input: it was built for ${fmtShape(['*', ...want])} and now receives ${fmtShape(['*', ...shape])} from ${inputs[0].source}`);
      }
      out = layer.outputShape;
    }
  }
  calls.set(layer, call + 1);
  const node: { layer: Layer; inputs: readonly SymbolicTensor[]; output: SymbolicTensor | null; call: number } = { layer, inputs: [...inputs], output: null, call };
  const sym = new SymbolicTensor(out, node as GraphNode, null);
  node.output = sym;
  return sym;
}
