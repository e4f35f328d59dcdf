/**
 * TF.js import: a tfjs-layers `model.json` (as `model.save` writes it: `modelTopology` with a
 * Sequential model, `weightsManifest` with the weight shards) becomes a dendrite model, converting
 * layouts: channels-last images and 1-D signals become channels-first, kernels [in, out] become
 * [out, in], stacked recurrent kernels become dendrite's per-gate [H, H + I] matrices (LSTM gates
 * i, f, c, o; GRU z, r, h), and the dense layer after a flatten of a channels-last map has its
 * input rows reordered. Runs from bytes (any runtime) or by fetch from a URL (browsers).
 */
import { ConfigError, ModelFileError, ShapeError, fmtShape } from '../errors.js';
import { buildModel, parseSpec } from './spec.js';
import type { LayerSpec, ModelSpec } from './spec.js';
import type { Model } from '../train/model.js';
import type { WeightJson } from '../nn/sequential.js';
import { transpose, unstackGate } from './layouts.js';

/** The parts of a tfjs-layers model.json this importer reads. @example `parseTfjsModelJson(text).modelTopology` */
export interface TfjsModelJson {
  modelTopology: { class_name?: string; config?: unknown; model_config?: unknown };
  weightsManifest?: { paths: string[]; weights: { name: string; shape: number[]; dtype?: string; quantization?: unknown }[] }[];
  format?: string;
}

type Cfg = Record<string, unknown>;
/** How the current activations are laid out in TF.js relative to dendrite. */
interface Flow {
  /** TF.js shape without the batch dimension. */
  shape: number[];
  /**
   * `plain`: features or sequences, laid out alike in both; `last`: channels-last feature maps
   * that dendrite holds channels-first; `first`: channels-first feature maps.
   */
  layout: 'plain' | 'last' | 'first';
  /** After a flatten of a channels-last map: dendrite index of each TF.js feature index. */
  perm: Int32Array | null;
}

/** Weights of one layer by their TF.js short name (`kernel`, `bias`, …). */
type LayerWeights = (name: string, shape?: readonly number[]) => Float32Array;

interface Converted {
  spec: LayerSpec;
  weights?: Record<string, Float32Array>;
}

/** Converts one TF.js layer (its config, the flow into it, its weights) into a dendrite layer spec. */
type TfjsLayerImporter = (c: Cfg, flow: Flow, w: LayerWeights, name: string) => Converted | null;

const ACTIVATIONS: Record<string, string> = {
  linear: 'linear', relu: 'relu', sigmoid: 'logistic', tanh: 'tanh', softmax: 'softmax',
};

function activationOf(c: Cfg, key: string, name: string): string {
  const a = (c[key] ?? 'linear') as string;
  if (!Object.prototype.hasOwnProperty.call(ACTIVATIONS, a)) {
    throw new ConfigError(`tfjs import: layer ${name}: ${key} "${a}" has no dendrite equivalent; supported: ${Object.keys(ACTIVATIONS).join(', ')}`);
  }
  return ACTIVATIONS[a];
}

function requireValue(c: Cfg, key: string, ok: (v: unknown) => boolean, want: string, name: string): void {
  if (c[key] !== undefined && c[key] !== null && !ok(c[key])) {
    throw new ConfigError(`tfjs import: layer ${name}: ${key} ${JSON.stringify(c[key])} is not supported (expected ${want})`);
  }
}

const ones = (v: unknown) => Array.isArray(v) ? v.every((d) => d === 1) : v === 1;

function permuted(v: Float32Array, perm: Int32Array | null): Float32Array {
  if (!perm) return v;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[perm[i]] = v[i];
  return out;
}

