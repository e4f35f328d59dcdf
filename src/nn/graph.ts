import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { Sequential, applyLayer, applyLayerMany } from './sequential.js';
import type { Layer } from './module.js';
import { SymbolicTensor, isMultiInput } from './symbolic.js';
import type { GraphNode } from './symbolic.js';

/** Options of {@link GraphNetwork}. @example `const o: GraphNetworkOptions = { inputs: [a, b], outputs: y, seed: 1 };` */
export interface GraphNetworkOptions {
  /** The graph's inputs, in the order batches are given (`Input()` results). */
  inputs: SymbolicTensor | readonly SymbolicTensor[];
  /** The graph's outputs, in the order they are returned (results of `layer.apply`). */
  outputs: SymbolicTensor | readonly SymbolicTensor[];
  /** Seed for parameter initialisation and the runtime generator (dropout). Default 1. */
  seed?: number;
  /** Model name (default `graph`). */
  name?: string;
}

const batchShape = (s: readonly number[]): string => fmtShape(['N', ...s]);
const list = <T>(v: T | readonly T[]): readonly T[] => (Array.isArray(v) ? v : [v as T]);

/** Layer calls reachable from the outputs, in an order where every call follows its inputs. */
function topoOrder(outputs: readonly SymbolicTensor[]): { nodes: GraphNode[]; inputs: Set<SymbolicTensor> } {
  const nodes: GraphNode[] = [];
  const inputs = new Set<SymbolicTensor>();
  const state = new Map<GraphNode, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (t: SymbolicTensor): void => {
    const n = t.node;
    if (!n) {
      inputs.add(t);
      return;
    }
    const s = state.get(n);
    if (s === 'done') return;
    if (s === 'visiting') throw new ConfigError(`the graph has a cycle: ${[...path.slice(path.indexOf(t.source)), t.source].join(' → ')}`);
    state.set(n, 'visiting');
    path.push(t.source);
    for (const i of n.inputs) visit(i);
    path.pop();
    state.set(n, 'done');
    nodes.push(n);
  };
  for (const o of outputs) visit(o);
  return { nodes, inputs };
}

/** Layers whose parameters a graph model already initialised (a layer shared by two models keeps its weights). */
const claimed = new WeakSet<Layer>();

/**
 * A network over a graph of layers (Keras's functional API): symbolic {@link Input}s, layers
 * applied to symbolic tensors with `layer.apply(x)` (or `apply([a, b])` for the merge layers
 * {@link Add}, {@link Concatenate}, {@link Multiply}), several inputs and outputs, and shared
 * layers (one layer applied twice uses the same weights, so they receive the sum of both
 * gradients). It is a {@link Sequential} in everything but the wiring: `Model`, `fit`,
 * `evaluate`, `predict`, trace, report, save/load and checkpoints take it as they take a stack.
 * `layers` lists every distinct layer once, each after its inputs.
 *
 * Parameters are initialised when the network is made, from `seed`, in that order (a layer
 * already initialised by another graph model keeps its weights: that is how two models share
 * layers).
 *
 * @example
 * ```ts
 * const x = Input({ shape: [1, 28, 28] });
 * const c = new Conv2D({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x);
 * const r = new Add().apply([c, new Conv2D({ filters: 8, kernelSize: 3, padding: 'same' }).apply(c)]);
 * const y = new Dense({ units: 10, activation: 'softmax' }).apply(new Flatten().apply(r));
 * const net = new GraphNetwork({ inputs: x, outputs: y, seed: 1 });
 * const model = new Model(net, { loss: 'crossEntropy', optimizer: new Adam() });
 * ```
 */
export class GraphNetwork extends Sequential {
  /** The inputs, in the order batches are given. */
  readonly inputs: readonly SymbolicTensor[];
  /** The outputs, in the order they are returned. */
  readonly outputs: readonly SymbolicTensor[];
  /** Every layer call, each after the calls it reads from. */
  readonly nodes: readonly GraphNode[];

