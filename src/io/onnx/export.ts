import protobuf from 'protobufjs/light.js';
import { ConfigError, ModelFileError } from '../../errors.js';
import { Sequential } from '../../nn/sequential.js';
import { GraphNetwork } from '../../nn/graph.js';
import { isMultiInput } from '../../nn/symbolic.js';
import type { SymbolicTensor } from '../../nn/symbolic.js';
import type { Model } from '../../train/model.js';
import { shapeSize } from '../../tensor/tensor.js';
import { applyNumeric } from '../../data/normalize.js';
import type { PreprocessorJSON } from '../../data/preprocess.js';
import { OnnxGraph } from './graph.js';
import { ONNX_LAYERS } from './layers.js';
import { DataType, ModelProto } from './schema.js';

/** The ONNX operator set the exporter targets (default domain `ai.onnx`). @example `readOnnx(exportOnnx(model)).opset === ONNX_OPSET // 17` */
export const ONNX_OPSET = 17;
/** The ONNX IR version written (8 goes with opset 17). @example `readOnnx(bytes).irVersion === ONNX_IR_VERSION` */
export const ONNX_IR_VERSION = 8;

/**
 * An affine input normalisation put in front of the network as graph nodes:
 * `x ↦ (x − center)·scale + offset`, each either one number or one value per input feature
 * (the flattened example, e.g. 784 for [1, 28, 28]).
 * @example `exportOnnx(model, { normalize: { center: 0.1307, scale: 1 / 0.3081 } })`
 */
export interface OnnxNormalization {
  center: number | ArrayLike<number>;
  scale: number | ArrayLike<number>;
  offset?: number | ArrayLike<number>;
}

/** Options of {@link exportOnnx}. @example `exportOnnx(model, { name: 'digits', docString: 'W-CNN, 98.9 %' })` */
export interface OnnxExportOptions {
  /** Graph name (default: the model's name). */
  name?: string;
  /** Normalisation applied to the raw input inside the graph (see {@link normalizationFromPreprocessing}). */
  normalize?: OnnxNormalization;
  /** Free text stored as the model's doc string. */
  docString?: string;
}

/** The layer types {@link exportOnnx} supports, by spec name. @example `onnxSupportedLayers().includes('lstm') // true` */
export function onnxSupportedLayers(): string[] {
  return Object.keys(ONNX_LAYERS);
}

function netOf(model: Model | Sequential): Sequential {
  return model instanceof Sequential ? model : model.net;
}

/**
 * Throws a ConfigError naming the first layer ONNX export cannot express (unknown type or an
 * unsupported setting), listing the supported types. Runs before anything is built or written.
 *
 * @example
 * ```ts
 * checkOnnxExportable(model); // throws for e.g. a masking layer
 * ```
 */
export function checkOnnxExportable(model: Model | Sequential): void {
  for (const l of netOf(model).layers) {
    const ex = Object.prototype.hasOwnProperty.call(ONNX_LAYERS, l.type) ? ONNX_LAYERS[l.type] : undefined;
    if (!ex) {
      throw new ConfigError(`onnx export: layer ${l.name} has type "${l.type}", which has no ONNX form; supported layer types: ${onnxSupportedLayers().join(', ')}`);
    }
    const why = ex.check?.(l);
    if (why) throw new ConfigError(`onnx export: layer ${l.name} (${l.type}) cannot be exported: ${why}`);
  }
}

function perFeature(v: number | ArrayLike<number>, n: number, key: string): Float32Array {
  if (typeof v === 'number') return new Float32Array(n).fill(v);
  if (v.length === 1) return new Float32Array(n).fill(v[0]);
  if (v.length !== n) throw new ConfigError(`onnx export: normalize.${key} has ${v.length} values; expected 1 or ${n} (one per input feature)`);
  return Float32Array.from(v);
}

function valueInfo(name: string, shape: readonly number[]) {
  return {
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, ...shape.map((d) => ({ dimValue: d }))] } } },
  };
}

