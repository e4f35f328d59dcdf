import type { Command } from '../common.js';
import { applyWeightsFile, commandArgs, specOrModel, toJson } from '../common.js';
import { flag, opt } from '../args.js';
import { loadTrainingData } from '../dataset.js';
import { ConfigError } from '../../errors.js';
import { formatDynamics, inspectModel } from '../../inspect/dynamics.js';
import { checkReportPath, reportFromData, writeReport } from '../../inspect/report.js';
import type { ReportDiagnostics } from '../../inspect/report.js';

/** `dendrite inspect`: layer dynamics of one training iteration (Figures 24–27). */
export const inspect: Command = {
  summary: 'layer dynamics of one training iteration: weights, z, a and δ per layer (mean, variance, percentiles) next to eq 64\'s predicted var(z)',
  usage: 'dendrite inspect SPEC.json|MODEL_DIR --data FILE.csv|DIR|digits [--target COL[,COL…]] [--weights W.json] [--json] [--html OUT.html]',
  async run(argv) {
    const a = commandArgs(argv, ['data', 'target', 'weights', 'html', 'backend'], ['json'], 'inspect');
    const path = a.positional[0];
    if (!path) throw new ConfigError('inspect: give a spec file or a model directory');
    const data = opt(a, 'data');
    if (!data) throw new ConfigError('inspect needs data: --data FILE.csv (with --target COL) or an IDX directory; the dynamics are measured on real examples');
    if (opt(a, 'html') !== undefined) checkReportPath(opt(a, 'html')!);
    const { model, spec, preprocessing } = specOrModel(path);
    if (opt(a, 'weights')) applyWeightsFile(model, opt(a, 'weights')!);
    const d = await loadTrainingData(data, spec, opt(a, 'target'), preprocessing, model.net.outputShape);
    const html = opt(a, 'html');
    const report = inspectModel(model, d.x, d.y);
    if (html) {
      const input = reportFromData(model, d.x, d.y, { history: model.history });
      writeReport(html, { ...input, dynamics: report });
    }
    if (flag(a, 'json')) process.stdout.write(toJson(report));
    else process.stdout.write(formatDynamics(report) + (html ? `\nreport written to ${html}\n` : '\n'));
  },
};

/** `dendrite report MODEL`: the self-contained HTML report of a saved model. */
export const report: Command = {
  summary: 'write a self-contained HTML report of a saved model: summary, history, diagnostics, layer dynamics and (CNNs) filters and feature maps',
  usage: 'dendrite report MODEL_DIR [--out OUT.html] [--data FILE.csv|DIR|digits [--target COL…]]',
  async run(argv) {
    const a = commandArgs(argv, ['out', 'data', 'target', 'backend'], [], 'report');
    const path = a.positional[0];
    if (!path) throw new ConfigError('report: give a model directory');
    const { model, spec, preprocessing } = specOrModel(path);
    const out = opt(a, 'out') ?? 'report.html';
    const data = opt(a, 'data');
    const diagnostics = lastDiagnostics(model.history.epochs);
    if (data) {
      const d = await loadTrainingData(data, spec, opt(a, 'target'), preprocessing, model.net.outputShape);
      const input = reportFromData(model, d.x, d.y, { history: model.history, diagnostics });
      writeReport(out, input);
    } else {
      writeReport(out, { model, history: model.history, diagnostics });
    }
    process.stdout.write(`report written to ${out}\n`);
  },
};

/** The diagnostics record of the last epoch that has one (TrainingDiagnostics adds them). */
export function lastDiagnostics(epochs: readonly Record<string, unknown>[]): ReportDiagnostics | null {
  for (let i = epochs.length - 1; i >= 0; i--) {
    const d = epochs[i].diagnostics;
    if (d) return d as ReportDiagnostics;
  }
  return null;
}
