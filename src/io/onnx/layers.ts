import { ConfigError } from '../../errors.js';
import type { Layer } from '../../nn/module.js';
import type { Dense } from '../../nn/dense.js';
import type { Activation, ActivationOptions } from '../../nn/activation.js';
import type { Conv1D, Conv2D } from '../../nn/conv.js';
import type { BatchNorm } from '../../nn/batchnorm.js';
import type { Embedding } from '../../nn/embedding.js';
import type { RecurrentLayer, SimpleRNN } from '../../nn/rnn.js';
import type { LSTM } from '../../nn/lstm.js';
import type { GRU } from '../../nn/gru.js';
import type { Bidirectional } from '../../nn/bidirectional.js';
import type { LayerNormalization } from '../../nn/layernorm.js';
import type { MultiHeadAttention } from '../../nn/attention.js';
import type { PositionEmbedding, SinusoidalEncoding } from '../../nn/position.js';
import type { TransformerEncoderBlock } from '../../nn/transformer.js';
import type { Permute } from '../../nn/reshape.js';
import { causalMask } from '../../ops/attention.js';
import { transposePad } from '../../ops/spatial.js';
import type { Conv2DTranspose } from '../../nn/conv.js';
import type { Concatenate } from '../../nn/merge.js';
import type { GlobalAveragePooling1D, UpSampling2D } from '../../nn/spatial.js';
import type { ActivationName } from '../../ops/activations.js';
import { activationExport } from '../../ops/activations.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { AttrValue, OnnxGraph } from './graph.js';
import { simpleRnnGate, stackGates, transpose } from '../layouts.js';

/**
 * How one layer type becomes ONNX nodes: `emit` adds the layer's initializers and nodes to the
 * graph, reading the tensor named `x` ([batch, ...layer.inputShape]) and returning the name of its
 * output ([batch, ...layer.outputShape]). `check` (optional) rejects a configuration the exporter
 * cannot express, before anything is built.
 * @example `ONNX_LAYERS.flatten = { emit: (_l, g, x) => g.node('Flatten', [x], { axis: 1 }) };`
 */
export interface OnnxLayerExporter {
  check?(layer: Layer): string | null;
  emit(layer: Layer, g: OnnxGraph, x: string): string;
  /** A merge layer of a graph model: reads several tensors (`emit` then gets only the first). */
  emitMany?(layer: Layer, g: OnnxGraph, xs: string[]): string;
}

/** A merge layer: `emitMany` folds its inputs; one input alone passes through. */
function merge(many: (l: Layer, g: OnnxGraph, xs: string[]) => string): OnnxLayerExporter {
  return { emit: (_l, g, x) => g.node('Identity', [x]), emitMany: many };
}

/**
 * Applies a dendrite activation to `z`. `trailing` is the number of axes after the one PReLU's
 * per-unit slope runs along (0: the last axis; convolutions: the spatial axes after the channels).
 */
function activation(g: OnnxGraph, name: ActivationName, z: string, o: ActivationOptions, lambda: Tensor | undefined, trailing = 0): string {
  switch (name) {
    case 'linear': return z;
    case 'gelu': {
      // opset 17 has no Gelu: x · ½(1 + erf(x/√2)), PyTorch's exact form
      const erf = g.node('Erf', [g.node('Div', [z, g.weight('sqrt2', [], Float32Array.of(Math.SQRT2))])]);
      const half = g.node('Mul', [z, g.weight('half', [], Float32Array.of(0.5))]);
      return g.node('Mul', [half, g.node('Add', [erf, g.weight('one', [], Float32Array.of(1))])]);
    }
    case 'leakyRelu': return g.node('LeakyRelu', [z], { alpha: { float: o.alpha ?? 0.01 } });
    case 'softmax': return g.node('Softmax', [z], { axis: -1 });
    case 'threshold': {
      const theta = g.weight('theta', [], Float32Array.of(o.theta ?? 0));
      return g.node('Cast', [g.node('GreaterOrEqual', [z, theta])], { to: 1 });
    }
    case 'prelu': {
      const l = lambda!;
      const slope = g.weight('slope', [l.size, ...new Array<number>(trailing).fill(1)], l.data);
      return g.node('PRelu', [z, slope]);
    }
    default: {
      // one operator, from the kernel table
      const op = activationExport(name).onnx;
      if (!op) throw new ConfigError(`ONNX export: the ${name} activation has no ONNX operator`);
      return g.node(op, [z]);
    }
  }
}

