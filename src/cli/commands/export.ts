import type { Command } from '../common.js';
import { chooseBackend, specOrModel } from '../common.js';
import { flag, opt, parseArgs } from '../args.js';
import { ConfigError } from '../../errors.js';
import { exportOnnx, normalizationFromPreprocessing, readOnnx } from '../../io/onnx/export.js';
import { saveOnnx } from '../../io/files.js';

/** `dendrite export MODEL --onnx FILE`: the model in another framework's format. */
export const exportCommand: Command = {
  summary: 'export a saved model (or a spec) as ONNX (for ONNX Runtime: Node, browsers, servers); --normalize puts the saved CSV normalisation into the graph',
  usage: 'dendrite export MODEL_DIR|SPEC --onnx FILE.onnx [--normalize]',
  run(argv) {
    const a = parseArgs(argv, ['onnx', 'backend'], ['normalize'], 'export');
    chooseBackend(a);
    const path = a.positional[0];
    if (!path) throw new ConfigError('export: give a model directory or spec file');
    const onnx = opt(a, 'onnx');
    if (!onnx) throw new ConfigError('export: say what to write: --onnx FILE.onnx');
    const { model, preprocessing } = specOrModel(path);
    const normalize = flag(a, 'normalize') ? normalizationFromPreprocessing(preprocessing) : undefined;
    // everything is built in memory first: an unsupported layer stops here, before any file is touched
    const bytes = exportOnnx(model, { normalize });
    saveOnnx(onnx, bytes);
    const info = readOnnx(bytes, onnx);
    const shape = (s: (number | string)[]) => `[${s.join(', ')}]`;
    process.stdout.write(`wrote ${onnx}: ONNX opset ${info.opset}, ${info.ops.length} nodes, input ${shape(info.inputs[0].shape)}, output ${shape(info.outputs[0].shape)}\n`);
  },
};
