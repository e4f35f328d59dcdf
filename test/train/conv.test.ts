import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, Rng, Sequential, Conv2D, MaxPool2D, Flatten, Dense, Model, SGD } from '../../src/index.js';

/**
 * Vertical vs horizontal bars of length 5 anywhere on an 8×8 image, with a little noise:
 * class 0 = vertical, class 1 = horizontal. One image per (position, offset, class).
 */
function bars(seed: number): { x: number[][][][]; y: number[][] } {
  const rng = new Rng(seed);
  const x: number[][][][] = [];
  const y: number[][] = [];
  for (let p = 0; p < 8; p++) {
    for (let o = 0; o < 4; o++) {
      for (const cls of [0, 1]) {
        const img = Array.from({ length: 8 }, () => Array.from({ length: 8 }, () => rng.uniform(0, 0.2)));
        for (let t = o; t < o + 5; t++) {
          if (cls === 0) img[t][p] = 1;
          else img[p][t] = 1;
        }
        x.push([img]);
        y.push(cls === 0 ? [1, 0] : [0, 1]);
      }
    }
  }
  return { x, y };
}

test('a small conv net (conv → relu → maxpool → flatten → dense softmax) learns vertical vs horizontal bars to 100%', () => {
  const t0 = performance.now();
  const net = new Sequential([
    new Conv2D({ filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: 'heNormal' }),
    new MaxPool2D({ poolSize: 2 }),
    new Flatten(),
    new Dense({ units: 2, activation: 'softmax' }),
  ], { inputShape: [1, 8, 8], seed: 1 });
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.1 }), seed: 1 });
  const train = bars(1);
  const test2 = bars(2);
  model.fit(tensor(train.x), tensor(train.y), { epochs: 30, batchSize: 8 });
  assert.equal(model.evaluate(tensor(train.x), tensor(train.y)).accuracy, 1);
  assert.equal(model.evaluate(tensor(test2.x), tensor(test2.y)).accuracy, 1); // new noise, same bars
  const seconds = (performance.now() - t0) / 1000;
  assert.ok(seconds < 2, `took ${seconds.toFixed(2)} s`);
});