function dense(layer: Layer, g: OnnxGraph, x: string): string {
  const d = layer as Dense;
  const [units, inputs] = d.weight.shape;
  let z: string;
  if (d.inputShape.length === 1) {
    const ins = [x, g.weight('weight', [units, inputs], d.weight.data)];
    if (d.bias) ins.push(g.weight('bias', [units], d.bias.data));
    z = g.node('Gemm', ins, { transB: 1 });
  } else {
    // a dense layer applied at every step of a sequence [batch, T, inputs]
    z = g.node('MatMul', [x, g.weight('weightT', [inputs, units], transpose(d.weight.data, units, inputs))]);
    if (d.bias) z = g.node('Add', [z, g.weight('bias', [units], d.bias.data)]);
  }
  return activation(g, d.activation, z, d.opts, d.lambda);
}

function conv(layer: Layer, g: OnnxGraph, x: string): string {
  const c = layer as Conv2D | Conv1D;
  const twoD = c.type === 'conv2d';
  const w = g.weight('weight', c.weight.shape, c.weight.data);
  const ins = c.bias ? [x, w, g.weight('bias', [c.filters], c.bias.data)] : [x, w];
  // dendrite keeps [top, bottom, left, right] (2-D) or [left, right] (1-D); ONNX wants all the
  // begins, then all the ends
  const p: number[] = c.padding;
  const attrs = twoD
    ? { kernel_shape: [...(c as Conv2D).kernelSize], strides: [...(c as Conv2D).strides], pads: [p[0], p[2], p[1], p[3]] }
    : { kernel_shape: [(c as Conv1D).kernelSize], strides: [(c as Conv1D).strides], pads: [p[0], p[1]] };
  const z = g.node('Conv', ins, attrs);
  return activation(g, c.activation, z, c.opts, c.lambda, twoD ? 2 : 1);
}

function pool(op: 'MaxPool' | 'AveragePool'): OnnxLayerExporter {
  return {
    emit(layer, g, x) {
      const p = layer as Layer & { poolSize: [number, number]; strides: [number, number] };
      const oneD = layer.inputShape.length === 2;
      const kernel = oneD ? [p.poolSize[1]] : [...p.poolSize];
      const strides = oneD ? [p.strides[1]] : [...p.strides];
      return g.node(op, [x], { kernel_shape: kernel, strides });
    },
  };
}

/**
 * Gate blocks of dendrite recurrent layers in ONNX order, one direction per layer (forward, then
 * backward): W [D, G·H, I], R [D, G·H, H], B [D, 2·G·H].
 */
function gateInitializers(g: OnnxGraph, dirs: [{ data: Float32Array }[], Tensor[]][], H: number, I: number): string[] {
  const G = dirs[0][0].length;
  const D = dirs.length;
  const W = new Float32Array(D * G * H * I);
  const R = new Float32Array(D * G * H * H);
  const Bs = new Float32Array(D * 2 * G * H);
  dirs.forEach(([weights, biases], d) => {
    const { wx, wh } = stackGates(weights, H, I);
    W.set(wx, d * G * H * I);
    R.set(wh, d * G * H * H);
    biases.forEach((b, k) => Bs.set(b.data, d * 2 * G * H + k * H)); // the recurrence bias half (R_b) stays zero
  });
  return [g.weight('W', [D, G * H, I], W), g.weight('R', [D, G * H, H], R), g.weight('B', [D, 2 * G * H], Bs)];
}

const RNN_ACTS: Record<string, [string, number?, number?]> = {
  tanh: ['Tanh'], logistic: ['Sigmoid'], relu: ['Relu'], leakyRelu: ['LeakyRelu'], linear: ['Affine', 1, 0],
};

/** An ONNX recurrent operator for one layer type, forwards or (given the backward twin) in both directions. */
interface RecurrentExporter extends OnnxLayerExporter {
  /** Emits the operator; with `back` it is bidirectional and the two directions merge by `merge`. */
  run(r: RecurrentLayer, g: OnnxGraph, x: string, back?: RecurrentLayer, merge?: 'concat' | 'sum'): string;
}

