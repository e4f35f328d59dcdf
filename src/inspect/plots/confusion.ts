import { ShapeError } from '../../errors.js';
import { esc, px, svgRoot } from './svg.js';
import type { PlotOptions } from './svg.js';

/** Options of {@link plotConfusionMatrix}. */
export interface ConfusionPlotOptions extends PlotOptions {
  /** Class names (default 0, 1, …). */
  labels?: readonly string[];
}

/**
 * A confusion matrix: rows are the actual classes, columns the predicted ones, each cell
 * shaded by its share of the row (recall) and labelled with its count.
 * Elements: `svg.dd-confusion`, `rect.dd-cm-cell`.
 *
 * @example
 * ```ts
 * plotConfusionMatrix([[50, 2], [3, 45]], { labels: ['low', 'high'] });
 * ```
 */
export function plotConfusionMatrix(matrix: readonly (readonly number[])[], opts: ConfusionPlotOptions = {}): string {
  const k = matrix.length;
  if (!k || matrix.some((r) => r.length !== k)) throw new ShapeError(`plotConfusionMatrix needs a square [classes, classes] matrix, received ${k} rows of lengths ${matrix.map((r) => r.length).join(', ')}`);
  const labels = opts.labels ?? matrix.map((_, i) => String(i));
  const cell = Math.max(22, Math.min(48, Math.floor(420 / k)));
  const left = 70;
  const top = opts.title ? 56 : 36;
  const width = opts.width ?? left + k * cell + 20;
  const height = opts.height ?? top + k * cell + 30;
  const parts: string[] = [];
  for (let r = 0; r < k; r++) {
    const total = matrix[r].reduce((s, v) => s + v, 0);
    for (let c = 0; c < k; c++) {
      const v = matrix[r][c];
      const share = total ? v / total : 0;
      const fill = r === c ? `rgba(31,119,180,${(0.1 + 0.9 * share).toFixed(3)})` : `rgba(214,39,40,${(share === 0 ? 0 : 0.1 + 0.9 * share).toFixed(3)})`;
      const x = left + c * cell;
      const y = top + r * cell;
      parts.push(`<rect class="dd-cm-cell" x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#ccc"><title>${esc(`actual ${labels[r]}, predicted ${labels[c]}: ${v} (${(100 * share).toFixed(1)}% of the row)`)}</title></rect>`);
      parts.push(`<text x="${px(x + cell / 2)}" y="${px(y + cell / 2 + 4)}" text-anchor="middle" font-size="${cell < 30 ? 9 : 11}" fill="${share > 0.6 ? '#fff' : '#222'}">${v}</text>`);
    }
    parts.push(`<text x="${left - 6}" y="${px(top + r * cell + cell / 2 + 4)}" text-anchor="end" font-size="10" fill="#444">${esc(labels[r])}</text>`);
  }
  for (let c = 0; c < k; c++) parts.push(`<text x="${px(left + c * cell + cell / 2)}" y="${top - 6}" text-anchor="middle" font-size="10" fill="#444">${esc(labels[c])}</text>`);
  parts.push(`<text x="${px(left + (k * cell) / 2)}" y="${top - 20}" text-anchor="middle" font-size="11" fill="#333">predicted</text>`);
  parts.push(`<text transform="translate(14 ${px(top + (k * cell) / 2)}) rotate(-90)" text-anchor="middle" font-size="11" fill="#333">actual</text>`);
  return svgRoot('confusion', width, height, opts.title, parts.join(''));
}
