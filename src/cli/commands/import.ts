import type { Command } from '../common.js';
import { chooseBackend } from '../common.js';
import { opt, parseArgs } from '../args.js';
import { ConfigError } from '../../errors.js';
import { loadPytorchDir } from '../../io/files.js';
import { saveModel } from '../../io/model-file.js';

/** `dendrite import --pytorch DIR OUT`: weights from another framework into a dendrite model directory. */
export const importCommand: Command = {
  summary: 'import a model exported with --pytorch (after training in PyTorch) into a dendrite model directory',
  usage: 'dendrite import --pytorch DIR OUT_MODEL_DIR',
  run(argv) {
    const a = parseArgs(argv, ['pytorch', 'backend'], [], 'import');
    chooseBackend(a);
    const out = a.positional[0];
    if (!out) throw new ConfigError('import: give the model directory to write (OUT_MODEL_DIR)');
    const torch = opt(a, 'pytorch');
    if (!torch) throw new ConfigError('import: say what to read: --pytorch DIR');
    const { model, spec, preprocessing } = loadPytorchDir(torch);
    saveModel(out, model, spec, { preprocessing });
    process.stdout.write(`wrote ${out} from ${torch} (${model.net.layers.length} layers)\n`);
  },
};
