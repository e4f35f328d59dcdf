import { ConfigError, fmtShape } from '../errors.js';
import { nodeBuiltin } from '../node-edge.js';
import { Tensor, noGrad } from '../tensor/tensor.js';
import { gatherRows } from '../data/batch.js';
import type { ActivationName } from '../ops/activations.js';
import type { Model } from '../train/model.js';
import type { LayerRecord } from '../nn/module.js';
import type { History } from '../train/callbacks.js';
import type { DynamicsReport } from './dynamics.js';
import { inspectModel } from './dynamics.js';
import { TrainingDiagnostics, diagnose } from './diagnostics.js';
import type { DiagnosticSummaryItem, DiagnosticWarning, DiagnosticsRecord, LayerHealth } from './diagnostics.js';
import { layerActivation, requireData } from './trace.js';
import { fmtNum } from './format.js';
import { esc } from './plots/svg.js';
import { plotLearningCurves } from './plots/curves.js';
import { plotLayerDynamics } from './plots/boxplot.js';
import { plotFeatureMaps, plotFilters, plotHeatmap } from './plots/heatmap.js';
import { plotConfusionMatrix } from './plots/confusion.js';
import { plotActivationFunctions } from './plots/activations.js';
import { GraphNetwork } from '../nn/graph.js';

/** Feature maps of one layer for one input (`maps` is `[channels, height, width]`). */
export interface FeatureMapSet {
  /** Layer name (or `input` for the image itself). */
  layer: string;
  maps: Tensor;
}

/** Diagnostics in any of the forms the inspection functions produce. */
export type ReportDiagnostics = TrainingDiagnostics | DiagnosticsRecord | readonly (DiagnosticSummaryItem | DiagnosticWarning)[];

/** What goes into an HTML report; everything but the model is optional. */
export interface ReportInput {
  model: Model;
  /** Training history (default `model.history`); an empty one is reported as such. */
  history?: History | null;
  /** Warnings and layer health from training ({@link TrainingDiagnostics}) or {@link diagnose}. */
  diagnostics?: ReportDiagnostics | null;
  /** Layer dynamics of one training iteration ({@link inspectModel}). */
  dynamics?: DynamicsReport | null;
  /** CNNs: feature maps of one input ({@link featureMapsOf}). */
  featureMaps?: readonly FeatureMapSet[] | null;
  /** Classifiers: confusion matrix (rows actual, columns predicted). */
  confusion?: { matrix: number[][]; labels?: string[] } | null;
  /** Attention layers: the weights of one head for one input ({@link attentionMapsOf}). */
  attention?: readonly AttentionMap[] | null;
  /** Page title (default: the model's name). */
  title?: string;
  /** Extra figures (SVG from the plot functions, e.g. samples of a generator), in a "Figures" section. */
  figures?: readonly { title: string; note?: string; svg: string }[] | null;
}

/** The attention weights of one head of one layer for one input sequence. */
export interface AttentionMap {
  /** Layer name. */
  layer: string;
  /** Head index. */
  head: number;
  /** [T, S]: row t holds how much query position t attends to each key position (rows sum to 1). */
  weights: number[][];
  /** Optional labels of the positions (e.g. the characters), shown under the map. */
  tokens?: string[];
}

const CSS = `
:root{color-scheme:light}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#222;background:#f6f7f9;margin:0}
header{background:#1f3b57;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;opacity:.85}
nav a{color:#cfe3f7;margin-right:14px;text-decoration:none}
main{padding:8px 28px 40px;max-width:1280px}
section{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:14px 20px;margin:16px 0}
h2{font-size:18px;margin:4px 0 10px;color:#1f3b57}
h3{font-size:15px;margin:14px 0 6px}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border-bottom:1px solid #e6e8eb;padding:3px 10px;text-align:right;font-variant-numeric:tabular-nums}
th:first-child,td:first-child{text-align:left}
th{background:#f0f3f6;font-weight:600}
pre{background:#f4f5f7;padding:10px;border-radius:6px;overflow:auto;font-size:12px}
.dd-plots{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
.dd-plots svg{max-width:100%;height:auto;background:#fff;border:1px solid #eceff2;border-radius:6px}
.dd-note{color:#666;font-style:italic}
.dd-warnings{list-style:none;padding:0;margin:0}
.dd-warning{border-left:4px solid #d62728;background:#fdf3f3;padding:8px 12px;margin:8px 0;border-radius:4px}
.dd-warning .dd-when{color:#777;margin-left:4px}
.dd-warning .dd-advice{display:block;color:#444;margin-top:3px}
.dd-ok{border-left:4px solid #2ca02c;background:#f2faf2;padding:8px 12px;border-radius:4px}
`;

