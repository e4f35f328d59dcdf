/**
 * The PyTorch bridge: a dendrite model as safetensors weights under PyTorch `state_dict` names and
 * layouts plus a generated `model.py` defining the same `nn.Module`, and the way back. Runtime
 * neutral (bytes and text); the Node edge writes the directory.
 */
import { ConfigError, ModelFileError } from '../errors.js';
import { Sequential } from '../nn/sequential.js';
import type { Layer } from '../nn/module.js';
import type { Dense } from '../nn/dense.js';
import type { Activation, ActivationOptions } from '../nn/activation.js';
import type { Conv1D, Conv2D } from '../nn/conv.js';
import type { BatchNorm } from '../nn/batchnorm.js';
import type { Embedding } from '../nn/embedding.js';
import type { RecurrentLayer, SimpleRNN } from '../nn/rnn.js';
import type { LSTM } from '../nn/lstm.js';
import type { GRU } from '../nn/gru.js';
import type { Dropout } from '../nn/dropout.js';
import type { Bidirectional } from '../nn/bidirectional.js';
import type { LayerNormalization } from '../nn/layernorm.js';
import type { MultiHeadAttention } from '../nn/attention.js';
import type { PositionEmbedding, SinusoidalEncoding } from '../nn/position.js';
import type { TransformerEncoderBlock } from '../nn/transformer.js';
import type { Permute } from '../nn/reshape.js';
import type { Conv2DTranspose } from '../nn/conv.js';
import type { Concatenate } from '../nn/merge.js';
import { GraphNetwork } from '../nn/graph.js';
import { isMultiInput } from '../nn/symbolic.js';
import type { SymbolicTensor } from '../nn/symbolic.js';
import type { GlobalAveragePooling1D, UpSampling2D } from '../nn/spatial.js';
import { transposePads } from './onnx/layers.js';
import type { ActivationName } from '../ops/activations.js';
import { activationExport } from '../ops/activations.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Model } from '../train/model.js';
import type { ModelSpec } from './spec.js';
import { decodeSafetensors, encodeSafetensors, expectTensor } from './safetensors.js';
import type { SafeTensor, SafetensorsFile } from './safetensors.js';
import { PYTHON_EPILOGUE, PYTHON_PRELUDE } from './pytorch-module.py.js';
import { simpleRnnGate, stackGates, unstackGate } from './layouts.js';

/** Reads a PyTorch tensor of the expected shape (ModelFileError if missing, ShapeError if it differs). @example `get('lstm_1.weight_ih_l0', [4 * H, I])` */
export type TorchGetter = (key: string, shape: readonly number[]) => Float32Array;

/**
 * How one layer type maps to PyTorch: the `__init__` and `forward` lines of the generated module
 * (attribute `a`, running on `x`), its state_dict tensors, and the way back into the dendrite
 * parameters (returned as updates, applied only when every layer read cleanly).
 * @example `TORCH_LAYERS.flatten.forward(layer, 'flatten_1') // ['x = torch.flatten(x, 1)']`
 */
export interface TorchLayerBridge {
  check?(layer: Layer): string | null;
  init(layer: Layer, a: string): string[];
  forward(layer: Layer, a: string): string[];
  save(layer: Layer, a: string): [string, SafeTensor][];
  load(layer: Layer, a: string, get: TorchGetter): [Tensor, Float32Array][];
  /** A merge layer of a graph model: the line computing x from the Python variables `xs`. */
  forwardMany?(layer: Layer, xs: string[]): string[];
}

const f32 = (shape: readonly number[], data: Float32Array): SafeTensor => ({ dtype: 'F32', shape: [...shape], data });

/** The size of a layer's last input dimension (the features a layer norm normalises). */
const features = (l: Layer): number => l.inputShape[l.inputShape.length - 1];

/**
 * The scale γ and shift β of a normalisation layer over n features, in PyTorch's form: its
 * modules are affine in both or in neither (`affine`, a Python bool), so a layer with only one
 * keeps the other fixed at 1 (γ) or 0 (β) and frozen (`frozen`, lines of `__init__`); `save`
 * gives `weight` and `bias`, `load` reads back the ones the layer has.
 */
