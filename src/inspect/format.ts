import type { NestedArray } from '../tensor/tensor.js';
import type { LayerTrace, TraceResult } from './trace.js';

/**
 * Formats a number for tables: fixed `digits` decimals for ordinary magnitudes, exponent notation
 * for very small or very large ones (so vanishing δs do not print as 0.000000).
 *
 * @example
 * ```ts
 * fmtNum(-0.0042); // "-0.004200"
 * fmtNum(2e-9);    // "2.000e-9"
 * ```
 */
export function fmtNum(v: number, digits = 6): string {
  if (v === null || v === undefined) return '';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Inf' : '-Inf';
  if (v === 0) return (0).toFixed(digits);
  const m = Math.abs(v);
  if (m >= 10 ** -Math.min(digits - 2, 4) && m < 1e7) return v.toFixed(digits);
  return v.toExponential(3);
}

/**
 * Aligns rows of cells into a plain-text table (numbers right-aligned, text left-aligned).
 *
 * @example
 * ```ts
 * console.log(textTable(['neuron', 'z'], [['3', '-0.004200']]));
 * ```
 */
export function textTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? '')].length)));
  const numeric = head.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+]?(\d|Inf|NaN)/.test(r[i] ?? '') || (r[i] ?? '') === ''));
  const pad = (s: string, i: number) => {
    const fill = ' '.repeat(Math.max(0, w[i] - [...s].length));
    return numeric[i] ? fill + s : s + fill;
  };
  return all.map((r) => head.map((_, i) => pad(r[i] ?? '', i)).join('  ').trimEnd()).join('\n');
}

/**
 * Flattens nested arrays (as in a {@link TraceResult}) into values and a shape.
 *
 * @example
 * ```ts
 * nestedToFlat([[1, 2], [3, 4]]); // { data: [1, 2, 3, 4], shape: [2, 2] }
 * ```
 */
export function nestedToFlat(v: NestedArray): { data: number[]; shape: number[] } {
  const shape: number[] = [];
  let cur: NestedArray = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = (cur as NestedArray[])[0];
  }
  const data: number[] = [];
  const rec = (x: NestedArray): void => {
    if (Array.isArray(x)) for (const e of x) rec(e);
    else data.push(x as number);
  };
  rec(v);
  return { data, shape };
}

/** Multi-index of flat offset `i` in `shape`. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

/** Whether the lecture's global neuron numbering (inputs 1…n, then every layer in order) applies. */
function lectureNumbering(t: TraceResult): number[] | null {
  if (!t.layers.every((l) => l.type === 'dense' && l.z !== null)) return null;
  const xs = nestedToFlat(t.x).shape;
  if (xs.length !== 2) return null;
  const first: number[] = [];
  let next = xs[1] + 1;
  for (const l of t.layers) {
    first.push(next);
    next += nestedToFlat(l.a).shape[1];
  }
  return first;
}

/**
 * Formats a {@link TraceResult} as aligned text tables in the style of the lecture's Tables 5
 * and 6: per layer one row per example and neuron with z, a, ∂a/∂z (elementwise activations)
 * and δ = ∂E/∂z; then per parameter the gradient ∂E/∂w summed over the rows (with δ_i and a_k
 * when a single example is traced). Dense networks use the lecture's neuron numbers (inputs
 * 1…n, then the neurons in order; index 0 is the bias).
 *
 * @example
 * ```ts
 * console.log(formatTrace(traceModel(model, x, y)));
 * ```
 */
export function formatTrace(t: TraceResult, opts: { digits?: number } = {}): string {
  const digits = opts.digits ?? 6;
  const f = (v: number) => fmtNum(v, digits);
  const numbers = lectureNumbering(t);
  const n = t.examples;
  const out: string[] = [`loss (${t.lossName}, ${t.reduction} over ${n} example${n === 1 ? '' : 's'}): ${f(t.loss)}`];
  t.layers.forEach((l, li) => {
    out.push('', layerTable(l, li, numbers, f));
    const g = gradTable(t, l, li, numbers, f);
    if (g) out.push('', g);
    for (const [k, v] of Object.entries(l.extra ?? {})) out.push('', extraTable(l.name, k, v, f));
  });
  return out.join('\n');
}

function layerTable(l: LayerTrace, li: number, numbers: number[] | null, f: (v: number) => string): string {
  const a = nestedToFlat(l.a);
  const z = l.z ? nestedToFlat(l.z) : null;
  const title = `layer ${l.name} (${l.type}${l.activation ? `, ${l.activation}` : ''})`;
  if (z && z.data.length !== a.data.length) {
    // e.g. a recurrent layer returning only its last step: z and δ per step, a separately
    const cols: Column[] = [['z', z.data], ...(l.delta ? [['δ', nestedToFlat(l.delta).data] as Column] : [])];
    return `${title}: z${l.delta ? ', δ = ∂E/∂z' : ''} ${JSON.stringify(z.shape)}\n${unitRows(z.shape, cols, null, 0, f)}\n\n${title}: a ${JSON.stringify(a.shape)}\n${unitRows(a.shape, [['a', a.data]], null, 0, f)}`;
  }
  const cols: Column[] = [];
  if (z) cols.push(['z', z.data]);
  cols.push(['a', a.data]);
  if (l.dadz) cols.push(['∂a/∂z', nestedToFlat(l.dadz).data]);
  if (l.delta) cols.push(['δ', nestedToFlat(l.delta).data]);
  const what = cols.map(([h]) => (h === 'δ' ? 'δ = ∂E/∂z' : h)).join(', ');
  return `${title}: ${what}\n${unitRows(a.shape, cols, numbers, numbers ? numbers[li] : 0, f)}`;
}

