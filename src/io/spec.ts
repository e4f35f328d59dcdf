import { ConfigError } from '../errors.js';
import type { Layer } from '../nn/module.js';
import { Dense } from '../nn/dense.js';
import type { DenseOptions } from '../nn/dense.js';
import { Activation } from '../nn/activation.js';
import type { ActivationOptions } from '../nn/activation.js';
import { Conv1D, Conv2D } from '../nn/conv.js';
import type { Conv1DOptions, Conv2DOptions } from '../nn/conv.js';
import { AvgPool1D, AvgPool2D, MaxPool1D, MaxPool2D } from '../nn/pool.js';
import type { Pool1DOptions, Pool2DOptions } from '../nn/pool.js';
import { Flatten } from '../nn/flatten.js';
import type { FlattenOptions } from '../nn/flatten.js';
import { Sequential } from '../nn/sequential.js';
import { GraphNetwork } from '../nn/graph.js';
import { Input, SymbolicTensor } from '../nn/symbolic.js';
import { Add, Concatenate, Multiply } from '../nn/merge.js';
import { Conv2DTranspose } from '../nn/conv.js';
import type { Conv2DTransposeOptions } from '../nn/conv.js';
import { GlobalAveragePooling1D, GlobalAveragePooling2D, UpSampling2D } from '../nn/spatial.js';
import type { GlobalPoolingOptions, UpSampling2DOptions } from '../nn/spatial.js';
import type { ConcatenateOptions, MergeOptions } from '../nn/merge.js';
import { SimpleRNN } from '../nn/rnn.js';
import type { SimpleRNNOptions } from '../nn/rnn.js';
import { LSTM } from '../nn/lstm.js';
import type { LSTMOptions } from '../nn/lstm.js';
import { GRU } from '../nn/gru.js';
import type { GRUOptions } from '../nn/gru.js';
import { Embedding, Masking } from '../nn/embedding.js';
import type { EmbeddingOptions, MaskingOptions } from '../nn/embedding.js';
import { SGD } from '../optim/optimizer.js';
import { Adam, AdamW } from '../optim/adam.js';
import type { AdamOptions, AdamWOptions } from '../optim/adam.js';
import { scheduleFromSpec } from '../optim/schedules.js';
import { ReduceLROnPlateau } from '../train/lr-plateau.js';
import type { ReduceLROnPlateauOptions } from '../train/lr-plateau.js';
import { RMSProp } from '../optim/rmsprop.js';
import type { RMSPropOptions } from '../optim/rmsprop.js';
import { Dropout } from '../nn/dropout.js';
import type { DropoutOptions } from '../nn/dropout.js';
import { BatchNorm } from '../nn/batchnorm.js';
import type { BatchNormOptions } from '../nn/batchnorm.js';
import { LayerNormalization } from '../nn/layernorm.js';
import type { LayerNormalizationOptions } from '../nn/layernorm.js';
import { Permute, Reshape } from '../nn/reshape.js';
import type { PermuteOptions, ReshapeOptions } from '../nn/reshape.js';
import { MultiHeadAttention } from '../nn/attention.js';
import type { MultiHeadAttentionOptions } from '../nn/attention.js';
import { PositionEmbedding, SinusoidalEncoding } from '../nn/position.js';
import type { PositionEmbeddingOptions, SinusoidalEncodingOptions } from '../nn/position.js';
import { TransformerDecoderBlock, TransformerEncoderBlock } from '../nn/transformer.js';
import type { TransformerBlockOptions } from '../nn/transformer.js';
import { Bidirectional } from '../nn/bidirectional.js';
import type { BidirectionalOptions } from '../nn/bidirectional.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Model } from '../train/model.js';
import type { Reduction } from '../ops/losses.js';
import type { FitOptions } from '../train/model.js';
import { EarlyStopping } from '../train/early-stopping.js';
import type { EarlyStoppingOptions } from '../train/early-stopping.js';
import type { Tensor } from '../tensor/tensor.js';

