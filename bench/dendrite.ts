/**
 * dendrite's side of the benchmark: one workload on one backend per process.
 * `node dist/bench/dendrite.js --system dendrite-native --workload mlp …` (options: bench/common.ts).
 * W-GEMM is bench/gemm.ts (kernel level, both thread counts in one process), W-LSTM bench/lstm.ts.
 * Everything goes through the public API (src/index.ts), as a user would write it.
 */
import { Model, SGD, Tensor, getBackend, setBackend, tensor } from '../src/index.js';
import type { BackendName, Sequential } from '../src/index.js';
import {
  fashion, inferInput, inferWorkload, progress, runChild, since, trainingMeasure,
} from './common.js';
import type { ChildOptions, ChildResult, Trainer } from './common.js';
import { cnnNetwork, mlpNetwork } from './networks.js';

type Result = Omit<ChildResult, 'peakRssMiB'>;

/** A {@link Trainer} over `Model.fit` (one call per measured stretch; a callback stops it early). */
function fitTrainer(model: Model, x: Tensor, y: Tensor, xTest: Tensor, yTest: Tensor, batchSize: number): Trainer {
  const n = x.shape[0];
  return {
    batchSize,
    batchesPerEpoch: Math.ceil(n / batchSize),
    async run(batches, stopAfter) {
      const t0 = performance.now();
      let done = 0;
      model.fit(x, y, {
        epochs: 1, batchSize, shuffle: true,
        callbacks: [{ onBatchEnd: (b, _loss, control) => {
          done = b + 1;
          if (done >= batches || since(t0) > stopAfter) control.stop();
        } }],
      });
      return done;
    },
    async accuracy() {
      return model.evaluate(xTest, yTest, { batchSize: 1000 }).accuracy!;
    },
  };
}

async function train(o: ChildOptions, net: Sequential, inputShape: number[]): Promise<Result> {
  const { train: tr, test } = await fashion(o);
  // the loader's images are [N, 1, 28, 28]; the MLP reads the same storage as [N, 784]
  const x = new Tensor(tr.x.data, [tr.labels.length, ...inputShape]);
  const xTest = new Tensor(test.x.data, [test.labels.length, ...inputShape]);
  const model = new Model(net, { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.05 }), seed: o.seed });
  const { metrics, info } = await trainingMeasure(o, fitTrainer(model, x, tr.y, xTest, test.y, 64));
  return { workload: o.workload, system: o.system, metrics, info };
}

async function main(o: ChildOptions): Promise<Result> {
  const backend = o.system.replace(/^dendrite-/, '') as BackendName;
  setBackend(backend);
  progress(`dendrite on the ${getBackend().name} backend`);
  switch (o.workload) {
    case 'mlp':
      return train(o, mlpNetwork(o.seed), [784]);
    case 'cnn':
      return train(o, cnnNetwork(o.seed), [1, 28, 28]);
    case 'infer': {
      const model = new Model(mlpNetwork(o.seed), { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.05 }) });
      const one = tensor(inferInput(1), { shape: [1, 784] });
      const many = tensor(inferInput(1000), { shape: [1000, 784] });
      // timed exactly as ONNX Runtime's side (bench/onnxruntime.ts): the same inferWorkload, a call
      // being what a user writes (predict, output read back), the input tensors built once
      const metrics = await inferWorkload(o, () => model.predict(one).data, () => model.predict(many).data);
      const be = getBackend() as Partial<{ maxThreads(): number; threads(): number }>;
      const threads = be.threads?.() ?? be.maxThreads?.() ?? 1;
      return { workload: 'infer', system: o.system, metrics, info: { implementation: `Model.predict on the ${getBackend().name} backend, up to ${threads} thread${threads > 1 ? 's' : ''}` } };
    }
    case 'gemm':
    case 'lstm':
    case 'attn':
      throw new Error(`dendrite's ${o.workload.toUpperCase()} is bench/${o.workload}.ts (the runner starts it)`);
  }
}

await runChild('dendrite', main);
