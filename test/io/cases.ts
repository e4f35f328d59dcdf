import { Add, Concatenate, Dense, Flatten, GraphNetwork, Input, Multiply, buildNetwork } from '../../src/index.js';
import type { LayerSpec, ModelSpec, Sequential } from '../../src/index.js';
import { cnnNetwork } from '../../bench/networks.js';

/** A network of the given layers (seed 5). */
export function net(input: number[], layers: LayerSpec[]): Sequential {
  return buildNetwork({ input, layers, loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 } } as ModelSpec, 5);
}

/** One network per layer type and setting (each case names what it covers). */
export const CASES: Record<string, () => Sequential> = {
  'dense linear/logistic/tanh/relu, names that are not Python identifiers': () => net([5], [
    { type: 'dense', units: 4, activation: 'logistic' }, { type: 'dense', units: 4, activation: 'tanh' },
    { type: 'dense', units: 4, activation: 'relu', name: 'class' }, { type: 'dense', units: 3, name: 'a-b.c' }]),
  'dense leakyRelu/prelu/softmax, no bias': () => net([5], [
    { type: 'dense', units: 4, activation: 'leakyRelu', alpha: 0.2 }, { type: 'dense', units: 4, activation: 'prelu', useBias: false },
    { type: 'dense', units: 3, activation: 'softmax' }]),
  'dense threshold + sigmoid': () => net([5], [{ type: 'dense', units: 6, activation: 'threshold', theta: 0.1 }, { type: 'dense', units: 2, activation: 'sigmoid' }]),
  'activation layers': () => net([6], [
    { type: 'activation', activation: 'tanh' }, { type: 'activation', activation: 'gelu' }, { type: 'activation', activation: 'prelu' },
    { type: 'activation', activation: 'leakyRelu', alpha: 0.3 }, { type: 'activation', activation: 'softmax' }]),
  'conv2d same, strides 2, prelu + avg/max pool 2-D': () => net([2, 9, 8], [
    { type: 'conv2d', filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'prelu' },
    { type: 'maxPool2d', poolSize: 2, strides: 1 }, { type: 'conv2d', filters: 4, kernelSize: [2, 3], padding: [1, 0, 2, 1], activation: 'relu' },
    { type: 'avgPool2d', poolSize: [2, 1] }, { type: 'flatten' }, { type: 'dense', units: 3 }]),
  'conv1d same/valid, strides + pools 1-D': () => net([3, 17], [
    { type: 'conv1d', filters: 4, kernelSize: 4, strides: 2, padding: 'same', activation: 'tanh' },
    { type: 'maxPool1d', poolSize: 2 }, { type: 'conv1d', filters: 2, kernelSize: 2, useBias: false },
    { type: 'avgPool1d', poolSize: 2, strides: 1 }, { type: 'flatten' }]),
  'dropout + batch norm (features and maps)': () => net([2, 5, 5], [
    { type: 'batchNorm', epsilon: 0.01 }, { type: 'conv2d', filters: 2, kernelSize: 3 }, { type: 'flatten' },
    { type: 'dropout', rate: 0.5 }, { type: 'batchNorm', center: false }, { type: 'dense', units: 2 }]),
  'simpleRNN tanh/relu/logistic/leakyRelu/linear': () => net([4, 3], [
    { type: 'simpleRNN', units: 5, returnSequences: true }, { type: 'simpleRNN', units: 4, activation: 'relu', returnSequences: true },
    { type: 'simpleRNN', units: 4, activation: 'logistic', returnSequences: true },
    { type: 'simpleRNN', units: 3, activation: 'leakyRelu', alpha: 0.1, returnSequences: true },
    { type: 'simpleRNN', units: 3, activation: 'linear' }]),
  'lstm sequences + last': () => net([6, 3], [{ type: 'lstm', units: 5, returnSequences: true }, { type: 'lstm', units: 4 }]),
  'gru sequences + last': () => net([6, 3], [{ type: 'gru', units: 5, returnSequences: true }, { type: 'gru', units: 4 }]),
  'embedding + dense per step': () => net([7], [{ type: 'embedding', inputDim: 11, outputDim: 4 }, { type: 'dense', units: 3, activation: 'prelu' }]),
  'bidirectional lstm/gru/simpleRNN, concat and sum, sequences and last': () => net([5, 3], [
    { type: 'bidirectional', layer: { type: 'lstm', units: 3, returnSequences: true } },
    { type: 'bidirectional', layer: { type: 'gru', units: 3, returnSequences: true }, mergeMode: 'sum' },
    { type: 'bidirectional', layer: { type: 'simpleRNN', units: 2, activation: 'leakyRelu', alpha: 0.2, returnSequences: true } },
    { type: 'bidirectional', layer: { type: 'simpleRNN', units: 2, activation: 'relu' }, mergeMode: 'sum' },
    { type: 'reshape', targetShape: [2, 1] }]),
  'bidirectional lstm last, concat; permute': () => net([4, 3], [
    { type: 'permute', dims: [2, 1] }, { type: 'bidirectional', layer: { type: 'lstm', units: 2 } }]),
  'layer norm, attention (causal, other head sizes, no bias), positions': () => net([6], [
    { type: 'embedding', inputDim: 9, outputDim: 8 }, { type: 'positionEmbedding', maxLength: 10 },
    { type: 'sinusoidalEncoding' }, { type: 'layerNormalization', epsilon: 1e-3 },
    { type: 'multiHeadAttention', numHeads: 2, causal: true },
    { type: 'layerNormalization', center: false },
    { type: 'multiHeadAttention', numHeads: 3, keyDim: 2, valueDim: 3, outputDim: 5, useBias: false },
    { type: 'layerNormalization', scale: false }]),
  'transformer blocks post-/pre-norm, relu/gelu, encoder/decoder': () => net([5], [
    { type: 'embedding', inputDim: 7, outputDim: 8 }, { type: 'sinusoidalEncoding', maxLength: 9 },
    { type: 'transformerEncoderBlock', numHeads: 2, ffDim: 12 },
    { type: 'transformerDecoderBlock', numHeads: 4, ffDim: 6, normFirst: true, activation: 'gelu', dropout: 0.1 },
    { type: 'transformerDecoderBlock', numHeads: 2, ffDim: 6, epsilon: 1e-3 },
    { type: 'dense', units: 3, activation: 'softmax' }]),
  'conv2dTranspose same/valid/padding + output padding, up-sampling': () => net([2, 3, 4], [
    { type: 'conv2dTranspose', filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'prelu' },
    { type: 'upSampling2d', size: [1, 2] },
    { type: 'conv2dTranspose', filters: 2, kernelSize: [2, 3], strides: [3, 2], padding: 1, outputPadding: [2, 1], useBias: false },
    { type: 'conv2dTranspose', filters: 2, kernelSize: 2, strides: 3, padding: 'same', activation: 'tanh' }, { type: 'flatten' }]),
  'global pooling 2-D': () => net([2, 3, 4], [{ type: 'globalAveragePooling2d' }, { type: 'dense', units: 2 }]),
  'global pooling 1-D, both layouts': () => net([4, 6], [
    { type: 'conv1d', filters: 3, kernelSize: 2 }, { type: 'reshape', targetShape: [3, 5] }, { type: 'globalAveragePooling1d', dataFormat: 'channelsLast' }]),
  'W-CNN (bench/networks.ts)': () => cnnNetwork(1),
  'LSTM sequence model': () => net([12], [
    { type: 'embedding', inputDim: 20, outputDim: 8 }, { type: 'lstm', units: 16, returnSequences: true },
    { type: 'dropout', rate: 0.2 }, { type: 'lstm', units: 8 }, { type: 'dense', units: 5, activation: 'softmax' }]),
  'graph: residual add of three, multiply, concatenate (last axis and axis 0), a shared layer': () => {
    const x = Input({ shape: [3, 4], name: 'x' });
    const d = new Dense({ units: 4, activation: 'tanh' });
    const h = d.apply(x);
    const s = new Add().apply([x, h, d.apply(h)]);
    const m = new Multiply().apply([s, new Dense({ units: 4, activation: 'logistic' }).apply(x)]);
    const c = new Concatenate({ axis: 0 }).apply([new Concatenate().apply([m, h]), new Dense({ units: 8 }).apply(x)]);
    return new GraphNetwork({ inputs: x, outputs: new Dense({ units: 3 }).apply(new Flatten().apply(c)), seed: 5 });
  },
};


/** A graph model with two inputs (a [3], b [2, 2]) and two outputs, random weights. */
export function twoInOut(): GraphNetwork {
  const a = Input({ shape: [3], name: 'a' });
  const b = Input({ shape: [2, 2], name: 'b' });
  const fb = new Flatten().apply(b);
  const h = new Concatenate().apply([new Dense({ units: 4, activation: 'relu' }).apply(a), fb]);
  const y1 = new Dense({ units: 2, activation: 'softmax' }).apply(h);
  const y2 = new Add().apply([new Dense({ units: 4 }).apply(h), new Dense({ units: 4 }).apply(fb)]);
  return new GraphNetwork({ inputs: [a, b], outputs: [y1, y2], seed: 3 });
}
