import type { Command } from '../common.js';
import { chooseBackend, modelAndData } from '../common.js';
import { flag, parseArgs } from '../args.js';
import { confusionMatrix, formatConfusionMatrix, precisionRecall } from '../../train/metrics.js';
import type { Model } from '../../train/model.js';
import type { Tensor } from '../../tensor/tensor.js';

/** Loss, accuracy and (for classifiers) the confusion matrix and per-class scores of a model on data. */
export function evaluationReport(model: Model, x: Tensor, y: Tensor, levels?: readonly string[]): {
  loss: number; accuracy?: number; confusion?: number[][]; precision?: number[]; recall?: number[]; levels?: readonly string[];
} {
  const ev = model.evaluate(x, y, { batchSize: 500 });
  if (!model.isClassifier) return { loss: ev.loss };
  const pred = model.predict(x, { batchSize: 500 });
  const cm = confusionMatrix(pred, y, y.shape[y.rank - 1]);
  const pr = precisionRecall(cm);
  return { loss: ev.loss, accuracy: ev.accuracy, confusion: cm, precision: pr.precision, recall: pr.recall, levels };
}

/** Prints an evaluation report as text. */
export function printEvaluation(r: ReturnType<typeof evaluationReport>, what: string): void {
  const lines = [`${what}: loss ${r.loss.toPrecision(6)}`];
  if (r.accuracy !== undefined) lines[0] += `, accuracy ${(100 * r.accuracy).toFixed(2)}%`;
  if (r.confusion) lines.push('', 'confusion matrix (rows: actual, columns: predicted)', formatConfusionMatrix(r.confusion, r.levels));
  process.stdout.write(lines.join('\n') + '\n');
}

/** `dendrite evaluate MODEL --data …`: loss, accuracy and the confusion matrix. */
export const evaluate: Command = {
  summary: 'loss, accuracy and confusion matrix of a saved model on data (CSV, IDX directory: its test part, or "digits")',
  usage: 'dendrite evaluate MODEL_DIR --data FILE.csv|DIR|digits [--target COL[,COL…]] [--json]',
  async run(argv) {
    const a = parseArgs(argv, ['data', 'target', 'backend'], ['json'], 'evaluate');
    chooseBackend(a);
    const { model, data } = await modelAndData(a, 'evaluate', true);
    const r = evaluationReport(model, data.x, data.y!, data.levels);
    if (flag(a, 'json')) process.stdout.write(JSON.stringify(r) + '\n');
    else printEvaluation(r, `${data.x.shape[0]} examples`);
  },
};
