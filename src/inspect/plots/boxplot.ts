import type { Stats } from '../stats.js';
import type { DynamicsReport } from '../dynamics.js';
import { PALETTE, emptyPlot, esc, frame, px, svgRoot } from './svg.js';
import type { PlotOptions } from './svg.js';

/** One box of a box plot. */
export interface BoxGroup {
  label: string;
  /** Distribution (null: no values, drawn as an empty slot). */
  stats: Stats | null;
}

/** Options of {@link plotBoxes}. */
export interface BoxPlotOptions extends PlotOptions {
  yLabel?: string;
  xLabel?: string;
  /** Fill colour of the boxes. */
  color?: string;
}

/**
 * Box plots of several distributions side by side: box from the 25th to the 75th percentile,
 * median line, whiskers from the 5th to the 95th percentile, and the minimum and maximum as
 * dots where they fit the axis (which spans the whiskers; every box's tooltip has its numbers). Elements: `svg.dd-boxplot`, `rect.dd-box`, `line.dd-median`, `line.dd-whisker`,
 * `circle.dd-extreme`.
 *
 * @example
 * ```ts
 * plotBoxes([{ label: 'hl1', stats: summarize(z1) }, { label: 'hl2', stats: summarize(z2) }], { title: 'z by layer' });
 * ```
 */
export function plotBoxes(groups: readonly BoxGroup[], opts: BoxPlotOptions = {}): string {
  const width = opts.width ?? Math.max(260, 70 + groups.length * 56);
  const height = opts.height ?? 260;
  const title = opts.title;
  const present = groups.filter((g) => g.stats && g.stats.count > 0);
  if (!present.length) return emptyPlot('boxplot', width, height, title, 'no values');
  // the axis covers the whiskers (5th–95th percentiles) with some room; extremes beyond it are
  // left out of the drawing (they are in each box's tooltip), as a single outlier would
  // otherwise flatten every box
  const lo = Math.min(...present.map((g) => g.stats!.p5));
  const hi = Math.max(...present.map((g) => g.stats!.p95));
  const pad = (hi - lo) * 0.15 || Math.abs(hi) * 0.15 || 1;
  const f = frame({
    width, height, margin: { left: 62, right: 12, top: title ? 30 : 12, bottom: 36 },
    x: [0, groups.length], y: [lo - pad, hi + pad], xLabel: opts.xLabel, yLabel: opts.yLabel, zeroLine: true,
    xTicks: groups.map((g, i) => ({ value: i + 0.5, label: g.label })),
  });
  const color = opts.color ?? PALETTE[0];
  const bw = Math.min(34, ((f.right - f.left) / groups.length) * 0.55);
  const boxes = groups.map((g, i) => {
    const s = g.stats;
    if (!s || s.count === 0) return '';
    const cx = f.sx(i + 0.5);
    const [x0, x1] = [cx - bw / 2, cx + bw / 2];
    const tip = `${g.label}: mean ${s.mean.toPrecision(4)}, var ${s.var.toPrecision(4)}, min ${s.min.toPrecision(4)}, p5 ${s.p5.toPrecision(4)}, median ${s.p50.toPrecision(4)}, p95 ${s.p95.toPrecision(4)}, max ${s.max.toPrecision(4)}`;
    const boxTop = f.sy(s.p75);
    const boxH = Math.max(0.8, f.sy(s.p25) - boxTop);
    return `<g class="dd-box-group"><title>${esc(tip)}</title>`
      + `<line class="dd-whisker" x1="${px(cx)}" x2="${px(cx)}" y1="${px(f.sy(s.p95))}" y2="${px(f.sy(s.p5))}" stroke="#444"/>`
      + `<line x1="${px(cx - bw / 4)}" x2="${px(cx + bw / 4)}" y1="${px(f.sy(s.p95))}" y2="${px(f.sy(s.p95))}" stroke="#444"/>`
      + `<line x1="${px(cx - bw / 4)}" x2="${px(cx + bw / 4)}" y1="${px(f.sy(s.p5))}" y2="${px(f.sy(s.p5))}" stroke="#444"/>`
      + `<rect class="dd-box" x="${px(x0)}" y="${px(boxTop)}" width="${px(x1 - x0)}" height="${px(boxH)}" fill="${color}" fill-opacity="0.35" stroke="${color}"/>`
      + `<line class="dd-median" x1="${px(x0)}" x2="${px(x1)}" y1="${px(f.sy(s.p50))}" y2="${px(f.sy(s.p50))}" stroke="#111" stroke-width="2"/>`
      + [s.min, s.max].filter((v) => v >= lo - pad && v <= hi + pad).map((v) => `<circle class="dd-extreme" cx="${px(cx)}" cy="${px(f.sy(v))}" r="1.8" fill="#666"/>`).join('')
      + '</g>';
  });
  return svgRoot('boxplot', width, height, title, f.svg + boxes.join(''));
}

/** The quantities of a layer-dynamics report that can be plotted. */
export type DynamicsQuantity = 'weight' | 'z' | 'a' | 'delta';

const QUANTITY: Record<DynamicsQuantity, [string, string]> = {
  weight: ['Weights by layer', 'weight'],
  z: ['Weighted sums (z) by layer', 'z'],
  a: ['Activations by layer', 'a'],
  delta: ['δs by layer', 'δ'],
};

/**
 * One panel of the lecture's Figures 24–27: box plots by layer of the weights, z, activations or
 * δs of a {@link DynamicsReport}.
 *
 * @example
 * ```ts
 * const svg = plotLayerDynamics(inspectModel(model, x, y), 'delta');
 * ```
 */
export function plotLayerDynamics(report: DynamicsReport, quantity: DynamicsQuantity, opts: BoxPlotOptions = {}): string {
  const [title, label] = QUANTITY[quantity];
  const colors: Record<DynamicsQuantity, string> = { weight: PALETTE[4], z: PALETTE[0], a: PALETTE[2], delta: PALETTE[1] };
  return plotBoxes(report.layers.map((l) => ({ label: l.name, stats: l[quantity] })), { title, yLabel: label, color: colors[quantity], ...opts });
}
