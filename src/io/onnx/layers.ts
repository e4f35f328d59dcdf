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
import type { ActivationName } from '../../ops/activations.js';
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
}

/**
 * Applies a dendrite activation to `z`. `trailing` is the number of axes after the one PReLU's
 * per-unit slope runs along (0: the last axis; convolutions: the spatial axes after the channels).
 */
function activation(g: OnnxGraph, name: ActivationName, z: string, o: ActivationOptions, lambda: Tensor | undefined, trailing = 0): string {
  switch (name) {
    case 'linear': return z;
    case 'logistic': case 'sigmoid': return g.node('Sigmoid', [z]);
    case 'tanh': return g.node('Tanh', [z]);
    case 'relu': return g.node('Relu', [z]);
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

/** Gate blocks of a dendrite recurrent layer in ONNX order: W [1, G·H, I], R [1, G·H, H], B [1, 2·G·H]. */
function gateInitializers(g: OnnxGraph, weights: { data: Float32Array }[], biases: Tensor[], H: number, I: number): string[] {
  const G = weights.length;
  const { wx, wh } = stackGates(weights, H, I);
  const Bs = new Float32Array(2 * G * H);
  biases.forEach((b, k) => Bs.set(b.data, k * H)); // the recurrence bias half (R_b) stays zero
  return [g.weight('W', [1, G * H, I], wx), g.weight('R', [1, G * H, H], wh), g.weight('B', [1, 2 * G * H], Bs)];
}

const RNN_ACTS: Record<string, [string, number?, number?]> = {
  tanh: ['Tanh'], logistic: ['Sigmoid'], relu: ['Relu'], leakyRelu: ['LeakyRelu'], linear: ['Affine', 1, 0],
};

/** ONNX's recurrent operators are time-major: [batch, T, I] → [T, batch, I] → op → back. */
function recurrent(op: 'RNN' | 'LSTM' | 'GRU', gates: (l: Layer) => [{ data: Float32Array }[], Tensor[]],
  attrs: (l: Layer) => Record<string, AttrValue> = () => ({})): OnnxLayerExporter {
  return {
    check(layer) {
      return (layer as RecurrentLayer).stateful
        ? 'a stateful recurrent layer carries its state across calls, which one ONNX graph cannot (set stateful: false to export the per-call computation)'
        : null;
    },
    emit(layer, g, x) {
      const r = layer as RecurrentLayer;
      const H = r.units;
      const I = r.inputShape[1];
      const [ws, bs] = gates(layer);
      const [W, R, B] = gateInitializers(g, ws, bs, H, I);
      const xt = g.node('Transpose', [x], { perm: [1, 0, 2] });
      const [y, yh] = g.nodeN(op, [xt, W, R, B], op === 'LSTM' ? 3 : 2, { hidden_size: H, ...attrs(layer) });
      if (!r.returnSequences) return g.node('Squeeze', [yh, g.int64('axes', [0])]);
      const seq = g.node('Squeeze', [y, g.int64('axes', [1])]);
      return g.node('Transpose', [seq], { perm: [1, 0, 2] });
    },
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
    check: (l) => ((l as Embedding).maskZero ? 'maskZero marks padding steps that recurrent layers skip; ONNX recurrent operators have no per-step mask (export a model without maskZero)' : null),
    emit(layer, g, x) {
      const e = layer as Embedding;
      const table = g.weight('weight', e.weight.shape, e.weight.data);
      return g.node('Gather', [table, g.node('Cast', [x], { to: 7 })], { axis: 0 });
    },
  },
  simpleRNN: simpleRnn,
  lstm: recurrent('LSTM', (l) => { const s = l as LSTM; return [[s.Wi, s.Wo, s.Wf, s.Wc], [s.bi, s.bo, s.bf, s.bc]]; }),
  gru: recurrent('GRU', (l) => { const s = l as GRU; return [[s.Wz, s.Wr, s.Wh], [s.bz, s.br, s.bh]]; }, () => ({ linear_before_reset: 0 })),
};
