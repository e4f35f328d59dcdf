import type { Command } from '../common.js';
import { commandArgs } from '../common.js';
import { opt } from '../args.js';
import { ConfigError } from '../../errors.js';
import { loadPytorchDir, loadTfjsFile } from '../../io/files.js';
import { saveModel } from '../../io/model-file.js';
import type { PreprocessorJSON } from '../../data/preprocess.js';

/** `dendrite import --pytorch DIR OUT` / `--tfjs model.json OUT`: another framework's model as a dendrite model directory. */
export const importCommand: Command = {
  summary: 'import a model exported with --pytorch (e.g. after training in PyTorch) or a TF.js layers model (model.json + shards) into a dendrite model directory',
  usage: 'dendrite import --pytorch DIR | --tfjs MODEL.json OUT_MODEL_DIR',
  run(argv) {
    const a = commandArgs(argv, ['pytorch', 'tfjs', 'backend'], [], 'import');
    const out = a.positional[0];
    if (!out) throw new ConfigError('import: give the model directory to write (OUT_MODEL_DIR)');
    const torch = opt(a, 'pytorch');
    const tfjs = opt(a, 'tfjs');
    if (!torch === !tfjs) throw new ConfigError('import: say what to read: --pytorch DIR or --tfjs MODEL.json (one of them)');
    const { model, spec, preprocessing } = torch ? loadPytorchDir(torch) : { ...loadTfjsFile(tfjs!), preprocessing: undefined };
    saveModel(out, model, spec, { preprocessing: preprocessing as PreprocessorJSON | undefined });
    process.stdout.write(`wrote ${out} from ${torch ?? tfjs} (${model.net.layers.length} layers, input [N, ${model.net.inputShape.join(', ')}])\n`);
  },
};