/** A channels-last kernel [...spatial, in, out] as dendrite's [out, in, ...spatial]. */
function convKernel(k: Float32Array, spatial: number[], cin: number, cout: number): Float32Array {
  const area = spatial.reduce((a, b) => a * b, 1);
  const out = new Float32Array(k.length);
  for (let s = 0; s < area; s++) {
    for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) out[(o * cin + i) * area + s] = k[(s * cin + i) * cout + o];
  }
  return out;
}

function dense(c: Cfg, flow: Flow, w: LayerWeights, name: string): Converted {
  const units = c.units as number;
  const inputs = flow.shape[flow.shape.length - 1];
  if (flow.layout !== 'plain') throw new ConfigError(`tfjs import: layer ${name}: a dense layer on a feature map has no dendrite form (flatten first)`);
  const spec: LayerSpec = { type: 'dense', name, units, activation: activationOf(c, 'activation', name), useBias: c.use_bias !== false };
  const weights: Record<string, Float32Array> = { weight: transpose(w('kernel', [inputs, units]), inputs, units, flow.perm) };
  if (c.use_bias !== false) weights.bias = w('bias', [units]);
  flow.shape = [...flow.shape.slice(0, -1), units];
  flow.perm = null;
  return { spec, weights };
}

/** Output size of a window of `k` with stride `s` over `n` (TF.js valid/same rules). */
function windows(n: number, k: number, s: number, padding: string): number {
  return padding === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1;
}

/** Updates the spatial sizes of a feature map's shape for windows `ks`/`st` and the channel count. */
function slide(flow: Flow, ks: number[], st: number[], padding: string, channels?: number): void {
  const last = flow.layout === 'last';
  const sp = last ? flow.shape.slice(0, -1) : flow.shape.slice(1);
  const c = channels ?? (last ? flow.shape[flow.shape.length - 1] : flow.shape[0]);
  const out = sp.map((n, i) => windows(n, ks[i], st[i], padding));
  flow.shape = last ? [...out, c] : [c, ...out];
}

const list = (v: unknown, n: number, dflt: number): number[] => (Array.isArray(v) ? v as number[] : new Array<number>(n).fill((v ?? dflt) as number));

function conv(dims: 1 | 2): TfjsLayerImporter {
  return (c, flow, w, name) => {
    requireValue(c, 'dilation_rate', ones, 'no dilation', name);
    requireValue(c, 'groups', (v) => v === 1, '1 group', name);
    const layout = (c.data_format ?? 'channels_last') === 'channels_last' ? 'last' : 'first';
    if (flow.layout !== layout) {
      throw new ConfigError(`tfjs import: layer ${name}: a ${layout === 'last' ? 'channels-last' : 'channels-first'} convolution must be the first layer or follow convolutions/pooling of the same data format`);
    }
    const ks = list(c.kernel_size, dims, 1);
    const st = list(c.strides, dims, 1);
    const cin = layout === 'last' ? flow.shape[flow.shape.length - 1] : flow.shape[0];
    const filters = c.filters as number;
    const padding = (c.padding ?? 'valid') as string;
    if (padding !== 'valid' && padding !== 'same') throw new ConfigError(`tfjs import: layer ${name}: padding ${JSON.stringify(c.padding)} is not supported (valid, same)`);
    const spec: LayerSpec = {
      type: dims === 2 ? 'conv2d' : 'conv1d', name, filters, activation: activationOf(c, 'activation', name), useBias: c.use_bias !== false,
      kernelSize: dims === 2 ? ks : ks[0], strides: dims === 2 ? st : st[0], padding,
    };
    const kernel = w('kernel', [...ks, cin, filters]);
    const weights: Record<string, Float32Array> = { weight: convKernel(kernel, ks, cin, filters) };
    if (c.use_bias !== false) weights.bias = w('bias', [filters]);
    slide(flow, ks, st, padding, filters);
    return { spec, weights };
  };
}

