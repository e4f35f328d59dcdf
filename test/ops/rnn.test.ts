// Finite-difference gradient checks of the recurrent ops and layers through several time-steps.
import { test } from 'node:test';
import { tensor, simpleRnn, lstm, gru, embedding, Sequential, SimpleRNN, LSTM, GRU, Dense, Embedding, Masking } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { gradCheck, randT } from '../helpers/gradcheck.js';

const B = 2;
const T = 4;
const I = 3;
const H = 3;

test('simpleRnn: gradients of x, Whx, Whh, bias and h0 over 4 steps (tanh, logistic, linear)', () => {
  // (ReLU's kink at 0 defeats central differences; its derivative is the backend's, tested there)
  for (const act of ['tanh', 'logistic', 'linear'] as const) {
    gradCheck((x, whx, whh, b, h0) => simpleRnn(x, whx, whh, b, act, { h0 }).output,
      [randT([B, T, I], 1), randT([H, I], 2, -0.8, 0.8), randT([H, H], 3, -0.8, 0.8), randT([H], 4, -0.2, 0.2), randT([B, H], 5)]);
  }
});

test('lstm: gradients of x, every gate matrix and bias, h0 and c0 over 4 steps', () => {
  const ws = ['f', 'i', 'c', 'o'].map((_, k) => randT([H, H + I], 10 + k, -0.7, 0.7));
  const bs = ['f', 'i', 'c', 'o'].map((_, k) => randT([H], 20 + k, -0.3, 0.3));
  gradCheck((x, Wf, Wi, Wc, Wo, bf, bi, bc, bo, h0, c0) => lstm(x, { Wf, Wi, Wc, Wo, bf, bi, bc, bo }, { h0, c0 }).output,
    [randT([B, T, I], 1), ...ws, ...bs, randT([B, H], 5), randT([B, H], 6)]);
});

test('lstm: the final cell state c_T is differentiable too', () => {
  const ws = ['f', 'i', 'c', 'o'].map((_, k) => randT([H, H + I], 30 + k, -0.7, 0.7));
  const bs = ['f', 'i', 'c', 'o'].map((_, k) => randT([H], 40 + k, -0.3, 0.3));
  gradCheck((x, Wf, Wi, Wc, Wo, bf, bi, bc, bo, c0) => lstm(x, { Wf, Wi, Wc, Wo, bf, bi, bc, bo }, { c0 }).cT!,
    [randT([B, T, I], 2), ...ws, ...bs, randT([B, H], 7)]);
});

test('gru: gradients of x, Wz, Wr, Wh, the biases and h0 over 4 steps', () => {
  const ws = [0, 1, 2].map((k) => randT([H, H + I], 50 + k, -0.7, 0.7));
  const bs = [0, 1, 2].map((k) => randT([H], 60 + k, -0.3, 0.3));
  gradCheck((x, Wz, Wr, Wh, bz, br, bh, h0) => gru(x, { Wz, Wr, Wh, bz, br, bh }, { h0 }).output,
    [randT([B, T, I], 3), ...ws, ...bs, randT([B, H], 8)]);
});

test('masked steps and a recurrent dropout mask: gradients still match finite differences', () => {
  const mask = tensor([[1, 1, 0, 0], [1, 0, 1, 1]]);
  const rm = Float32Array.from([2, 0, 2, 0, 2, 2]);
  gradCheck((x, whx, whh, b) => simpleRnn(x, whx, whh, b, 'tanh', { mask, recurrentMask: rm }).output,
    [randT([B, T, I], 1), randT([H, I], 2), randT([H, H], 3), randT([H], 4)]);
  const ws = ['f', 'i', 'c', 'o'].map((_, k) => randT([H, H + I], 70 + k, -0.7, 0.7));
  const bs = ['f', 'i', 'c', 'o'].map((_, k) => randT([H], 80 + k, -0.3, 0.3));
  gradCheck((x, Wf, Wi, Wc, Wo, bf, bi, bc, bo) => lstm(x, { Wf, Wi, Wc, Wo, bf, bi, bc, bo }, { mask, recurrentMask: rm }).output,
    [randT([B, T, I], 2), ...ws, ...bs]);
  const gw = [0, 1, 2].map((k) => randT([H, H + I], 90 + k, -0.7, 0.7));
  const gb = [0, 1, 2].map((k) => randT([H], 95 + k, -0.3, 0.3));
  gradCheck((x, Wz, Wr, Wh, bz, br, bh) => gru(x, { Wz, Wr, Wh, bz, br, bh }, { mask, recurrentMask: rm }).output,
    [randT([B, T, I], 3), ...gw, ...gb]);
});

test('embedding: gradient of the embedding matrix (repeated indices accumulate)', () => {
  const idx = tensor([[0, 2, 2, 1], [3, 0, 1, 1]]);
  gradCheck((w) => embedding(idx, w), [randT([4, 3], 1)]);
});

/** Gradient check of a whole network's parameters, by finite differences on the weights. */
function checkNet(net: Sequential, x: Tensor): void {
  // the checked inputs are the parameters themselves: perturbing them changes the network
  gradCheck(() => net.forward(x), net.parameters());
}

test('layers end to end: SimpleRNN/LSTM/GRU → Dense at every step, and Embedding → LSTM (last step)', () => {
  for (const [k, Layer] of [[1, SimpleRNN], [2, LSTM], [3, GRU]] as const) {
    const net = new Sequential([new Layer({ units: 3, returnSequences: true }), new Dense({ units: 2, activation: 'tanh' })], { inputShape: [T, I], seed: k });
    checkNet(net, randT([B, T, I], k));
  }
  const emb = new Sequential([new Embedding({ inputDim: 5, outputDim: 3, embeddingsInitializer: { type: 'randomUniform', minval: -0.5, maxval: 0.5 } }), new LSTM({ units: 3 })], { inputShape: [T], seed: 4 });
  checkNet(emb, tensor([[4, 1, 0, 2], [3, 3, 1, 0]]));
  const masked = new Sequential([new Masking(), new GRU({ units: 3, returnSequences: true }), new Dense({ units: 1 })], { inputShape: [T, I], seed: 5 });
  const x = randT([B, T, I], 6);
  x.data.fill(0, (T - 1) * I, T * I); // the last step of the first sequence is padding
  checkNet(masked, x);
});