function affineParts(norm: { gamma: Tensor | null; beta: Tensor | null }, n: number, a: string) {
  const { gamma, beta } = norm;
  const affine = gamma !== null || beta !== null;
  const fixed = !affine ? [] : [...(gamma ? [] : ['weight']), ...(beta ? [] : ['bias'])];
  return {
    affine: affine ? 'True' : 'False',
    frozen: fixed.map((k) => `self.${a}.${k}.requires_grad_(False)`),
    save: (!affine ? [] : [
      [`${a}.weight`, f32([n], gamma ? gamma.data : new Float32Array(n).fill(1))],
      [`${a}.bias`, f32([n], beta ? beta.data : new Float32Array(n))],
    ]) as [string, SafeTensor][],
    load: (get: TorchGetter): [Tensor, Float32Array][] => [
      ...(gamma ? [[gamma, get(`${a}.weight`, [n])] as [Tensor, Float32Array]] : []),
      ...(beta ? [[beta, get(`${a}.bias`, [n])] as [Tensor, Float32Array]] : []),
    ],
  };
}

/** Activation lines; PReLU is a module `<a>_act` with one slope per unit (`trailing` axes after it). */
function act(name: ActivationName, o: ActivationOptions, a: string): { init: string[]; forward: string[] } {
  const line = (expr: string) => ({ init: [], forward: [`x = ${expr}`] });
  switch (name) {
    case 'linear': return { init: [], forward: [] };
    case 'leakyRelu': return line(`F.leaky_relu(x, ${o.alpha ?? 0.01})`);
    case 'softmax': return line('torch.softmax(x, -1)');
    case 'threshold': return line(`(x >= ${o.theta ?? 0}).to(x.dtype)`);
    case 'prelu': return { init: [], forward: [`x = self.${a}_act(x)`] };
    default: return line(activationExport(name).torch); // one call, from the kernel table
  }
}

function preluParts(lambda: Tensor | undefined, a: string, trailing: number) {
  return {
    init: lambda ? [`self.${a}_act = PReLU(${lambda.size}, ${trailing})`] : [],
    save: lambda ? [[`${a}_act.weight`, f32([lambda.size], lambda.data)] as [string, SafeTensor]] : [],
    load: (get: TorchGetter): [Tensor, Float32Array][] => (lambda ? [[lambda, get(`${a}_act.weight`, [lambda.size])]] : []),
  };
}

/** Dense and convolutions: a torch layer with weight (same layout) and optional bias, then the activation. */
function weighted(torchInit: (l: Layer) => string, pad: (l: Layer) => string | null, trailing: (l: Layer) => number): TorchLayerBridge {
  type W = Layer & { weight: Tensor; bias: Tensor | null; lambda?: Tensor; activation: ActivationName; opts: ActivationOptions };
  return {
    init: (l, a) => [`self.${a} = ${torchInit(l)}`, ...preluParts((l as W).lambda, a, trailing(l)).init],
    forward(l, a) {
      const p = pad(l);
      return [...(p ? [`x = F.pad(x, ${p})`] : []), `x = self.${a}(x)`, ...act((l as W).activation, (l as W).opts, a).forward];
    },
    save(l, a) {
      const w = l as W;
      const out: [string, SafeTensor][] = [[`${a}.weight`, f32(w.weight.shape, w.weight.data)]];
      if (w.bias) out.push([`${a}.bias`, f32(w.bias.shape, w.bias.data)]);
      return [...out, ...preluParts(w.lambda, a, 0).save];
    },
    load(l, a, get) {
      const w = l as W;
      const out: [Tensor, Float32Array][] = [[w.weight, get(`${a}.weight`, w.weight.shape)]];
      if (w.bias) out.push([w.bias, get(`${a}.bias`, w.bias.shape)]);
      return [...out, ...preluParts(w.lambda, a, 0).load(get)];
    },
  };
}

const noParams = (forward: (l: Layer, a: string) => string[], init: (l: Layer, a: string) => string[] = () => []): TorchLayerBridge => ({
  init, forward, save: () => [], load: () => [],
});

function pool(kind: 'Max' | 'Avg'): TorchLayerBridge {
  return noParams((_l, a) => [`x = self.${a}(x)`], (l, a) => {
    const p = l as Layer & { poolSize: [number, number]; strides: [number, number] };
    const oneD = l.inputShape.length === 2;
    const k = oneD ? String(p.poolSize[1]) : `(${p.poolSize.join(', ')})`;
    const s = oneD ? String(p.strides[1]) : `(${p.strides.join(', ')})`;
    return [`self.${a} = nn.${kind}Pool${oneD ? 1 : 2}d(${k}, stride=${s})`];
  });
}

/**
 * Recurrent layers: PyTorch's weight_ih_l0 [G·H, I], weight_hh_l0 [G·H, H], bias_ih_l0 and
 * bias_hh_l0 [G·H] with the gates in PyTorch's order; dendrite's per-gate [H, H + I] matrices
 * act on [h; x]. The dendrite bias goes to bias_ih_l0 (bias_hh_l0 zero); coming back the two add.
 */
