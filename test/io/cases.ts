import { buildNetwork } from '../../src/index.js';
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
  'W-CNN (bench/networks.ts)': () => cnnNetwork(1),
  'LSTM sequence model': () => net([12], [
    { type: 'embedding', inputDim: 20, outputDim: 8 }, { type: 'lstm', units: 16, returnSequences: true },
    { type: 'dropout', rate: 0.2 }, { type: 'lstm', units: 8 }, { type: 'dense', units: 5, activation: 'softmax' }]),
};

