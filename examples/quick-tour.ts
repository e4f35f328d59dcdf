// The README's quick tour, runnable: `npx tsc -p . && node dist/examples/quick-tour.js`.
import {
  Sequential, Dense, Model, SGD, Adam, tensor, matmul, relu, sum, noGrad,
  Conv2D, MaxPool2D, Flatten, LSTM, traceModel, formatTrace,
} from '../src/index.js';

// The lecture's 2-3-2-1 network (weights: [units, inputs], bias: [units])
const net = new Sequential([
  new Dense({ units: 3, activation: 'logistic', name: 'h1' }),
  new Dense({ units: 2, activation: 'logistic', name: 'h2' }),
  new Dense({ units: 1, activation: 'logistic', name: 'out' }),
], { inputShape: [2], seed: 1 });

const model = new Model(net, { loss: 'sse', optimizer: new SGD({ learningRate: 0.2 }) });
const x = tensor([[0.04, 0.81], [0.84, 0.58], [0.50, 0.07], [0.53, 1.00]]);
const y = tensor([[0.94], [0.13], [0.57], [0.36]]);

// batch gradient descent (batchSize = all examples), until ½Σ(t − a)² < 0.0001
const history = model.fit(x, y, { epochs: 20000, batchSize: 4, shuffle: false, stopWhen: { loss: 1e-4 } });
console.log(history.stopped, history.epochs.length, model.predict(x).toArray());
console.log(model.summary());
console.log(formatTrace(traceModel(model, x, y)).split('\n').slice(0, 8).join('\n'));

// autograd
const w = tensor([[0.5, -0.2], [0.1, 0.3]], { requiresGrad: true });
const loss = sum(relu(matmul(tensor([[1, 2]]), w)));
loss.backward();
console.log('∂loss/∂w', w.grad!.toArray());
console.log('inference', noGrad(() => matmul(tensor([[1, 2]]), w)).toArray());

// convolutional and recurrent networks
const cnn = new Sequential([
  new Conv2D({ filters: 16, kernelSize: 5, activation: 'relu', kernelInitializer: 'heNormal' }),
  new MaxPool2D({ poolSize: 2 }),
  new Conv2D({ filters: 32, kernelSize: 5, activation: 'relu', kernelInitializer: 'heNormal' }),
  new MaxPool2D({ poolSize: 2 }),
  new Flatten(),
  new Dense({ units: 10, activation: 'softmax' }),
], { inputShape: [1, 28, 28] });
const classifier = new Model(cnn, { loss: 'crossEntropy', optimizer: new Adam({ learningRate: 1e-3 }) });
console.log(classifier.summary());

const lstm = new Sequential([
  new LSTM({ units: 128, returnSequences: true }),
  new Dense({ units: 64, activation: 'softmax' }), // applied at every time step
], { inputShape: [32, 64] });
console.log(lstm.summary());