function recurrent(module: (l: Layer) => string, gates: (l: Layer) => [{ data: Float32Array }[], Tensor[]]): TorchLayerBridge {
  const dims = (l: Layer) => [(l as RecurrentLayer).units, l.inputShape[1]];
  return {
    check: (l) => ((l as RecurrentLayer).stateful ? 'a stateful layer carries its state across calls; set stateful: false to export' : null),
    init: (l, a) => [`self.${a} = ${module(l)}`],
    forward: (l, a) => [`x, _ = self.${a}(x)`, ...((l as RecurrentLayer).returnSequences ? [] : ['x = x[:, -1]'])],
    save(l, a) {
      const [H, I] = dims(l);
      const [ws, bs] = gates(l);
      const G = ws.length;
      const { wx, wh } = stackGates(ws, H, I);
      const bih = new Float32Array(G * H);
      bs.forEach((b, k) => bih.set(b.data, k * H));
      return [
        [`${a}.weight_ih_l0`, f32([G * H, I], wx)], [`${a}.weight_hh_l0`, f32([G * H, H], wh)],
        [`${a}.bias_ih_l0`, f32([G * H], bih)], [`${a}.bias_hh_l0`, f32([G * H], new Float32Array(G * H))],
      ];
    },
    load(l, a, get) {
      const [H, I] = dims(l);
      const [ws, bs] = gates(l);
      const G = ws.length;
      const wih = get(`${a}.weight_ih_l0`, [G * H, I]);
      const whh = get(`${a}.weight_hh_l0`, [G * H, H]);
      const bih = get(`${a}.bias_ih_l0`, [G * H]);
      const bhh = get(`${a}.bias_hh_l0`, [G * H]);
      const out: [Tensor, Float32Array][] = [];
      ws.forEach((w, k) => {
        const b = new Float32Array(H);
        for (let j = 0; j < H; j++) b[j] = bih[k * H + j] + bhh[k * H + j];
        out.push([w as Tensor, unstackGate(wih, whh, k, H, I)], [bs[k], b]);
      });
      return out;
    },
  };
}

/** A joined SimpleRNN gate matrix [H, H + I] split back into W_hx [H, I] and W_hh [H, H]. */
function splitRnnGate(m: Float32Array, H: number, I: number): [Float32Array, Float32Array] {
  const whx = new Float32Array(H * I);
  const whh = new Float32Array(H * H);
  for (let j = 0; j < H; j++) {
    whh.set(m.subarray(j * (H + I), j * (H + I) + H), j * H);
    whx.set(m.subarray(j * (H + I) + H, (j + 1) * (H + I)), j * I);
  }
  return [whx, whh];
}

const rnnBase = recurrent((l) => {
  const s = l as SimpleRNN;
  const [H, I] = [s.units, s.inputShape[1]];
  return s.activation === 'tanh' || s.activation === 'relu'
    ? `nn.RNN(${I}, ${H}, nonlinearity="${s.activation}", batch_first=True)`
    : `ElmanRNN(${I}, ${H}, "${s.activation}", ${s.opts.alpha ?? 0.01})`;
}, (l) => [[simpleRnnGate(l as SimpleRNN)], [(l as SimpleRNN).bias]]);

/**
 * Every layer type's PyTorch form, keyed by spec name. Adding a layer type to the bridge is one
 * entry here.
 * @example `Object.keys(TORCH_LAYERS) // ['dense', 'conv2d', 'conv1d', …]`
 */
