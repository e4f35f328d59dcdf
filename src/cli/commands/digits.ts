import type { Command } from '../common.js';
import { commandArgs, readSpec, toJson, trainJson } from '../common.js';
import { flag, intOpt, opt } from '../args.js';
import { loadData } from '../dataset.js';
import { parseSpec, buildModel, fitOptionsFromSpec } from '../../io/spec.js';
import type { ModelSpec } from '../../io/spec.js';
import { saveModel } from '../../io/model-file.js';
import { ProgressCallback } from '../../train/progress.js';
import { getBackend } from '../../backend/index.js';
import { evaluationReport, printEvaluation } from './evaluate.js';
import { checkWritableDir } from '../files.js';

/**
 * The main job's network: a LeNet-style CNN (conv → ReLU → max-pool, twice, then a dense
 * softmax) — the W-CNN workload's shape.
 */
export const DIGITS_SPEC: ModelSpec = parseSpec({
  input: [1, 28, 28],
  layers: [
    { type: 'conv2d', filters: 16, kernelSize: 5, activation: 'relu', kernelInitializer: 'heNormal', name: 'conv1' },
    { type: 'maxPool2d', poolSize: 2, name: 'pool1' },
    { type: 'conv2d', filters: 32, kernelSize: 5, activation: 'relu', kernelInitializer: 'heNormal', name: 'conv2' },
    { type: 'maxPool2d', poolSize: 2, name: 'pool2' },
    { type: 'flatten', name: 'flatten' },
    { type: 'dense', units: 10, activation: 'softmax', name: 'out' },
  ],
  loss: 'crossEntropy',
  optimizer: { type: 'adam', learningRate: 0.001 },
  train: { batchSize: 32, epochs: 8, shuffle: true, seed: 1 },
}, 'digits spec');

/** `dendrite digits`: the main job — train the CNN on the bundled handwritten digits. */
export const digits: Command = {
  summary: 'the main job: train a LeNet-style CNN on the bundled handwritten digits (8,000 train / 2,000 test), print test accuracy and the confusion matrix, save the model',
  usage: 'dendrite digits [--epochs N] [--out DIR] [--data DIR] [--spec SPEC.json] [--json] [--quiet]',
  async run(argv) {
    const a = commandArgs(argv, ['epochs', 'out', 'data', 'spec', 'backend'], ['json', 'quiet'], 'digits');
    const spec = opt(a, 'spec') ? readSpec(opt(a, 'spec')!) : DIGITS_SPEC;
    const source = opt(a, 'data') ?? 'digits';
    const out = opt(a, 'out') ?? 'models/digits';
    checkWritableDir(out, '--out');
    const json = flag(a, 'json');
    const quiet = json || flag(a, 'quiet');
    const say = (s: string) => { if (!quiet) process.stdout.write(s + '\n'); };
    const train = await loadData(source, spec, { part: 'train', needTargets: true });
    const test = await loadData(source, spec, { part: 'test', needTargets: true });
    say(`data: ${source === 'digits' ? 'bundled handwritten digits' : source}, ${train.x.shape[0]} training and ${test.x.shape[0]} test images; backend: ${getBackend().name}`);
    const model = buildModel(spec);
    say(model.net.summary());
    const fit = fitOptionsFromSpec(spec, [test.x, test.y!]);
    const epochs = intOpt(a, 'epochs', 'digits') ?? fit.epochs;
    model.fit(train.x, train.y!, { ...fit, epochs, callbacks: quiet ? [] : [new ProgressCallback({ epochs, stream: process.stderr })] });
    const r = evaluationReport(model, test.x, test.y!, train.levels);
    saveModel(out, model, spec);
    if (json) {
      process.stdout.write(toJson({ ...trainJson(model.history), test: r, model: out }));
      return;
    }
    printEvaluation(r, `test set (${test.x.shape[0]} images)`);
    say(`model saved to ${out}  (try: dendrite evaluate ${out} --data ${source})`);
  },
};