  constructor(opts: GraphNetworkOptions) {
    if (!opts || typeof opts !== 'object') throw new ConfigError('GraphNetwork needs { inputs, outputs }');
    const inputs = list(opts.inputs);
    const outputs = list(opts.outputs);
    if (inputs.length === 0 || outputs.length === 0) throw new ConfigError(`a graph model needs at least one input and one output, received ${inputs.length} inputs and ${outputs.length} outputs`);
    for (const t of [...inputs, ...outputs]) {
      if (!(t instanceof SymbolicTensor)) throw new ConfigError('graph inputs and outputs must be symbolic tensors (from Input() and layer.apply())');
    }
    for (const t of inputs) if (t.node) throw new ConfigError(`graph inputs must come from Input(); ${t.source} is a layer's output`);
    if (new Set(inputs).size !== inputs.length) throw new ConfigError('an input is listed twice among the graph inputs');
    const { nodes, inputs: reached } = topoOrder(outputs);
    for (const t of reached) {
      if (!inputs.includes(t)) throw new ConfigError(`the outputs depend on ${t.source}, which is not among the graph's inputs (${inputs.map((i) => i.inputName).join(', ')})`);
    }
    for (const t of inputs) {
      if (!reached.has(t)) throw new ConfigError(`${t.source} is not connected to the outputs (no output depends on it)`);
    }
    const layers: Layer[] = [];
    for (const n of nodes) if (!layers.includes(n.layer)) layers.push(n.layer);
    if (layers.length === 0) throw new ConfigError('a graph model needs at least one layer between its inputs and outputs');
    const names = new Set<string>();
    for (const t of inputs) {
      if (names.has(t.inputName!)) throw new ConfigError(`two graph inputs are named "${t.inputName}"; names must be unique`);
      names.add(t.inputName!);
    }
    // a layer another graph model owns keeps its name (its parameters' and optimiser state's keys)
    const owned = layers.map((l) => (claimed.has(l) ? l.name : null));
    super(layers, { inputShape: inputs[0].shape, seed: opts.seed, name: opts.name ?? 'graph' }, (ctx) => {
      layers.forEach((l, i) => { if (owned[i] !== null) l.name = owned[i]!; });
      const seen = new Set<string>();
      for (const l of layers) {
        if (seen.has(l.name)) throw new ConfigError(`layer name "${l.name}" is used twice; layer names must be unique`);
        seen.add(l.name);
      }
      for (const l of layers) {
        if (names.has(l.name)) throw new ConfigError(`layer name "${l.name}" is also the name of a graph input; names must be unique`);
        if (claimed.has(l)) continue;
        const first = nodes.find((n) => n.layer === l)!;
        l.build(first.inputs[0].shape, ctx);
        claimed.add(l);
      }
      return outputs[0].shape;
    });
    this.inputs = inputs;
    this.outputs = outputs;
    this.nodes = nodes;
    // a call whose output only one single-input call reads (and no output is) may run fused with it
    for (const n of nodes) {
      if (outputs.includes(n.output) || isMultiInput(n.layer)) continue;
      const readers = nodes.filter((m) => m.inputs.includes(n.output));
      if (readers.length === 1 && readers[0].inputs.length === 1 && !isMultiInput(readers[0].layer)) this.fusable.set(n, readers[0]);
    }
  }

  /** Call → the one call that reads its output, where the pair may run as one op ({@link Layer.forwardFused}). */
  private readonly fusable = new Map<GraphNode, GraphNode>();

  /** Shapes of the inputs (without batch). */
  get inputShapes(): (readonly number[])[] {
    return this.inputs.map((t) => t.shape);
  }

  /** Shapes of the outputs (without batch). */
  get outputShapes(): (readonly number[])[] {
    return this.outputs.map((t) => t.shape);
  }

  private checkInputs(xs: readonly Tensor[]): void {
    if (xs.length !== this.inputs.length) {
      throw new ShapeError(`${this.name} has ${this.inputs.length} inputs (${this.inputs.map((t) => t.inputName).join(', ')}), received ${xs.length} batches`);
    }
    xs.forEach((x, i) => {
      const want = this.inputs[i].shape;
      if (!(x instanceof Tensor) || x.rank !== want.length + 1 || want.some((d, j) => d !== x.shape[j + 1])) {
        throw new ShapeError(`input "${this.inputs[i].inputName}" expects ${fmtShape(['*', ...want])}, received ${x instanceof Tensor ? fmtShape(x.shape) : typeof x}`);
      }
      if (x.shape[0] !== xs[0].shape[0]) throw new ShapeError(`input "${this.inputs[i].inputName}" has ${x.shape[0]} rows, input "${this.inputs[0].inputName}" has ${xs[0].shape[0]}`);
    });
  }

