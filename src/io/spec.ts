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
import { SimpleRNN } from '../nn/rnn.js';
import type { SimpleRNNOptions } from '../nn/rnn.js';
import { LSTM } from '../nn/lstm.js';
import type { LSTMOptions } from '../nn/lstm.js';
import { GRU } from '../nn/gru.js';
import type { GRUOptions } from '../nn/gru.js';
import { Embedding, Masking } from '../nn/embedding.js';
import type { EmbeddingOptions, MaskingOptions } from '../nn/embedding.js';
import { SGD } from '../optim/optimizer.js';
import { Adam } from '../optim/adam.js';
import type { AdamOptions } from '../optim/adam.js';
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
  input: number[];
  layers: LayerSpec[];
  loss: string;
  reduction?: Reduction;
  optimizer: { type: string; learningRate: number; [key: string]: unknown };
  train?: TrainSpec;
  [key: string]: unknown;
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
  const input = raw.input;
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
  return raw as unknown as ModelSpec;
}

/** Builds the network of a spec. `seed` defaults to `train.seed` (or 1). */
export function buildNetwork(spec: ModelSpec, seed?: number): Sequential {
  const layers = spec.layers.map((l, i) => {
    const where = `layers[${i}] (${l.type}${l.name ? ` "${l.name}"` : ''})`;
    try {
      return LAYER_FACTORIES[l.type](l, where);
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(`${where}: ${e.message}`);
      throw e;
    }
  });
  return new Sequential(layers, { inputShape: spec.input, seed: seed ?? spec.train?.seed ?? 1 });
}

/** Builds the optimiser of a spec. */
export function buildOptimizer(spec: ModelSpec): Optimizer {
  return OPTIMIZER_FACTORIES[spec.optimizer.type](spec.optimizer, 'optimizer');
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
 * `validationSplit`, `earlyStopping: {patience, minDelta, startEpoch, monitor}`, `clipNorm`,
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
  return opts;
}