function pool(type: string): TfjsLayerImporter {
  return (c, flow, _w, name) => {
    if ((c.padding ?? 'valid') !== 'valid') throw new ConfigError(`tfjs import: layer ${name}: pooling padding ${JSON.stringify(c.padding)} is not supported (dendrite pools "valid" windows only)`);
    if (flow.layout === 'plain') throw new ConfigError(`tfjs import: layer ${name}: pooling is supported on convolution feature maps only`);
    const dims = type.endsWith('1d') ? 1 : 2;
    const size = list(c.pool_size, dims, 2);
    const strides = c.strides === undefined || c.strides === null ? size : list(c.strides, dims, 1);
    slide(flow, size, strides, 'valid');
    return { spec: { type, name, poolSize: dims === 1 ? size[0] : size, strides: dims === 1 ? strides[0] : strides } };
  };
}

/** Dendrite-index of each TF.js index when a channels-last map [...spatial, C] is flattened. */
function flattenPerm(shape: number[]): Int32Array {
  const C = shape[shape.length - 1];
  const area = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const perm = new Int32Array(area * C);
  for (let s = 0; s < area; s++) for (let ch = 0; ch < C; ch++) perm[s * C + ch] = ch * area + s;
  return perm;
}

function recurrent(type: 'simpleRNN' | 'lstm' | 'gru', gates: string[]): TfjsLayerImporter {
  return (c, flow, w, name) => {
    if (flow.layout !== 'plain') throw new ConfigError(`tfjs import: layer ${name}: a recurrent layer after a convolution has no dendrite form (dendrite's conv1d output is channels-first)`);
    for (const k of ['go_backwards', 'return_state']) requireValue(c, k, (v) => v === false, 'false', name);
    requireValue(c, 'reset_after', (v) => v === false, 'false: dendrite\'s GRU applies the reset gate before the recurrent product', name);
    requireValue(c, 'activation', (v) => v === (type === 'simpleRNN' ? v : 'tanh'), '"tanh"', name);
    if (type !== 'simpleRNN') requireValue(c, 'recurrent_activation', (v) => v === 'sigmoid', '"sigmoid" (tfjs defaults to "hardSigmoid"; build the model with recurrentActivation: "sigmoid")', name);
    if (type !== 'simpleRNN' && c.recurrent_activation === undefined) {
      throw new ConfigError(`tfjs import: layer ${name}: recurrent_activation is not stated (tfjs' default is "hardSigmoid"); dendrite needs "sigmoid"`);
    }
    const H = c.units as number;
    const I = flow.shape[flow.shape.length - 1];
    const G = gates.length;
    const wx = transpose(w('kernel', [I, G * H]), I, G * H);
    const wh = transpose(w('recurrent_kernel', [H, G * H]), H, G * H);
    const b = c.use_bias === false ? new Float32Array(G * H) : w('bias', [G * H]);
    const spec: LayerSpec = { type, name, units: H, returnSequences: c.return_sequences === true };
    if (c.stateful === true) spec.stateful = true;
    const weights: Record<string, Float32Array> = {};
    if (type === 'simpleRNN') {
      spec.activation = activationOf(c, 'activation', name);
      weights.Whx = wx;
      weights.Whh = wh;
      weights.bias = b;
    } else {
      gates.forEach((g, k) => {
        weights[`W${g}`] = unstackGate(wx, wh, k, H, I);
        weights[`b${g}`] = b.slice(k * H, (k + 1) * H);
      });
    }
    flow.shape = spec.returnSequences ? [flow.shape[0], H] : [H];
    return { spec, weights };
  };
}

/**
 * The importer of every TF.js layer class, keyed by `class_name`. Adding a class is one entry here.
 * @example `Object.keys(TFJS_LAYERS) // ['InputLayer', 'Dense', 'Activation', …]`
 */