function table(head: readonly string[], rows: readonly (readonly string[])[], cls: string): string {
  return `<table class="${cls}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

const num = (v: number | null | undefined, d = 6) => (v === null || v === undefined ? '–' : fmtNum(v, d));

function summarySection(model: Model): string {
  const net = model.net;
  const graph = net instanceof GraphNetwork ? net : null;
  const rows = graph
    ? graph.nodes.map((n) => [n.output.source, n.layer.type, layerActivation(n.layer)?.name ?? '', fmtShape(['N', ...n.output.shape]), String(n.call ? 0 : n.layer.paramCount()), n.inputs.map((t) => (t.node ? t.source : t.inputName!)).join(', ')])
    : net.layers.map((l) => [l.name, l.type, layerActivation(l)?.name ?? '', fmtShape(['N', ...l.outputShape]), String(l.paramCount())]);
  const cfg = model.optimizer.config();
  const opt = `${cfg.type ?? 'optimizer'} (${Object.entries(cfg).filter(([k]) => k !== 'type').map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ')})`;
  return `<section id="summary"><h2>Model</h2>`
    + `<p>input ${esc(fmtShape(['N', ...net.inputShape]))} · ${net.layers.length} layers · ${net.paramCount()} trainable parameters · loss <b>${esc(model.loss.name)}</b> (${esc(model.loss.reduction)} over examples) · optimiser <b>${esc(opt)}</b></p>`
    + table(['layer', 'type', 'activation', 'output shape', 'params', ...(graph ? ['connected to'] : [])], rows, 'dd-summary')
    + `<details><summary>text summary</summary><pre>${esc(net.summary())}</pre></details></section>`;
}

function historySection(history: History | null | undefined): string {
  const epochs = history?.epochs ?? [];
  if (!epochs.length) {
    return `<section id="history"><h2>Training history</h2><p class="dd-note dd-empty-history">No training history: this model has not been trained yet (its history is empty), so there are no learning curves.</p></section>`;
  }
  const last = epochs[epochs.length - 1];
  const plots = [plotLearningCurves(epochs, { title: 'Loss per epoch' })];
  if (epochs.some((e) => typeof e.accuracy === 'number')) plots.push(plotLearningCurves(epochs, { title: 'Accuracy per epoch', metric: 'accuracy' }));
  const facts = [`${epochs.length} epochs`, `${history!.updates} updates`, `stopped: ${history!.stopped}`, `final loss ${num(last.loss)}`];
  if (typeof last.valLoss === 'number') facts.push(`final validation loss ${num(last.valLoss)}`);
  if (typeof last.accuracy === 'number') facts.push(`accuracy ${(100 * last.accuracy).toFixed(2)}%`);
  if (typeof last.valAccuracy === 'number') facts.push(`validation accuracy ${(100 * last.valAccuracy).toFixed(2)}%`);
  return `<section id="history"><h2>Training history</h2><p>${esc(facts.join(' · '))}</p><div class="dd-plots">${plots.join('')}</div></section>`;
}

function normaliseDiagnostics(d: ReportDiagnostics): { warnings: (DiagnosticWarning & Partial<DiagnosticSummaryItem>)[]; layers: LayerHealth[] | null; examples: number | null } {
  if (d instanceof TrainingDiagnostics) {
    const last = d.records[d.records.length - 1];
    return { warnings: d.summary(), layers: last?.layers ?? null, examples: last?.examples ?? null };
  }
  if (Array.isArray(d)) return { warnings: [...d], layers: null, examples: null };
  const rec = d as DiagnosticsRecord;
  return { warnings: rec.warnings, layers: rec.layers, examples: rec.examples };
}

const KIND_TITLE: Record<string, string> = {
  deadRelu: 'Dead ReLUs', saturated: 'Saturated units', vanishingGradients: 'Vanishing gradients',
  explodingGradients: 'Exploding gradients', risingLoss: 'Rising loss',
};

function diagnosticsSection(d: ReportDiagnostics | null | undefined): string {
  if (!d) return `<section id="diagnostics"><h2>Diagnostics</h2><p class="dd-note">No diagnostics were run (train with the TrainingDiagnostics callback, or give data to the report).</p></section>`;
  const { warnings, layers, examples } = normaliseDiagnostics(d);
  const items = warnings.length
    ? `<ul class="dd-warnings">${warnings.map((w) => {
      const when = w.firstEpoch !== undefined ? ` (epoch${w.firstEpoch === w.lastEpoch ? ` ${w.firstEpoch}` : `s ${w.firstEpoch}–${w.lastEpoch}, seen in ${w.epochs}`})` : '';
      return `<li class="dd-warning dd-warning-${esc(w.kind)}" title="${esc(KIND_TITLE[w.kind] ?? w.kind)}">${esc(w.message)}<span class="dd-when">${esc(when)}</span><span class="dd-advice">What usually helps: ${esc(w.advice)}.</span></li>`;
    }).join('')}</ul>`
    : `<p class="dd-ok">No warnings: no dead ReLUs, no saturated units, no vanishing or exploding gradients, no rising loss.</p>`;
  const health = layers
    ? `<h3>Layer health${examples !== null ? ` (last check, ${examples} sampled examples)` : ''}</h3>`
      + table(['layer', 'activation', 'units', 'dead', 'saturated', 'RMS δ', '‖∂E/∂θ‖'], layers.map((l) => [
        l.name, l.activation ?? l.type, String(l.units), l.deadUnits ? String(l.deadUnits.length) : '–',
        l.saturatedFraction !== undefined ? `${(100 * l.saturatedFraction).toFixed(1)}%` : '–', num(l.deltaRms, 6), num(l.gradNorm, 6),
      ]), 'dd-health')
    : '';
  return `<section id="diagnostics"><h2>Diagnostics</h2>${items}${health}</section>`;
}

function dynamicsSection(r: DynamicsReport | null | undefined): string {
  if (!r) return `<section id="dynamics"><h2>Layer dynamics</h2><p class="dd-note">Layer dynamics need data: give the report the inputs and targets (CLI: --data FILE.csv --target COL).</p></section>`;
  const plots = (['weight', 'z', 'a', 'delta'] as const).map((q) => plotLayerDynamics(r, q));
  const rows = r.layers.map((l) => [
    l.name, l.activation ?? l.type, l.nIn === null ? '–' : String(l.nIn), num(l.weight?.var), num(l.input.var),
    num(l.predictedVarZ), num(l.predictedVarZEq62), num(l.z?.var), num(l.a.var), num(l.predictedVarDelta), num(l.delta?.var),
  ]);
  return `<section id="dynamics"><h2>Layer dynamics (one training iteration, ${r.examples} examples)</h2>`
    + `<p>Distributions of the weights, weighted sums z, activations and δs by layer (box 25th–75th percentile, whiskers 5th–95th, dots min/max), as in the lecture's Figures 24–27. Eq 64 predicts var(z) = n_in · var(W) · var(inputs); eq 62 keeps the mean terms (which matter after ReLUs).</p>`
    + `<div class="dd-plots">${plots.join('')}</div>`
    + table(['layer', 'activation', 'n_in', 'var(W)', 'var(inputs)', 'eq 64 var(z)', 'eq 62 var(z)', 'measured var(z)', 'var(a)', 'predicted var(δ)', 'measured var(δ)'], rows, 'dd-dynamics')
    + `</section>`;
}

function cnnSection(model: Model, maps: readonly FeatureMapSet[] | null | undefined): string {
  const filters = model.net.layers
    .map((l) => ({ l, w: l.ownParameters().get('weight') }))
    .filter((e): e is { l: typeof e.l; w: Tensor } => e.w !== undefined && e.w.rank === 4);
  if (!filters.length && !maps?.length) return '';
  const parts = filters.map(({ l, w }) => {
    const f = Math.min(w.shape[0], Math.max(1, Math.floor(64 / w.shape[1])));
    const shown = f < w.shape[0] ? new Tensor(w.data.subarray(0, f * w.size / w.shape[0]), [f, ...w.shape.slice(1)]) : w;
    return plotFilters(shown, { title: `${l.name}: ${f < w.shape[0] ? `first ${f} of ` : ''}${w.shape[0]} filters ${fmtShape(w.shape.slice(1))}` });
  });
  for (const m of maps ?? []) {
    const c = m.maps.rank === 3 ? m.maps.shape[0] : m.maps.shape[1];
    const keep = Math.min(c, 32);
    const t = m.maps.rank === 4 ? m.maps.shape.slice(1) : m.maps.shape;
    const shown = keep < c ? new Tensor(m.maps.data.subarray(0, keep * t[1] * t[2]), [keep, t[1], t[2]]) : m.maps;
    const what = m.layer === 'input' ? `input image, ${c} channel${c === 1 ? '' : 's'}` : `${m.layer}: ${keep < c ? `first ${keep} of ` : ''}${c} feature map${c === 1 ? '' : 's'}`;
    parts.push(plotFeatureMaps(shown, { title: `${what} ${t[1]}×${t[2]}` }));
  }
  return `<section id="cnn"><h2>Convolutional layers</h2><p>Learned filters and the feature maps of one input (the lecture's Figure 37), grey scale from black (minimum) to white (maximum) per map.</p><div class="dd-plots">${parts.join('')}</div></section>`;
}

function activationsSection(model: Model): string {
  const used = [...new Set(model.net.layers.map((l) => layerActivation(l)?.name).filter((n): n is ActivationName => !!n && n !== 'softmax'))];
  const names = used.map((n) => (n === 'sigmoid' ? 'logistic' : n)).filter((n, i, a) => a.indexOf(n) === i) as ActivationName[];
  if (!names.length) return '';
  return `<section id="activations"><h2>Activation functions used</h2><p>φ(z) and its derivative ∂a/∂z (the lecture's Figures 2 and 13): a derivative near 0 means a saturated unit that learns slowly; ReLU's derivative is 0 for z ≤ 0.</p><div class="dd-plots">${plotActivationFunctions(names, { perRow: Math.min(3, names.length) })}</div></section>`;
}

/**
 * Renders one self-contained HTML page (inline CSS and SVG, no scripts, no network): the model
 * summary, the training history plots (or a note that the history is empty), the diagnostics,
 * the layer dynamics with predicted and measured variances, the filters and feature maps of
 * CNNs, a confusion matrix for classifiers and the activation functions used.
 *
 * @example
 * ```ts
 * const html = renderReport({ model, dynamics: inspectModel(model, x, y), diagnostics: diag });
 * ```
 */
export function renderReport(input: ReportInput): string {
  if (!input || !input.model || !input.model.net) throw new ConfigError('renderReport needs { model } (a trained or untrained Model)');
  const model = input.model;
  const title = input.title ?? `dendrite report: ${model.net.name}`;
  const history = input.history === undefined ? model.history : input.history;
  const sections = [
    summarySection(model),
    historySection(history),
    input.figures?.length ? `<section id="figures"><h2>Figures</h2>${input.figures.map((f) => `<h3>${esc(f.title)}</h3>${f.note ? `<p>${esc(f.note)}</p>` : ''}<div class="dd-plots">${f.svg}</div>`).join('')}</section>` : '',
    diagnosticsSection(input.diagnostics),
    dynamicsSection(input.dynamics),
    cnnSection(model, input.featureMaps),
    attentionSection(input.attention),
    input.confusion ? `<section id="confusion"><h2>Confusion matrix</h2><p>Rows: actual class; columns: predicted class; each cell shaded by its share of the row.</p><div class="dd-plots">${plotConfusionMatrix(input.confusion.matrix, { labels: input.confusion.labels })}</div></section>` : '',
    activationsSection(model),
  ].filter(Boolean);
  const nav = sections.map((s) => /id="([^"]+)"><h2>([^<(]+)/.exec(s)).filter((m): m is RegExpExecArray => !!m).map((m) => `<a href="#${m[1]}">${m[2].trim()}</a>`).join('');
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head>`
    + `<body><header><h1>${esc(title)}</h1><p>${model.net.layers.length} layers · ${model.net.paramCount()} parameters · made by dendrite</p><nav>${nav}</nav></header><main>${sections.join('\n')}</main></body></html>\n`;
}

/**
 * Renders the report ({@link renderReport}) and writes it to `path` atomically (a temporary file
 * in the same directory, then a rename), so a reader never sees half a page. A path in a
 * directory that does not exist is a `ConfigError` naming the path. Returns the absolute path.
 *
 * @example
 * ```ts
 * writeReport('out/report.html', { model, diagnostics: diag, dynamics });
 * ```
 */
export function writeReport(path: string, input: ReportInput): string {
  const { renameSync, unlinkSync, writeFileSync } = nodeBuiltin('node:fs', 'writeReport(path)', 'renderReport (the page as a string)');
  const { basename, dirname, join } = nodeBuiltin('node:path', 'writeReport(path)');
  const abs = checkReportPath(path);
  const dir = dirname(abs);
  const html = renderReport(input);
  const tmp = join(dir, `.${basename(abs)}.${process.pid}.${Date.now()}.tmp`);
  try {
    writeFileSync(tmp, html);
    renameSync(tmp, abs);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* the temporary file was never created */ }
    throw new ConfigError(`cannot write report ${path}: ${(e as Error).message}`);
  }
  return abs;
}

/**
 * Checks a report path before any work is done (e.g. before training with `--report`): a
 * `ConfigError` naming the path if it is empty, a directory, or in a directory that does not
 * exist. Returns the absolute path.
 *
 * @example
 * ```ts
 * checkReportPath('out/report.html'); // throws unless out/ exists
 * ```
 */
export function checkReportPath(path: string): string {
  const { existsSync, statSync } = nodeBuiltin('node:fs', 'checkReportPath(path)', 'renderReport (the page as a string)');
  const { dirname, join, resolve } = nodeBuiltin('node:path', 'checkReportPath(path)');
  if (typeof path !== 'string' || path.trim() === '') throw new ConfigError(`report path must be a file name, received ${JSON.stringify(path)}`);
  const abs = resolve(path);
  const dir = dirname(abs);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`report path ${path}: directory ${dir} does not exist (create it first)`);
  if (existsSync(abs) && statSync(abs).isDirectory()) throw new ConfigError(`report path ${path} is a directory; give a file name such as ${join(path, 'report.html')}`);
  return abs;
}

/**
 * Feature maps of the first row of x for every layer with image-shaped output ([N, C, H, W]),
 * plus the input image itself when it is [C, H, W]: an inference-mode forward pass with tracing,
 * the model left as it was.
 *
 * @example
 * ```ts
 * const maps = featureMapsOf(model, images);
 * renderReport({ model, featureMaps: maps });
 * ```
 */
export function featureMapsOf(model: Model, x: Tensor): FeatureMapSet[] {
  if (!(x instanceof Tensor) || x.rank < 1 || x.shape[0] === 0) throw new ConfigError('featureMapsOf needs inputs with at least one row');
  const x1 = gatherRows(x, null, 0, 1);
  const out: FeatureMapSet[] = [];
  if (x1.rank === 4) out.push({ layer: 'input', maps: new Tensor(Float32Array.from(x1.data), x1.shape.slice(1)) });
  for (const l of tracedLayers(model, x1)) {
    const a = l.record?.a;
    if (a && a.rank === 4) out.push({ layer: l.name, maps: new Tensor(Float32Array.from(a.data), a.shape.slice(1)) });
  }
  return out;
}

function attentionSection(maps: readonly AttentionMap[] | null | undefined): string {
  if (!maps || maps.length === 0) return '';
  const plots = maps.map((m) => {
    const svg = plotHeatmap(m.weights, { title: `${m.layer}, head ${m.head}`, range: [0, 1] });
    const tokens = m.tokens ? `<pre>${esc(m.tokens.join(''))}</pre>` : '';
    return `<div>${svg}${tokens}</div>`;
  }).join('');
  return `<section id="attention"><h2>Attention weights</h2><p>Row t: how much the query at position t attends to each key position (black 0, white 1; a causal layer leaves the upper triangle black).</p><div class="dd-plots">${plots}</div></section>`;
}

/**
 * The attention weights of `head` (default 0) in every layer that records them (multi-head
 * attention and Transformer blocks) for the first row of x: an inference-mode forward pass with
 * tracing, the model left as it was. `tokens` label the positions.
 *
 * @example
 * ```ts
 * renderReport({ model, attention: attentionMapsOf(model, x, 0, [...'Shall I compare']) });
 * ```
 */
export function attentionMapsOf(model: Model, x: Tensor, head = 0, tokens?: string[]): AttentionMap[] {
  if (!(x instanceof Tensor) || x.rank < 1 || x.shape[0] === 0) throw new ConfigError('attentionMapsOf needs inputs with at least one row');
  const out: AttentionMap[] = [];
  for (const l of tracedLayers(model, gatherRows(x, null, 0, 1))) {
    const w = l.record?.extra?.attention;
    if (!w || w.rank !== 4) continue;
    const [, H, T, S] = w.shape;
    if (!Number.isInteger(head) || head < 0 || head >= H) throw new ConfigError(`attentionMapsOf: ${l.name} has heads 0…${H - 1}, received head ${head}`);
    const rows: number[][] = [];
    for (let t = 0; t < T; t++) rows.push(Array.from(w.data.subarray((head * T + t) * S, (head * T + t + 1) * S)));
    out.push({ layer: l.name, head, weights: rows, tokens });
  }
  return out;
}

/**
 * What every layer recorded in an inference-mode forward pass of x with tracing; the model's
 * mode and tracing flags are restored.
 */
function tracedLayers(model: Model, x: Tensor): { name: string; record: LayerRecord | null }[] {
  const net = model.net;
  const was = net.training;
  const tracing = net.layers.map((l) => l.tracing);
  try {
    net.eval();
    net.setTracing(true);
    noGrad(() => net.forward(x));
    return net.layers.map((l) => ({ name: l.name, record: l.record })); // setTracing(false) clears them

  } finally {
    net.setTracing(false);
    net.layers.forEach((l, i) => { l.tracing = tracing[i]; });
    net.train(was);
  }
}

function confusionOf(model: Model, x: Tensor, y: Tensor): { matrix: number[][] } | null {
  const k = model.net.outputSize();
  if (!model.isClassifier || k < 2 || y.size !== x.shape[0] * k) return null;
  const p = model.predict(x).data;
  const t = y.data;
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const argmax = (d: Float32Array, r: number) => {
    let b = 0;
    for (let j = 1; j < k; j++) if (d[r * k + j] > d[r * k + b]) b = j;
    return b;
  };
  for (let r = 0; r < x.shape[0]; r++) matrix[argmax(t, r)][argmax(p, r)]++;
  return { matrix };
}

/**
 * Everything a report can show, computed from a model and data: layer dynamics of one training
 * iteration on (a sample of) the rows, a diagnostic check (unless `diagnostics` are given),
 * feature maps for CNNs, head 0's attention weights for attention layers and a confusion matrix
 * for classifiers. Throws a `ConfigError` without
 * data. `writeReport(path, reportFromData(model, x, y))` is `dendrite report MODEL --data …`.
 *
 * @example
 * ```ts
 * writeReport('report.html', reportFromData(model, x, y, { diagnostics: diag }));
 * ```
 */
export function reportFromData(model: Model, x: Tensor, y: Tensor, opts: { history?: History | null; diagnostics?: ReportDiagnostics | null; sampleSize?: number; title?: string } = {}): ReportInput {
  requireData(x, y, 'a report with layer dynamics');
  const n = x.shape[0];
  const size = opts.sampleSize ?? 256;
  const xs = n > size ? gatherRows(x, null, 0, size) : x;
  const ys = n > size ? gatherRows(y, null, 0, size) : y;
  const maps = featureMapsOf(model, x);
  const attention = attentionMapsOf(model, x);
  return {
    model,
    history: opts.history,
    dynamics: inspectModel(model, xs, ys),
    diagnostics: opts.diagnostics ?? diagnose(model, xs, ys, { history: opts.history ?? model.history }),
    featureMaps: maps.length ? maps : null,
    attention: attention.length ? attention : null,
    confusion: confusionOf(model, x, y),
    title: opts.title,
  };
}