/** ONNX's recurrent operators are time-major: [batch, T, I] → [T, batch, I] → op → back. */
function recurrent(op: 'RNN' | 'LSTM' | 'GRU', gates: (l: Layer) => [{ data: Float32Array }[], Tensor[]],
  attrs: (l: Layer) => Record<string, AttrValue> = () => ({})): RecurrentExporter {
  const run = (r: RecurrentLayer, g: OnnxGraph, x: string, back?: RecurrentLayer, merge: 'concat' | 'sum' = 'concat'): string => {
    const H = r.units;
    const I = r.inputShape[1];
    const layers = back ? [r, back] : [r];
    const [W, R, B] = gateInitializers(g, layers.map(gates), H, I);
    const xt = g.node('Transpose', [x], { perm: [1, 0, 2] });
    // per-direction activation lists (activations, activation_alpha/beta) are repeated for the backward direction
    const a = attrs(r);
    for (const k of Object.keys(a)) {
      const v = a[k] as { strings?: string[]; floats?: number[] };
      if (back && v.strings) a[k] = { strings: [...v.strings, ...v.strings] };
      if (back && v.floats) a[k] = { floats: [...v.floats, ...v.floats] };
    }
    const dir: Record<string, AttrValue> = back ? { direction: 'bidirectional' } : {};
    const [y, yh] = g.nodeN(op, [xt, W, R, B], op === 'LSTM' ? 3 : 2, { hidden_size: H, ...a, ...dir });
    if (!r.returnSequences) {
      // Y_h [D, batch, H]: the final state of each direction (the backward one's is at step 1)
      if (!back) return g.node('Squeeze', [yh, g.int64('axes', [0])]);
      if (merge === 'sum') return g.node('ReduceSum', [yh, g.int64('axes', [0])], { keepdims: 0 });
      return g.node('Reshape', [g.node('Transpose', [yh], { perm: [1, 0, 2] }), g.int64('shape', [0, 2 * H])]);
    }
    // Y [T, D, batch, H], the backward direction already in input time order
    if (!back) return g.node('Transpose', [g.node('Squeeze', [y, g.int64('axes', [1])])], { perm: [1, 0, 2] });
    if (merge === 'sum') return g.node('Transpose', [g.node('ReduceSum', [y, g.int64('axes', [1])], { keepdims: 0 })], { perm: [1, 0, 2] });
    return g.node('Reshape', [g.node('Transpose', [y], { perm: [2, 0, 1, 3] }), g.int64('shape', [0, 0, 2 * H])]);
  };
  return {
    check(layer) {
      return (layer as RecurrentLayer).stateful
        ? 'a stateful recurrent layer carries its state across calls, which one ONNX graph cannot (set stateful: false to export the per-call computation)'
        : null;
    },
    emit: (layer, g, x) => run(layer as RecurrentLayer, g, x),
    run,
  };
}

const simpleRnn = recurrent('RNN', (l) => [[simpleRnnGate(l as SimpleRNN)], [(l as SimpleRNN).bias]], (l) => {
  const s = l as SimpleRNN;
  const [name, alpha, beta] = RNN_ACTS[s.activation];
  const out: Record<string, AttrValue> = { activations: { strings: [name] } };
  if (s.activation === 'leakyRelu') out.activation_alpha = { floats: [s.opts.alpha ?? 0.01] };
  if (alpha !== undefined) out.activation_alpha = { floats: [alpha] };
  if (beta !== undefined) out.activation_beta = { floats: [beta] };
  return out;
});

const RECURRENT: Record<string, RecurrentExporter> = {
  simpleRNN: simpleRnn,
  lstm: recurrent('LSTM', (l) => { const s = l as LSTM; return [[s.Wi, s.Wo, s.Wf, s.Wc], [s.bi, s.bo, s.bf, s.bc]]; }),
  gru: recurrent('GRU', (l) => { const s = l as GRU; return [[s.Wz, s.Wr, s.Wh], [s.bz, s.br, s.bh]]; }, () => ({ linear_before_reset: 0 })),
};

