/**
 * brain.js side of the benchmark (peer): W-MLP with `brain.NeuralNetwork`, W-LSTM with
 * `brain.recurrent.LSTM`, W-INFER with `NeuralNetwork.run`, one workload per process:
 * `node dist/bench/brainjs.js --workload mlp …` (options: bench/common.ts).
 *
 * brain.js cannot build the exact networks, so the closest it has is measured (bench/README.md):
 * - NeuralNetwork updates after every example (no mini-batches: a "batch" of 64 is 64 updates of
 *   lr 0.05 / 64), uses one activation for every layer (ReLU, so no softmax output) and the squared error;
 *   He-normal weights and zero biases are written into it before training; momentum must be
 *   > 0 in brain.js, so it is 1e-9.
 * - recurrent.LSTM trains one sequence at a time (lr 0.1 / 32) with its own RMSProp-style update, feeds symbols
 *   through a learned 64×64 input matrix (a row lookup, the same arithmetic as one-hot × matrix)
 *   and adds a start and an end step (33 steps for 32 symbols).
 */
import {
  EpochOrder, LSTM, argmaxRows, fashion, inferInput, inferWorkload, lstmMeasure, lstmSymbols, peerRequire, progress, runChild,
  sequenceStart, since, trainingMeasure,
} from './common.js';
import type { ChildOptions, ChildResult, Trainer } from './common.js';
import { Rng, setBackend } from '../src/index.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Result = Omit<ChildResult, 'peakRssMiB'>;

/**
 * brain.js steps after every example, so the workload's step (lr 0.05 on the mean loss of 64
 * examples) becomes 64 steps of 0.05 / 64; with 0.05 per example the network dies (test accuracy
 * 0.10 after one epoch).
 */
const TRAIN_OPTS = { iterations: 1, learningRate: 0.05 / 64, momentum: 1e-9, errorThresh: 1e-9, log: false } as const;

/** A NeuralNetwork 784 → 256 → 128 → 10 (ReLU) with He-normal weights and zero biases. */
function mlp(brain: any, seed: number): any {
  const net = new brain.NeuralNetwork({ inputSize: 784, hiddenLayers: [256, 128], outputSize: 10, activation: 'relu' });
  net.initialize();
  const rng = new Rng(seed);
  for (let l = 1; l < net.sizes.length; l++) {
    const std = Math.sqrt(2 / net.sizes[l - 1]);
    for (const w of net.weights[l] as Float32Array[]) for (let k = 0; k < w.length; k++) w[k] = rng.normal(0, std);
    (net.biases[l] as Float32Array).fill(0);
  }
  net.errorCheckInterval = Number.POSITIVE_INFINITY; // train only; do not also compute the error every call
  return net;
}

async function trainMlp(brain: any, o: ChildOptions): Promise<Result> {
  const d = await fashion(o);
  const n = d.train.labels.length;
  const nTest = d.test.labels.length;
  const [x, y, xTest] = [d.train.x.data, d.train.y.data, d.test.x.data];
  const net = mlp(brain, o.seed);
  const examples = Array.from({ length: n }, (_, i) => ({
    input: x.subarray(i * 784, (i + 1) * 784),
    output: y.subarray(i * 10, (i + 1) * 10),
  }));
  const batchSize = 64;
  const order = new EpochOrder(n, o.seed);
  const t: Trainer = {
    batchSize,
    batchesPerEpoch: Math.ceil(n / batchSize),
    async run(batches, stopAfter) {
      const t0 = performance.now();
      const perm = order.next();
      let done = 0;
      while (done < batches && since(t0) <= stopAfter) {
        const s = done * batchSize;
        const batch = [];
        for (let i = s; i < Math.min(s + batchSize, n); i++) batch.push(examples[perm[i]]);
        net.train(batch, TRAIN_OPTS);
        done++;
      }
      return done;
    },
    async accuracy() {
      let ok = 0;
      for (let i = 0; i < nTest; i++) {
        const out = net.run(xTest.subarray(i * 784, (i + 1) * 784));
        if (argmaxRows(out, 1, 10)[0] === d.test.labels[i]) ok++;
      }
      return ok / nTest;
    },
  };
  const { metrics, info } = await trainingMeasure(o, t);
  return { workload: 'mlp', system: o.system, metrics, info: { ...info, updates: 'per example, lr 0.05/64', loss: 'squared error, ReLU output' } };
}

async function trainLstm(brain: any, o: ChildOptions): Promise<Result> {
  const { vocab: V, hidden: H, steps: T, batch: B } = LSTM;
  const sym = lstmSymbols(o);
  const net = new brain.recurrent.LSTM({ inputSize: V, inputRange: V, hiddenLayers: [H], outputSize: V, dataFormatter: null });
  let next = 0;
  const { metrics, info } = await lstmMeasure(o, () => {
    const seqs: number[][] = [];
    for (let i = 0; i < B; i++) {
      const s = sequenceStart(next * B + i, sym.length);
      seqs.push(Array.from(sym.subarray(s, s + T)));
    }
    next++;
    net.train(seqs, { iterations: 1, learningRate: LSTM.learningRate / B, errorThresh: 1e-9, log: false }); // per sequence, as for W-MLP
  });
  return { workload: 'lstm', system: o.system, metrics, info: { ...info, updates: 'per sequence, lr 0.1/32, RMSProp-style', steps: T + 1 } };
}

async function main(o: ChildOptions): Promise<Result> {
  setBackend('js'); // dendrite only loads the data here: plain Float32Arrays, no native addon
  const brain = peerRequire()('brain.js');
  progress(`brain.js ${peerRequire()('brain.js/package.json').version}`);
  switch (o.workload) {
    case 'mlp':
      return trainMlp(brain, o);
    case 'lstm':
      return trainLstm(brain, o);
    case 'infer': {
      const net = mlp(brain, o.seed);
      const one = inferInput(1);
      const many = inferInput(1000);
      const batch = () => {
        let last;
        for (let i = 0; i < 1000; i++) last = net.run(many.subarray(i * 784, (i + 1) * 784));
        return last;
      };
      const metrics = await inferWorkload(o, () => net.run(one), batch);
      return { workload: 'infer', system: o.system, metrics, info: { batch: 'a loop of 1,000 run() calls (no batched API)' } };
    }
    default:
      throw new Error(`brain.js has no ${o.workload.toUpperCase()} workload here (no convolution layers with training on CPU / no GEMM API)`);
  }
}

await runChild('brainjs', main);
