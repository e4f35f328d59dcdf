import type { Command } from '../common.js';
import { commandArgs, specOrModel } from '../common.js';
import { ConfigError } from '../../errors.js';

/** `dendrite summary SPEC|MODEL`: layers, output shapes and parameter counts. */
export const summary: Command = {
  summary: 'print the layers, output shapes and parameter counts of a spec or saved model',
  usage: 'dendrite summary SPEC.json|MODEL_DIR',
  run(argv) {
    const a = commandArgs(argv, ['backend'], [], 'summary');
    const path = a.positional[0];
    if (!path) throw new ConfigError('summary: give a spec file or a model directory');
    process.stdout.write(specOrModel(path).model.summary() + "\n");
  },
};