/** One layer of a spec: `type` plus that layer's options (TF.js key names). */
export type LayerSpec = { type: string; name?: string } & Record<string, unknown>;

/** Training options of a spec (`"train"`). */
export interface TrainSpec {
  batchSize?: number;
  epochs?: number;
  shuffle?: boolean;
  seed?: number;
  stopWhen?: { loss: number };
  [key: string]: unknown;
}

/**
 * A model spec, the JSON the CLI reads:
 * ```json
 * {"input": [2],
 *  "layers": [{"type": "dense", "units": 3, "activation": "logistic", "name": "h1"}, …],
 *  "loss": "sse",
 *  "optimizer": {"type": "sgd", "learningRate": 0.2},
 *  "train": {"batchSize": 4, "epochs": 20000, "shuffle": false, "seed": 1, "stopWhen": {"loss": 0.0001}}}
 * ```
 */
export interface ModelSpec {
  /** Shape of one example (a graph spec: the first input's, filled in by {@link parseSpec}). */
  input: number[];
  layers: LayerSpec[];
  /** Graph form: the named inputs (then every layer names its `inbound` tensors). */
  inputs?: GraphInputSpec[];
  /** Graph form: the tensors the model returns (`layer` or `layer#call`). */
  outputs?: string[];
  loss: string;
  reduction?: Reduction;
  optimizer: { type: string; learningRate: number; [key: string]: unknown };
  train?: TrainSpec;
  [key: string]: unknown;
}

/** A graph spec's input: a name the layers refer to, and the shape of one example. @example `const i: GraphInputSpec = { name: 'x', shape: [8] };` */
export interface GraphInputSpec {
  name: string;
  shape: number[];
}

/** Builds a layer from its spec; `where` names it in errors (e.g. `layers[1] (dense)`). */
export type LayerFactory = (spec: LayerSpec, where: string) => Layer;
/** Builds an optimiser from its spec. */
export type OptimizerFactory = (spec: ModelSpec['optimizer'], where: string) => Optimizer;