export const TORCH_LAYERS: Record<string, TorchLayerBridge> = {
  dense: weighted((l) => `nn.Linear(${l.inputShape[l.inputShape.length - 1]}, ${(l as Dense).units}, bias=${(l as Dense).bias ? 'True' : 'False'})`, () => null, () => 0),
  conv2d: weighted((l) => {
    const c = l as Conv2D;
    return `nn.Conv2d(${l.inputShape[0]}, ${c.filters}, (${c.kernelSize.join(', ')}), stride=(${c.strides.join(', ')}), bias=${c.bias ? 'True' : 'False'})`;
  }, (l) => {
    const [t, b, le, r] = (l as Conv2D).padding;
    return t || b || le || r ? `(${le}, ${r}, ${t}, ${b})` : null;
  }, () => 2),
  conv1d: weighted((l) => {
    const c = l as Conv1D;
    return `nn.Conv1d(${l.inputShape[0]}, ${c.filters}, ${c.kernelSize}, stride=${c.strides}, bias=${c.bias ? 'True' : 'False'})`;
  }, (l) => {
    const [le, r] = (l as Conv1D).padding;
    return le || r ? `(${le}, ${r})` : null;
  }, () => 1),
  activation: {
    init: (l, a) => preluParts((l as Activation).ownParameters().get('lambda'), a, 0).init,
    forward: (l, a) => act((l as Activation).activation, (l as Activation).opts, a).forward,
    save: (l, a) => preluParts((l as Activation).ownParameters().get('lambda'), a, 0).save,
    load: (l, a, get) => preluParts((l as Activation).ownParameters().get('lambda'), a, 0).load(get),
  },
  maxPool2d: pool('Max'),
  avgPool2d: pool('Avg'),
  maxPool1d: pool('Max'),
  avgPool1d: pool('Avg'),
  flatten: noParams(() => ['x = torch.flatten(x, 1)']),
  dropout: noParams((_l, a) => [`x = self.${a}(x)`], (l, a) => [`self.${a} = nn.Dropout(p=${1 - (l as Dropout).keepProb})`]),
  batchNorm: {
    init(l, a) {
      const b = l as BatchNorm;
      const { affine, frozen } = affineParts(b, b.movingMean.size, a);
      return [`self.${a} = nn.BatchNorm${l.inputShape.length === 1 ? 1 : 2}d(${b.movingMean.size}, eps=${b.epsilon}, momentum=${1 - b.momentum}, affine=${affine})`, ...frozen];
    },
    forward: (_l, a) => [`x = self.${a}(x)`],
    save(l, a) {
      const b = l as BatchNorm;
      const C = b.movingMean.size;
      return [
        ...affineParts(b, C, a).save,
        [`${a}.running_mean`, f32([C], b.movingMean.data)],
        [`${a}.running_var`, f32([C], b.movingVariance.data)],
        [`${a}.num_batches_tracked`, { dtype: 'I64', shape: [], data: [0] }],
      ];
    },
    load(l, a, get) {
      const b = l as BatchNorm;
      const C = [b.movingMean.size];
      return [[b.movingMean, get(`${a}.running_mean`, C)], [b.movingVariance, get(`${a}.running_var`, C)], ...affineParts(b, C[0], a).load(get)];
    },
  },
  embedding: {
    check: (l) => ((l as Embedding).maskZero ? 'maskZero (padding masks) has no PyTorch module equivalent here; export a model without it' : null),
    init: (l, a) => [`self.${a} = nn.Embedding(${(l as Embedding).inputDim}, ${(l as Embedding).outputDim})`],
    forward: (_l, a) => [`x = self.${a}(x.long())`],
    save: (l, a) => [[`${a}.weight`, f32((l as Embedding).weight.shape, (l as Embedding).weight.data)]],
    load: (l, a, get) => [[(l as Embedding).weight, get(`${a}.weight`, (l as Embedding).weight.shape)]],
  },
  simpleRNN: {
    ...rnnBase,
    load(l, a, get) {
      const s = l as SimpleRNN;
      const [[, m], [, b]] = rnnBase.load(l, a, get);
      const [whx, whh] = splitRnnGate(m, s.units, s.Whx.shape[1]);
      return [[s.Whx, whx], [s.Whh, whh], [s.bias, b]];
    },
  },
  lstm: recurrent((l) => `nn.LSTM(${l.inputShape[1]}, ${(l as LSTM).units}, batch_first=True)`,
    (l) => { const s = l as LSTM; return [[s.Wi, s.Wf, s.Wc, s.Wo], [s.bi, s.bf, s.bc, s.bo]]; }),
  gru: recurrent((l) => `GRUResetBefore(${l.inputShape[1]}, ${(l as GRU).units})`,
    (l) => { const s = l as GRU; return [[s.Wr, s.Wz, s.Wh], [s.br, s.bz, s.bh]]; }),
  bidirectional: bidirectional(),
  layerNormalization: {
    init(l, a) {
      const n = l as LayerNormalization;
      const { affine, frozen } = affineParts(n, features(l), a);
      return [`self.${a} = nn.LayerNorm(${features(l)}, eps=${n.epsilon}, elementwise_affine=${affine})`, ...frozen];
    },
    forward: (_l, a) => [`x = self.${a}(x)`],
    save: (l, a) => affineParts(l as LayerNormalization, features(l), a).save,
    load: (l, a, get) => affineParts(l as LayerNormalization, features(l), a).load(get),
  },
  multiHeadAttention: {
    init(l, a) {
      const m = l as MultiHeadAttention;
      const F = l.inputShape[1];
      const bias = m.queryBias ? 'True' : 'False';
      return [standardHeads(m)
        ? `self.${a} = nn.MultiheadAttention(${F}, ${m.numHeads}, dropout=${m.dropout}, bias=${bias}, batch_first=True)`
        : `self.${a} = Attention(${F}, ${m.numHeads}, ${m.keyDim}, ${m.valueDim}, ${m.outputDim}, bias=${bias}, dropout=${m.dropout})`];
    },
    forward: (l, a) => [standardHeads(l as MultiHeadAttention)
      ? `x, _ = self.${a}(x, x, x, need_weights=False${(l as MultiHeadAttention).causal ? ', attn_mask=causal_mask(x)' : ''})`
      : `x, _ = self.${a}(x${(l as MultiHeadAttention).causal ? ', causal_mask(x)' : ''})`],
    save: (l, a) => attentionTensors(l as MultiHeadAttention).map(([k, shape, data]) => [`${a}.${k}`, f32(shape, data)]),
    load(l, a, get) {
      const m = l as MultiHeadAttention;
      return attentionTensors(m).flatMap(([k, shape, , parts]) => {
        const d = get(`${a}.${k}`, shape);
        let off = 0;
        return parts.map((t): [Tensor, Float32Array] => { off += t.size; return [t, d.subarray(off - t.size, off)]; });
      });
    },
  },
  positionEmbedding: {
    init: (l, a) => [`self.${a} = nn.Embedding(${(l as PositionEmbedding).maxLength}, ${l.inputShape[1]})`],
    forward: (_l, a) => [`x = x + self.${a}.weight[: x.shape[1]]`],
    save: (l, a) => [[`${a}.weight`, f32((l as PositionEmbedding).embeddings.shape, (l as PositionEmbedding).embeddings.data)]],
    load: (l, a, get) => [[(l as PositionEmbedding).embeddings, get(`${a}.weight`, (l as PositionEmbedding).embeddings.shape)]],
  },
  sinusoidalEncoding: noParams((_l, a) => [`x = self.${a}(x)`], (l, a) => {
    const s = l as SinusoidalEncoding;
    return [`self.${a} = SinusoidalEncoding(${s.maxLength}, ${l.inputShape[1]}, ${s.opts.base ?? 10000})`];
  }),
  transformerEncoderBlock: transformerBlock(),
  transformerDecoderBlock: transformerBlock(),
  conv2dTranspose: {
    ...weighted((l) => {
      const c = l as Conv2DTranspose;
      return `nn.ConvTranspose2d(${l.inputShape[0]}, ${c.filters}, (${c.kernelSize.join(', ')}), stride=(${c.strides.join(', ')}), bias=${c.bias ? 'True' : 'False'})`;
    }, () => null, () => 2),
    forward(l, a) {
      // dendrite's padding may be asymmetric ('same'): the full transposed convolution, cropped,
      // extended by the output padding's new rows/columns, then the bias (which reaches those too)
      const c = l as Conv2DTranspose;
      const [ph, pw] = transposePads(c);
      const [, H, W] = l.outputShape;
      return [
        `x = F.conv_transpose2d(x, self.${a}.weight, None, stride=(${c.strides.join(', ')}))`,
        `x = F.pad(x[:, :, ${ph.before}:x.shape[2] - ${ph.after}, ${pw.before}:x.shape[3] - ${pw.after}], (0, ${pw.extra}, 0, ${ph.extra}))`,
        ...(c.bias ? [`x = x + self.${a}.bias.view(-1, 1, 1)`] : []),
        `assert x.shape[2:] == (${H}, ${W})`,
        ...act(c.activation, c.opts, a).forward,
      ];
    },
  },
  upSampling2d: noParams((l) => [`x = F.interpolate(x, scale_factor=(${(l as UpSampling2D).size.join(', ')}), mode="nearest")`]),
  globalAveragePooling2d: noParams(() => ['x = x.mean((2, 3))']),
  globalAveragePooling1d: noParams((l) => [`x = x.mean(${(l as GlobalAveragePooling1D).dataFormat === 'channelsFirst' ? 2 : 1})`]),
  add: { ...noParams(() => []), forwardMany: (_l, xs) => [`x = ${xs.join(' + ')}`] },
  multiply: { ...noParams(() => []), forwardMany: (_l, xs) => [`x = ${xs.join(' * ')}`] },
  concatenate: {
    ...noParams(() => []),
    forwardMany: (l, xs) => [`x = torch.cat([${xs.join(', ')}], ${((l as Concatenate).axis < 0 ? (l as Concatenate).axis + l.inputShape.length : (l as Concatenate).axis) + 1})`],
  },
  reshape: noParams((l) => [`x = x.reshape(x.shape[0], ${l.outputShape.join(', ')})`]),
  permute: noParams((l) => [`x = x.permute(0, ${(l as Permute).dims.join(', ')})`]),
};

