// Softmax output layers and cross-entropy: Table 15, Table 16, eq 86–89.
import { test } from 'node:test';
import { Dense, Model, SGD, Sequential, affine, exp, softmax, softmaxCrossEntropy, tensor } from '../../src/index.js';
import { assertClose, gradCheck, randT } from '../helpers/gradcheck.js';

test('Table 15: softmax of the logits [1.5, −0.9, 0.6]', () => {
  const l = tensor([[1.5, -0.9, 0.6]]);
  const e = exp(l).data;
  assertClose(e, [4.48168907, 0.40656966, 1.8221188], 5e-7, 'e^l');
  assertClose([e[0] + e[1] + e[2]], [6.71037753], 1e-6, 'Σ e^l');
  assertClose(softmax(l).data, [0.667874356, 0.060588195, 0.27153745], 1e-7, 'φ_sm');
});

// Table 16: per-example logits (rows d1..d4, columns neurons 8, 9, 10) and Table 14's one-hot targets
// (columns low, medium, high ↔ neurons 8, 9, 10).
const LOGITS = [
  [0.107653, 0.099377, 0.103000],
  [0.106456, 0.098249, 0.104083],
  [0.106093, 0.098227, 0.1040060],
  [0.107395, 0.098955, 0.103460],
];
const TARGETS = [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 1, 0]];
const byNeuron = (rows: ArrayLike<number>, k: number) => [0, 1, 2, 3].map((j) => rows[j * 3 + k]);

test('Table 16: softmax activations and δs (eq 86–87) from the printed logits', () => {
  const z = tensor(LOGITS, { requiresGrad: true });
  const e = exp(tensor(LOGITS)).data;
  assertClose(byNeuron(e, 0), [1.113661238, 1.112328983, 1.111925281, 1.11337395], 5e-7, 'e^l neuron 8');
  assertClose(byNeuron(e, 1), [1.104482611, 1.103237457, 1.103213186, 1.104016618], 5e-7, 'e^l neuron 9');
  assertClose(byNeuron(e, 2), [1.108491409, 1.109692556, 1.109607113, 1.109001432], 5e-7, 'e^l neuron 10');
  const sums = [0, 1, 2, 3].map((j) => e[3 * j] + e[3 * j + 1] + e[3 * j + 2]);
  assertClose(sums, [3.326635258, 3.325258996, 3.324745579, 3.326392], 2e-6, 'Σ e^l');
  const p = softmax(tensor(LOGITS)).data;
  assertClose(byNeuron(p, 0), [0.3348, 0.3345, 0.3344, 0.3347], 5e-5, 'softmax neuron 8');
  assertClose(byNeuron(p, 1), [0.3320, 0.3318, 0.3318, 0.3319], 5e-5, 'softmax neuron 9');
  assertClose(byNeuron(p, 2), [0.3332, 0.3337, 0.3337, 0.3334], 5e-5, 'softmax neuron 10');
  // δ = ∂L_CE/∂l: −(1 − P̂_k) for the true level (eq 86), P̂_k otherwise (eq 87)
  softmaxCrossEntropy(z, tensor(TARGETS), 'sum').backward();
  const d = z.grad!.data;
  assertClose(byNeuron(d, 0), [0.3348, -0.6655, 0.3344, 0.3347], 5e-5, 'δ neuron 8');
  assertClose(byNeuron(d, 1), [0.3320, 0.3318, -0.6682, -0.6681], 5e-5, 'δ neuron 9');
  assertClose(byNeuron(d, 2), [-0.6668, 0.3337, 0.3337, 0.3334], 5e-5, 'δ neuron 10');
});

