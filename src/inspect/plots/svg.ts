// Shared pieces of the SVG plots: escaping, ticks, axes and the root element. Plots are pure
// functions returning SVG strings with presentation attributes inline, so they render the same
// inside the HTML report, in a browser tab on their own, or in any SVG viewer.

/** Size and title shared by every plot. */
export interface PlotOptions {
  /** Width in pixels (each plot has its own default). */
  width?: number;
  /** Height in pixels. */
  height?: number;
  /** Title drawn above the plot (and used as the SVG's accessible title). */
  title?: string;
}

/** Colours of data series, in order. @example `PALETTE[0] // '#1f77b4'` */
export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

/** Escapes text for SVG/HTML. @example `esc('a < b') // 'a &lt; b'` */
export function esc(s: unknown): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Rounds a pixel coordinate for compact output. @example `px(12.345) // '12.3'` */
export function px(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** About `n` round tick values covering [lo, hi]. @example `niceTicks(0, 1, 5) // [0, 0.2, 0.4, 0.6, 0.8, 1]` */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / Math.max(1, n);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** A short label for a tick value. @example `tickLabel(0.0001) // '1e-4'` */
export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const m = Math.abs(v);
  if (m >= 1e5 || m < 1e-3) return v.toExponential(0).replace('e+', 'e');
  return String(Number(v.toPrecision(4)));
}

/** Margins of a plot's frame. */
export interface Margin { left: number; right: number; top: number; bottom: number }

/** A frame with axes: scales from data to pixels and the SVG of the axes. */
export interface Frame {
  sx(v: number): number;
  sy(v: number): number;
  left: number;
  right: number;
  top: number;
  bottom: number;
  svg: string;
}

/** Options of {@link frame}. */
export interface FrameOptions {
  width: number;
  height: number;
  margin: Margin;
  x: [number, number];
  y: [number, number];
  xLabel?: string;
  yLabel?: string;
  /** Logarithmic y axis (values must be positive). */
  yLog?: boolean;
  /** Custom x ticks (e.g. layer names); default numeric ticks. */
  xTicks?: { value: number; label: string }[];
  /** Draw a horizontal line at y = 0. */
  zeroLine?: boolean;
}

/**
 * Axes, grid lines and labels for a plot area; returns the scales.
 * @example `const f = frame({ width: 400, height: 200, margin: { left: 50, right: 10, top: 10, bottom: 30 }, x: [0, 10], y: [0, 1] });`
 */
