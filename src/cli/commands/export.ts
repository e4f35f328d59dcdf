import type { Command } from '../common.js';
import { commandArgs, specOrModel } from '../common.js';
import { flag, opt } from '../args.js';
import { ConfigError } from '../../errors.js';
import { join } from 'node:path';
import { exportOnnx, normalizationFromPreprocessing, readOnnx } from '../../io/onnx/export.js';
import { exportPytorch } from '../../io/pytorch.js';
import { saveOnnx, writeFilesAtomically } from '../../io/files.js';

/** `dendrite export MODEL --onnx FILE --pytorch DIR`: the model in other frameworks' formats. */
export const exportCommand: Command = {
  summary: 'export a saved model (or a spec) as ONNX (ONNX Runtime: Node, browsers, servers; --normalize puts the saved CSV normalisation into the graph) and/or for PyTorch (model.py + model.safetensors)',
  usage: 'dendrite export MODEL_DIR|SPEC [--onnx FILE.onnx [--normalize]] [--pytorch DIR]',
  run(argv) {
    const a = commandArgs(argv, ['onnx', 'pytorch', 'backend'], ['normalize'], 'export');
    const path = a.positional[0];
    if (!path) throw new ConfigError('export: give a model directory or spec file');
    const onnx = opt(a, 'onnx');
    const torch = opt(a, 'pytorch');
    if (!onnx && !torch) throw new ConfigError('export: say what to write: --onnx FILE.onnx and/or --pytorch DIR');
    const { model, spec, preprocessing } = specOrModel(path);
    // everything is built in memory first: an unsupported layer stops here, before any file is touched
    const normalize = onnx && flag(a, 'normalize') ? normalizationFromPreprocessing(preprocessing) : undefined;
    const bytes = onnx ? exportOnnx(model, { normalize }) : null;
    const torchFiles = torch ? exportPytorch(model, spec, preprocessing) : null;
    if (torch && torchFiles) {
      writeFilesAtomically(torch, { ...torchFiles });
      process.stdout.write(`wrote ${join(torch, 'model.py')} and ${join(torch, 'model.safetensors')} (PyTorch state_dict names and layouts)\n`);
    }
    if (onnx && bytes) {
      saveOnnx(onnx, bytes);
      const info = readOnnx(bytes, onnx);
      const shape = (s: (number | string)[]) => `[${s.join(', ')}]`;
      process.stdout.write(`wrote ${onnx}: ONNX opset ${info.opset}, ${info.ops.length} nodes, input ${shape(info.inputs[0].shape)}, output ${shape(info.outputs[0].shape)}\n`);
    }
  },
};
