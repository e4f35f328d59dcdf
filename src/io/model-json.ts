import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { shapeSize } from '../tensor/tensor.js';
import type { Model } from '../train/model.js';
import type { History } from '../train/callbacks.js';
import { Preprocessor } from '../data/preprocess.js';
import type { PreprocessorJSON } from '../data/preprocess.js';
import type { ModelSpec } from './spec.js';
import { MODEL_FORMAT_VERSION } from './model-format.js';
import { buildModel, checkSpecMatchesModel, parseSpec } from './spec.js';

/** One tensor stored in the weights buffer. */
export interface StoredTensor {
  /** `layer.param` for model parameters and state, `optimizer/<param>/<buffer>` for optimiser state. */
  name: string;
  shape: number[];
  dtype: 'float32';
  /** Byte offset in the weights buffer. */
  offset: number;
}

/** Generator states and optimiser counters: what continuing training exactly needs. */
export interface TrainingState {
  /** Epochs trained so far. */
  epoch: number;
  optimizer: { type: string; iterations: number };
  rng: { shuffle: unknown; runtime: unknown };
}

/**
 * A model as JSON, without its weights (those are {@link SerializedModel.weights}): the spec
 * the model describes itself as, its preprocessing, the table of stored tensors (parameters,
 * layer state such as batch-norm statistics, optimiser state), generator states and a summary
 * of its training history.
 */
export interface ModelJSON {
  format: 'dendrite-model';
  version: number;
  spec: ModelSpec;
  /** Fitted data preparation (normalisers, encoders), see `Preprocessor`. */
  preprocessing?: PreprocessorJSON;
  /** Size of the weights buffer in bytes. */
  byteLength: number;
  tensors: StoredTensor[];
  /** The training history: one small entry per epoch (per-epoch diagnostics are summarised, see {@link summarizeHistory}). */
  history?: History;
  training?: TrainingState;
}

/** A model in memory: its JSON and its weights as little-endian float32 bytes. */
export interface SerializedModel {
  json: ModelJSON;
  weights: ArrayBuffer;
}

/** What {@link serializeModel} (and `saveModel`) take besides the model. */
export interface SerializeOptions {
  /**
   * A spec written by hand. It is checked against the model (a mismatch is a `ConfigError`
   * naming the layer and field); its extra sections (`train`, `columns`, `target`) are kept.
   */
  spec?: ModelSpec;
  /** Data preparation to store; default the model's own `model.preprocessing`. */
  preprocessing?: Preprocessor | PreprocessorJSON;
}

export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function swapBytes(b: Uint8Array): void {
  for (let i = 0; i + 3 < b.length; i += 4) {
    let t = b[i];
    b[i] = b[i + 3];
    b[i + 3] = t;
    t = b[i + 1];
    b[i + 1] = b[i + 2];
    b[i + 2] = t;
  }
}

/**
 * Keeps the history small: each epoch keeps its numbers (loss, accuracy, validation values,
 * seconds, gradient norm, and any other number a callback added); objects a callback attached
 * (per-epoch diagnostics records) are kept for the last epoch only.
 *
 * @example
 * ```ts
 * const small = summarizeHistory(model.history); // e.g. 142 KB of diagnostics → one record
 * ```
 */
export function summarizeHistory(h: History): History {
  const last = h.epochs.length - 1;
  const epochs = h.epochs.map((e, i) => {
    if (i === last) return structuredClone(e);
    const out: typeof e = { epoch: e.epoch, loss: e.loss, seconds: e.seconds };
    for (const [k, v] of Object.entries(e)) if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') out[k] = v;
    return out;
  });
  return { epochs, stopped: h.stopped, updates: h.updates };
}

/**
 * The model as JSON plus a weights buffer, in memory (works in a browser): what `saveModel`
 * writes to a directory. The model describes itself ({@link Model.toSpec}); a hand-written spec
 * in `opts.spec` is checked against it. Optimiser state and generator states are included, so
 * {@link deserializeModel} gives a model that predicts bit-identically and continues training
 * exactly as this one would.
 *
 * @example
 * ```ts
 * const { json, weights } = serializeModel(model);
 * const again = deserializeModel(JSON.parse(JSON.stringify(json)), weights);
 * ```
 */
export function serializeModel(model: Model, opts: SerializeOptions = {}): SerializedModel {
  const own = model.toSpec();
  let spec = own;
  if (opts.spec) {
    const hand = parseSpec(opts.spec, 'the spec passed to saveModel');
    checkSpecMatchesModel(hand, model, 'the spec passed to saveModel');
    spec = { ...hand, ...own, train: { ...own.train, ...hand.train } };
  }
  const entries: [string, Float32Array, readonly number[]][] = [];
  for (const l of model.net.layers) {
    for (const [k, t] of [...l.ownParameters(), ...l.state]) entries.push([`${l.name}.${k}`, t.data, t.shape]);
  }
  const st = model.optimizer.getState();
  for (const [pname, bufs] of Object.entries(st.params)) {
    for (const [b, arr] of Object.entries(bufs)) entries.push([`optimizer/${pname}/${b}`, Float32Array.from(arr), [arr.length]]);
  }
  const byteLength = entries.reduce((s, [, d]) => s + 4 * d.length, 0);
  const weights = new ArrayBuffer(byteLength);
  const bytes = new Uint8Array(weights);
  const tensors: StoredTensor[] = [];
  let offset = 0;
  for (const [name, data, shape] of entries) {
    tensors.push({ name, shape: [...shape], dtype: 'float32', offset });
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    offset += data.byteLength;
  }
  if (!LITTLE_ENDIAN) swapBytes(bytes);
  const pre = opts.preprocessing ?? model.preprocessing;
  const json: ModelJSON = {
    format: 'dendrite-model',
    version: MODEL_FORMAT_VERSION,
    spec,
    byteLength,
    tensors,
    history: summarizeHistory(model.history),
    training: {
      epoch: model.history.epochs.length,
      optimizer: { type: model.optimizer.type, iterations: st.iterations },
      rng: { shuffle: model.rng.getState(), runtime: model.net.rng.getState() },
    },
  };
  if (pre) json.preprocessing = pre instanceof Preprocessor ? pre.toJSON() : pre;
  return { json, weights };
}