/** nn.MultiheadAttention's shape: heads of size features / heads, values as wide as keys, output as wide as the input. */
function standardHeads(m: MultiHeadAttention): boolean {
  const F = m.inputShape[1];
  return m.keyDim * m.numHeads === F && m.valueDim === m.keyDim && m.outputDim === F;
}

/** nn.MultiheadAttention's tensors: [name, shape, data, the dendrite parameters stacked in it]. */
function attentionTensors(m: MultiHeadAttention): [string, number[], Float32Array, Tensor[]][] {
  const stack = (ts: Tensor[]): Float32Array => {
    const out = new Float32Array(ts.reduce((n, t) => n + t.size, 0));
    let off = 0;
    for (const t of ts) { out.set(t.data, off); off += t.size; }
    return out;
  };
  const w = [m.queryWeight, m.keyWeight, m.valueWeight];
  const rows = w.reduce((n, t) => n + t.shape[0], 0);
  const out: [string, number[], Float32Array, Tensor[]][] = [['in_proj_weight', [rows, m.inputShape[1]], stack(w), w]];
  if (m.queryBias) {
    const b = [m.queryBias, m.keyBias!, m.valueBias!];
    out.push(['in_proj_bias', [rows], stack(b), b]);
  }
  out.push(['out_proj.weight', [...m.outputWeight.shape], m.outputWeight.data, [m.outputWeight]]);
  if (m.outputBias) out.push(['out_proj.bias', [...m.outputBias.shape], m.outputBias.data, [m.outputBias]]);
  return out;
}

