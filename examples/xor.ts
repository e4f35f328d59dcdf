/**
 * XOR, the function a single neuron cannot represent, learned by a 2-2-1 network of logistic
 * neurons with batch gradient descent on the lecture's error ½Σ(t − a)².
 *
 *   npx tsc -p . && node dist/examples/xor.js
 */
import { pathToFileURL } from 'node:url';
import { Dense, Model, SGD, Sequential, tensor } from '../src/index.js';

/** The four XOR examples. */
export const XOR_X = [[0, 0], [0, 1], [1, 0], [1, 1]];
export const XOR_Y = [[0], [1], [1], [0]];

/** A 2-2-1 logistic network with weights drawn uniformly from [−1, 1) (seeded) and its model. */
export function xorModel(seed = 1, learningRate = 2): Model {
  const init = { type: 'randomUniform', minval: -1, maxval: 1 } as const;
  const net = new Sequential([
    new Dense({ units: 2, activation: 'logistic', name: 'hidden', kernelInitializer: init, biasInitializer: init }),
    new Dense({ units: 1, activation: 'logistic', name: 'out', kernelInitializer: init, biasInitializer: init }),
  ], { inputShape: [2], seed });
  return new Model(net, { loss: 'sse', optimizer: new SGD({ learningRate }) });
}

/** Trains until ½SSE < `target` (at most `epochs` batch updates); returns the model and its history. */
export function trainXor(seed = 1, target = 0.01, epochs = 5000) {
  const model = xorModel(seed);
  const history = model.fit(tensor(XOR_X), tensor(XOR_Y), { epochs, batchSize: 4, shuffle: false, stopWhen: { loss: target } });
  return { model, history };
}

function main(): void {
  const { model, history } = trainXor();
  console.log(model.net.summary());
  console.log(`\n${history.stopped} after ${history.updates} batch updates (½SSE ${history.epochs[history.epochs.length - 1].loss.toFixed(6)})\n`);
  const pred = model.predict(tensor(XOR_X)).data;
  console.log('x1  x2  target  prediction');
  XOR_X.forEach(([a, b], i) => console.log(`${a}   ${b}   ${XOR_Y[i][0]}       ${pred[i].toFixed(4)}`));
  const w = model.net.getWeights();
  console.log('\nhidden weights [neuron][input]:', JSON.stringify(w.hidden.weight.toArray()), 'bias:', JSON.stringify(w.hidden.bias.toArray()));
  console.log('output weights:', JSON.stringify(w.out.weight.toArray()), 'bias:', JSON.stringify(w.out.bias.toArray()));
}

// run only as a script, not when imported by the test
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
