import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  tensor, conv2d, relu, maxPool2d, affine, reshape, Sequential, Conv2D, MaxPool2D, Flatten, Dense,
} from '../../src/index.js';

// The lecture's "Convolutional Neural Networks" section (eq 90–109) as tests.

/** Eq 90: the 6×6 grayscale image of a "4". */
const FOUR = [
  [0, 0, 0, 0, 0, 0],
  [0, 255, 0, 0, 0, 0],
  [0, 255, 0, 255, 0, 0],
  [0, 255, 255, 255, 255, 0],
  [0, 0, 0, 255, 0, 0],
  [0, 0, 0, 0, 0, 0],
];
const four = () => tensor([[FOUR]]);
/** Eq 94/96: the vertical-edge filter. */
const VERTICAL = [[-1, 1, -1], [-1, 1, -1], [-1, 1, -1]];
/** Eq 94/97: the horizontal-edge filter. */
const HORIZONTAL = [[-1, -1, -1], [1, 1, 1], [-1, -1, -1]];

/** Feature map of one filter: rectifier(conv(image, filter)) with the given padding. */
const featureMap = (filter: number[][], padding: 'valid' | number = 'valid') =>
  (relu(conv2d(four(), tensor([[filter]]), null, { padding })).toArray() as number[][][][])[0][0];

test('eq 91–93: the horizontal-line filter gives 255 on the top-left field and 765 on the field of Figure 33', () => {
  const map = featureMap([[0, 0, 0], [1, 1, 1], [0, 0, 0]]);
  assert.equal(map[0][0], 255); // eq 92: middle row of the top-left 3×3 field is 000 255 000
  assert.equal(map[2][1], 765); // eq 93: field rows 2–4, columns 1–3; middle row 255 255 255
  assert.deepEqual(map.length, 4);
});

test('eq 96: the vertical-edge filter over the "4" (no padding) gives the printed 4×4 feature map', () => {
  assert.deepEqual(featureMap(VERTICAL), [
    [510, 0, 255, 0],
    [510, 0, 0, 0],
    [255, 0, 255, 0],
    [0, 0, 0, 0],
  ]);
});

test('eq 97: the horizontal-edge filter over the "4" gives the printed 4×4 feature map', () => {
  assert.deepEqual(featureMap(HORIZONTAL), [
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [255, 0, 255, 0],
    [0, 0, 0, 0],
  ]);
});

test('eq 98/99: one pixel of zero padding keeps the 6×6 size; the printed maps are those of the correctly padded image', () => {
  assert.deepEqual(featureMap(VERTICAL, 1), [
    [0, 255, 0, 0, 0, 0],
    [0, 510, 0, 255, 0, 0],
    [0, 510, 0, 0, 0, 0],
    [0, 255, 0, 255, 0, 0],
    [0, 0, 0, 0, 0, 0],
    [0, 0, 0, 255, 0, 0],
  ]);
  assert.deepEqual(featureMap(HORIZONTAL, 1), [
    [0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0],
    [0, 255, 0, 255, 0, 255],
    [0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0],
  ]);
  // LECTURE-NOTES.md: the padded image as printed drops one 255 (padded row 4, column 5); the
  // printed maps are those of the correctly padded image.
  const printedPadded = [
    [0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 255, 0, 0, 0, 0, 0],
    [0, 0, 255, 0, 255, 0, 0, 0],
    [0, 0, 255, 255, 255, 0, 0, 0],
    [0, 0, 0, 0, 255, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0],
  ];
  const zeroRow = new Array<number>(8).fill(0);
  const padded = [zeroRow, ...FOUR.map((r) => [0, ...r, 0]), zeroRow];
  const differ: [number, number][] = [];
  padded.forEach((r, i) => r.forEach((v, j) => { if (v !== printedPadded[i][j]) differ.push([i, j]); }));
  assert.deepEqual(differ, [[4, 5]]);
  const valid = (img: number[][], f: number[][]) => (relu(conv2d(tensor([[img]]), tensor([[f]]))).toArray() as number[][][][])[0][0];
  assert.deepEqual(valid(padded, HORIZONTAL), featureMap(HORIZONTAL, 1));
  assert.deepEqual(valid(padded, VERTICAL), featureMap(VERTICAL, 1));
  assert.notDeepEqual(valid(printedPadded, HORIZONTAL), featureMap(HORIZONTAL, 1));
});