/**
 * A Transformer block as nn.TransformerEncoderLayer (batch_first, norm_first, dropout as in
 * dendrite: on the attention weights, after attention, inside and after the feed-forward net),
 * a causal one with the causal mask as src_mask. Its parts keep PyTorch's names: self_attn,
 * linear1, linear2, norm1, norm2.
 */
function transformerBlock(): TorchLayerBridge {
  const parts = (l: Layer): [Layer, string][] => {
    const b = l as TransformerEncoderBlock;
    return [[b.attention, 'self_attn'], [b.ff1, 'linear1'], [b.ff2, 'linear2'], [b.norm1, 'norm1'], [b.norm2, 'norm2']];
  };
  return {
    check: (l) => (standardHeads((l as TransformerEncoderBlock).attention) ? null
      : `nn.TransformerEncoderLayer needs heads of size features / numHeads (keyDim ${(l as TransformerEncoderBlock).attention.keyDim}, ${l.inputShape[1]} features, ${(l as TransformerEncoderBlock).attention.numHeads} heads)`),
    init(l, a) {
      const b = l as TransformerEncoderBlock;
      return [`self.${a} = nn.TransformerEncoderLayer(${l.inputShape[1]}, ${b.attention.numHeads}, dim_feedforward=${b.ff1.units}, dropout=${b.dropout}, `
        + `activation="${b.ff1.activation}", layer_norm_eps=${b.norm1.epsilon}, batch_first=True, norm_first=${b.normFirst ? 'True' : 'False'})`];
    },
    forward: (l, a) => [`x = self.${a}(x${(l as TransformerEncoderBlock).causal ? ', src_mask=causal_mask(x)' : ''})`],
    save: (l, a) => parts(l).flatMap(([p, k]) => TORCH_LAYERS[p.type].save(p, `${a}.${k}`)),
    load: (l, a, get) => parts(l).flatMap(([p, k]) => TORCH_LAYERS[p.type].load(p, `${a}.${k}`, get)),
  };
}

/**
 * Bidirectional recurrent layers as the wrapped layer's module with bidirectional=True (nn.LSTM,
 * nn.RNN, and model.py's ElmanRNN and GRUResetBefore, which follow nn.RNN): the backward twin's
 * tensors get PyTorch's `_reverse` suffix. Outputs: nn.RNN's [forward, backward] features (summed
 * for mergeMode 'sum'); without returnSequences the two final states h_n.
 */