/** Layer types the spec understands, by `"type"`. */
export const LAYER_FACTORIES: Record<string, LayerFactory> = {
  dense: (s) => new Dense(s as unknown as DenseOptions),
  activation: (s) => new Activation(s as unknown as ActivationOptions & { name?: string }),
  simpleRNN: (s) => new SimpleRNN(s as unknown as SimpleRNNOptions),
  lstm: (s) => new LSTM(s as unknown as LSTMOptions),
  gru: (s) => new GRU(s as unknown as GRUOptions),
  embedding: (s) => new Embedding(s as unknown as EmbeddingOptions),
  masking: (s) => new Masking(s as unknown as MaskingOptions),
  conv2d: (s) => new Conv2D(s as unknown as Conv2DOptions),
  conv1d: (s) => new Conv1D(s as unknown as Conv1DOptions),
  maxPool2d: (s) => new MaxPool2D(s as Pool2DOptions),
  maxPooling2d: (s) => new MaxPool2D(s as Pool2DOptions),
  avgPool2d: (s) => new AvgPool2D(s as Pool2DOptions),
  averagePooling2d: (s) => new AvgPool2D(s as Pool2DOptions),
  maxPool1d: (s) => new MaxPool1D(s as Pool1DOptions),
  maxPooling1d: (s) => new MaxPool1D(s as Pool1DOptions),
  avgPool1d: (s) => new AvgPool1D(s as Pool1DOptions),
  averagePooling1d: (s) => new AvgPool1D(s as Pool1DOptions),
  flatten: (s) => new Flatten(s as FlattenOptions),
  dropout: (s) => new Dropout(s as unknown as DropoutOptions),
  batchNorm: (s) => new BatchNorm(s as unknown as BatchNormOptions),
  batchNormalization: (s) => new BatchNorm(s as unknown as BatchNormOptions),
  conv2dTranspose: (s) => new Conv2DTranspose(s as unknown as Conv2DTransposeOptions),
  upSampling2d: (s) => new UpSampling2D(s as UpSampling2DOptions),
  globalAveragePooling2d: (s) => new GlobalAveragePooling2D(s as GlobalPoolingOptions),
  globalAveragePooling1d: (s) => new GlobalAveragePooling1D(s as GlobalPoolingOptions),
  add: (s) => new Add(s as MergeOptions),
  multiply: (s) => new Multiply(s as MergeOptions),
  concatenate: (s) => new Concatenate(s as ConcatenateOptions),
  layerNormalization: (s) => new LayerNormalization(s as LayerNormalizationOptions),
  reshape: (s) => new Reshape(s as unknown as ReshapeOptions),
  permute: (s) => new Permute(s as unknown as PermuteOptions),
  multiHeadAttention: (s) => new MultiHeadAttention(s as unknown as MultiHeadAttentionOptions),
  positionEmbedding: (s) => new PositionEmbedding(s as PositionEmbeddingOptions),
  sinusoidalEncoding: (s) => new SinusoidalEncoding(s as SinusoidalEncodingOptions),
  transformerEncoderBlock: (s) => new TransformerEncoderBlock(s as unknown as TransformerBlockOptions),
  transformerDecoderBlock: (s) => new TransformerDecoderBlock(s as unknown as TransformerBlockOptions),
  bidirectional: (s, where) => {
    const inner = s.layer as LayerSpec | undefined;
    const make = inner && typeof inner === 'object' && typeof inner.type === 'string' ? LAYER_FACTORIES[inner.type] : undefined;
    if (!make || !['simpleRNN', 'lstm', 'gru'].includes(inner!.type)) {
      throw new ConfigError(`${where}.layer must be a simpleRNN, lstm or gru layer spec, received ${JSON.stringify(inner)}`);
    }
    return new Bidirectional({ ...(s as object), layer: make(inner!, `${where}.layer`) } as unknown as BidirectionalOptions);
  },
};

/** Optimiser types the spec understands, by `"type"`. */
export const OPTIMIZER_FACTORIES: Record<string, OptimizerFactory> = {
  sgd: (s) => new SGD(s as unknown as ConstructorParameters<typeof SGD>[0]),
  adam: (s) => new Adam(s as unknown as AdamOptions),
  rmsprop: (s) => new RMSProp(s as unknown as RMSPropOptions),
  adamw: (s) => new AdamW(s as unknown as AdamWOptions),
};

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates a parsed spec (ConfigError naming the key) and returns it typed.
 *
 * @example
 * ```ts
 * const spec = parseSpec(JSON.parse(fs.readFileSync('spec.json', 'utf8')));
 * ```
 */
