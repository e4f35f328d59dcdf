// The lecture's worked example (LECTURE-NOTES.md): 2 → 3 → 2 → 1, rows are neurons, column 0 is the bias.
import { Dense, Sequential, tensor, Model, SGD } from '../../src/index.js';
import type { ActivationName } from '../../src/index.js';

export const W1 = [[0.10, -0.20, 0.11], [-0.19, 0.09, -0.13], [0.04, 0.11, -0.02]];
export const W2 = [[0.15, -0.04, 0.10, 0.06], [0.12, 0.20, 0.14, -0.09]];
export const W3 = [[0.10, 0.12, -0.50]];
export const X = [[0.04, 0.81], [0.84, 0.58], [0.50, 0.07], [0.53, 1.00]];
export const Y = [[0.94], [0.13], [0.57], [0.36]];

/** Splits the lecture's [bias, w…] rows into our {weight, bias}. */
export function split(rows: number[][]): { weight: number[][]; bias: number[] } {
  return { weight: rows.map((r) => r.slice(1)), bias: rows.map((r) => r[0]) };
}

export function workedNet(activation: ActivationName = 'logistic'): Sequential {
  const net = new Sequential([
    new Dense({ units: 3, activation, name: 'h1' }),
    new Dense({ units: 2, activation, name: 'h2' }),
    new Dense({ units: 1, activation, name: 'out' }),
  ], { inputShape: [2] });
  net.setWeights({ h1: split(W1), h2: split(W2), out: split(W3) });
  return net;
}

export function workedModel(activation: ActivationName = 'logistic', lr = 0.2): Model {
  return new Model(workedNet(activation), { loss: 'sse', optimizer: new SGD({ learningRate: lr }) });
}

export const x = () => tensor(X);
export const y = () => tensor(Y);
