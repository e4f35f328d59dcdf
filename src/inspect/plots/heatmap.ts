import { ShapeError, fmtShape } from '../../errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { esc, px, svgRoot } from './svg.js';
import type { PlotOptions } from './svg.js';

/** Grey level of v in [lo, hi]: black for lo, white for hi. */
function grey(v: number, lo: number, hi: number): string {
  const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
  const g = Math.round(255 * Math.min(1, Math.max(0, t)));
  const h = g.toString(16).padStart(2, '0');
  return `#${h}${h}${h}`;
}

function range(data: ArrayLike<number>, off: number, n: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = off; i < off + n; i++) {
    if (data[i] < lo) lo = data[i];
    if (data[i] > hi) hi = data[i];
  }
  return [lo, hi];
}

/** The cells of one grey-scale map at (x, y): a `<g class="${cls}">` of `rect.dd-cell`. */
function cells(data: ArrayLike<number>, off: number, rows: number, cols: number, x: number, y: number, size: number, lo: number, hi: number, cls: string, tip: string): string {
  let s = `<g class="${cls}"><title>${esc(tip)}</title>`;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = data[off + r * cols + c];
      s += `<rect class="dd-cell" x="${px(x + c * size)}" y="${px(y + r * size)}" width="${px(size)}" height="${px(size)}" fill="${grey(v, lo, hi)}"/>`;
    }
  }
  return `${s}<rect x="${px(x)}" y="${px(y)}" width="${px(cols * size)}" height="${px(rows * size)}" fill="none" stroke="#999" stroke-width="0.5"/></g>`;
}

/** Options of the grey-scale map plots. */
export interface HeatmapOptions extends PlotOptions {
  /** Pixel size of one cell (default: fits the maps into about 96 px each). */
  cell?: number;
  /** Fixed value range (default: each map's own minimum and maximum). */
  range?: [number, number];
  /** Label under each map. */
  labels?: string[];
}

/** Lays maps out in a grid with labels; `maps` are [rows, cols] slices of one buffer. */
function grid(kind: string, cls: string, data: ArrayLike<number>, count: number, rows: number, cols: number, perRow: number, opts: HeatmapOptions, label: (i: number) => string): string {
  const size = opts.cell ?? Math.max(2, Math.min(24, Math.floor(96 / Math.max(rows, cols))));
  const w = cols * size;
  const h = rows * size;
  const gap = 14;
  const top = opts.title ? 28 : 6;
  const n = Math.max(1, Math.min(perRow, count));
  const width = opts.width ?? Math.max(160, n * (w + gap) + gap);
  const lines = Math.ceil(count / n);
  const height = opts.height ?? top + lines * (h + gap + 14) + 4;
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const x = gap + (i % n) * (w + gap);
    const y = top + Math.floor(i / n) * (h + gap + 14);
    const off = i * rows * cols;
    const [lo, hi] = opts.range ?? range(data, off, rows * cols);
    const name = opts.labels?.[i] ?? label(i);
    parts.push(cells(data, off, rows, cols, x, y, size, lo, hi, cls, `${name}: min ${lo.toPrecision(4)}, max ${hi.toPrecision(4)} (black = min, white = max)`));
    parts.push(`<text x="${px(x + w / 2)}" y="${px(y + h + 11)}" text-anchor="middle" font-size="9.5" fill="#444">${esc(name)}</text>`);
  }
  return svgRoot(kind, width, height, opts.title, parts.join(''));
}

/**
 * One grey-scale heatmap of a [rows, cols] array (black = minimum, white = maximum).
 * Elements: `svg.dd-heatmap`, `g.dd-map`, `rect.dd-cell`.
 *
 * @example
 * ```ts
 * plotHeatmap([[0, 255, 0], [0, 255, 0]], { title: 'image' });
 * ```
 */
export function plotHeatmap(values: readonly (readonly number[])[], opts: HeatmapOptions = {}): string {
  const rows = values.length;
  const cols = rows ? values[0].length : 0;
  if (!rows || !cols || values.some((r) => r.length !== cols)) throw new ShapeError(`plotHeatmap needs a non-empty rectangular [rows, cols] array, received ${rows} rows`);
  return grid('heatmap', 'dd-map', values.flat(), 1, rows, cols, 1, { cell: Math.max(2, Math.floor(240 / Math.max(rows, cols))), ...opts }, () => `${rows}×${cols}`);
}

/**
 * Learned convolution filters as grey-scale maps: one row per filter, one map per input channel
 * (weight layout `[filters, channels, height, width]`). Elements: `svg.dd-filters`,
 * `g.dd-filter`, `rect.dd-cell`.
 *
 * @example
 * ```ts
 * plotFilters(conv.ownParameters().get('weight')!, { title: 'conv_1 filters' });
 * ```
 */
export function plotFilters(weight: Tensor, opts: HeatmapOptions = {}): string {
  if (weight.rank !== 4) throw new ShapeError(`plotFilters expects filters [filters, channels, height, width], received ${fmtShape(weight.shape)}`);
  const [f, c, h, w] = weight.shape;
  return grid('filters', 'dd-filter', weight.data, f * c, h, w, c === 1 ? Math.min(8, f) : c, { cell: Math.max(4, Math.floor(48 / Math.max(h, w))), ...opts },
    (i) => (c === 1 ? `filter ${i}` : `f${Math.floor(i / c)} ch${i % c}`));
}

/**
 * Feature maps of one input (the activations of a convolutional layer, the lecture's Figure 37)
 * as grey-scale maps, one per channel. Accepts `[channels, height, width]` or `[1, channels,
 * height, width]`. Elements: `svg.dd-feature-maps`, `g.dd-feature-map`, `rect.dd-cell`.
 *
 * @example
 * ```ts
 * plotFeatureMaps(layer.record!.a, { title: 'conv_1 feature maps' });
 * ```
 */
export function plotFeatureMaps(maps: Tensor, opts: HeatmapOptions = {}): string {
  const s = maps.rank === 4 && maps.shape[0] === 1 ? maps.shape.slice(1) : maps.shape;
  if (s.length !== 3) throw new ShapeError(`plotFeatureMaps expects [channels, height, width] or [1, channels, height, width], received ${fmtShape(maps.shape)}`);
  const [c, h, w] = s;
  return grid('feature-maps', 'dd-feature-map', maps.data, c, h, w, 8, opts, (i) => `channel ${i}`);
}