export const TFJS_LAYERS: Record<string, TfjsLayerImporter> = {
  InputLayer: () => null,
  Dense: dense,
  Activation: (c, _f, _w, name) => ({ spec: { type: 'activation', name, activation: activationOf(c, 'activation', name) } }),
  ReLU: (_c, _f, _w, name) => ({ spec: { type: 'activation', name, activation: 'relu' } }),
  LeakyReLU: (c, _f, _w, name) => ({ spec: { type: 'activation', name, activation: 'leakyRelu', alpha: (c.alpha ?? 0.3) as number } }),
  Softmax: (_c, _f, _w, name) => ({ spec: { type: 'activation', name, activation: 'softmax' } }),
  Conv2D: conv(2),
  Conv1D: conv(1),
  MaxPooling2D: pool('maxPool2d'),
  AveragePooling2D: pool('avgPool2d'),
  MaxPooling1D: pool('maxPool1d'),
  AveragePooling1D: pool('avgPool1d'),
  Flatten(c, flow, _w, name) {
    const size = flow.shape.reduce((a, b) => a * b, 1);
    if (flow.layout === 'last') flow.perm = flattenPerm(flow.shape);
    // Flatten({dataFormat: 'channelsFirst'}) moves the channels last before flattening
    if (flow.layout === 'first' && c.data_format === 'channels_first') flow.perm = flattenPerm([...flow.shape.slice(1), flow.shape[0]]);
    flow.layout = 'plain';
    flow.shape = [size];
    return { spec: { type: 'flatten', name } };
  },
  Dropout: (c, _f, _w, name) => ({ spec: { type: 'dropout', name, rate: c.rate as number } }),
  BatchNormalization(c, flow, w, name) {
    const rank = flow.shape.length;
    const raw = Array.isArray(c.axis) && c.axis.length === 1 ? c.axis[0] : (c.axis ?? -1);
    const axis = raw < 0 ? rank + (raw as number) : (raw as number) - 1; // TF.js counts the batch axis
    const want = flow.layout === 'first' ? 0 : rank - 1;
    if (axis !== want) {
      throw new ConfigError(`tfjs import: layer ${name}: axis ${JSON.stringify(c.axis)} is not supported (the ${flow.layout === 'plain' ? 'feature' : 'channel'} axis)`);
    }
    const C = flow.shape[want];
    const spec: LayerSpec = { type: 'batchNorm', name, epsilon: c.epsilon as number, momentum: c.momentum as number, center: c.center !== false, scale: c.scale !== false };
    const weights: Record<string, Float32Array> = {
      movingMean: permuted(w('moving_mean', [C]), flow.perm),
      movingVariance: permuted(w('moving_variance', [C]), flow.perm),
    };
    if (c.scale !== false) weights.gamma = permuted(w('gamma', [C]), flow.perm);
    if (c.center !== false) weights.beta = permuted(w('beta', [C]), flow.perm);
    return { spec, weights };
  },
  Embedding(c, flow, w, name) {
    const inputDim = c.input_dim as number;
    const outputDim = c.output_dim as number;
    flow.shape = [...flow.shape, outputDim];
    return { spec: { type: 'embedding', name, inputDim, outputDim, maskZero: c.mask_zero === true }, weights: { weight: w('embeddings', [inputDim, outputDim]) } };
  },
  Masking: (c, _f, _w, name) => ({ spec: { type: 'masking', name, maskValue: (c.mask_value ?? 0) as number } }),
  SimpleRNN: recurrent('simpleRNN', ['']),
  LSTM: recurrent('lstm', ['i', 'f', 'c', 'o']),
  GRU: recurrent('gru', ['z', 'r', 'h']),
};

/** Positional offset of a JSON syntax error (Node/V8 messages say "at position N"), else the end. */
function jsonOffset(e: Error, length: number): number {
  const m = /position (\d+)/.exec(e.message);
  return m ? Number(m[1]) : length;
}

/**
 * Parses model.json text (ModelFileError naming `file` and the byte offset when it is not valid
 * JSON or lacks a topology and weights manifest).
 *
 * @example
 * ```ts
 * const json = parseTfjsModelJson(text, 'model.json');
 * ```
 */