export function parseSpec(raw: unknown, source = 'spec'): ModelSpec {
  if (!isObj(raw)) throw new ConfigError(`${source}: a spec must be a JSON object`);
  let input = raw.input;
  if (raw.inputs !== undefined) input = parseGraphForm(raw, source);
  if (!Array.isArray(input) || input.length === 0 || input.some((d) => !Number.isInteger(d) || (d as number) < 1)) {
    throw new ConfigError(`${source}: "input" must be a list of positive integers (the shape of one example), received ${JSON.stringify(input)}`);
  }
  if (!Array.isArray(raw.layers) || raw.layers.length === 0) throw new ConfigError(`${source}: "layers" must be a non-empty list`);
  raw.layers.forEach((l, i) => {
    if (!isObj(l) || typeof l.type !== 'string') throw new ConfigError(`${source}: "layers[${i}]" must be an object with a "type"`);
    if (!(l.type in LAYER_FACTORIES)) {
      throw new ConfigError(`${source}: "layers[${i}].type" is ${JSON.stringify(l.type)}; known layer types: ${Object.keys(LAYER_FACTORIES).join(', ')}`);
    }
  });
  if (typeof raw.loss !== 'string') throw new ConfigError(`${source}: "loss" must be a loss name (sse, mse, crossEntropy, binaryCrossEntropy)`);
  const opt = raw.optimizer;
  if (!isObj(opt) || typeof opt.type !== 'string') throw new ConfigError(`${source}: "optimizer" must be an object with a "type" (${Object.keys(OPTIMIZER_FACTORIES).join(', ')})`);
  if (!(opt.type in OPTIMIZER_FACTORIES)) {
    throw new ConfigError(`${source}: "optimizer.type" is ${JSON.stringify(opt.type)}; known optimizers: ${Object.keys(OPTIMIZER_FACTORIES).join(', ')}`);
  }
  if (raw.train !== undefined) {
    if (!isObj(raw.train)) throw new ConfigError(`${source}: "train" must be an object`);
    const t = raw.train;
    const int = (k: string, min: number) => {
      if (t[k] !== undefined && (!Number.isInteger(t[k]) || (t[k] as number) < min)) {
        throw new ConfigError(`${source}: "train.${k}" must be an integer ≥ ${min}, received ${JSON.stringify(t[k])}`);
      }
    };
    int('batchSize', 1);
    int('epochs', 1);
    if (t.seed !== undefined && (typeof t.seed !== 'number' || !Number.isFinite(t.seed))) throw new ConfigError(`${source}: "train.seed" must be a number`);
    if (t.shuffle !== undefined && typeof t.shuffle !== 'boolean') throw new ConfigError(`${source}: "train.shuffle" must be true or false`);
    if (t.stopWhen !== undefined && (!isObj(t.stopWhen) || typeof t.stopWhen.loss !== 'number' || !(t.stopWhen.loss > 0))) {
      throw new ConfigError(`${source}: "train.stopWhen" must be {"loss": <positive number>}`);
    }
  }
  return (raw.inputs !== undefined ? { ...raw, input } : raw) as unknown as ModelSpec;
}

const isShape = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((d) => Number.isInteger(d) && (d as number) >= 1);

/** Checks the keys of the graph form (`inputs`, `inbound`, `outputs`); returns the first input's shape. */
function parseGraphForm(raw: Record<string, unknown>, source: string): number[] {
  const inputs = raw.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) throw new ConfigError(`${source}: "inputs" must be a non-empty list of {"name", "shape"}`);
  inputs.forEach((t, i) => {
    if (!isObj(t) || typeof t.name !== 'string' || !isShape(t.shape)) {
      throw new ConfigError(`${source}: "inputs[${i}]" must be {"name": <string>, "shape": <list of positive integers>}, received ${JSON.stringify(t)}`);
    }
  });
  if (!Array.isArray(raw.outputs) || raw.outputs.length === 0 || raw.outputs.some((o) => typeof o !== 'string')) {
    throw new ConfigError(`${source}: a graph spec needs "outputs", a non-empty list of layer names, received ${JSON.stringify(raw.outputs)}`);
  }
  if (Array.isArray(raw.layers)) {
    raw.layers.forEach((l, i) => {
      if (!isObj(l)) return;
      if (typeof l.name !== 'string') throw new ConfigError(`${source}: "layers[${i}]" of a graph spec needs a "name" (the other layers refer to it)`);
      const ib = l.inbound;
      const ok = Array.isArray(ib) && ib.length > 0 && (ib.every((r) => typeof r === 'string') || ib.every((c) => Array.isArray(c) && c.length > 0 && c.every((r) => typeof r === 'string')));
      if (!ok) throw new ConfigError(`${source}: "layers[${i}].inbound" must list the names it reads (["x"], ["a", "b"]), or one such list per call of a shared layer ([["a"], ["b"]]), received ${JSON.stringify(ib)}`);
    });
  }
  return (inputs[0] as GraphInputSpec).shape;
}

