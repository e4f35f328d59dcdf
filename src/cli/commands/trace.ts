import type { Command } from '../common.js';
import { applyWeightsFile, commandArgs, specOrModel, toJson } from '../common.js';
import { flag, opt, required } from '../args.js';
import { loadTrainingData } from '../dataset.js';
import { ConfigError } from '../../errors.js';
import { traceModel } from '../../inspect/trace.js';
import { formatTrace } from '../../inspect/format.js';

/** `dendrite trace`: one forward and backward pass, z/a/δ per neuron and ∂E/∂w per parameter. */
export const trace: Command = {
  summary: 'one forward + backward pass over the rows: z, a and δ = ∂E/∂z of every neuron and the gradient of every parameter (summed over the rows)',
  usage: 'dendrite trace SPEC.json|MODEL_DIR [--weights W.json] --data FILE.csv --target COL[,COL…] [--json]',
  async run(argv) {
    const a = commandArgs(argv, ['weights', 'data', 'target', 'backend'], ['json'], 'trace');
    const path = a.positional[0];
    if (!path) throw new ConfigError('trace: give a spec file or a model directory');
    const { model, spec, preprocessing } = specOrModel(path);
    const w = opt(a, 'weights');
    if (w) applyWeightsFile(model, w);
    const data = await loadTrainingData(required(a, 'data', 'trace'), spec, opt(a, 'target'), preprocessing, model.net.outputShape);
    const result = traceModel(model, data.x, data.y);
    process.stdout.write(flag(a, 'json') ? toJson(result) : formatTrace(result) + '\n');
  },
};