export function parseTfjsModelJson(text: string, file = 'model.json'): TfjsModelJson {
  let j: TfjsModelJson;
  try {
    j = JSON.parse(text) as TfjsModelJson;
  } catch (e) {
    throw new ModelFileError(`${file}: corrupt or truncated JSON at byte offset ${jsonOffset(e as Error, text.length)}: ${(e as Error).message}`);
  }
  if (!j || typeof j !== 'object' || !j.modelTopology || typeof j.modelTopology !== 'object') {
    throw new ModelFileError(`${file}: not a tfjs-layers model.json (no modelTopology) at byte offset 0`);
  }
  if (!Array.isArray(j.weightsManifest) || j.weightsManifest.some((g) => !g || !Array.isArray(g.paths) || !Array.isArray(g.weights))) {
    throw new ModelFileError(`${file}: weightsManifest must be a list of {paths, weights} groups (a graph model or a topology without weights cannot be imported)`);
  }
  return j;
}

/** The shard paths of a model.json, in the order their bytes are concatenated. @example `tfjsShardPaths(json) // ['group1-shard1of1.bin']` */
export function tfjsShardPaths(j: TfjsModelJson): string[] {
  return (j.weightsManifest ?? []).flatMap((g) => g.paths);
}

/**
 * Converts a parsed model.json and its weight bytes (the shards concatenated in manifest order)
 * into a dendrite model and spec. Unsupported layers or settings are ConfigErrors naming the layer
 * and listing the supported classes; weights shorter than the manifest says are a ModelFileError
 * with the offset; a weight whose shape does not fit the layer is a ShapeError naming it.
 * Channels-last image inputs become channels-first: feed [N, C, H, W] to the result.
 *
 * @example
 * ```ts
 * const { model, spec } = tfjsToModel(json, weightBytes, 'model.json');
 * ```
 */
