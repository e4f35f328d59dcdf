import { withPlainStorage } from '../backend/index.js';
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
import { GraphNetwork } from '../nn/graph.js';
import { Input, SymbolicTensor } from '../nn/symbolic.js';
import { scheduleFromSpec } from '../optim/schedules.js';
import { ReduceLROnPlateau } from '../train/lr-plateau.js';
import type { ReduceLROnPlateauOptions } from '../train/lr-plateau.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Model } from '../train/model.js';
import { flattenLoss, getLoss } from '../nn/losses.js';
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
  /** Shape of one example (a graph spec: the first input's, filled in by {@link parseSpec}). */
  input: number[];
  layers: LayerSpec[];
  /** Graph form: the named inputs (then every layer names its `inbound` tensors). */
  inputs?: GraphInputSpec[];
  /** Graph form: the tensors the model returns (`layer` or `layer#call`). */
  outputs?: string[];
  loss: string;
  reduction?: Reduction;
  optimizer: OptimizerSpec;
  train?: TrainSpec;
  [key: string]: unknown;
}

/** Top-level keys of a spec. */
const SPEC_KEYS = ['input', 'inputs', 'layers', 'outputs', 'loss', 'reduction', 'optimizer', 'train', 'columns', 'target'];
/** Keys of a spec's `"train"` section. */
const TRAIN_KEYS = ['batchSize', 'epochs', 'shuffle', 'seed', 'stopWhen', 'validationSplit', 'earlyStopping', 'clipNorm', 'clipValue', 'truncation', 'reduceLROnPlateau'];

/** Loss names and their TF.js aliases, as a spec may spell them. */
const LOSS_SPELLINGS = ['sse', 'mse', 'crossEntropy', 'binaryCrossEntropy', 'meanSquaredError', 'categoricalCrossentropy', 'categoricalCrossEntropy', 'binaryCrossentropy'];

/** Options of {@link parseSpec}. */
export interface ParseSpecOptions {
  /** Accept a spec without `"input"` (the CLI infers it from the data, then fills it in). */
  inputOptional?: boolean;
}

/** A graph spec's input: a name the layers refer to, and the shape of one example. @example `const i: GraphInputSpec = { name: 'x', shape: [8] };` */
export interface GraphInputSpec {
  name: string;
  shape: number[];
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
  if (t.reduceLROnPlateau !== undefined) {
    try {
      new ReduceLROnPlateau(checkObject(t.reduceLROnPlateau, 'reduceLROnPlateau') as ReduceLROnPlateauOptions);
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
  // a loss given as {type, reduction} is kept as its name with the reduction beside it
  if (isObject(raw.loss)) return parseSpec({ ...raw, ...checkInSpec(() => flattenLoss(raw.loss, raw.reduction), source) }, source, opts);
  let input = raw.input;
  if (raw.inputs !== undefined) input = parseGraphForm(raw, source);
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
    if (opt.schedule !== undefined) scheduleFromSpec(opt.schedule);
    if (raw.train !== undefined) checkTrain(checkObject(raw.train, 'train'), 'train');
  }, source);
  return (raw.inputs !== undefined ? { ...raw, input } : raw) as ModelSpec;
}

const isShape = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((d) => Number.isInteger(d) && (d as number) >= 1);

/** Checks the keys of the graph form (`inputs`, `inbound`, `outputs`); returns the first input's shape. */
function parseGraphForm(raw: Record<string, unknown>, source: string): number[] {
  const inputs = raw.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) throw new ConfigError(`${source}: "inputs" must be a non-empty list of {"name", "shape"}`);
  inputs.forEach((t, i) => {
    if (!isObject(t) || typeof t.name !== 'string' || !isShape(t.shape)) {
      throw new ConfigError(`${source}: "inputs[${i}]" must be {"name": <string>, "shape": <list of positive integers>}, received ${JSON.stringify(t)}`);
    }
  });
  if (!Array.isArray(raw.outputs) || raw.outputs.length === 0 || raw.outputs.some((o) => typeof o !== 'string')) {
    throw new ConfigError(`${source}: a graph spec needs "outputs", a non-empty list of layer names, received ${JSON.stringify(raw.outputs)}`);
  }
  if (Array.isArray(raw.layers)) {
    raw.layers.forEach((l, i) => {
      if (!isObject(l)) return;
      if (typeof l.name !== 'string') throw new ConfigError(`${source}: "layers[${i}]" of a graph spec needs a "name" (the other layers refer to it)`);
      const ib = l.inbound;
      const ok = Array.isArray(ib) && ib.length > 0 && (ib.every((r) => typeof r === 'string') || ib.every((c) => Array.isArray(c) && c.length > 0 && c.every((r) => typeof r === 'string')));
      if (!ok) throw new ConfigError(`${source}: "layers[${i}].inbound" must list the names it reads (["x"], ["a", "b"]), or one such list per call of a shared layer ([["a"], ["b"]]), received ${JSON.stringify(ib)}`);
    });
  }
  return (inputs[0] as GraphInputSpec).shape;
}

/** Runs a check, prefixing its ConfigError with the spec's source. */
function checkInSpec<T>(check: () => T, source: string): T {
  try {
    return check();
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
    const { trainable, inbound: _inbound, ...options } = l;
    if (trainable !== undefined && typeof trainable !== 'boolean') throw new ConfigError(`${where}: "trainable" must be true or false, received ${show(trainable)}`);
    try {
      const layer = LAYER_FACTORIES[l.type](options as LayerSpec, where);
      if (trainable === false) layer.trainable = false;
      return layer;
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError(placed(e.message, l.name ?? l.type, where));
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
  const { schedule, ...options } = spec.optimizer;
  try {
    const opt = OPTIMIZER_FACTORIES[spec.optimizer.type](options as OptimizerSpec, 'optimizer');
    if (schedule !== undefined) opt.schedule = scheduleFromSpec(schedule);
    return opt;
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
    checkObject(t.earlyStopping, 'train.earlyStopping');
    opts.callbacks = [new EarlyStopping(t.earlyStopping as EarlyStoppingOptions)];
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
  // built to be compared and dropped: its parameters need no place in the backend's memory
  const net = withPlainStorage(() => buildNetwork(spec));
  net.layers.forEach((l, i) => compareLayer(l, model.net.layers[i], `${source}: ${layerWhere(spec.layers[i], i)}`));
  const own = model.toSpec();
  for (const k of ['loss', 'reduction'] as const) {
    const want = k === 'loss' ? getLoss(spec.loss).name : spec.reduction;
    if (want !== undefined && want !== own[k]) throw new ConfigError(`${source}: "${k}" is ${show(spec[k])}, but the model's is ${show(own[k])}`);
  }
  const opt = buildOptimizer(spec);
  if (opt.type !== model.optimizer.type) throw new ConfigError(`${source}: "optimizer.type" is "${opt.type}", but the model's optimizer is "${model.optimizer.type}"`);
  // the spec gives the rate training started with; schedules and ReduceLROnPlateau change the current one
  compareConfigs(opt.config(), { ...model.optimizer.config(), learningRate: model.optimizer.initialLearningRate }, `${source}: optimizer`);
}