/** Builds the network of a spec. `seed` defaults to `train.seed` (or 1). */
export function buildNetwork(spec: ModelSpec, seed?: number): Sequential {
  const layers = spec.layers.map((l, i) => {
    const where = `layers[${i}] (${l.type}${l.name ? ` "${l.name}"` : ''})`;
    const { trainable, inbound: _inbound, ...options } = l;
    if (trainable !== undefined && typeof trainable !== 'boolean') throw new ConfigError(`${where}: "trainable" must be true or false, received ${JSON.stringify(trainable)}`);
    try {
      const layer = LAYER_FACTORIES[l.type](options as LayerSpec, where);
      if (trainable === false) layer.trainable = false;
      return layer;
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(`${where}: ${e.message}`);
      throw e;
    }
  });
  const s = seed ?? spec.train?.seed ?? 1;
  if (spec.inputs) return buildGraph(spec, layers, s);
  return new Sequential(layers, { inputShape: spec.input, seed: s });
}

/**
 * Wires the layers of a graph spec: each layer is applied to the tensors its `inbound` names
 * (once per call for a shared layer), in any order of the list; ConfigError for an unknown name
 * or a cycle.
 */
function buildGraph(spec: ModelSpec, layers: Layer[], seed: number): GraphNetwork {
  const tensors = new Map<string, SymbolicTensor>();
  const inputs = spec.inputs!.map((t) => {
    if (tensors.has(t.name)) throw new ConfigError(`spec: input name "${t.name}" is used twice`);
    const sym = Input({ shape: t.shape, name: t.name });
    tensors.set(t.name, sym);
    return sym;
  });
  const calls = spec.layers.map((l) => (Array.isArray(l.inbound) && Array.isArray((l.inbound as unknown[])[0]) ? l.inbound as string[][] : [l.inbound as string[]]));
  const byName = new Map(layers.map((l, i) => [l.name, i]));
  if (byName.size !== layers.length) throw new ConfigError('spec: layer names must be unique in a graph spec');
  const state = new Map<string, 'visiting' | 'done'>();
  const resolve = (ref: string, path: string[]): SymbolicTensor => {
    const known = tensors.get(ref);
    if (known) return known;
    const [lname, callStr] = ref.split('#');
    const i = byName.get(lname);
    const call = callStr === undefined ? 0 : Number(callStr);
    if (i === undefined || !Number.isInteger(call) || call < 0 || call >= calls[i].length) {
      throw new ConfigError(`spec: ${path.length ? `layer "${path[path.length - 1]}"` : '"outputs"'} refers to "${ref}", which is neither an input nor a layer call; known: ${[...spec.inputs!.map((t) => t.name), ...layers.map((l) => l.name)].join(', ')}`);
    }
    if (state.get(lname) === 'visiting') throw new ConfigError(`spec: the graph has a cycle: ${[...path.slice(path.indexOf(lname)), lname].join(' → ')}`);
    state.set(lname, 'visiting');
    // every call of a layer is made in order, so "name#1" exists once "name" does
    for (let c = 0; c < calls[i].length; c++) {
      const ins = calls[i][c].map((r) => resolve(r, [...path, lname]));
      const out = layers[i].apply(ins.length === 1 ? ins[0] : ins);
      tensors.set(c === 0 ? lname : `${lname}#${c}`, out);
    }
    state.set(lname, 'done');
    return tensors.get(ref)!;
  };
  const outputs = spec.outputs!.map((o) => resolve(o, []));
  return new GraphNetwork({ inputs, outputs, seed });
}

/**
 * The graph form of a spec for a {@link GraphNetwork} (its `inputs`, `layers` with `inbound`,
 * and `outputs`): add `loss`, `optimizer` and `train` to save or rebuild the model.
 *
 * @example
 * ```ts
 * const spec = { ...graphSpec(net), loss: 'crossEntropy', optimizer: { type: 'adam', learningRate: 0.001 } };
 * saveModel('models/residual', model, spec);
 * ```
 */
