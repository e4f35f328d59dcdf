import { ConfigError, fmtShape } from '../errors.js';
import { checkBool, checkInt, checkKeys, checkNumber, checkObject, checkOneOf, checkPositive, isObject, optional, show } from '../validate.js';
import type { Layer } from '../nn/module.js';
import { Sequential } from '../nn/sequential.js';
// the layer and optimiser files register their spec names when imported
import '../nn/index.js';
import '../optim/index.js';
import { LAYER_FACTORIES } from '../nn/registry.js';
import type { LayerSpec } from '../nn/registry.js';
import { OPTIMIZER_FACTORIES } from '../optim/registry.js';
import type { OptimizerSpec } from '../optim/registry.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Model } from '../train/model.js';
import { getLoss } from '../nn/losses.js';
import type { Reduction } from '../ops/losses.js';
import type { FitOptions } from '../train/model.js';
import { EarlyStopping } from '../train/early-stopping.js';
import type { EarlyStoppingOptions } from '../train/early-stopping.js';
import type { Tensor } from '../tensor/tensor.js';

export { LAYER_FACTORIES, registerLayer } from '../nn/registry.js';
export type { LayerSpec, LayerFactory } from '../nn/registry.js';
export { OPTIMIZER_FACTORIES, registerOptimizer } from '../optim/registry.js';
export type { OptimizerSpec, OptimizerFactory } from '../optim/registry.js';

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
 * A model spec, the JSON the CLI reads and `saveModel` writes (`model.toSpec()` gives a model's):
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
  optimizer: OptimizerSpec;
  train?: TrainSpec;
  [key: string]: unknown;
}

/** Top-level keys of a spec. */
const SPEC_KEYS = ['input', 'layers', 'loss', 'reduction', 'optimizer', 'train', 'columns', 'target'];
/** Keys of a spec's `"train"` section. */
const TRAIN_KEYS = ['batchSize', 'epochs', 'shuffle', 'seed', 'stopWhen', 'validationSplit', 'earlyStopping', 'clipNorm', 'clipValue', 'truncation'];

/** Loss names and their TF.js aliases, as a spec may spell them. */
const LOSS_SPELLINGS = ['sse', 'mse', 'crossEntropy', 'binaryCrossEntropy', 'meanSquaredError', 'categoricalCrossentropy', 'categoricalCrossEntropy', 'binaryCrossentropy'];

/** Options of {@link parseSpec}. */
export interface ParseSpecOptions {
  /** Accept a spec without `"input"` (the CLI infers it from the data, then fills it in). */
  inputOptional?: boolean;
}

/** Validates the `"train"` section (every key known, every value in range). */
function checkTrain(t: Record<string, unknown>, w: string): void {
  checkKeys(t, TRAIN_KEYS, w);
  optional(t.batchSize, (v) => checkInt(v, `${w}.batchSize`));
  optional(t.epochs, (v) => checkInt(v, `${w}.epochs`));
  optional(t.truncation, (v) => checkInt(v, `${w}.truncation`));
  optional(t.seed, (v) => checkNumber(v, `${w}.seed`));
  optional(t.shuffle, (v) => checkBool(v, `${w}.shuffle`));
  optional(t.validationSplit, (v) => checkNumber(v, `${w}.validationSplit`, { min: 0, max: 1, minExclusive: true, maxExclusive: true }));
  optional(t.clipNorm, (v) => checkPositive(v, `${w}.clipNorm`));
  optional(t.clipValue, (v) => checkPositive(v, `${w}.clipValue`));
  if (t.stopWhen !== undefined) {
    checkKeys(checkObject(t.stopWhen, `${w}.stopWhen`), ['loss'], `${w}.stopWhen`);
    checkPositive((t.stopWhen as Record<string, unknown>).loss, `${w}.stopWhen.loss`);
  }
  if (t.earlyStopping !== undefined) {
    try {
      new EarlyStopping(t.earlyStopping as EarlyStoppingOptions);
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(`${w}.${e.message}`);
      throw e;
    }
  }
}

