import type { EpochLog, History } from '../../train/callbacks.js';
import { PALETTE, emptyPlot, esc, frame, legend, linePath, px, svgRoot } from './svg.js';
import type { PlotOptions } from './svg.js';

/** Options of {@link plotLearningCurves}. */
export interface LearningCurveOptions extends PlotOptions {
  /** `'loss'` (default: training and validation loss) or `'accuracy'`. */
  metric?: 'loss' | 'accuracy';
  /** Logarithmic y axis: true, false, or `'auto'` (default: when the values span more than 100×). */
  logScale?: boolean | 'auto';
  /** Label of the y axis (default "loss" or "accuracy"). */
  yLabel?: string;
}

/** Keeps at most ~2·buckets points, with the minimum and maximum of each bucket (spikes survive). */
function thin(xs: number[], ys: number[], buckets: number): [number, number][] {
  if (xs.length <= 2 * buckets) return xs.map((x, i) => [x, ys[i]]);
  const out: [number, number][] = [];
  const size = xs.length / buckets;
  for (let b = 0; b < buckets; b++) {
    const s = Math.floor(b * size);
    const e = Math.floor((b + 1) * size);
    let lo = s;
    let hi = s;
    for (let i = s; i < e; i++) {
      if (ys[i] < ys[lo]) lo = i;
      if (ys[i] > ys[hi]) hi = i;
    }
    for (const i of lo < hi ? [lo, hi] : [hi, lo]) out.push([xs[i], ys[i]]);
  }
  return out;
}

/**
 * Learning curves: training (and validation, when recorded) loss or accuracy per epoch, like
 * the lecture's Figures 17, 21 and 22. Long runs are thinned to the minimum and maximum per
 * bucket, so spikes stay visible. An empty history gives a plot saying so.
 * Elements: `svg.dd-learning-curves`, one `path.dd-series` per series.
 *
 * @example
 * ```ts
 * const svg = plotLearningCurves(model.history, { title: 'SSE per epoch' });
 * ```
 */
export function plotLearningCurves(history: History | readonly EpochLog[], opts: LearningCurveOptions = {}): string {
  const epochs = Array.isArray(history) ? (history as readonly EpochLog[]) : (history as History).epochs;
  const width = opts.width ?? 560;
  const height = opts.height ?? 300;
  const metric = opts.metric ?? 'loss';
  const keys: [string, string][] = metric === 'loss' ? [['loss', 'training loss'], ['valLoss', 'validation loss']] : [['accuracy', 'training accuracy'], ['valAccuracy', 'validation accuracy']];
  const series = keys
    .map(([k, name]) => ({ name, values: epochs.map((e) => (typeof e[k] === 'number' ? (e[k] as number) : NaN)) }))
    .filter((s) => s.values.some(Number.isFinite));
  const title = opts.title;
  if (!epochs.length || !series.length) return emptyPlot('learning-curves', width, height, title, epochs.length ? `no ${metric} recorded` : 'no training history (the model has not been trained)');
  const xs = epochs.map((e) => e.epoch);
  const all = series.flatMap((s) => s.values.filter(Number.isFinite));
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  const log = opts.logScale === true || ((opts.logScale ?? 'auto') === 'auto' && lo > 0 && hi / lo > 100);
  if (!log) {
    const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 1;
    lo = metric === 'loss' && lo >= 0 ? Math.max(0, lo - pad) : lo - pad;
    hi += pad;
  }
  const f = frame({
    width, height, margin: { left: 58, right: 14, top: title ? 40 : 24, bottom: 36 },
    x: [xs[0], xs[xs.length - 1]], y: [lo, hi], yLog: log, xLabel: 'epoch', yLabel: opts.yLabel ?? metric,
  });
  const paths = series.map((s, i) => {
    const pts = thin(xs, s.values, 600).map(([x, y]) => [f.sx(x), log && y <= 0 ? NaN : f.sy(y)] as [number, number]);
    const dot = xs.length === 1 ? `<circle cx="${px(pts[0][0])}" cy="${px(pts[0][1])}" r="3" fill="${PALETTE[i]}"/>` : '';
    return `<path class="dd-series dd-series-${esc(keys.find(([, n]) => n === s.name)![0])}" d="${linePath(pts)}" fill="none" stroke="${PALETTE[i]}" stroke-width="1.6"${i ? ' stroke-dasharray="5 3"' : ''}/>${dot}`;
  });
  const leg = legend(series.map((s, i) => ({ name: s.name, color: PALETTE[i], dash: i ? '5 3' : undefined })), f.left + 8, (title ? 40 : 24) - 8);
  return svgRoot('learning-curves', width, height, title, f.svg + paths.join('') + leg);
}
