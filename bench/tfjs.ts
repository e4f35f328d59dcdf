/**
 * TensorFlow.js side of the benchmark (peer): `@tensorflow/tfjs` on its `cpu` backend or on
 * `@tensorflow/tfjs-backend-wasm`, one workload per process:
 * `node dist/bench/tfjs.js --system tfjs-cpu|tfjs-wasm --workload mlp …` (options: bench/common.ts).
 * Written as a tfjs user would: layers models, `fit()` for the image workloads, `trainOnBatch()`
 * for W-LSTM's generated batches, `predict()` + `dataSync()` for inference.
 */
import { dirname, join } from 'node:path';
import {
  LSTM, argmaxRows, fashion, gemmOperands, gemmWorkload, inferInput, inferWorkload, lstmMeasure, lstmSymbols, peerRequire,
  progress, runChild, sequenceStart, since, trainingMeasure,
} from './common.js';
import type { ChildOptions, ChildResult, Trainer } from './common.js';
import { setBackend } from '../src/index.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type TF = any;
type Result = Omit<ChildResult, 'peakRssMiB'>;

async function loadTf(system: string): Promise<TF> {
  const req = peerRequire();
  const tf = req('@tensorflow/tfjs');
  if (system === 'tfjs-wasm') {
    const wasm = req('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(join(dirname(req.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
    await tf.setBackend('wasm');
  } else if (system === 'tfjs-cpu') {
    await tf.setBackend('cpu');
  } else {
    throw new Error(`unknown tfjs system ${system} (tfjs-cpu | tfjs-wasm)`);
  }
  await tf.ready();
  progress(`tfjs ${tf.version.tfjs} on the ${tf.getBackend()} backend`);
  return tf;
}

function mlp(tf: TF): TF {
  const dense = (units: number, activation: string, extra: object = {}) =>
    tf.layers.dense({ units, activation, kernelInitializer: 'heNormal', biasInitializer: 'zeros', ...extra });
  return tf.sequential({ layers: [dense(256, 'relu', { inputShape: [784] }), dense(128, 'relu'), dense(10, 'softmax')] });
}

function cnn(tf: TF): TF {
  const conv = (filters: number, extra: object = {}) =>
    tf.layers.conv2d({ filters, kernelSize: 5, strides: 1, padding: 'valid', activation: 'relu', kernelInitializer: 'heNormal', ...extra });
  return tf.sequential({
    layers: [
      conv(16, { inputShape: [28, 28, 1] }), tf.layers.maxPooling2d({ poolSize: 2 }),
      conv(32), tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: 'heNormal' }),
    ],
  });
}

async function train(tf: TF, o: ChildOptions, model: TF, inputShape: number[]): Promise<Result> {
  const d = await fashion(o);
  const n = d.train.labels.length;
  const nTest = d.test.labels.length;
  const x = tf.tensor(d.train.x.data, [n, ...inputShape]);
  const y = tf.tensor2d(d.train.y.data, [n, 10]);
  const xTest = tf.tensor(d.test.x.data, [nTest, ...inputShape]);
  model.compile({ optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy' });
  const batchSize = 64;
  const t: Trainer = {
    batchSize,
    batchesPerEpoch: Math.ceil(n / batchSize),
    async run(batches, stopAfter) {
      const t0 = performance.now();
      let done = 0;
      await model.fit(x, y, {
        batchSize, epochs: 1, shuffle: true, verbose: 0,
        callbacks: { onBatchEnd: async (b: number) => {
          done = b + 1;
          if (done >= batches || since(t0) > stopAfter) model.stopTraining = true;
        } },
      });
      return done;
    },
    async accuracy() {
      const p = tf.tidy(() => model.predict(xTest, { batchSize: 1000 }));
      const pred = argmaxRows(await p.data(), nTest, 10);
      p.dispose();
      let ok = 0;
      for (let i = 0; i < nTest; i++) if (pred[i] === d.test.labels[i]) ok++;
      return ok / nTest;
    },
  };
  const { metrics, info } = await trainingMeasure(o, t);
  return { workload: o.workload, system: o.system, metrics, info };
}

async function lstm(tf: TF, o: ChildOptions): Promise<Result> {
  const { vocab: V, hidden: H, steps: T, batch: B } = LSTM;
  const sym = lstmSymbols(o);
  const model = tf.sequential({
    layers: [
      tf.layers.lstm({ units: H, returnSequences: true, inputShape: [T, V] }),
      tf.layers.timeDistributed({ layer: tf.layers.dense({ units: V, activation: 'softmax' }) }),
    ],
  });
  model.compile({ optimizer: tf.train.sgd(LSTM.learningRate), loss: 'categoricalCrossentropy' });
  let next = 0;
  const batch = () => {
    const xb = new Float32Array(B * T * V);
    const yb = new Float32Array(B * T * V);
    for (let i = 0; i < B; i++) {
      const s = sequenceStart(next * B + i, sym.length);
      for (let t = 0; t < T; t++) {
        xb[(i * T + t) * V + sym[s + t]] = 1;
        yb[(i * T + t) * V + sym[s + t + 1]] = 1;
      }
    }
    next++;
    return [tf.tensor3d(xb, [B, T, V]), tf.tensor3d(yb, [B, T, V])];
  };
  const { metrics, info } = await lstmMeasure(o, async () => {
    const [xb, yb] = batch();
    await model.trainOnBatch(xb, yb);
    tf.dispose([xb, yb]);
  });
  return { workload: 'lstm', system: o.system, metrics, info };
}

async function main(o: ChildOptions): Promise<Result> {
  setBackend('js'); // dendrite only loads the data here: plain Float32Arrays, no native addon
  const tf = await loadTf(o.system);
  switch (o.workload) {
    case 'gemm': {
      const metrics = await gemmWorkload(o, (n) => {
        const [a, b] = gemmOperands(n);
        const ta = tf.tensor2d(a, [n, n]);
        const tb = tf.tensor2d(b, [n, n]);
        return () => {
          const c = tf.matMul(ta, tb);
          c.dataSync();
          c.dispose();
        };
      });
      return { workload: 'gemm', system: o.system, metrics, info: { threads: 1 } };
    }
    case 'mlp':
      return train(tf, o, mlp(tf), [784]);
    case 'cnn':
      return train(tf, o, cnn(tf), [28, 28, 1]);
    case 'lstm':
      return lstm(tf, o);
    case 'infer': {
      const model = mlp(tf);
      const one = tf.tensor2d(inferInput(1), [1, 784]);
      const many = tf.tensor2d(inferInput(1000), [1000, 784]);
      const call = (x: TF) => () => {
        const y = model.predict(x, { batchSize: x.shape[0] });
        const v = y.dataSync();
        y.dispose();
        return v;
      };
      const metrics = await inferWorkload(o, call(one), call(many));
      return { workload: 'infer', system: o.system, metrics, info: {} };
    }
    case 'attn':
      throw new Error('tfjs-layers exports no MultiHeadAttention, so tfjs has no W-ATTN');
  }
}

await runChild('tfjs', main);