test('eq 102–103: through max pooling, δ_C = Σ δ·w of the next layer, and the whole δ goes to the max input', () => {
  // feature map neurons A (1), B (3, the max), two others; C = max; D and E read C.
  const a = tensor([[[[1, 3], [2, 0.5]]]], { requiresGrad: true });
  const c = maxPool2d(a).retainGrad();
  const wDE = tensor([[0.4], [-0.7]]); // w_D,C and w_E,C
  const z = affine(reshape(c, [1, 1]), wDE, null);
  const deltaD = 0.2;
  const deltaE = 0.1;
  z.backward(tensor([[deltaD, deltaE]]));
  const deltaC = deltaD * 0.4 + deltaE * -0.7; // eq 102 (∂a_C/∂z_C = 1)
  assert.ok(Math.abs(c.grad!.item() - deltaC) < 1e-7);
  const g = a.grad!.toArray() as number[][][][];
  assert.ok(Math.abs(g[0][0][0][1] - deltaC) < 1e-7); // eq 103: δ_B = δ_C × 1 × 1
  assert.deepEqual([g[0][0][0][0], g[0][0][1][0], g[0][0][1][1]], [0, 0, 0]); // like neuron A: 0
});

/** Eq 106: the 3×3 RGB image (channels red, green, blue). */
const RGB = [
  [[1, 1, 1], [0, 0, 0], [0, 0, 0]],
  [[0, 0, 2], [0, 0, 2], [0, 0, 2]],
  [[3, 0, 0], [0, 3, 0], [0, 0, 3]],
];
/** Eq 105: the 2×2×3 filter, one 2×2 matrix per colour channel, bias w0 = 0.5. */
const RGB_FILTER = [[[1, 1], [0, 0]], [[0, 1], [0, 1]], [[1, 0], [0, 1]]];

test('eq 104–109: a 2×2×3 filter with bias 0.5 over the 3×3 RGB image → [[8.5, 6.5], [0.5, 10.5]]', () => {
  const z = conv2d(tensor([RGB]), tensor([RGB_FILTER]), tensor([0.5]));
  assert.deepEqual(relu(z).toArray(), [[[[8.5, 6.5], [0.5, 10.5]]]]);
  // the same with a Conv2D layer whose weights are set in the documented layout
  const net = new Sequential([new Conv2D({ filters: 1, kernelSize: 2, activation: 'relu', name: 'rgb' })], { inputShape: [3, 3, 3] });
  net.setWeights({ rgb: { weight: [RGB_FILTER], bias: [0.5] } });
  net.setTracing(true);
  assert.deepEqual(net.forward(tensor([RGB])).toArray(), [[[[8.5, 6.5], [0.5, 10.5]]]]);
  // eq 108: the top-left neuron's z is 8.5 and a = rectifier(8.5) = 8.5
  assert.equal(net.layers[0].record!.z!.get(0, 0, 0, 0), 8.5);
});

test('Figure 36: a conv → pool → flatten → dense network runs on the "4" (shapes of each stage)', () => {
  const net = new Sequential([
    new Conv2D({ filters: 2, kernelSize: 3, activation: 'relu', name: 'edges' }),
    new MaxPool2D({ poolSize: 2 }),
    new Flatten(),
    new Dense({ units: 3, activation: 'softmax' }),
  ], { inputShape: [1, 6, 6] });
  net.setWeights({ edges: { weight: [[VERTICAL], [HORIZONTAL]], bias: [0, 0] } });
  net.setTracing(true);
  const out = net.forward(four());
  assert.deepEqual(net.layers.map((l) => l.outputShape), [[2, 4, 4], [2, 2, 2], [8], [3]]);
  // the pooled maps are the 2×2 maxima of eq 96 and eq 97
  assert.deepEqual(net.layers[1].record!.a.toArray(), [[[[510, 255], [255, 255]], [[0, 0], [255, 255]]]]);
  assert.deepEqual(out.shape, [1, 3]);
});