/**
 * Exports a model as ONNX (opset {@link ONNX_OPSET}) bytes: one graph input `input`
 * [N, ...inputShape] and one output `output` [N, ...outputShape] (a graph model: its inputs'
 * names, outputs `output` or `output_0`, `output_1`, …), the weights as initializers,
 * inference semantics (dropout is identity, batch norm uses the moving statistics, recurrent
 * layers start from a zero state). Every layer type is one entry of a table
 * ({@link onnxSupportedLayers}); an unsupported layer is a ConfigError before anything is built.
 * Runs in any JavaScript runtime; write the bytes with {@link saveOnnx} in Node.
 *
 * @example
 * ```ts
 * const bytes = exportOnnx(model, { normalize: { center: 0.1307, scale: 1 / 0.3081 } });
 * // onnxruntime: await InferenceSession.create(bytes)
 * ```
 */
export function exportOnnx(model: Model | Sequential, opts: OnnxExportOptions = {}): Uint8Array {
  const net = netOf(model);
  checkOnnxExportable(net);
  const g = new OnnxGraph();
  const graph = net instanceof GraphNetwork ? net : null;
  if (graph && opts.normalize && graph.inputs.length > 1) {
    throw new ConfigError(`onnx export: normalize applies to one input; the graph model ${net.name} has ${graph.inputs.length}`);
  }
  // a stack has one input `input` and one output `output`; a graph model its own inputs' names and
  // `output` (one output) or `output_<i>`
  const inShapes = graph ? graph.inputShapes : [net.inputShape];
  const outShapes = graph ? graph.outputShapes : [net.outputShape];
  const inputs = graph ? graph.inputs.map((t) => g.name(t.inputName!)) : [g.name('input')];
  let x = inputs[0];
  if (opts.normalize) {
    const n = shapeSize(net.inputShape);
    const nz = opts.normalize;
    g.scope = 'normalize';
    x = g.node('Sub', [x, g.weight('center', net.inputShape, perFeature(nz.center, n, 'center'))]);
    x = g.node('Mul', [x, g.weight('scale', net.inputShape, perFeature(nz.scale, n, 'scale'))]);
    if (nz.offset !== undefined) x = g.node('Add', [x, g.weight('offset', net.inputShape, perFeature(nz.offset, n, 'offset'))]);
  }
  let results: string[];
  if (graph) {
    // every layer call in graph order; a shared layer's weights are written once per call
    const values = new Map<SymbolicTensor, string>(graph.inputs.map((t, i) => [t, i === 0 ? x : inputs[i]]));
    for (const n of graph.nodes) {
      g.scope = n.call ? `${n.layer.name}#${n.call}` : n.layer.name;
      const ex = ONNX_LAYERS[n.layer.type];
      const ins = n.inputs.map((t) => values.get(t)!);
      values.set(n.output, ex.emitMany && isMultiInput(n.layer) ? ex.emitMany(n.layer, g, ins) : ex.emit(n.layer, g, ins[0]));
    }
    results = graph.outputs.map((t) => values.get(t)!);
  } else {
    for (const l of net.layers) {
      g.scope = l.name;
      x = ONNX_LAYERS[l.type].emit(l, g, x);
    }
    results = [x];
  }
  g.scope = '';
  const outputs = results.map((r, i) => {
    const output = g.name(results.length === 1 ? 'output' : `output_${i}`);
    g.nodes.push({ input: [r], output: [output], name: g.name('output_node'), opType: 'Identity', attribute: [] });
    return output;
  });
  const msg = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'dendrite',
    producerVersion: '0.1.0',
    docString: opts.docString ?? '',
    graph: {
      name: opts.name ?? net.name,
      node: g.nodes,
      initializer: g.initializers,
      input: inputs.map((n, i) => valueInfo(n, inShapes[i])),
      output: outputs.map((n, i) => valueInfo(n, outShapes[i])),
    },
    metadataProps: [{ key: 'dendrite.layers', value: net.layers.map((l) => `${l.name}:${l.type}`).join(',') }],
  };
  return ModelProto.encode(ModelProto.fromObject(msg)).finish();
}

