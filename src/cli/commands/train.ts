import type { Command } from '../common.js';
import { basename, join, resolve } from 'node:path';
import { applyWeightsFile, commandArgs, defaultOut, readSpec, toJson, trainJson } from '../common.js';
import { checkWritableDir, checkWritableFile, freshSibling } from '../files.js';
import { DivergenceWatch } from '../divergence.js';
import { flag, intOpt, opt } from '../args.js';
import { loadTrainingData } from '../dataset.js';
import { ConfigError, NumericError } from '../../errors.js';
import { buildModel, checkSpecMatchesModel } from '../../io/spec.js';
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
  summary: 'train a model spec on data (CSV with --target, or an IDX directory), save it to --out (only if the run succeeds; a failed run saves its last good weights to <out>.last-good); --resume DIR continues a checkpoint (with its own spec, or an identical SPEC.json); a loss growing over 1000x warns on stderr, --fail-on-divergence makes that an error',
  usage: 'dendrite train [SPEC.json] --data FILE.csv|DIR [--target COL[,COL…]] [--weights W.json] [--out DIR] [--epochs N] [--json] [--quiet] [--checkpoint DIR] [--resume DIR] [--report OUT.html] [--fail-on-divergence]',
  async run(argv) {
    const a = commandArgs(argv, ['data', 'target', 'weights', 'out', 'epochs', 'checkpoint', 'resume', 'report', 'backend'], ['json', 'quiet', 'fail-on-divergence'], 'train');
    const specPath = a.positional[0];
    const resume = opt(a, 'resume');
    if (!specPath && !resume) throw new ConfigError('train: give a spec file: dendrite train SPEC.json --data FILE (or --resume CHECKPOINT_DIR)');
    const dataPath = opt(a, 'data');
    if (!dataPath) throw new ConfigError('train: --data FILE.csv (or an IDX directory) is required');
    const loaded = resume ? loadModel(resume) : null;
    const spec = specPath ? readSpec(specPath, { inputOptional: true }) : loaded!.spec;
    if (loaded && specPath) {
      // the checkpoint stores the spec its model describes itself as: compare models, not texts
      try {
        checkSpecMatchesModel(spec, loaded.model, specPath);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        throw new ConfigError(
          `train: ${specPath} is not the spec of the checkpoint ${resume} (${e.message}); resume without SPEC.json to continue with the checkpoint's own spec, or start a new run without --resume. Nothing was written.`,
        );
      }
    }
    // every output is proved writable before any work is done
    const out = opt(a, 'out') ?? (specPath ? defaultOut(specPath) : join('models', basename(resolve(resume!))));
    const ckpt = opt(a, 'checkpoint') ?? resume;
    const reportPath = opt(a, 'report');
    if (reportPath !== undefined) {
      checkReportPath(reportPath);
      checkWritableFile(reportPath, '--report');
    }
    checkWritableDir(out, '--out');
    if (ckpt) checkWritableDir(ckpt, ckpt === resume ? '--resume' : '--checkpoint');
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
    // divergence is reported even with --json or --quiet: it decides whether the model is any use
    const divergence = new DivergenceWatch({ fail: flag(a, 'fail-on-divergence'), warn: (m) => process.stderr.write(m + '\n') });
    callbacks.push(divergence);
    // a resumed model keeps its checkpoint's spec (the given one was checked to describe it)
    const savedSpec = loaded ? loaded.spec : spec;
    if (ckpt) callbacks.push(checkpointCallback(ckpt, model, savedSpec, data.preprocessing));
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
    failure ??= divergence.error;
    if (reportPath) writeReport(reportPath, reportFromData(model, data.x, data.y, { history: model.history, diagnostics }));
    if (failure) {
      // a failed run never replaces the model at --out: its last good weights go to a new place
      const keep = freshSibling(out, 'last-good');
      saveModel(keep, model, { spec: savedSpec });
      process.stderr.write(`the last good weights were saved to ${keep}; ${out} was left as it was\n`);
      throw failure;
    }
    saveModel(out, model, { spec: savedSpec });
    if (json) {
      process.stdout.write(toJson({ ...trainJson(model.history), model: out }));
    } else {
      process.stdout.write(`${describeTraining(model.history)}\nmodel saved to ${out}\n`);
    }
  },
};