export function tfjsToModel(j: TfjsModelJson, data: Uint8Array, file = 'model.json'): { model: Model; spec: ModelSpec } {
  const topo = j.modelTopology;
  const cfg = (topo.model_config ?? topo) as { class_name?: string; config?: unknown };
  if (cfg.class_name !== 'Sequential') {
    throw new ConfigError(`tfjs import: ${file} holds a ${String(cfg.class_name)} model; only Sequential models are supported`);
  }
  const layers = (Array.isArray(cfg.config) ? cfg.config : (cfg.config as { layers?: unknown })?.layers) as { class_name: string; config: Cfg }[] | undefined;
  if (!Array.isArray(layers) || layers.length === 0) throw new ModelFileError(`${file}: the Sequential model lists no layers`);
  // every weight of the manifest, as a view of the concatenated shard bytes
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  let off = 0;
  for (const g of j.weightsManifest ?? []) {
    for (const s of g.weights) {
      if ((s.dtype ?? 'float32') !== 'float32' || s.quantization) throw new ConfigError(`tfjs import: weight ${s.name} is ${s.quantization ? 'quantized' : s.dtype}; only float32 weights are supported`);
      if (!Array.isArray(s.shape) || s.shape.some((d) => !Number.isInteger(d) || d < 0)) throw new ModelFileError(`${file}: weight ${s.name} has shape ${JSON.stringify(s.shape)}`);
      const n = s.shape.reduce((a, b) => a * b, 1);
      if (off + 4 * n > data.length) {
        throw new ModelFileError(`${file}: the weight shards are truncated: ${s.name} ${fmtShape(s.shape)} needs bytes ${off}–${off + 4 * n}, the shards hold ${data.length} (byte offset ${data.length})`);
      }
      const dv = new DataView(data.buffer, data.byteOffset + off, 4 * n);
      const v = new Float32Array(n);
      for (let i = 0; i < n; i++) v[i] = dv.getFloat32(4 * i, true);
      weights.set(s.name, { shape: s.shape, data: v });
      off += 4 * n;
    }
  }
  const first = layers[0].config ?? {};
  const batchShape = (first.batch_input_shape ?? first.batchInputShape ?? first.batch_shape) as (number | null)[] | undefined;
  if (!Array.isArray(batchShape) || batchShape.slice(1).some((d) => !Number.isInteger(d))) {
    throw new ConfigError(`tfjs import: the first layer of ${file} states no complete input shape (batch_input_shape ${JSON.stringify(batchShape)})`);
  }
  // the input is a feature map when the first layer is a convolution
  const head = layers.find((l) => l.class_name !== 'InputLayer');
  const conv0 = head && (head.class_name === 'Conv2D' || head.class_name === 'Conv1D');
  const layout = !conv0 ? 'plain' : (head.config.data_format ?? 'channels_last') === 'channels_last' ? 'last' : 'first';
  const flow: Flow = { shape: batchShape.slice(1) as number[], layout, perm: null };
  const input = layout === 'last' ? [flow.shape[flow.shape.length - 1], ...flow.shape.slice(0, -1)] : [...flow.shape];
  const specs: LayerSpec[] = [];
  const dendriteWeights: WeightJson = {};
  for (const l of layers) {
    const name = String(l.config?.name ?? l.class_name);
    const imp = Object.prototype.hasOwnProperty.call(TFJS_LAYERS, l.class_name) ? TFJS_LAYERS[l.class_name] : undefined;
    if (!imp) throw new ConfigError(`tfjs import: layer ${name} is a ${l.class_name}, which dendrite cannot import; supported classes: ${Object.keys(TFJS_LAYERS).join(', ')}`);
    const get: LayerWeights = (short, shape) => {
      const key = `${name}/${short}`;
      const t = weights.get(key);
      if (!t) throw new ModelFileError(`${file}: the weights manifest lacks ${key}`);
      if (shape && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
        throw new ShapeError(`tfjs import: weight ${key} has shape ${fmtShape(t.shape)}, layer ${name} needs ${fmtShape(shape)}`);
      }
      return t.data;
    };
    const r = imp(l.config ?? {}, flow, get, name);
    if (!r) continue;
    specs.push(r.spec);
    if (r.weights) dendriteWeights[name] = r.weights;
  }
  const last = specs[specs.length - 1];
  const spec = parseSpec({
    input, layers: specs,
    loss: last.activation === 'softmax' ? 'crossEntropy' : 'mse',
    optimizer: { type: 'adam', learningRate: 0.001 },
  }, file);
  const model = buildModel(spec);
  model.net.setWeights(dendriteWeights);
  model.net.eval();
  return { model, spec };
}

/**
 * Loads a tfjs-layers model from a URL (browsers, or Node 20's global fetch): model.json, then
 * every weight shard relative to it. HTTP failures are ModelFileErrors naming the URL.
 *
 * @example
 * ```ts
 * const { model } = await loadTfjsUrl('https://example.com/models/mnist/model.json');
 * ```
 */
export async function loadTfjsUrl(url: string, fetchFn: typeof fetch = globalThis.fetch): Promise<{ model: Model; spec: ModelSpec }> {
  const get = async (u: string) => {
    let r: Response;
    try {
      r = await fetchFn(u);
    } catch (e) {
      throw new ModelFileError(`${u}: cannot fetch (${(e as Error).message})`);
    }
    if (!r.ok) throw new ModelFileError(`${u}: HTTP ${r.status} ${r.statusText}`);
    return new Uint8Array(await r.arrayBuffer());
  };
  const j = parseTfjsModelJson(new TextDecoder().decode(await get(url)), url);
  const shards = await Promise.all(tfjsShardPaths(j).map((p) => get(new URL(p, url).href)));
  return tfjsToModel(j, concatBytes(shards), url);
}

/** The shards' bytes in order, as one array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