/** What {@link readOnnx} reports about an ONNX file. @example `readOnnx(bytes).inputs[0].shape // ['N', 1, 28, 28]` */
export interface OnnxInfo {
  irVersion: number;
  opset: number;
  producer: string;
  inputs: { name: string; shape: (number | string)[] }[];
  outputs: { name: string; shape: (number | string)[] }[];
  /** Operator types of the nodes, in graph order. */
  ops: string[];
  initializers: number;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v ?? 0);
}

/**
 * Decodes ONNX bytes (as written by {@link exportOnnx} or any other exporter) into a summary.
 * Truncated or corrupt bytes are a ModelFileError naming `file` and the byte offset.
 *
 * @example
 * ```ts
 * readOnnx(exportOnnx(model)).ops; // ['Gemm', 'Relu', 'Gemm', 'Softmax', 'Identity']
 * ```
 */
export function readOnnx(bytes: Uint8Array, file = 'ONNX model'): OnnxInfo {
  const reader = protobuf.Reader.create(bytes);
  let m: Record<string, unknown>;
  try {
    m = ModelProto.toObject(ModelProto.decode(reader), { longs: Number, defaults: true }) as Record<string, unknown>;
  } catch (e) {
    throw new ModelFileError(`${file}: corrupt or truncated ONNX protobuf at byte offset ${reader.pos} of ${bytes.length}: ${(e as Error).message}`);
  }
  const graph = m.graph as Record<string, unknown> | undefined;
  if (!graph || !Array.isArray(graph.node) || graph.node.length === 0 || !Array.isArray(graph.output) || graph.output.length === 0) {
    throw new ModelFileError(`${file}: not an ONNX model (no graph with nodes and outputs) at byte offset ${bytes.length} of ${bytes.length}; the file may be truncated`);
  }
  const shapes = (vs: unknown[]) => (vs as { name: string; type?: { tensorType?: { shape?: { dim?: { dimValue?: unknown; dimParam?: string }[] } } } }[]).map((v) => ({
    name: v.name,
    shape: (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : num(d.dimValue))),
  }));
  const opsets = (m.opsetImport as { domain: string; version: unknown }[]) ?? [];
  return {
    irVersion: num(m.irVersion),
    opset: num(opsets.find((o) => !o.domain)?.version),
    producer: String(m.producerName ?? ''),
    inputs: shapes(graph.input as unknown[]),
    outputs: shapes(graph.output as unknown[]),
    ops: (graph.node as { opType: string }[]).map((n) => n.opType),
    initializers: (graph.initializer as unknown[]).length,
  };
}

/**
 * The input normalisation of a saved model's preparation (CSV columns fitted by the data module)
 * as an {@link OnnxNormalization}, so the exported graph takes raw values. Every input column must
 * be numeric: categorical (one-hot) columns have no graph form here and are a ConfigError.
 *
 * @example
 * ```ts
 * const { model, preprocessing } = loadModel('models/iris');
 * exportOnnx(model, { normalize: normalizationFromPreprocessing(preprocessing) });
 * ```
 */
export function normalizationFromPreprocessing(preprocessing: unknown): OnnxNormalization {
  const p = preprocessing as PreprocessorJSON | undefined;
  if (!p || p.format !== 'dendrite-preprocessor' || !Array.isArray(p.inputs)) {
    throw new ConfigError('onnx export: the model has no saved data preparation to include (it was not trained from a CSV file)');
  }
  const center: number[] = [];
  const scale: number[] = [];
  const offset: number[] = [];
  for (const f of p.inputs) {
    if (f.type !== 'numeric') throw new ConfigError(`onnx export: input column "${f.column}" is ${f.type}; only numeric normalisation can be included in the graph`);
    // every fitted transform is affine: y = x·(f(1) − f(0)) + f(0)
    const at0 = applyNumeric(f, 0);
    center.push(0);
    scale.push(applyNumeric(f, 1) - at0);
    offset.push(at0);
  }
  return { center, scale, offset };
}