/*
 * Eq 88–89 need the network of Figure 28, whose weights the text does not print. What the text
 * does print determines the softmax layer: the hidden activations a6 (eq 88), w9,6 = −0.07
 * (eq 89) and Table 16's twelve logits. Removing the part of the logits explained by a bias and
 * a6 leaves, for all three neurons, multiples of one vector (rank 1 up to 1e-16: the logits are
 * exact, unrounded), which is a7 up to scale and offset. Requiring 2-decimal weights (as every
 * weight in the lecture) and 4-decimal activations in the range of a6 gives one solution:
 *   neuron 8: bias 0.10, w8,6 = −0.03, w8,7 =  0.09
 *   neuron 9: bias 0.10, w9,6 = −0.07, w9,7 =  0.06
 *   neuron 10: bias 0.10, w10,6 = 0.08, w10,7 = −0.05
 *   a6 = (0.1145, 0.1211, 0.1167, 0.1195), a7 = (0.1232, 0.1121, 0.1066, 0.1220) for d1..d4.
 * It reproduces all twelve printed logits exactly. The hidden layers before neurons 6 and 7 cannot
 * be recovered (only their two outputs are constrained), so the test starts at a6 and a7.
 */
const A67 = [[0.1145, 0.1232], [0.1211, 0.1121], [0.1167, 0.1066], [0.1195, 0.1220]];
function softmaxLayerOfFigure28(): Sequential {
  const net = new Sequential([new Dense({ units: 3, activation: 'softmax', name: 'out' })], { inputShape: [2] });
  net.setWeights({ out: { weight: [[-0.03, 0.09], [-0.07, 0.06], [0.08, -0.05]], bias: [0.10, 0.10, 0.10] } });
  return net;
}

test('Figure 28 softmax layer (derived weights) reproduces the logits of Table 16', () => {
  const net = softmaxLayerOfFigure28();
  net.setTracing(true);
  const out = net.forward(tensor(A67));
  assertClose(net.layers[0].record!.z!.data, LOGITS.flat(), 1e-7, 'logits');
  assertClose(byNeuron(out.data, 1), [0.3320, 0.3318, 0.3318, 0.3319], 5e-5, 'softmax neuron 9');
});

test('eq 88–89: Δw9,6 = −0.07962191 summed over the mini-batch; w9,6 = −0.069203781 after α = 0.01', () => {
  const net = softmaxLayerOfFigure28();
  // cross-entropy summed over the batch: the lecture sums the per-example updates (eq 88)
  const model = new Model(net, { loss: 'crossEntropy', reduction: 'sum', optimizer: new SGD({ learningRate: 0.01 }) });
  const { loss } = model.lossOf(tensor(A67), tensor(TARGETS));
  loss.backward();
  const w = net.layers[0].ownParameters().get('weight')!;
  // row 1 = neuron 9, column 0 = input a6. Exact value −0.0796218491; the book's −0.07962191 used δs rounded to 4 decimals.
  assertClose([w.grad!.data[2]], [-0.07962191], 1e-7, 'Δw9,6');
  model.optimizer.step(net.namedParameters());
  // float32 storage: printed −0.069203781 to within one float32 step (7.5e-9)
  assertClose([w.data[2]], [-0.069203781], 1e-8, 'w9,6');
  // the same through fit(): one batch update of the whole mini-batch
  const net2 = softmaxLayerOfFigure28();
  const m2 = new Model(net2, { loss: 'crossEntropy', reduction: 'sum', optimizer: new SGD({ learningRate: 0.01 }) });
  m2.fit(tensor(A67), tensor(TARGETS), { epochs: 1, batchSize: 4, shuffle: false });
  assertClose([net2.layers[0].ownParameters().get('weight')!.data[2]], [-0.069203781], 1e-8, 'w9,6 via fit');
});

test('softmax + cross-entropy gradients match finite differences (alone and after an affine layer)', () => {
  const t = tensor(TARGETS);
  gradCheck((z) => softmaxCrossEntropy(z, t, 'sum'), [randT([4, 3], 3)]);
  gradCheck((z) => softmaxCrossEntropy(z, t, 'mean'), [randT([4, 3], 4, -3, 3)]);
  // through an affine layer: weights and bias get the right gradients
  const x = tensor(A67);
  gradCheck((w, b) => softmaxCrossEntropy(affine(x, w, b), t, 'sum'), [randT([3, 2], 5), randT([3], 6)]);
});
