/**
 * ONNX Runtime's side of W-INFER (the inference reference users deploy with):
 * `node dist/bench/onnxruntime.js --system onnxruntime --workload infer --threads 1|2 …`.
 *
 * The network is dendrite's W-INFER model (bench/networks.ts, same seed) exported with
 * `exportOnnx`, so both systems run the same weights; onnxruntime-node's CPU execution provider
 * runs it with `intraOpNumThreads` = `--threads`, all graph optimisations on, one inter-op thread.
 * A call is what an ORT user writes: `await session.run({ input: tensor })` and the output's data
 * read back, the input tensor built once (as dendrite's W-INFER builds its input tensor once).
 */
import { Model, SGD, exportOnnx } from '../src/index.js';
import { inferInput, inferWorkload, progress, runChild } from './common.js';
import type { ChildOptions, ChildResult } from './common.js';
import { mlpNetwork } from './networks.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
async function main(o: ChildOptions): Promise<Omit<ChildResult, 'peakRssMiB'>> {
  if (o.workload !== 'infer') throw new Error(`onnxruntime runs W-INFER only, received --workload ${o.workload}`);
  const ort: any = (await import('onnxruntime-node')).default;
  const threads = o.threads > 0 ? o.threads : 1;
  const model = new Model(mlpNetwork(o.seed), { loss: 'crossEntropy', optimizer: new SGD({ learningRate: 0.05 }) });
  const bytes = exportOnnx(model);
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const [input] = session.inputNames as string[];
  const [output] = session.outputNames as string[];
  progress(`onnxruntime-node (cpu, ${threads} intra-op thread${threads > 1 ? 's' : ''}); input ${input}, output ${output}`);
  const feed = (rows: number) => ({ [input]: new ort.Tensor('float32', inferInput(rows), [rows, 784]) });
  const one = feed(1);
  const many = feed(1000);
  const call = (f: Record<string, unknown>) => async () => ((await session.run(f))[output] as { data: Float32Array }).data;
  // the same numbers as dendrite's predict (a wrong export must not be timed)
  const mine = model.predict(new (await import('../src/index.js')).Tensor(inferInput(1), [1, 784])).data;
  const theirs = await call(one)();
  const gap = Math.max(...Array.from(mine, (v, i) => Math.abs(v - theirs[i])));
  if (!(gap < 1e-5)) throw new Error(`onnxruntime's output differs from dendrite's by ${gap}`);
  const metrics = await inferWorkload(o, call(one), call(many));
  return {
    workload: 'infer', system: o.system, metrics,
    info: { implementation: `exportOnnx → onnxruntime-node InferenceSession, ${threads} intra-op thread${threads > 1 ? 's' : ''}` },
  };
}

await runChild('onnxruntime', main);
