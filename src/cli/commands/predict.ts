import type { Command } from '../common.js';
import { commandArgs, modelAndData, toJson } from '../common.js';
import { flag, intOpt } from '../args.js';

/** `dendrite predict MODEL --data FILE`: one prediction per row or image. */
export const predict: Command = {
  summary: 'predict with a saved model: CSV rows, IDX images (the test part of a directory) or "digits"; class and probabilities for classifiers',
  usage: 'dendrite predict MODEL_DIR --data FILE.csv|DIR|digits [--json] [--limit N]',
  async run(argv) {
    const a = commandArgs(argv, ['data', 'backend', 'limit'], ['json'], 'predict');
    const limit = intOpt(a, 'limit', 'predict');
    const { model, data } = await modelAndData(a, 'predict', false);
    const out = model.predict(data.x, { batchSize: 500 });
    const cols = out.size / out.shape[0];
    const rows = Math.min(limit ?? out.shape[0], out.shape[0]);
    const levels = data.levels;
    const regression = data.preprocessor && data.preprocessor.target.type === 'regression' ? data.preprocessor.inverseTargets(out) : null;
    const results: Record<string, unknown>[] = [];
    for (let i = 0; i < rows; i++) {
      const p = Array.from(out.data.subarray(i * cols, (i + 1) * cols));
      if (model.isClassifier) {
        let best = 0;
        for (let j = 1; j < cols; j++) if (p[j] > p[best]) best = j;
        results.push({ class: levels ? levels[best] : best, probabilities: p });
      } else {
        results.push({ prediction: regression ? Array.from(regression.data.subarray(i * cols, (i + 1) * cols)) : p });
      }
    }
    if (flag(a, 'json')) {
      process.stdout.write(toJson(levels && model.isClassifier ? { classes: levels, predictions: results } : { predictions: results }));
      return;
    }
    const fmt = (v: number) => v.toFixed(4);
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      const line = 'class' in r
        ? `${i + 1}: ${String(r.class)}  (${(r.probabilities as number[]).map(fmt).join(' ')})`
        : `${i + 1}: ${(r.prediction as number[]).map((v) => v.toPrecision(6)).join(' ')}`;
      process.stdout.write(line + '\n');
    }
  },
};