/**
 * Validates a parsed spec and returns it typed. Every key is checked: an unknown one (top level,
 * `train`, a layer's options, the optimiser's) is a `ConfigError` naming it, where it is and the
 * closest valid key (`"train.epoch": unknown key; did you mean "epochs"?`); wrong types and
 * ranges name what was expected. Layer options are checked by building the layers.
 *
 * @example
 * ```ts
 * const spec = parseSpec(JSON.parse(fs.readFileSync('spec.json', 'utf8')), 'spec.json');
 * ```
 */
export function parseSpec(raw: unknown, source = 'spec', opts: ParseSpecOptions = {}): ModelSpec {
  if (!isObject(raw)) throw new ConfigError(`${source}: a spec must be a JSON object, received ${show(raw)}`);
  try {
    checkKeys(raw, SPEC_KEYS, 'spec');
  } catch (e) {
    throw new ConfigError(`${source}: ${(e as Error).message.replace(/^spec\./, '')}`);
  }
  const input = raw.input;
  if (!(input === undefined && opts.inputOptional) && (!Array.isArray(input) || input.length === 0 || input.some((d) => !Number.isInteger(d) || (d as number) < 1))) {
    throw new ConfigError(`${source}: "input" must be a list of positive integers (the shape of one example), received ${show(input)}`);
  }
  if (!Array.isArray(raw.layers) || raw.layers.length === 0) throw new ConfigError(`${source}: "layers" must be a non-empty list, received ${show(raw.layers)}`);
  const layerTypes = Object.keys(LAYER_FACTORIES);
  raw.layers.forEach((l, i) => {
    if (!isObject(l)) throw new ConfigError(`${source}: layers[${i}] must be an object with a "type", received ${show(l)}`);
    checkInSpec(() => checkOneOf(l.type, layerTypes, `layers[${i}].type`), source);
  });
  checkInSpec(() => {
    checkOneOf(raw.loss, LOSS_SPELLINGS, 'loss');
    optional(raw.reduction, (v) => checkOneOf(v, ['sum', 'mean'], 'reduction'));
    const opt = checkObject(raw.optimizer, 'optimizer');
    checkOneOf(opt.type, Object.keys(OPTIMIZER_FACTORIES), 'optimizer.type');
    if (raw.train !== undefined) checkTrain(checkObject(raw.train, 'train'), 'train');
  }, source);
  return raw as unknown as ModelSpec;
}

/** Runs a check, prefixing its ConfigError with the spec's source. */
function checkInSpec(check: () => void, source: string): void {
  try {
    check();
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(`${source}: ${e.message}`);
    throw e;
  }
}

/**
 * A layer's or optimiser's own message (`dense.units must be …`, `sgd: …`) placed in the spec:
 * `layers[0] (dense).units must be …`.
 */
function placed(message: string, own: string, where: string): string {
  if (message.startsWith(`${own}.`) || message.startsWith(`${own}:`)) return `${where}${message.slice(own.length)}`;
  return `${where}: ${message}`;
}

/** Where a spec's layer i is, for messages: `layers[1] (dense "h1")`. */
function layerWhere(l: LayerSpec, i: number): string {
  return `layers[${i}] (${l.type}${l.name ? ` "${l.name}"` : ''})`;
}

/**
 * Builds the network of a spec. `seed` defaults to `train.seed` (or 1).
 *
 * @example
 * ```ts
 * const net = buildNetwork(parseSpec(json));
 * ```
 */
export function buildNetwork(spec: ModelSpec, seed?: number): Sequential {
  const layers = spec.layers.map((l, i) => {
    const where = layerWhere(l, i);
    try {
      return LAYER_FACTORIES[l.type](l, where);
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(placed(e.message, l.name ?? l.type, where));
      throw e;
    }
  });
  return new Sequential(layers, { inputShape: spec.input, seed: seed ?? spec.train?.seed ?? 1 });
}

/**
 * Builds the optimiser of a spec.
 *
 * @example
 * ```ts
 * const opt = buildOptimizer(parseSpec(json));
 * ```
 */