function layerNorm(layer: Layer, g: OnnxGraph, x: string): string {
  const n = layer as LayerNormalization;
  const F = layer.inputShape[layer.inputShape.length - 1];
  const scale = g.weight('gamma', [F], n.gamma ? n.gamma.data : new Float32Array(F).fill(1));
  const bias = g.weight('beta', [F], n.beta ? n.beta.data : new Float32Array(F));
  return g.node('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: { float: n.epsilon } });
}

/** x·Wᵀ + b for x [batch, T, F] and a dendrite weight [rows, F]. */
function project(g: OnnxGraph, x: string, w: Tensor, b: Tensor | null, name: string): string {
  const [rows, cols] = w.shape;
  const y = g.node('MatMul', [x, g.weight(`${name}WeightT`, [cols, rows], transpose(w.data, rows, cols))]);
  return b ? g.node('Add', [y, g.weight(`${name}Bias`, [rows], b.data)]) : y;
}

/**
 * Self-attention as plain nodes: per-head projections reshaped to [batch, H, T, d], scores
 * Q·Kᵀ/√d_k plus the causal mask (a constant [T, T] of 0 and −∞) when the layer is causal,
 * Softmax, ·V, heads merged, output projection. Padding masks never reach here: the embedding
 * exporter refuses maskZero.
 */
function attention(m: MultiHeadAttention, g: OnnxGraph, x: string): string {
  const [T] = m.inputShape;
  const H = m.numHeads;
  const heads = (w: Tensor, b: Tensor | null, name: string, d: number, perm: number[]) =>
    g.node('Transpose', [g.node('Reshape', [project(g, x, w, b, name), g.int64('heads', [0, 0, H, d])])], { perm });
  const q = heads(m.queryWeight, m.queryBias, 'query', m.keyDim, [0, 2, 1, 3]);
  const kt = heads(m.keyWeight, m.keyBias, 'key', m.keyDim, [0, 2, 3, 1]);
  const v = heads(m.valueWeight, m.valueBias, 'value', m.valueDim, [0, 2, 1, 3]);
  let scores = g.node('Mul', [g.node('MatMul', [q, kt]), g.weight('scale', [], Float32Array.of(1 / Math.sqrt(m.keyDim)))]);
  if (m.causal) scores = g.node('Add', [scores, g.weight('causalMask', [T, T], causalMask(T).data)]);
  const att = g.node('MatMul', [g.node('Softmax', [scores], { axis: -1 }), v]);
  const merged = g.node('Reshape', [g.node('Transpose', [att], { perm: [0, 2, 1, 3] }), g.int64('merged', [0, 0, H * m.valueDim])]);
  return project(g, merged, m.outputWeight, m.outputBias, 'output');
}

/** x + P[:T] for a position table P [maxLength, F] (T is fixed by the model's input shape). */
function addPositions(g: OnnxGraph, x: string, table: Tensor, inputShape: readonly number[]): string {
  const [T, F] = inputShape;
  return g.node('Add', [x, g.weight('positions', [T, F], table.data.subarray(0, T * F))]);
}

/** The [before, after] padding and output padding of a transposed convolution, rows then columns (both exporters use it). @example `transposePads(layer)[0].before // rows cropped at the top` */
export function transposePads(c: Conv2DTranspose): ReturnType<typeof transposePad>[] {
  const o = c.opts;
  const op = typeof o.outputPadding === 'number' ? [o.outputPadding, o.outputPadding] : o.outputPadding ?? [0, 0];
  return [0, 1].map((i) => transposePad(o.padding ?? 'valid', c.kernelSize[i], c.strides[i], op[i]));
}

/** Emits a part of a composite layer under its own name scope. */
function part(layer: Layer, g: OnnxGraph, x: string): string {
  const outer = g.scope;
  g.scope = layer.name;
  const y = ONNX_LAYERS[layer.type].emit(layer, g, x);
  g.scope = outer;
  return y;
}

/** A Transformer block from its parts' exporters (dropout is inference identity). */
function transformerBlock(layer: Layer, g: OnnxGraph, x: string): string {
  const b = layer as TransformerEncoderBlock;
  const ff = (h: string) => part(b.ff2, g, part(b.ff1, g, h));
  if (b.normFirst) {
    const h = g.node('Add', [x, part(b.attention, g, part(b.norm1, g, x))]);
    return g.node('Add', [h, ff(part(b.norm2, g, h))]);
  }
  const h = part(b.norm1, g, g.node('Add', [x, part(b.attention, g, x)]));
  return part(b.norm2, g, g.node('Add', [h, ff(h)]));
}

/**
 * The exporter of every layer type, keyed by the layer's spec name (`layer.type`). Adding a layer
 * type to ONNX export is one entry here.
 * @example `Object.keys(ONNX_LAYERS) // ['dense', 'activation', 'conv2d', …]`
 */
export const ONNX_LAYERS: Record<string, OnnxLayerExporter> = {
  dense: { emit: dense },
  activation: {
    emit(layer, g, x) {
      // an activation layer's PReLU slope runs along the last axis, like a dense layer's
      const a = layer as Activation;
      return activation(g, a.activation, x, a.opts, a.ownParameters().get('lambda'));
    },
  },
  conv2d: { emit: conv },
  conv1d: { emit: conv },
  maxPool2d: pool('MaxPool'),
  avgPool2d: pool('AveragePool'),
  maxPool1d: pool('MaxPool'),
  avgPool1d: pool('AveragePool'),
  flatten: { emit: (_l, g, x) => g.node('Flatten', [x], { axis: 1 }) },
  dropout: { emit: (_l, g, x) => g.node('Identity', [x]) },
  batchNorm: {
    emit(layer, g, x) {
      const b = layer as BatchNorm;
      const C = b.movingMean.size;
      const scale = g.weight('gamma', [C], b.gamma ? b.gamma.data : new Float32Array(C).fill(1));
      const bias = g.weight('beta', [C], b.beta ? b.beta.data : new Float32Array(C));
      const mean = g.weight('movingMean', [C], b.movingMean.data);
      const variance = g.weight('movingVariance', [C], b.movingVariance.data);
      return g.node('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: { float: b.epsilon } });
    },
  },
  embedding: {
    check: (l) => ((l as Embedding).maskZero ? 'maskZero marks padding steps that recurrent layers skip and attention hides; the exported graph takes no mask and ONNX recurrent operators have no per-step one (export a model without maskZero)' : null),
    emit(layer, g, x) {
      const e = layer as Embedding;
      const table = g.weight('weight', e.weight.shape, e.weight.data);
      return g.node('Gather', [table, g.node('Cast', [x], { to: 7 })], { axis: 0 });
    },
  },
  ...RECURRENT,
  bidirectional: {
    emit(layer, g, x) {
      const b = layer as Bidirectional;
      return RECURRENT[b.forwardLayer.type].run(b.forwardLayer, g, x, b.backwardLayer, b.mergeMode);
    },
  },
  layerNormalization: { emit: layerNorm },
  multiHeadAttention: { emit: (l, g, x) => attention(l as MultiHeadAttention, g, x) },
  positionEmbedding: { emit: (l, g, x) => addPositions(g, x, (l as PositionEmbedding).embeddings, l.inputShape) },
  sinusoidalEncoding: { emit: (l, g, x) => addPositions(g, x, (l as SinusoidalEncoding).table, l.inputShape) },
  transformerEncoderBlock: { emit: transformerBlock },
  transformerDecoderBlock: { emit: transformerBlock },
  conv2dTranspose: {
    emit(layer, g, x) {
      const c = layer as Conv2DTranspose;
      const [ph, pw] = transposePads(c);
      const w = g.weight('weight', c.weight.shape, c.weight.data);
      const ins = c.bias ? [x, w, g.weight('bias', [c.filters], c.bias.data)] : [x, w];
      const z = g.node('ConvTranspose', ins, {
        kernel_shape: [...c.kernelSize], strides: [...c.strides], pads: [ph.before, pw.before, ph.after, pw.after], output_padding: [ph.extra, pw.extra],
      });
      return activation(g, c.activation, z, c.opts, c.lambda, 2);
    },
  },
  upSampling2d: { emit: (l, g, x) => g.node('Resize', [x, '', g.weight('scales', [4], Float32Array.of(1, 1, ...(l as UpSampling2D).size))], { mode: 'nearest', nearest_mode: 'floor', coordinate_transformation_mode: 'asymmetric' }) },
  globalAveragePooling2d: { emit: (_l, g, x) => g.node('Flatten', [g.node('GlobalAveragePool', [x])], { axis: 1 }) },
  globalAveragePooling1d: {
    emit: (l, g, x) => g.node('ReduceMean', [x], { axes: [(l as GlobalAveragePooling1D).dataFormat === 'channelsFirst' ? 2 : 1], keepdims: 0 }),
  },
  add: merge((_l, g, xs) => g.node('Sum', xs)),
  multiply: merge((_l, g, xs) => xs.slice(1).reduce((a, b) => g.node('Mul', [a, b]), xs[0])),
  concatenate: merge((l, g, xs) => {
    const a = (l as Concatenate).axis;
    return g.node('Concat', xs, { axis: (a < 0 ? a + l.inputShape.length : a) + 1 });
  }),
  reshape: { emit: (l, g, x) => g.node('Reshape', [x, g.int64('shape', [0, ...l.outputShape])]) },
  permute: { emit: (l, g, x) => g.node('Transpose', [x], { perm: [0, ...(l as Permute).dims] }) },
};
