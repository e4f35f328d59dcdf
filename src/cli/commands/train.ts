import type { Command } from '../common.js';
import { applyWeightsFile, chooseBackend, defaultOut, readSpec, trainJson, toJson } from '../common.js';
import { flag, intOpt, opt, parseArgs } from '../args.js';
import { loadTrainingData } from '../dataset.js';
import { ConfigError, NumericError } from '../../errors.js';
import { buildModel } from '../../io/spec.js';
import { loadModel, saveModel } from '../../io/model-file.js';
import { checkpointCallback } from '../../io/checkpoint.js';
import { fitOptionsFromSpec } from '../../io/spec.js';
import { ProgressCallback } from '../../train/progress.js';
import type { Callback } from '../../train/callbacks.js';
import { describeTraining } from '../../train/callbacks.js';
import { fitTruncated } from '../../train/bptt.js';
import { TrainingDiagnostics, formatWarning } from '../../inspect/diagnostics.js';
import { checkReportPath, reportFromData, writeReport } from '../../inspect/report.js';

/** `dendrite train`: train a spec on CSV or IDX data, save the model, report. */
export const train: Command = {
  summary: 'train a model spec on data (CSV with --target, or an IDX directory), save it to --out',
  usage: 'dendrite train SPEC.json --data FILE.csv|DIR [--target COL[,COL…]] [--weights W.json] [--out DIR] [--epochs N] [--json] [--checkpoint DIR] [--resume DIR] [--report OUT.html] [--quiet]',
  async run(argv) {
    const a = parseArgs(argv, ['data', 'target', 'weights', 'out', 'epochs', 'checkpoint', 'resume', 'report', 'backend'], ['json', 'quiet'], 'train');
    chooseBackend(a);
    const specPath = a.positional[0];
    if (!specPath) throw new ConfigError('train: give a spec file: dendrite train SPEC.json --data FILE');
    const dataPath = opt(a, 'data');
    if (!dataPath) throw new ConfigError('train: --data FILE.csv (or an IDX directory) is required');
    const spec = readSpec(specPath, { inputOptional: true });
    const reportPath = opt(a, 'report');
    if (reportPath !== undefined) checkReportPath(reportPath);
    const resume = opt(a, 'resume');
    const loaded = resume ? loadModel(resume) : null;
    // without "input" in the spec, the shape of one example is read off the data
    const early = !loaded && spec.input === undefined ? await loadTrainingData(dataPath, spec, opt(a, 'target')) : null;
    if (early) spec.input = early.x.shape.slice(1);
    const model = loaded ? loaded.model : buildModel(spec);
    if (!loaded && opt(a, 'weights')) applyWeightsFile(model, opt(a, 'weights')!);
    const data = early ?? await loadTrainingData(dataPath, spec, opt(a, 'target'), loaded?.preprocessing, model.net.outputShape);
    model.preprocessing = data.preprocessing;
    const fit = fitOptionsFromSpec(spec);
    const epochs = intOpt(a, 'epochs', 'train') ?? fit.epochs;
    const done = model.history.epochs.length;
    const json = flag(a, 'json');
    const callbacks: Callback[] = [...(fit.callbacks ?? [])];
    const quiet = json || flag(a, 'quiet');
    if (!quiet) callbacks.push(new ProgressCallback({ epochs, stream: process.stderr }));
    const diagnostics = new TrainingDiagnostics(model, data.x, data.y, {
      onWarning: quiet ? undefined : (w, epoch) => process.stderr.write(formatWarning(w, epoch) + '\n'),
    });
    callbacks.push(diagnostics);
    const ckpt = opt(a, 'checkpoint') ?? resume;
    if (ckpt) callbacks.push(checkpointCallback(ckpt, model, loaded ? loaded.spec : spec, data.preprocessing));
    const out = opt(a, 'out') ?? defaultOut(specPath);
    let failure: unknown = null;
    if (epochs > done) {
      try {
        const truncation = spec.train?.truncation;
        if (truncation === undefined) model.fit(data.x, data.y, { ...fit, epochs: epochs - done, callbacks });
        else {
          if (fit.validationSplit !== undefined) throw new ConfigError('train: "validationSplit" cannot be combined with "truncation" (truncated BPTT validates on validationData only)');
          fitTruncated(model, data.x, data.y, { ...fit, truncation: truncation as number, epochs: epochs - done, callbacks });
        }
      } catch (e) {
        if (!(e instanceof NumericError)) throw e;
        failure = e;
      }
    }
    saveModel(out, model, { spec: loaded ? loaded.spec : spec });
    if (reportPath) writeReport(reportPath, reportFromData(model, data.x, data.y, { history: model.history, diagnostics }));
    if (failure) {
      process.stderr.write(`the last good weights were saved to ${out}\n`);
      throw failure;
    }
    if (json) {
      process.stdout.write(toJson({ ...trainJson(model.history), model: out }));
    } else {
      process.stdout.write(`${describeTraining(model.history)}\nmodel saved to ${out}\n`);
    }
  },
};