export function buildOptimizer(spec: ModelSpec): Optimizer {
  checkInSpec(() => {
    checkObject(spec.optimizer, 'optimizer');
    checkOneOf(spec.optimizer.type, Object.keys(OPTIMIZER_FACTORIES), 'optimizer.type');
  }, 'spec');
  try {
    return OPTIMIZER_FACTORIES[spec.optimizer.type](spec.optimizer, 'optimizer');
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(placed(e.message, spec.optimizer.type, 'optimizer'));
    throw e;
  }
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
    checkObject(t.earlyStopping, 'train.earlyStopping');
    opts.callbacks = [new EarlyStopping(t.earlyStopping as EarlyStoppingOptions)];
  }
  return opts;
}

/** Initialisers only decide the starting weights: a trained model does not depend on them. */
function comparedKey(k: string): boolean {
  return k !== 'name' && k !== 'type' && !k.endsWith('Initializer');
}

/** ConfigError for the first option both configs give with different values. */
function compareConfigs(spec: Record<string, unknown>, model: Record<string, unknown>, where: string): void {
  for (const k of Object.keys(spec)) {
    if (!comparedKey(k) || spec[k] === undefined || model[k] === undefined) continue;
    if (show(spec[k]) !== show(model[k])) {
      throw new ConfigError(`${where}: ${k} is ${show(spec[k])} in the spec, but the model has ${show(model[k])}`);
    }
  }
}

function compareLayer(want: Layer, have: Layer, where: string): void {
  if (want.type !== have.type) throw new ConfigError(`${where}: type is "${want.type}" in the spec, but the model's layer ${have.name} is "${have.type}"`);
  if (want.name !== have.name) throw new ConfigError(`${where}: name is "${want.name}" in the spec, but the model's layer is "${have.name}"`);
  compareConfigs(want.config(), have.config(), where);
  const haveTensors = new Map([...have.ownParameters(), ...have.state]);
  for (const [k, t] of [...want.ownParameters(), ...want.state]) {
    const h = haveTensors.get(k);
    if (!h) throw new ConfigError(`${where}: the spec gives the layer a "${k}" ${fmtShape(t.shape)}, the model's layer has none`);
    if (fmtShape(h.shape) !== fmtShape(t.shape)) throw new ConfigError(`${where}: ${k} is ${fmtShape(t.shape)} by the spec, but ${fmtShape(h.shape)} in the model`);
    haveTensors.delete(k);
  }
  for (const [k, t] of haveTensors) throw new ConfigError(`${where}: the model's layer has a "${k}" ${fmtShape(t.shape)} that the spec does not give it`);
}

/**
 * Checks that a (hand-written) spec describes a model: same input shape, the same layers with the
 * same names, types, options and parameter shapes (initialisers aside), the same loss and
 * optimiser. A mismatch is a `ConfigError` naming the layer and the field, e.g.
 * `layers[0] (dense "h1"): activation is "tanh" in the spec, but the model has "relu"`.
 *
 * @example
 * ```ts
 * checkSpecMatchesModel(parseSpec(json), model); // throws on the first difference
 * ```
 */
export function checkSpecMatchesModel(spec: ModelSpec, model: Model, source = 'spec'): void {
  if (fmtShape(spec.input) !== fmtShape(model.net.inputShape)) {
    throw new ConfigError(`${source}: "input" is ${fmtShape(spec.input)}, but the model's input is ${fmtShape(model.net.inputShape)}`);
  }
  if (spec.layers.length !== model.net.layers.length) {
    throw new ConfigError(`${source}: "layers" lists ${spec.layers.length} layers, but the model has ${model.net.layers.length} (${model.net.layers.map((l) => l.name).join(', ')})`);
  }
  const net = buildNetwork(spec);
  net.layers.forEach((l, i) => compareLayer(l, model.net.layers[i], `${source}: ${layerWhere(spec.layers[i], i)}`));
  const own = model.toSpec();
  for (const k of ['loss', 'reduction'] as const) {
    const want = k === 'loss' ? getLoss(spec.loss).name : spec.reduction;
    if (want !== undefined && want !== own[k]) throw new ConfigError(`${source}: "${k}" is ${show(spec[k])}, but the model's is ${show(own[k])}`);
  }
  const opt = buildOptimizer(spec);
  if (opt.type !== model.optimizer.type) throw new ConfigError(`${source}: "optimizer.type" is "${opt.type}", but the model's optimizer is "${model.optimizer.type}"`);
  compareConfigs(opt.config(), model.optimizer.config(), `${source}: optimizer`);
}