type Column = [string, ArrayLike<number>];

/** One row per example and unit with the given columns; units numbered globally when `numbers`. */
function unitRows(shape: readonly number[], cols: readonly Column[], numbers: number[] | null, first: number, f: (v: number) => string): string {
  const total = cols[0][1].length;
  const per = total / shape[0];
  const unitShape = shape.slice(1);
  const rows: string[][] = [];
  for (let i = 0; i < total; i++) {
    const u = i % per;
    const unit = numbers ? String(first + u) : unitShape.length <= 1 ? String(u) : `(${unravel(u, unitShape).join(',')})`;
    rows.push([`d${Math.floor(i / per) + 1}`, unit, ...cols.map(([, v]) => f(v[i]))]);
  }
  return textTable(['example', numbers ? 'neuron' : 'unit', ...cols.map(([h]) => h)], rows);
}

function gradTable(t: TraceResult, l: LayerTrace, li: number, numbers: number[] | null, f: (v: number) => string): string | null {
  const keys = Object.keys(l.grad);
  if (!keys.length) return null;
  const n = t.examples;
  const single = n === 1 && numbers !== null && l.delta !== null;
  const head = single ? ['weight', 'w', 'δ_i', 'a_k', '∂E/∂w'] : ['weight', 'w', '∂E/∂w'];
  const rows: string[][] = [];
  const delta = l.delta ? nestedToFlat(l.delta).data : [];
  const inputs = li === 0 ? nestedToFlat(t.x).data : nestedToFlat(t.layers[li - 1].a).data;
  const inFirst = numbers ? (li === 0 ? 1 : numbers[li - 1]) : 0;
  const push = (label: string, w: number, g: number, i: number, k: number | null) => {
    const r = [label, f(w)];
    if (single && label.startsWith('w')) r.push(f(delta[i]), k === null ? '1' : f(inputs[k]));
    r.push(f(g));
    rows.push(r);
  };
  const p = t.params[l.name] ?? {};
  const dense = numbers !== null && l.grad.weight !== undefined && nestedToFlat(l.grad.weight).shape.length === 2;
  if (dense) {
    // the lecture's order: per neuron, the bias (index 0) then the weights from each input
    const gw = nestedToFlat(l.grad.weight);
    const ww = nestedToFlat(p.weight).data;
    const gb = l.grad.bias !== undefined ? nestedToFlat(l.grad.bias).data : null;
    const wb = p.bias !== undefined ? nestedToFlat(p.bias).data : [];
    const cols = gw.shape[1];
    for (let i = 0; i < gw.shape[0]; i++) {
      if (gb) push(`w${numbers[li] + i},0`, wb[i], gb[i], i, null);
      for (let k = 0; k < cols; k++) push(`w${numbers[li] + i},${inFirst + k}`, ww[i * cols + k], gw.data[i * cols + k], i, k);
    }
  }
  for (const key of keys) {
    if (dense && (key === 'weight' || key === 'bias')) continue;
    const g = nestedToFlat(l.grad[key]);
    const w = p[key] !== undefined ? nestedToFlat(p[key]).data : g.data.map(() => NaN);
    g.data.forEach((gv, o) => push(`${key}[${unravel(o, g.shape).join(',')}]`, w[o], gv, 0, null));
  }
  const sumNote = n === 1 ? 'for d1' : `summed over ${n} examples`;
  return `∂E/∂w of ${l.name}, ${sumNote}${numbers ? ' (index 0 is the bias)' : ''}\n${textTable(head, rows)}`;
}

function extraTable(layer: string, key: string, v: NestedArray, f: (v: number) => string): string {
  const { data, shape } = nestedToFlat(v);
  const last = shape.length > 1 ? shape[shape.length - 1] : 1;
  const lead = shape.slice(1, -1);
  const head = ['example', ...(lead.length ? ['index'] : []), ...Array.from({ length: last }, (_, j) => `[${j}]`)];
  const rows: string[][] = [];
  for (let r = 0; r < data.length / last; r++) {
    const per = Math.max(1, data.length / last / shape[0]);
    const ex = Math.floor(r / per);
    const row = [`d${ex + 1}`];
    if (lead.length) row.push(`(${unravel(r % per, lead).join(',')})`);
    for (let j = 0; j < last; j++) row.push(f(data[r * last + j]));
    rows.push(row);
  }
  return `${layer} ${key} ${JSON.stringify(shape)}\n${textTable(head, rows)}`;
}