function bidirectional(): TorchLayerBridge {
  const inner = (l: Layer) => TORCH_LAYERS[(l as Bidirectional).forwardLayer.type];
  const reverse = (get: TorchGetter): TorchGetter => (k, shape) => get(`${k}_reverse`, shape);
  return {
    // the module line ends with its constructor call's closing parenthesis
    init: (l, a) => [inner(l).init((l as Bidirectional).forwardLayer, a)[0].replace(/\)$/, ', bidirectional=True)')],
    forward(l, a) {
      const b = l as Bidirectional;
      const H = b.forwardLayer.units;
      const sum = b.mergeMode === 'sum';
      if (b.forwardLayer.returnSequences) return [`x, _ = self.${a}(x)`, ...(sum ? [`x = x[..., :${H}] + x[..., ${H}:]`] : [])];
      return [`x, h = self.${a}(x)`, 'h = h[0] if isinstance(h, tuple) else h', sum ? 'x = h[0] + h[1]' : 'x = torch.cat([h[0], h[1]], -1)'];
    },
    save(l, a) {
      const b = l as Bidirectional;
      return [...inner(l).save(b.forwardLayer, a), ...inner(l).save(b.backwardLayer, a).map(([k, t]): [string, SafeTensor] => [`${k}_reverse`, t])];
    },
    load(l, a, get) {
      const b = l as Bidirectional;
      return [...inner(l).load(b.forwardLayer, a, get), ...inner(l).load(b.backwardLayer, a, reverse(get))];
    },
  };
}

const PY_KEYWORDS = new Set(['False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield', 'training', 'forward', 'metadata']);

/** Python attribute names for the layers (sanitised, unique), in layer order. */
function attributeNames(net: Sequential): string[] {
  const used = new Set<string>();
  return net.layers.map((l) => {
    let a = l.name.replace(/[^A-Za-z0-9_]/g, '_');
    if (/^[0-9]/.test(a) || PY_KEYWORDS.has(a) || a.startsWith('_')) a = `l_${a}`;
    let u = a;
    for (let k = 2; used.has(u); k++) u = `${a}_${k}`;
    used.add(u);
    return u;
  });
}

function netOf(model: Model | Sequential): Sequential {
  return model instanceof Sequential ? model : model.net;
}

/** The layer types the PyTorch bridge supports, by spec name. @example `torchSupportedLayers().includes('gru') // true` */
export function torchSupportedLayers(): string[] {
  return Object.keys(TORCH_LAYERS);
}

function bridges(net: Sequential): TorchLayerBridge[] {
  return net.layers.map((l) => {
    const b = Object.prototype.hasOwnProperty.call(TORCH_LAYERS, l.type) ? TORCH_LAYERS[l.type] : undefined;
    if (!b) throw new ConfigError(`pytorch export: layer ${l.name} has type "${l.type}", which has no PyTorch form; supported layer types: ${torchSupportedLayers().join(', ')}`);
    const why = b.check?.(l);
    if (why) throw new ConfigError(`pytorch export: layer ${l.name} (${l.type}) cannot be exported: ${why}`);
    return b;
  });
}

/** What {@link exportPytorch} produces: file name → content. @example `exportPytorch(model)['model.py'].includes('class DendriteModel') // true` */
export interface PytorchFiles {
  'model.safetensors': Uint8Array;
  'model.py': string;
}

/**
 * Exports a model for PyTorch: `model.safetensors` with the weights under the state_dict names
 * and layouts of the generated `model.py` (nn.Linear/Conv1d/Conv2d/ConvTranspose2d/BatchNorm/
 * LayerNorm/Embedding/LSTM/RNN/MultiheadAttention/TransformerEncoderLayer as PyTorch defines them;
 * a GRU with dendrite's reset-before candidate), which defines the same network as
 * `DendriteModel` (a graph model: `forward` takes one tensor per input). The spec and preprocessing (when given) travel in the safetensors
 * metadata so that {@link importPytorch} can rebuild the model. Unsupported layers are a
 * ConfigError naming them before anything is produced.
 *
 * @example
 * ```ts
 * const files = exportPytorch(model, spec); // write both into a directory (Node: exportPytorchDir)
 * // python: import model; net = model.load()
 * ```
 */