export function frame(o: FrameOptions): Frame {
  const left = o.margin.left;
  const right = o.width - o.margin.right;
  const top = o.margin.top;
  const bottom = o.height - o.margin.bottom;
  const [x0, x1] = o.x[0] === o.x[1] ? [o.x[0] - 1, o.x[1] + 1] : o.x;
  const ty = (v: number) => (o.yLog ? Math.log10(v) : v);
  let [y0, y1] = [ty(o.y[0]), ty(o.y[1])];
  if (y0 === y1 || !Number.isFinite(y0) || !Number.isFinite(y1)) {
    const c = Number.isFinite(y0) ? y0 : 0;
    const d = Math.abs(c) > 0 ? Math.abs(c) * 0.5 : 1;
    [y0, y1] = [c - d, c + d];
  }
  const sx = (v: number) => left + ((v - x0) / (x1 - x0)) * (right - left);
  const sy = (v: number) => bottom - ((ty(v) - y0) / (y1 - y0)) * (bottom - top);
  const parts: string[] = [];
  const yt = o.yLog
    ? Array.from({ length: Math.floor(y1) - Math.ceil(y0) + 1 }, (_, i) => 10 ** (Math.ceil(y0) + i))
    : niceTicks(y0, y1, 5);
  for (const v of yt) {
    const y = sy(v);
    parts.push(`<line class="dd-grid" x1="${px(left)}" x2="${px(right)}" y1="${px(y)}" y2="${px(y)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${px(left - 6)}" y="${px(y + 3.5)}" text-anchor="end" font-size="10" fill="#555">${esc(tickLabel(v))}</text>`);
  }
  const xt = o.xTicks ?? niceTicks(x0, x1, 6).map((v) => ({ value: v, label: tickLabel(v) }));
  for (const t of xt) {
    const x = sx(t.value);
    parts.push(`<line x1="${px(x)}" x2="${px(x)}" y1="${px(bottom)}" y2="${px(bottom + 4)}" stroke="#888"/>`);
    parts.push(`<text x="${px(x)}" y="${px(bottom + 15)}" text-anchor="middle" font-size="10" fill="#555">${esc(t.label)}</text>`);
  }
  if (o.zeroLine && !o.yLog && y0 < 0 && y1 > 0) parts.push(`<line x1="${px(left)}" x2="${px(right)}" y1="${px(sy(0))}" y2="${px(sy(0))}" stroke="#999" stroke-dasharray="3 3"/>`);
  parts.push(`<rect class="dd-axes" x="${px(left)}" y="${px(top)}" width="${px(right - left)}" height="${px(bottom - top)}" fill="none" stroke="#888"/>`);
  if (o.xLabel) parts.push(`<text x="${px((left + right) / 2)}" y="${px(o.height - 6)}" text-anchor="middle" font-size="11" fill="#333">${esc(o.xLabel)}</text>`);
  if (o.yLabel) parts.push(`<text transform="translate(13 ${px((top + bottom) / 2)}) rotate(-90)" text-anchor="middle" font-size="11" fill="#333">${esc(o.yLabel)}</text>`);
  return { sx, sy, left, right, top, bottom, svg: parts.join('') };
}

/**
 * The root `<svg>` element of a plot: class `dd-plot dd-<kind>`, a viewBox, an accessible title
 * and the title text drawn at the top.
 * @example `svgRoot('boxplot', 300, 200, 'z by layer', body)`
 */
export function svgRoot(kind: string, plotWidth: number, height: number, title: string | undefined, body: string): string {
  // widen narrow plots (a small filter grid) so their title is not cut off
  const width = Math.ceil(Math.max(plotWidth, title ? title.length * 7.4 + 16 : 0));
  const t = title ? `<title>${esc(title)}</title><text class="dd-title" x="${px(width / 2)}" y="16" text-anchor="middle" font-size="13" font-weight="600" fill="#222">${esc(title)}</text>` : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" class="dd-plot dd-${kind}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" ${FONT}>${t}${body}</svg>`;
}

/** A legend: coloured line samples with names, laid out in a row from (x, y). @example `legend([{ name: 'loss', color: PALETTE[0] }], 60, 30)` */
export function legend(items: { name: string; color: string; dash?: string }[], x: number, y: number): string {
  let cx = x;
  return items.map((it) => {
    const s = `<g class="dd-legend-item"><line x1="${px(cx)}" x2="${px(cx + 18)}" y1="${px(y)}" y2="${px(y)}" stroke="${it.color}" stroke-width="2"${it.dash ? ` stroke-dasharray="${it.dash}"` : ''}/><text x="${px(cx + 22)}" y="${px(y + 3.5)}" font-size="10.5" fill="#333">${esc(it.name)}</text></g>`;
    cx += 30 + it.name.length * 6;
    return s;
  }).join('');
}

/** An SVG path through points, skipping non-finite values (gaps). @example `linePath([[0, 0], [10, 5]]) // 'M0 0L10 5'` */
export function linePath(points: [number, number][]): string {
  let d = '';
  let pen = false;
  for (const [x, y] of points) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${px(x)} ${px(y)}`;
    pen = true;
  }
  return d;
}

/** A plot area with a message instead of data (class `dd-empty`). @example `emptyPlot('boxplot', 300, 200, 'z', 'no values')` */
export function emptyPlot(kind: string, width: number, height: number, title: string | undefined, message: string): string {
  return svgRoot(kind, width, height, title, `<text class="dd-empty" x="${px(width / 2)}" y="${px(height / 2)}" text-anchor="middle" font-size="12" fill="#777">${esc(message)}</text>`);
}