export function graphSpec(net: GraphNetwork): Pick<ModelSpec, 'input' | 'inputs' | 'layers' | 'outputs'> {
  const ref = (t: SymbolicTensor): string => (t.node ? t.source : t.inputName!);
  const layers = net.layers.map((l) => {
    const calls = net.nodes.filter((n) => n.layer === l).map((n) => n.inputs.map(ref));
    const cfg: LayerSpec = { ...l.config(), type: l.type, name: l.name } as LayerSpec;
    if (!l.trainable) cfg.trainable = false;
    cfg.inbound = calls.length === 1 ? calls[0] : calls;
    return cfg;
  });
  return {
    input: [...net.inputs[0].shape],
    inputs: net.inputs.map((t) => ({ name: t.inputName!, shape: [...t.shape] })),
    layers,
    outputs: net.outputs.map(ref),
  };
}

/** Builds the optimiser of a spec. */
export function buildOptimizer(spec: ModelSpec): Optimizer {
  const { schedule, ...options } = spec.optimizer;
  const opt = OPTIMIZER_FACTORIES[spec.optimizer.type](options as ModelSpec['optimizer'], 'optimizer');
  if (schedule !== undefined) opt.schedule = scheduleFromSpec(schedule);
  return opt;
}

/**
 * Builds network, loss and optimiser of a spec into a trainable {@link Model}.
 *
 * @example
 * ```ts
 * const model = buildModel(parseSpec(json));
 * model.fit(x, y, fitOptionsFromSpec(spec));
 * ```
 */
export function buildModel(spec: ModelSpec, seed?: number): Model {
  const net = buildNetwork(spec, seed);
  return new Model(net, { loss: spec.loss, reduction: spec.reduction, optimizer: buildOptimizer(spec), seed: seed ?? spec.train?.seed ?? 1 });
}

/**
 * Fit options from a spec's `"train"` section (epochs default 10, batchSize 32, shuffle true;
 * `validationSplit`, `earlyStopping: {patience, minDelta, startEpoch, monitor}`, `reduceLROnPlateau: {patience, factor, …}`, `clipNorm`,
 * `clipValue`, `stopWhen: {loss}`). `truncation: k` (truncated backpropagation through time,
 * used by the CLI through `fitTruncated`) is not a fit option and is left to the caller.
 * `validation` is used when the caller has validation data (e.g. split off by the data loader).
 *
 * @example
 * ```ts
 * model.fit(x, y, fitOptionsFromSpec(spec));
 * ```
 */
export function fitOptionsFromSpec(spec: ModelSpec, validation?: [Tensor, Tensor]): FitOptions {
  const t = spec.train ?? {};
  const opts: FitOptions = {
    epochs: t.epochs ?? 10,
    batchSize: t.batchSize ?? 32,
    shuffle: t.shuffle ?? true,
  };
  if (t.stopWhen) opts.stopWhen = t.stopWhen;
  if (typeof t.clipNorm === 'number') opts.clipNorm = t.clipNorm;
  if (typeof t.clipValue === 'number') opts.clipValue = t.clipValue;
  if (validation) opts.validationData = validation;
  else if (t.validationSplit !== undefined) opts.validationSplit = t.validationSplit as number;
  if (t.earlyStopping !== undefined) {
    const es = t.earlyStopping;
    if (typeof es !== 'object' || es === null || Array.isArray(es)) {
      throw new ConfigError(`"train.earlyStopping" must be an object such as {"patience": 5}, received ${JSON.stringify(es)}`);
    }
    opts.callbacks = [new EarlyStopping(es as EarlyStoppingOptions)];
  }
  if (t.reduceLROnPlateau !== undefined) {
    const r = t.reduceLROnPlateau;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      throw new ConfigError(`"train.reduceLROnPlateau" must be an object such as {"patience": 3, "factor": 0.5}, received ${JSON.stringify(r)}`);
    }
    (opts.callbacks ??= []).push(new ReduceLROnPlateau(r as ReduceLROnPlateauOptions));
  }
  return opts;
}