  /** Runs every call; with `logits`, the single output's layer returns its logits instead of the softmax. */
  private run(xs: readonly Tensor[], logits: boolean): Tensor[] {
    this.checkInputs(xs);
    const values = new Map<SymbolicTensor, Tensor>();
    this.inputs.forEach((t, i) => values.set(t, xs[i]));
    const last = logits ? this.outputs[0].node : null;
    const done = new Set<GraphNode>();
    for (const n of this.nodes) {
      if (done.has(n)) continue;
      const ins = n.inputs.map((t) => values.get(t)!);
      // a convolution and the pooling that alone reads it, as one op (not the logits' call, nor a masked input)
      const reader = this.fusable.get(n);
      const fused = reader && reader !== last && !ins[0].mask ? n.layer.forwardFused(ins[0], reader.layer) : null;
      if (fused) {
        values.set(reader!.output, fused);
        done.add(reader!);
        continue;
      }
      let out: Tensor;
      if (isMultiInput(n.layer)) out = applyLayerMany(n.layer, ins);
      else out = applyLayer(n.layer, ins[0], n === last);
      values.set(n.output, out);
    }
    return this.outputs.map((t) => values.get(t)!);
  }

  /** Runs the graph on one batch per input; returns every output. */
  forwardMany(xs: readonly Tensor[]): Tensor[] {
    return this.run(xs, false);
  }

  /** Runs a single-input graph; returns its first output (see {@link GraphNetwork.forwardMany} for several). */
  override forward(x: Tensor): Tensor {
    return this.run([x], false)[0];
  }

  /** A graph runs its calls, not its layers in a row: `runLayers` is its single-input forward pass (or logits). */
  override runLayers(x: Tensor, logits: boolean): Tensor {
    return logits ? this.forwardLogits(x) : this.forward(x);
  }

  override forwardLogits(x: Tensor | readonly Tensor[]): Tensor {
    if (!this.endsInSoftmax()) throw new ConfigError(`${this.name} does not end in a softmax, so there are no logits to return`);
    return this.run(x instanceof Tensor ? [x] : x, true)[0];
  }

  /** True when the graph has one output, made by a softmax layer whose output nothing else reads. */
  override endsInSoftmax(): boolean {
    if (this.outputs.length !== 1) return false;
    const n = this.outputs[0].node;
    if (!n || !n.layer.endsInSoftmax() || isMultiInput(n.layer)) return false;
    return !this.nodes.some((m) => m.inputs.includes(this.outputs[0]));
  }

  /** Output values per example of output i. */
  override outputSize(i = 0): number {
    return this.outputs[i].shape.reduce((a, b) => a * b, 1);
  }

  /**
   * A table of every input and layer call: name, type, output shape, parameters and the calls it
   * reads from (`connected to`). A shared layer has one row per call (`name#1` for the second),
   * its parameters counted on the first.
   *
   * @example
   * ```ts
   * console.log(net.summary());
   * ```
   */
  override summary(): string {
    const rows: string[][] = this.inputs.map((t) => [t.inputName!, 'input', batchShape(t.shape), '0', '']);
    for (const n of this.nodes) {
      const name = n.call ? `${n.layer.name}#${n.call}` : n.layer.name;
      rows.push([name, n.layer.type, batchShape(n.output.shape), String(n.call ? 0 : n.layer.paramCount()), n.inputs.map((t) => (t.node ? t.source : t.inputName!)).join(', ')]);
    }
    const head = ['layer', 'type', 'output shape', 'params', 'connected to'];
    const all = [head, ...rows];
    const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
    const line = (r: string[]) => r.map((c, i) => (i === 3 ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd();
    const sep = '-'.repeat(line(head).length);
    const frozen = this.layers.filter((l) => !l.trainable).reduce((s, l) => s + l.paramCount(), 0);
    return [
      `model ${this.name}: inputs ${this.inputs.map((t) => `${t.inputName} ${batchShape(t.shape)}`).join(', ')}; outputs ${this.outputs.map((t) => t.source).join(', ')}`,
      sep, line(head), sep, ...rows.map(line), sep,
      `total params: ${this.paramCount()}${frozen ? ` (${frozen} frozen)` : ''}`,
    ].join('\n');
  }
}
