import type { Command } from '../common.js';
import { commandArgs, modelAndData, toJson } from '../common.js';
import { flag } from '../args.js';
import { confusionMatrix, formatConfusionMatrix, precisionRecall } from '../../train/metrics.js';
import type { Model } from '../../train/model.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Preprocessor } from '../../data/preprocess.js';

/** Regression errors of one target column, in that column's own units. */
export interface RegressionScores {
  column: string;
  /** Root mean squared error. */
  rmse: number;
  /** Mean absolute error. */
  mae: number;
  /** Coefficient of determination 1 − SS_res / SS_tot (1 is perfect, 0 is predicting the mean). */
  r2: number;
}

/** RMSE, MAE and R² per output column of predictions and targets [N, K] (float64 sums). */
export function regressionScores(pred: Tensor, target: Tensor, columns: readonly string[]): RegressionScores[] {
  const n = target.shape[0];
  const k = target.size / Math.max(1, n);
  return Array.from({ length: k }, (_, j) => {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += target.data[i * k + j];
    mean /= n;
    let se = 0;
    let ae = 0;
    let tot = 0;
    for (let i = 0; i < n; i++) {
      const t = target.data[i * k + j];
      const d = pred.data[i * k + j] - t;
      se += d * d;
      ae += Math.abs(d);
      tot += (t - mean) * (t - mean);
    }
    return { column: columns[j] ?? `output ${j + 1}`, rmse: Math.sqrt(se / n), mae: ae / n, r2: tot > 0 ? 1 - se / tot : Number.NaN };
  });
}

/**
 * Loss, accuracy and (for classifiers) the confusion matrix and per-class scores of a model on
 * data; for regressions with a fitted preparation, RMSE, MAE and R² in the targets' own units.
 */
export function evaluationReport(model: Model, x: Tensor, y: Tensor, levels?: readonly string[], pre?: Preprocessor): {
  loss: number; accuracy?: number; confusion?: number[][]; precision?: number[]; recall?: number[]; levels?: readonly string[];
  regression?: RegressionScores[];
} {
  const ev = model.evaluate(x, y, { batchSize: 500 });
  if (!model.isClassifier) {
    if (!pre || pre.target.type !== 'regression') return { loss: ev.loss };
    const pred = pre.inverseTargets(model.predict(x, { batchSize: 500 }));
    return { loss: ev.loss, regression: regressionScores(pred, pre.inverseTargets(y), pre.targetColumns) };
  }
  const pred = model.predict(x, { batchSize: 500 });
  const cm = confusionMatrix(pred, y, y.shape[y.rank - 1]);
  const pr = precisionRecall(cm);
  return { loss: ev.loss, accuracy: ev.accuracy, confusion: cm, precision: pr.precision, recall: pr.recall, levels };
}

/** Prints an evaluation report as text. */
export function printEvaluation(r: ReturnType<typeof evaluationReport>, what: string): void {
  const lines = [`${what}: loss ${r.loss.toPrecision(6)}`];
  if (r.accuracy !== undefined) lines[0] += `, accuracy ${(100 * r.accuracy).toFixed(2)}%`;
  for (const g of r.regression ?? []) lines.push(`${g.column}: RMSE ${g.rmse.toPrecision(6)}, MAE ${g.mae.toPrecision(6)}, R² ${g.r2.toFixed(4)} (in ${g.column}'s own units)`);
  if (r.confusion) lines.push('', 'confusion matrix (rows: actual, columns: predicted)', formatConfusionMatrix(r.confusion, r.levels));
  process.stdout.write(lines.join('\n') + '\n');
}

/** `dendrite evaluate MODEL --data …`: loss, accuracy and the confusion matrix. */
export const evaluate: Command = {
  summary: 'loss and accuracy with the confusion matrix (classifiers) or RMSE, MAE and R² in the target\'s units (regressions) of a saved model on data (CSV, IDX directory: its test part, or "digits")',
  usage: 'dendrite evaluate MODEL_DIR --data FILE.csv|DIR|digits [--target COL[,COL…]] [--json]',
  async run(argv) {
    const a = commandArgs(argv, ['data', 'target', 'backend'], ['json'], 'evaluate');
    const { model, data } = await modelAndData(a, 'evaluate', true);
    const r = evaluationReport(model, data.x, data.y!, data.levels, data.preprocessor);
    if (flag(a, 'json')) process.stdout.write(toJson(r));
    else printEvaluation(r, `${data.x.shape[0]} examples`);
  },
};