/** Reads one stored tensor's values; `where` names the source in errors. */
export type TensorReader = (st: StoredTensor) => Float32Array;

/**
 * Fills a model built from a saved spec: every parameter and state tensor (shapes checked),
 * optimiser state, generator states, history and preprocessing. Errors are `ShapeError`s and
 * `ConfigError`s naming the tensor; the caller wraps them for its source. Internal to io/.
 */
export function restoreModel(model: Model, json: ModelJSON, read: TensorReader, source = 'the weights'): void {
  const byName = new Map(json.tensors.map((t) => [t.name, t]));
  for (const l of model.net.layers) {
    for (const [k, t] of [...l.ownParameters(), ...l.state]) {
      const name = `${l.name}.${k}`;
      const st = byName.get(name);
      if (!st) throw new ShapeError(`${source} lacks ${name} ${fmtShape(t.shape)}`);
      if (!Array.isArray(st.shape) || st.shape.length !== t.shape.length || st.shape.some((d, i) => d !== t.shape[i])) {
        throw new ShapeError(`${name} has shape ${fmtShape(st.shape ?? [])} in ${source}, the spec needs ${fmtShape(t.shape)}`);
      }
      t.data.set(read(st));
    }
  }
  if (json.history) model.history = structuredClone(json.history);
  if (json.training) {
    const params: Record<string, Record<string, number[]>> = {};
    for (const st of json.tensors) {
      if (!st.name.startsWith('optimizer/')) continue;
      const rest = st.name.slice('optimizer/'.length);
      const cut = rest.lastIndexOf('/');
      (params[rest.slice(0, cut)] ??= {})[rest.slice(cut + 1)] = Array.from(read(st));
    }
    model.optimizer.setState({ iterations: json.training.optimizer.iterations, params });
    model.rng.setState(json.training.rng.shuffle as Parameters<typeof model.rng.setState>[0]);
    model.net.rng.setState(json.training.rng.runtime as Parameters<typeof model.rng.setState>[0]);
  }
  if (json.preprocessing !== undefined) model.preprocessing = Preprocessor.fromJSON(json.preprocessing);
}

/**
 * Rebuilds a model from {@link serializeModel}'s JSON and weights (in memory; the inverse of
 * `Model.toJSON()` + `model.weightsBuffer()`). Everything is checked: format, version, spec,
 * every tensor's shape and byte range. `ConfigError`/`ShapeError` naming what is wrong.
 *
 * @example
 * ```ts
 * const again = deserializeModel(model.toJSON(), model.weightsBuffer());
 * ```
 */
export function deserializeModel(json: ModelJSON, weights: ArrayBuffer | Uint8Array): Model {
  if (!json || typeof json !== 'object' || json.format !== 'dendrite-model') {
    throw new ConfigError(`Model.fromJSON: expected an object with "format": "dendrite-model", received ${JSON.stringify((json as { format?: unknown } | null)?.format)}`);
  }
  if (typeof json.version !== 'number' || json.version > MODEL_FORMAT_VERSION) {
    throw new ConfigError(`Model.fromJSON: format version ${JSON.stringify(json.version)} is newer than this dendrite supports (${MODEL_FORMAT_VERSION})`);
  }
  if (!Array.isArray(json.tensors)) throw new ConfigError('Model.fromJSON: "tensors" must be a list');
  const bytes = weights instanceof Uint8Array ? weights : new Uint8Array(weights);
  if (bytes.length !== json.byteLength) {
    throw new ConfigError(`Model.fromJSON: the weights have ${bytes.length} bytes, the JSON says ${json.byteLength}`);
  }
  const model = buildModel(parseSpec(json.spec, 'Model.fromJSON spec'));
  restoreModel(model, json, (st) => {
    const n = shapeSize(st.shape);
    if (st.dtype !== 'float32') throw new ConfigError(`Model.fromJSON: tensor ${st.name} has dtype ${JSON.stringify(st.dtype)}; only float32 is supported`);
    if (!Number.isInteger(st.offset) || st.offset < 0 || st.offset + 4 * n > bytes.length) {
      throw new ConfigError(`Model.fromJSON: tensor ${st.name} at offset ${st.offset} runs past the end of the weights (${bytes.length} bytes)`);
    }
    const b = bytes.slice(st.offset, st.offset + 4 * n);
    if (!LITTLE_ENDIAN) swapBytes(b);
    return new Float32Array(b.buffer, 0, n);
  });
  return model;
}