export function exportPytorch(model: Model | Sequential, spec?: ModelSpec, preprocessing?: unknown): PytorchFiles {
  const net = netOf(model);
  const bs = bridges(net);
  const attrs = attributeNames(net);
  const init: string[] = [];
  const fwd: string[] = [];
  const tensors = new Map<string, SafeTensor>();
  net.layers.forEach((l, i) => {
    const a = attrs[i];
    init.push(...bs[i].init(l, a));
    for (const [k, t] of bs[i].save(l, a)) tensors.set(k, t);
  });
  const comment = (l: Layer, shape: readonly number[]) => `# ${JSON.stringify(l.name)} (${l.type}) -> [N, ${shape.join(', ')}]`;
  let args = 'x';
  if (net instanceof GraphNetwork) {
    // one Python variable per graph input (v0, v1, …) and per layer call; a shared layer's module runs once per call
    const vars = new Map<SymbolicTensor, string>(net.inputs.map((t, i) => [t, `v${i}`]));
    args = net.inputs.map((_t, i) => `v${i}`).join(', ');
    for (const n of net.nodes) {
      const i = net.layers.indexOf(n.layer);
      const ins = n.inputs.map((t) => vars.get(t)!);
      const b = bs[i];
      const lines = b.forwardMany && isMultiInput(n.layer) ? b.forwardMany(n.layer, ins) : [`x = ${ins[0]}`, ...b.forward(n.layer, attrs[i])];
      const v = `v${vars.size}`;
      vars.set(n.output, v);
      fwd.push(comment(n.layer, n.output.shape), ...lines, `${v} = x`);
    }
    fwd.push(`x = ${net.outputs.length === 1 ? vars.get(net.outputs[0]) : `(${net.outputs.map((t) => vars.get(t)).join(', ')})`}`);
  } else {
    net.layers.forEach((l, i) => fwd.push(comment(l, l.outputShape), ...bs[i].forward(l, attrs[i])));
  }
  const metadata: Record<string, string> = {
    format: 'pt',
    'dendrite.layers': JSON.stringify(Object.fromEntries(attrs.map((a, i) => [a, net.layers[i].name]))),
    'dendrite.inputShape': JSON.stringify(net.inputShape),
  };
  if (spec) metadata['dendrite.spec'] = JSON.stringify(spec);
  if (preprocessing !== undefined) metadata['dendrite.preprocessing'] = JSON.stringify(preprocessing);
  const ind = (lines: string[]) => lines.map((s) => `        ${s}`).join('\n');
  const py = `${PYTHON_PRELUDE}

# what dendrite import --pytorch needs besides the weights (spec, preprocessing, layer names)
METADATA = json.loads(${JSON.stringify(JSON.stringify(metadata))})


class DendriteModel(nn.Module):
    """${net.name.replace(/["\\\r\n]/g, '_')}: input [N, ${net.inputShape.join(', ')}] -> output [N, ${net.outputShape.join(', ')}]."""

    input_shape = (${net.inputShape.join(', ')},)

    def __init__(self):
        super().__init__()
${init.length ? ind(init) : '        pass'}

    def forward(self, ${args}):
${ind(fwd)}
        return x
${PYTHON_EPILOGUE}`;
  return { 'model.safetensors': encodeSafetensors(tensors, metadata), 'model.py': py };
}

/**
 * Reads weights written by {@link exportPytorch} (possibly trained further in PyTorch and saved
 * with model.py's `save`) into `model`, converting layouts back (gate order, joined biases).
 * Missing tensors are a ModelFileError, other shapes a ShapeError naming the tensor; the model is
 * changed only when every tensor was read.
 *
 * @example
 * ```ts
 * importSafetensors(model, bytes, 'out/model.safetensors');
 * ```
 */
export function importSafetensors(model: Model | Sequential, bytes: Uint8Array | SafetensorsFile, file = 'model.safetensors'): void {
  const net = netOf(model);
  const f = bytes instanceof Uint8Array ? decodeSafetensors(bytes, file) : bytes;
  const bs = bridges(net);
  const attrs = attributeNames(net);
  const get: TorchGetter = (key, shape) => expectTensor(f, key, shape, file);
  const updates = net.layers.flatMap((l, i) => bs[i].load(l, attrs[i], get));
  for (const [t, d] of updates) t.data.set(d);
}

/**
 * The spec and preprocessing stored in an exported safetensors file's metadata (ModelFileError
 * if there is none: the file was not written by dendrite's exporter).
 *
 * @example
 * ```ts
 * const { spec } = pytorchMetadata(decodeSafetensors(bytes));
 * ```
 */
export function pytorchMetadata(f: SafetensorsFile, file = 'model.safetensors'): { spec: ModelSpec; preprocessing?: unknown } {
  const raw = f.metadata['dendrite.spec'];
  if (!raw) throw new ModelFileError(`${file}: no dendrite.spec in the metadata (not exported by dendrite, or exported without a spec); import into an existing model instead`);
  try {
    const pre = f.metadata['dendrite.preprocessing'];
    return { spec: JSON.parse(raw) as ModelSpec, preprocessing: pre === undefined ? undefined : JSON.parse(pre) };
  } catch (e) {
    throw new ModelFileError(`${file}: corrupt dendrite metadata (${(e as Error).message})`);
  }
}
