// The playground page: controls, the worker conversation and the drawings. A thin shell: every
// number it shows comes from dendrite (trace, dynamics, diagnostics, plots) run in the worker.
import {
  buildModel, initVariance, loadModelFromBytes, parseCsvFile, plotLayerDynamics, plotLearningCurves, prepareTable,
} from '../src/index.js';
import type { DiagnosticKind, EpochLog, ModelSpec, PlainTensor, PlainWeights } from '../src/index.js';
import {
  ACTIVATIONS, INITS, LOSSES, OPTIMIZERS, PADDINGS, batchName, fromHash, lectureWeights, makeData, preset, specOf, toHash,
  usesLectureWeights, varianceFormula,
} from './config.js';
import type { Config, DatasetName, Table } from './config.js';
import type { FromWorker, Snapshot, ToWorker } from './worker.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const GRID = 40;

interface Prepared {
  x: PlainTensor; y: PlainTensor; xVal?: PlainTensor; yVal?: PlainTensor;
  inputShape: number[]; outputs: number; rows: number;
  /** 2-D data: the plot range and the rows for the scatter. */
  plane: { lo: [number, number]; hi: [number, number]; train: number[][]; test: number[][]; trainLabel: number[]; testLabel: number[]; regression: boolean } | null;
  exampleNames: string[];
}

const st = {
  config: fromHash(location.hash).config,
  csv: null as Table | null,
  digits: null as { train: { x: Uint8Array; y: Uint8Array }; test: { x: Uint8Array; y: Uint8Array } } | null,
  /** A spec and weights from an uploaded model (replaces the configured network until the next change). */
  uploaded: null as { spec: ModelSpec; weights: PlainWeights } | null,
  spec: null as ModelSpec | null,
  prepared: null as Prepared | null,
  epochs: [] as EpochLog[],
  last: null as Snapshot | null,
  selected: null as { layer: string; unit: number } | null,
  running: false,
  /** The configured network failed the library's check (its message is shown). */
  invalid: false,
  /** The grid's inputs (the input neurons' pictures). */
  lastGridInput: null as { data: Float32Array; shape: number[] } | null,
};

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (m: ToWorker): void => worker.postMessage(m);

function message(text: string, error = false): void {
  const m = $('message');
  m.textContent = text;
  m.hidden = !text;
  m.classList.toggle('error', error);
}

// ---- data ----

const flat = (rows: number[][]): PlainTensor => ({ data: Float32Array.from(rows.flat()), shape: [rows.length, rows[0]?.length ?? 0] });

async function loadDigitsFile(): Promise<NonNullable<typeof st.digits>> {
  if (st.digits) return st.digits;
  const buf = new Uint8Array(await (await fetch(new URL('./digits.bin', import.meta.url))).arrayBuffer());
  const v = new DataView(buf.buffer);
  const nTrain = v.getUint32(0, true);
  const nTest = v.getUint32(4, true);
  let o = 8;
  const take = (n: number) => { const s = buf.subarray(o, o + n); o += n; return s; };
  st.digits = { train: { x: take(nTrain * 784), y: take(nTrain) }, test: { x: take(nTest * 784), y: take(nTest) } };
  return st.digits;
}

async function prepare(c: Config): Promise<Prepared> {
  if (c.data === 'digits') {
    const d = await loadDigitsFile();
    const nTrain = Math.min(c.samples, d.train.y.length);
    const nTest = d.test.y.length;
    const img = (x: Uint8Array, n: number): PlainTensor => ({ data: Float32Array.from(x.subarray(0, n * 784), (p) => p / 255), shape: [n, 1, 28, 28] });
    const hot = (y: Uint8Array, n: number): PlainTensor => {
      const out = new Float32Array(n * 10);
      for (let i = 0; i < n; i++) out[i * 10 + y[i]] = 1;
      return { data: out, shape: [n, 10] };
    };
    return {
      x: img(d.train.x, nTrain), y: hot(d.train.y, nTrain), xVal: img(d.test.x, nTest), yVal: hot(d.test.y, nTest),
      inputShape: [1, 28, 28], outputs: 10, rows: nTrain, plane: null,
      exampleNames: Array.from({ length: nTest }, (_, i) => `test digit ${i + 1} (a ${d.test.y[i]})`),
    };
  }
  const t = c.data === 'csv' ? st.csv! : makeData(c);
  // hold out the last rows (seeded shuffle happens in the generator's interleaving)
  const n = t.x.length;
  const nVal = c.data === 'worked' || c.data === 'xor' ? 0 : Math.floor(n * c.split);
  const nTr = n - nVal;
  const is2d = t.x[0].length === 2;
  let plane: Prepared['plane'] = null;
  if (is2d) {
    const xs = t.x.map((r) => r[0]);
    const ys = t.x.map((r) => r[1]);
    const pad = (lo: number, hi: number): [number, number] => { const m = 0.15 * (hi - lo || 1); return [lo - m, hi + m]; };
    const [x0, x1] = pad(Math.min(...xs), Math.max(...xs));
    const [y0, y1] = pad(Math.min(...ys), Math.max(...ys));
    plane = { lo: [x0, y0], hi: [x1, y1], train: t.x.slice(0, nTr), test: t.x.slice(nTr), trainLabel: t.label.slice(0, nTr), testLabel: t.label.slice(nTr), regression: t.regression };
  }
  const names = t.x.slice(0, nTr).map((r, i) => (c.data === 'worked' ? `d${i + 1} = (${r.join(', ')})` : `row ${i + 1}`));
  return {
    x: flat(t.x.slice(0, nTr)), y: flat(t.y.slice(0, nTr)),
    ...(nVal ? { xVal: flat(t.x.slice(nTr)), yVal: flat(t.y.slice(nTr)) } : {}),
    inputShape: [t.x[0].length], outputs: t.y[0].length, rows: nTr, plane, exampleNames: names,
  };
}

function gridOf(p: NonNullable<Prepared['plane']>): PlainTensor {
  const data = new Float32Array(GRID * GRID * 2);
  for (let i = 0; i < GRID; i++) {
    for (let j = 0; j < GRID; j++) {
      const k = (i * GRID + j) * 2;
      data[k] = p.lo[0] + ((j + 0.5) / GRID) * (p.hi[0] - p.lo[0]);
      data[k + 1] = p.hi[1] - ((i + 0.5) / GRID) * (p.hi[1] - p.lo[1]);
    }
  }
  return { data, shape: [GRID * GRID, 2] };
}

// ---- setting up a run ----

async function reset(): Promise<void> {
  const c = st.config;
  const p = await prepare(c);
  const spec = st.uploaded ? st.uploaded.spec : specOf(c, p.inputShape, p.outputs, p.rows);
  try {
    buildModel(spec);
  } catch (e) {
    // the library's own check of the network (e.g. a kernel larger than its input): the run in
    // progress stays as it was; the controls keep the change so that it can be corrected
    const er = e instanceof Error ? e : new Error(String(e));
    renderControls();
    message(`${er.name}: ${er.message}. The network was not rebuilt; change the layers to fix it.`, true);
    st.invalid = true;
    return;
  }
  if (st.invalid) message('');
  st.invalid = false;
  history.replaceState(null, '', `#${toHash(c)}`);
  st.running = false;
  send({ type: 'pause' });
  const weights = st.uploaded ? st.uploaded.weights : usesLectureWeights(c) ? lectureWeights() : undefined;
  st.spec = spec;
  st.prepared = p;
  st.epochs = [];
  st.last = null;
  const sel = $<HTMLSelectElement>('example');
  const keep = c.data === 'worked' ? 1 : 0;
  sel.replaceChildren(...p.exampleNames.slice(0, 200).map((nm, i) => new Option(nm, String(i))));
  sel.value = String(Math.min(keep, p.exampleNames.length - 1));
  if (!st.selected || !spec.layers.some((l) => l.name === st.selected!.layer)) {
    const firstDense = spec.layers.find((l) => l.type === 'dense');
    st.selected = firstDense ? { layer: firstDense.name as string, unit: 0 } : null;
  }
  $('cnn-panel').hidden = c.data !== 'digits';
  $('boundary-panel').hidden = !p.plane;
  send({ type: 'setup', spec, weights, x: p.x, y: p.y, xVal: p.xVal, yVal: p.yVal, grid: p.plane ? gridOf(p.plane) : undefined, example: Number(sel.value), cnn: c.data === 'digits' });
  renderControls();
}

// ---- controls ----

function options(sel: HTMLSelectElement, list: readonly string[]): void {
  if (sel.options.length !== list.length) sel.replaceChildren(...list.map((v) => new Option(v, v)));
}

function renderControls(): void {
  const c = st.config;
  ($<HTMLSelectElement>('data')).value = c.data;
  const setVal = (id: string, v: number | string) => { ($<HTMLInputElement>(id)).value = String(v); };
  setVal('noise', c.noise); $('noise-out').textContent = c.noise.toFixed(2);
  setVal('split', c.split); $('split-out').textContent = `${Math.round(c.split * 100)}%`;
  setVal('samples', c.samples);
  options($<HTMLSelectElement>('out'), ACTIVATIONS); setVal('out', c.out);
  options($<HTMLSelectElement>('init'), INITS); setVal('init', c.init);
  options($<HTMLSelectElement>('loss'), LOSSES); setVal('loss', c.loss);
  options($<HTMLSelectElement>('opt'), OPTIMIZERS); setVal('opt', c.opt);
  for (const k of ['keep', 'lr', 'bs', 'seed', 'stop', 'epochs'] as const) setVal(k, c[k]);
  ($<HTMLInputElement>('bn')).checked = c.bn;
  $('cnn-controls').hidden = c.data !== 'digits';
  renderCnnLayers(c);
  const rows = st.prepared?.rows ?? c.samples;
  const kind = batchName(c.bs, rows);
  $('bs-name').textContent = `${kind} gradient descent`;
  $('step').textContent = `Step one update (${kind === 'online' ? 'one example' : kind === 'batch' ? 'all examples' : `${c.bs} examples`})`;
  // eq 64's variance with the first layer's fans, through the library's initVariance
  const spec = st.spec;
  const first = spec?.layers.find((l) => l.type === 'dense' || l.type === 'conv2d');
  let v = '';
  if (first && c.init !== 'lecture') {
    const nIn = first.type === 'conv2d' ? (first.kernelSize as number) ** 2 : (st.prepared?.inputShape[0] ?? 2);
    const nOut = (first.units ?? first.filters) as number;
    v = ` — first layer: n_in = ${nIn}, n_out = ${nOut}, var(W) = ${initVariance({ type: c.init } as never, nIn, nOut).toPrecision(3)}`;
  }
  $('init-formula').textContent = varianceFormula(c.init) + v;
  const box = $('layers');
  box.replaceChildren(...c.layers.map((l, i) => {
    const row = document.createElement('div');
    row.className = 'layer-row';
    const label = document.createElement('span');
    label.textContent = `hidden ${i + 1}: ${l.units}`;
    const btn = (text: string, aria: string, fn: () => void) => {
      const b = document.createElement('button');
      b.type = 'button'; b.textContent = text; b.setAttribute('aria-label', aria);
      b.addEventListener('click', () => { fn(); changed(); });
      return b;
    };
    const act = document.createElement('select');
    act.setAttribute('aria-label', `activation of hidden layer ${i + 1}`);
    options(act, ACTIVATIONS.filter((a) => a !== 'softmax'));
    act.value = l.activation;
    act.addEventListener('change', () => { l.activation = act.value; changed(); });
    row.append(label,
      btn('−', `fewer units in hidden layer ${i + 1}`, () => { l.units = Math.max(1, l.units - 1); }),
      btn('+', `more units in hidden layer ${i + 1}`, () => { l.units = Math.min(64, l.units + 1); }),
      act,
      btn('✕', `remove hidden layer ${i + 1}`, () => { c.layers.splice(i, 1); }));
    return row;
  }));
}

/** A small labelled control of a layer row. */
function field(text: string, control: HTMLElement): HTMLLabelElement {
  const l = document.createElement('label');
  l.className = 'inline';
  l.append(`${text} `, control);
  return l;
}

function numberInput(value: number, min: number, max: number, aria: string, set: (v: number) => void): HTMLInputElement {
  const i = document.createElement('input');
  Object.assign(i, { type: 'number', min: String(min), max: String(max), step: '1', value: String(value) });
  i.setAttribute('aria-label', aria);
  i.addEventListener('change', () => {
    const v = Math.round(Number(i.value));
    if (Number.isFinite(v)) set(Math.min(max, Math.max(min, v)));
    changed();
  });
  return i;
}

function selectInput(list: readonly string[], value: string, aria: string, set: (v: string) => void, labels: Record<string, string> = {}): HTMLSelectElement {
  const sel = document.createElement('select');
  sel.setAttribute('aria-label', aria);
  sel.replaceChildren(...list.map((v) => new Option(labels[v] ?? v, v)));
  sel.value = value;
  sel.addEventListener('change', () => { set(sel.value); changed(); });
  return sel;
}

function removeButton(aria: string, fn: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button'; b.textContent = '✕'; b.setAttribute('aria-label', aria);
  b.addEventListener('click', () => { fn(); changed(); });
  return b;
}

/** The digits network's conv and pooling layers: one editable row each. */
function renderCnnLayers(c: Config): void {
  let convs = 0;
  let pools = 0;
  $('cnn-layers').replaceChildren(...c.cnn.map((l, i) => {
    const row = document.createElement('div');
    row.className = 'layer-row cnn-row';
    const head = document.createElement('span');
    if (l.kind === 'conv') {
      const name = `conv${++convs}`;
      head.textContent = `${name}:`;
      row.append(head,
        field('filters', numberInput(l.filters, 1, 16, `filters of ${name}`, (v) => { l.filters = v; })),
        field('kernel', numberInput(l.kernel, 1, 9, `kernel size of ${name}`, (v) => { l.kernel = v; })),
        field('stride', numberInput(l.stride, 1, 4, `stride of ${name}`, (v) => { l.stride = v; })),
        field('padding', selectInput(PADDINGS, l.padding, `padding of ${name}`, (v) => { l.padding = v; }, { 1: '1 px', 2: '2 px', 3: '3 px' })),
        selectInput(ACTIVATIONS.filter((a) => a !== 'softmax'), l.activation, `activation of ${name}`, (v) => { l.activation = v; }),
        removeButton(`remove ${name}`, () => { c.cnn.splice(i, 1); }));
    } else {
      const name = `pool${++pools}`;
      head.textContent = `${name}:`;
      row.append(head,
        selectInput(['max', 'avg'], l.kind, `kind of ${name}`, (v) => { l.kind = v as 'max' | 'avg'; }, { max: 'max', avg: 'average' }),
        field('size', numberInput(l.size, 1, 6, `window size of ${name}`, (v) => { l.size = v; })),
        field('stride', numberInput(l.stride, 1, 6, `stride of ${name}`, (v) => { l.stride = v; })),
        removeButton(`remove ${name}`, () => { c.cnn.splice(i, 1); }));
    }
    return row;
  }));
}

function changed(): void {
  st.uploaded = null;
  void reset().catch(showError);
}

function showError(e: unknown): void {
  const er = e instanceof Error ? e : new Error(String(e));
  message(`${er.name}: ${er.message}`, true);
}

function wireControls(): void {
  const c = () => st.config;
  $('data').addEventListener('change', () => {
    const d = ($<HTMLSelectElement>('data')).value as DatasetName;
    st.config = preset(d);
    message('');
    if (d === 'csv' && !st.csv) return;
    changed();
  });
  const num = (id: string, key: keyof Config, int = false) => $(id).addEventListener('change', () => {
    const v = Number(($<HTMLInputElement>(id)).value);
    if (Number.isFinite(v)) (c() as unknown as Record<string, number>)[key] = int ? Math.round(v) : v;
    changed();
  });
  for (const [id, int] of [['noise', false], ['split', false], ['samples', true], ['keep', false], ['lr', false], ['bs', true], ['seed', true], ['stop', false], ['epochs', true]] as const) {
    num(id, id, int);
  }
  for (const id of ['out', 'init', 'loss', 'opt'] as const) {
    $(id).addEventListener('change', () => { (c() as unknown as Record<string, string>)[id] = ($<HTMLSelectElement>(id)).value; changed(); });
  }
  $('bn').addEventListener('change', () => { c().bn = ($<HTMLInputElement>('bn')).checked; changed(); });
  $('add-layer').addEventListener('click', () => { c().layers.push({ units: 4, activation: 'tanh' }); changed(); });
  $('add-conv').addEventListener('click', () => { c().cnn.push({ kind: 'conv', filters: 4, kernel: 3, stride: 1, padding: 'same', activation: 'relu' }); changed(); });
  $('add-pool').addEventListener('click', () => { c().cnn.push({ kind: 'max', size: 2, stride: 2 }); changed(); });
  $('run').addEventListener('click', () => {
    if (st.running) send({ type: 'pause' });
    else send({ type: 'run' });
    st.running = !st.running;
    $('run').textContent = st.running ? 'Pause' : 'Train';
  });
  $('step').addEventListener('click', () => send({ type: 'step' }));
  $('reset').addEventListener('click', () => { message(''); void reset().catch(showError); });
  $('example').addEventListener('change', () => send({ type: 'select', example: Number(($<HTMLSelectElement>('example')).value) }));
  $('download').addEventListener('click', () => send({ type: 'save' }));
  /** The file an input holds (the input is cleared so that the same file can be chosen again). */
  const take = (id: string): File | undefined => {
    const input = $<HTMLInputElement>(id);
    const file = input.files?.[0];
    input.value = '';
    return file;
  };
  $('upload').addEventListener('change', () => { const f = take('upload'); if (f) void uploadModel(f); });
  $('csv').addEventListener('change', () => { const f = take('csv'); if (f) void loadCsv(f); });
  // a file dropped anywhere on the page: a .csv is data, anything else a model
  document.addEventListener('dragover', (e) => { e.preventDefault(); document.body.classList.add('dropping'); });
  document.addEventListener('dragleave', () => document.body.classList.remove('dropping'));
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    document.body.classList.remove('dropping');
    const file = e.dataTransfer?.files[0];
    if (file) void (/\.csv$/i.test(file.name) || file.type === 'text/csv' ? loadCsv(file) : uploadModel(file));
  });
}

/** A model file (dendrite's format, as `Download model` writes it): its network and weights replace the configured ones. */
async function uploadModel(file: File): Promise<void> {
  try {
    const { model, spec } = await loadModelFromBytes(file, file.name);
    const p = st.prepared!;
    if (JSON.stringify(spec.input) !== JSON.stringify(p.inputShape)) {
      throw new Error(`${file.name}: the model takes inputs of shape [${spec.input}], the current data has [${p.inputShape}]`);
    }
    const weights: PlainWeights = {};
    for (const [l, ps] of Object.entries(model.net.getWeights())) {
      weights[l] = {};
      for (const [k, t] of Object.entries(ps)) weights[l][k] = Float32Array.from(t.data);
    }
    st.uploaded = { spec, weights };
    await reset();
    message(`Loaded ${file.name}.`);
  } catch (e) {
    showError(e);
  }
}

/** A CSV file (last column the target), read and normalised by the library; a bad cell is its located error and nothing changes. */
async function loadCsv(file: File): Promise<void> {
  try {
    const table = await parseCsvFile(file, { file: file.name });
    const target = table.columns[table.columns.length - 1];
    const { x, y } = prepareTable(table, undefined, { column: target });
    const [n, k] = x.shape;
    const rows = (t: typeof x, w: number) => Array.from({ length: n }, (_, i) => Array.from(t.data.subarray(i * w, (i + 1) * w)));
    const yr = rows(y, y.shape[1]);
    st.csv = { x: rows(x, k), y: yr, label: yr.map((r) => r[0]), regression: true };
    st.config = preset('csv');
    ($<HTMLOptionElement>('data').querySelector('option[value=csv]') as HTMLOptionElement).disabled = false;
    message(`${file.name}: ${n} rows, ${k} inputs (normalised by the library), target "${target}".`);
    changed();
  } catch (e) {
    showError(e);
  }
}

// ---- drawing ----

const BLUE = [26, 115, 232];
const ORANGE = [245, 124, 0];

function colour(t: number): string {
  // t in [0, 1]: orange (0) → white (0.5) → blue (1)
  const c = t < 0.5 ? ORANGE : BLUE;
  const s = Math.min(1, Math.abs(t - 0.5) * 2);
  return `rgb(${c.map((v) => Math.round(255 + (v - 255) * s)).join(',')})`;
}

/**
 * An n×n picture of values[i·stride + col] (the 2-D plane's grid by default; a filter's k×k
 * weights), coloured orange (lo) → white → blue (hi), drawn at size×size pixels.
 */
function heat(values: Float32Array, stride: number, col: number, size: number, lo?: number, hi?: number, n = GRID): HTMLCanvasElement {
  const cv = document.createElement('canvas');
  cv.width = n; cv.height = n;
  const ctx = cv.getContext('2d')!;
  let mn = Infinity;
  let mx = -Infinity;
  for (let i = 0; i < n * n; i++) { const v = values[i * stride + col]; if (v < mn) mn = v; if (v > mx) mx = v; }
  const a = lo ?? mn;
  const b = hi ?? mx;
  const img = ctx.createImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const t = b > a ? (values[i * stride + col] - a) / (b - a) : 0.5;
    const [r, g, bl] = colour(t).slice(4, -1).split(',').map(Number);
    img.data.set([r, g, bl, 255], i * 4);
  }
  ctx.putImageData(img, 0, 0);
  if (size !== n) {
    const big = document.createElement('canvas');
    big.width = size; big.height = size;
    const bctx = big.getContext('2d')!;
    bctx.imageSmoothingEnabled = false;
    bctx.drawImage(cv, 0, 0, size, size);
    return big;
  }
  return cv;
}

/** Dense layers of the spec with their sizes, in order (the diagram's columns). */
function denseLayers(spec: ModelSpec): { name: string; units: number; activation: string }[] {
  return spec.layers.filter((l) => l.type === 'dense').map((l) => ({ name: l.name as string, units: l.units as number, activation: (l.activation as string) ?? 'linear' }));
}

/** The lecture's neuron numbers: inputs 1…n, then every dense layer's units in order. */
function neuronNumbers(spec: ModelSpec): Map<string, number> {
  const m = new Map<string, number>();
  let k = spec.input.length === 1 ? spec.input[0] : 0;
  for (const l of denseLayers(spec)) for (let u = 0; u < l.units; u++) m.set(`${l.name}:${u}`, ++k);
  return m;
}

/** How the diagram marks each diagnostic (class suffix and words). */
const KIND_WORDS: Record<DiagnosticKind, string> = {
  deadRelu: 'dead ReLU', saturated: 'saturated', vanishingGradients: 'vanishing δ', explodingGradients: 'exploding δ', risingLoss: 'rising loss',
};

/** The diagram's columns: inputs (1-D data), conv layers (one box per filter) and dense layers. */
function diagramColumns(spec: ModelSpec): { name: string; units: number; activation: string; conv: boolean; kernel: number }[] {
  const nIn = spec.input.length === 1 ? spec.input[0] : 0;
  return [
    ...(nIn && nIn <= 16 ? [{ name: 'input', units: nIn, activation: '', conv: false, kernel: 0 }] : []),
    ...spec.layers.filter((l) => l.type === 'conv2d' || l.type === 'dense').map((l) => ({
      name: l.name as string, units: (l.type === 'dense' ? l.units : l.filters) as number, activation: (l.activation as string) ?? 'linear', conv: l.type === 'conv2d',
      kernel: l.type === 'conv2d' ? [l.kernelSize].flat()[0] as number : 0,
    })),
  ];
}

/**
 * The neurons each diagnostic concerns, by `layer:unit`: the warning's units (dead ReLUs,
 * saturated units), a whole layer (vanishing/exploding δ), or the output layer (a rising loss:
 * every update is too large, seen at the output).
 */
function concernedUnits(s: Snapshot, cols: ReturnType<typeof diagramColumns>): Map<string, DiagnosticKind[]> {
  const out = new Map<string, DiagnosticKind[]>();
  for (const w of s.diag?.warnings ?? []) {
    const col = w.layer ? cols.find((c) => c.name === w.layer) : cols.at(-1);
    if (!col) continue;
    for (const u of w.units ?? Array.from({ length: col.units }, (_, i) => i)) {
      const key = `${col.name}:${u}`;
      out.set(key, [...(out.get(key) ?? []), w.kind]);
    }
  }
  return out;
}

/** a of one unit for the chosen example, from the trace the tables show. */
function shownA(s: Snapshot, layer: string, unit: number): number | null {
  const t = s.step?.trace ?? s.trace;
  const a = t?.layers.find((l) => l.name === layer)?.a as number[][] | undefined;
  return a?.[0]?.[unit] ?? null;
}

function drawNetwork(s: Snapshot): void {
  const spec = st.spec!;
  const cols = diagramColumns(spec);
  const maxUnits = Math.max(...cols.map((c) => Math.min(c.units, 16)));
  const cell = 44;
  const gapX = 110;
  const gapY = 56;
  const W = 30 + cols.length * gapX;
  const H = 40 + maxUnits * gapY;
  const pos = (ci: number, u: number, n: number): [number, number] => [20 + ci * gapX, 30 + (maxUnits - Math.min(n, 16)) * gapY / 2 + u * gapY];
  const numbers = neuronNumbers(spec);
  const flags = concernedUnits(s, cols);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('width', String(W));
  svg.setAttribute('role', 'group');
  svg.setAttribute('aria-label', 'network diagram');
  const el = (tag: string, attrs: Record<string, string | number>, parent: Element = svg) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    parent.appendChild(e);
    return e;
  };
  // weights (where a dense layer's inputs are the previous column's units)
  for (let ci = 1; ci < cols.length; ci++) {
    const w = s.weights[cols[ci].name]?.weight;
    const prevUnits = cols[ci - 1].units;
    if (!w || cols[ci].conv || w.length !== cols[ci].units * prevUnits) continue;
    const nPrev = Math.min(prevUnits, 16);
    let mx = 0;
    for (const v of w) mx = Math.max(mx, Math.abs(v));
    for (let u = 0; u < Math.min(cols[ci].units, 16); u++) {
      for (let k = 0; k < nPrev; k++) {
        const v = w[u * prevUnits + k];
        const [x1, y1] = pos(ci - 1, k, prevUnits);
        const [x2, y2] = pos(ci, u, cols[ci].units);
        el('line', { x1: x1 + cell, y1: y1 + cell / 2, x2, y2: y2 + cell / 2, stroke: v >= 0 ? `rgb(${BLUE})` : `rgb(${ORANGE})`, 'stroke-width': (0.5 + 4 * Math.abs(v) / (mx || 1)).toFixed(2), opacity: 0.75 });
      }
    }
  }
  cols.forEach((c, ci) => {
    el('text', { x: pos(ci, 0, c.units)[0], y: 14, 'font-size': 11 }).textContent = c.name === 'input' ? 'inputs' : `${c.name} (${c.activation})`;
    const clickable = c.name !== 'input' && !c.conv;
    for (let u = 0; u < Math.min(c.units, 16); u++) {
      const [x, y] = pos(ci, u, c.units);
      const key = `${c.name}:${u}`;
      const kinds = flags.get(key) ?? [];
      const label = c.name === 'input' ? `input ${u + 1}` : c.conv ? `filter ${u + 1} of ${c.name}` : `neuron ${numbers.get(key)} (${c.name}, unit ${u + 1})`;
      const g = el('g', {
        class: `neuron${st.selected?.layer === c.name && st.selected.unit === u ? ' selected' : ''}${kinds.map((k) => ` flag-${k}`).join('')}`,
        tabindex: clickable ? 0 : -1, role: clickable ? 'button' : 'img',
        'data-neuron': c.name === 'input' ? u + 1 : c.conv ? `${c.name}:${u + 1}` : numbers.get(key)!,
        'aria-label': `${label}${kinds.length ? `: ${kinds.map((k) => KIND_WORDS[k]).join(', ')}` : ''}`,
      });
      const out = c.name === 'input' ? null : s.grid?.[c.name];
      let picture = false;
      if (s.grid && st.prepared?.plane) {
        const src = c.name === 'input' ? st.lastGridInput : out;
        picture = !!src;
        if (src) el('image', { x, y, width: cell, height: cell, href: heat(src.data, src.shape[1], u, cell).toDataURL(), 'image-rendering': 'pixelated' }, g);
      } else if (c.conv && c.kernel && s.weights[c.name]) {
        // the filter's weights (first input channel), blue + / orange −, symmetric scale
        const w = s.weights[c.name].weight;
        const per = w.length / c.units;
        let mx = 0;
        for (let i = u * per; i < (u + 1) * per; i++) mx = Math.max(mx, Math.abs(w[i]));
        el('image', { x, y, width: cell, height: cell, href: heat(w, 1, u * per, cell, -mx, mx, c.kernel).toDataURL(), 'image-rendering': 'pixelated' }, g);
        picture = true;
      }
      // without a 2-D plane: a bounded output (softmax, logistic) fills its box by a for the chosen example
      const a = !picture && (c.activation === 'softmax' || c.activation === 'logistic') ? shownA(s, c.name, u) : null;
      const fill = picture ? 'none' : a === null ? '#eef' : `rgba(${BLUE},${a.toFixed(3)})`;
      el('rect', { class: 'frame', x, y, width: cell, height: cell, fill, stroke: '#333', 'stroke-width': 1 }, g);
      el('text', { x: x + 2, y: y + cell - 3, 'font-size': 10, fill: '#000' }, g).textContent = c.name === 'input' ? `x${u + 1}` : c.conv ? `f${u + 1}` : String(numbers.get(key));
      if (kinds.length) el('title', {}, g).textContent = kinds.map((k) => KIND_WORDS[k]).join(', ');
      if (clickable) {
        const pick = () => { st.selected = { layer: c.name, unit: u }; if (st.last) { drawNetwork(st.last); drawTables(st.last); } };
        g.addEventListener('click', pick);
        g.addEventListener('keydown', (e) => { if ((e as KeyboardEvent).key === 'Enter' || (e as KeyboardEvent).key === ' ') { e.preventDefault(); pick(); } });
      }
    }
    if (c.units > 16) el('text', { x: pos(ci, 0, c.units)[0], y: H - 4, 'font-size': 10 }).textContent = `+ ${c.units - 16} more`;
  });
  const active = [...new Set([...flags.values()].flat())];
  const legend = document.createElement('ul');
  legend.className = 'legend';
  legend.setAttribute('aria-label', 'highlighted neurons');
  legend.replaceChildren(...active.map((k) => {
    const li = document.createElement('li');
    li.innerHTML = `<span class="swatch flag-${k}"></span>`;
    li.append(KIND_WORDS[k]);
    return li;
  }));
  $('net').replaceChildren(svg, legend);
}

/** Weights of one neuron listed in its tables (a dense layer after a convolution has hundreds). */
const SHOWN_WEIGHTS = 12;

/** Fixed decimals as the lecture prints them; tiny values (below the last decimal) in exponent form. */
const f = (v: number, d = 6) => (v !== 0 && Math.abs(v) < 10 ** -d ? v.toExponential(3) : (Object.is(v, -0) ? 0 : v).toFixed(d));

function drawTables(s: Snapshot): void {
  const box = $('tables');
  const step = s.step?.trace ? s.step : null;
  const t = step ? step.trace! : s.trace;
  if (!t) {
    box.innerHTML = '<p class="note">Convolutional network: choose a test digit above; its feature maps are in the Convolution panel.</p>';
    return;
  }
  const spec = st.spec!;
  const numbers = neuronNumbers(spec);
  const dense = t.layers.filter((l) => l.type === 'dense');
  const rows: string[] = [];
  for (const l of dense) {
    const z = (l.z as number[][])[0];
    const a = (l.a as number[][])[0];
    const d = (l.delta as number[][])[0];
    const g = l.dadz ? (l.dadz as number[][])[0] : null;
    z.forEach((_, u) => {
      const n = numbers.get(`${l.name}:${u}`);
      const what = st.config.data === 'digits' && l.name === 'out' ? `out (digit ${u})` : l.name;
      rows.push(`<tr data-neuron="${n}"><th>${n}</th><td>${what}</td><td class="z">${f(z[u])}</td><td class="a">${f(a[u])}</td><td class="dadz">${g ? f(g[u]) : '—'}</td><td class="delta">${f(d[u])}</td></tr>`);
    });
  }
  const rowsName = batchName(st.config.bs, st.prepared?.rows ?? 0);
  // whether the chosen example took part in the update (a test digit never does; a shuffled batch's rows are not known)
  const inBatch = st.config.data === 'digits' ? false : step?.batch ? step.batch.rows.includes(step.example) : null;
  const part = inBatch === true ? 'the forward and backward pass of this example that computed it'
    : inBatch === false ? `this example is not in its batch (${st.config.data === 'digits' ? 'a test digit' : `rows ${step!.batch!.rows.map((r) => r + 1).join(', ')}`}): its pass`
      : 'this example\'s pass (it may or may not be in the shuffled batch)';
  let html = step
    ? `<p id="table-source" class="source" data-source="step">Update ${step.update} (${rowsName}): ${part}, at the weights before the update.${s.rows ? ' The predictions below use the weights after it.' : ''}</p>`
    : `<p id="table-source" class="source" data-source="current">${s.updates ? `The current weights (after update ${s.updates}). Step once to see the numbers of an update.` : 'The initial weights: step 0 (Tables 4–6 for the worked example).'}</p>`;
  if (s.rows) {
    const r = s.rows;
    const body = r.x.map((xr, i) => `<tr><th>${i + 1}</th><td>${xr.map((v) => f(v, 2)).join(', ')}</td><td>${r.t[i].map((v) => f(v, 2)).join(', ')}</td><td class="pred">${r.out[i].map((v) => f(v, 4)).join(', ')}</td><td>${r.out[i].map((v, j) => f(r.t[i][j] - v, 4)).join(', ')}</td></tr>`).join('');
    html += `<table id="pred-table"><caption>Predictions on the first training rows after ${s.updates} update${s.updates === 1 ? '' : 's'}${s.updates < 2 ? ` (Table ${s.updates === 0 ? 4 : 8})` : ''}</caption><thead><tr><th>row</th><th>x</th><th>t</th><th>a (output)</th><th>t − a</th></tr></thead><tbody>${body}</tbody><tfoot><tr><th colspan="4">loss over the training set (${t.lossName}${t.lossName === 'sse' ? ', ½Σ(t − a)²' : ''})</th><td id="train-loss">${f(r.loss, 8)}</td></tr></tfoot></table>`;
  }
  html += `<p class="note">Loss of this example (${t.lossName}): ${f(t.loss, 8)}. δ = ∂E/∂z; ∂E/∂w = δ_i · a_k.</p>`;
  html += `<table id="neuron-table"><caption>z, a, ∂a/∂z and δ per neuron (Table 5, eq 38–43)</caption><thead><tr><th>neuron</th><th>layer</th><th>z</th><th>a</th><th>∂a/∂z</th><th>δ</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  const sel = st.selected;
  const layer = sel && dense.find((l) => l.name === sel.layer);
  if (layer && sel) {
    const li = dense.indexOf(layer);
    const ti = t.layers.indexOf(layer);
    const prevA = (ti === 0 ? t.x as number[][] : t.layers[ti - 1].a as number[][])[0];
    const prevName = (k: number) => (li === 0 ? `${k + 1}` : `${numbers.get(`${dense[li - 1].name}:${k}`)}`);
    const i = numbers.get(`${layer.name}:${sel.unit}`);
    const gw = (layer.grad.weight as number[][])[sel.unit];
    const gb = (layer.grad.bias as number[])[sel.unit];
    const d = (layer.delta as number[][])[0][sel.unit];
    const r = [`<tr><th>w${i},0 (bias)</th><td>${f(d)} × 1</td><td class="dw" data-w="0">${f(gb, 8)}</td></tr>`];
    gw.slice(0, SHOWN_WEIGHTS).forEach((v, k) => r.push(`<tr><th>w${i},${prevName(k)}</th><td>${f(d)} × ${f(prevA[k], 4)}</td><td class="dw" data-w="${prevName(k)}">${f(v, 8)}</td></tr>`));
    if (gw.length > SHOWN_WEIGHTS) r.push(`<tr><td colspan="3" class="more">… and ${gw.length - SHOWN_WEIGHTS} more weights</td></tr>`);
    html += `<table id="dw-table"><caption>∂E/∂w for neuron ${i}, this example (Table 6)</caption><thead><tr><th>weight</th><th>δ${i} · a_k</th><th>∂E/∂w</th></tr></thead><tbody>${r.join('')}</tbody></table>`;
    if (step) html += updateTable(step, s, layer.name, sel.unit, i!, ['0', ...gw.slice(0, SHOWN_WEIGHTS).map((_, k) => prevName(k))], gw.length);
  }
  box.innerHTML = html;
}

/**
 * The lecture's weight-update table (Table 7, eq 44–45) for one neuron: ∂E/∂w of every example of
 * the batch, their sum Δw, and the weights before and after the update.
 */
function updateTable(step: NonNullable<Snapshot['step']>, s: Snapshot, layer: string, unit: number, i: number, inputs: string[], nIn: number): string {
  const shown = inputs.length - 1;
  const gradRow = (tr: NonNullable<typeof step.batch>['sum']): number[] => {
    const l = tr.layers.find((x) => x.name === layer)!;
    return [(l.grad.bias as number[])[unit], ...(l.grad.weight as number[][])[unit].slice(0, shown)];
  };
  const weightRow = (w: PlainWeights): number[] => [w[layer].bias[unit], ...Array.from(w[layer].weight.subarray(unit * nIn, unit * nIn + shown))];
  const tr = (key: string, head: string, v: number[], cls = '') => `<tr data-row="${key}"${cls ? ` class="${cls}"` : ''}><th>${head}</th>${v.map((x, k) => `<td data-w="${inputs[k]}">${f(x, 8)}</td>`).join('')}</tr>`;
  const body: string[] = [];
  const b = step.batch;
  const names = st.prepared?.exampleNames ?? [];
  if (b?.each) b.each.forEach((e, j) => body.push(tr(`d${b.rows[j] + 1}`, st.config.data === 'worked' ? `d${b.rows[j] + 1}` : names[b.rows[j]] ?? `row ${b.rows[j] + 1}`, gradRow(e))));
  if (b) body.push(tr('sum', 'Δw = Σ', gradRow(b.sum), 'sum'));
  body.push(tr('before', 'w before', weightRow(step.before)));
  body.push(tr('after', st.config.opt === 'sgd' ? 'w − α·Δw' : 'w after', weightRow(s.weights), 'after'));
  const more = nIn > shown ? `<p class="note">The first ${shown} of ${nIn} weights.</p>` : '';
  const note = more + (b ? '' : '<p class="note">The shuffled batch\'s rows are drawn inside training; the weights before and after show the update it made.</p>');
  const how = b ? `rows: ∂E/∂w of each of the ${b.rows.length} example${b.rows.length > 1 ? 's' : ''} in the batch, their sum Δw, ` : '';
  const rule = st.config.opt === 'sgd' ? `the weights after the update, w − α·Δw with α = ${st.config.lr}` : `the weights after ${st.config.opt}'s update`;
  return `<table id="update-table"><caption>Update ${step.update} of neuron ${i}'s weights (Table 7, eq 44–45)<br><span class="note">${how}the weights before it and ${rule}</span></caption><thead><tr><th></th>${inputs.map((k) => `<th>w${i},${k}</th>`).join('')}</tr></thead><tbody>${body.join('')}</tbody></table>${note}`;
}

function drawBoundary(s: Snapshot): void {
  const p = st.prepared?.plane;
  const cv = $<HTMLCanvasElement>('boundary');
  if (!p || !s.grid) return;
  const out = s.grid.out ?? Object.values(s.grid).at(-1)!;
  const ctx = cv.getContext('2d')!;
  const S = cv.width;
  const col = out.shape[1] === 2 ? 1 : 0;
  const lo = p.regression ? undefined : 0;
  const hi = p.regression ? undefined : 1;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(heat(out.data, out.shape[1], col, GRID, lo, hi), 0, 0, S, S);
  const labels = [...p.trainLabel, ...p.testLabel];
  const lmin = Math.min(...labels);
  const lmax = Math.max(...labels);
  const dot = (pt: number[], label: number, test: boolean) => {
    const x = ((pt[0] - p.lo[0]) / (p.hi[0] - p.lo[0])) * S;
    const y = ((p.hi[1] - pt[1]) / (p.hi[1] - p.lo[1])) * S;
    ctx.beginPath();
    ctx.arc(x, y, st.config.data === 'worked' || st.config.data === 'xor' ? 7 : 3.5, 0, 2 * Math.PI);
    ctx.fillStyle = colour(p.regression ? (lmax > lmin ? (label - lmin) / (lmax - lmin) : 0.5) : label);
    ctx.fill();
    ctx.lineWidth = test ? 2.5 : 1.5;
    ctx.strokeStyle = test ? '#fff' : '#222';
    ctx.stroke();
  };
  p.train.forEach((pt, i) => dot(pt, p.trainLabel[i], false));
  p.test.forEach((pt, i) => dot(pt, p.testLabel[i], true));
}

function drawCurves(): void {
  if (!st.epochs.length) { $('curves').innerHTML = '<p class="note">No epoch finished yet.</p>'; return; }
  const acc = st.epochs.some((e) => e.accuracy !== undefined);
  $('curves').innerHTML = plotLearningCurves(st.epochs, { width: 460, height: 220 }) + (acc ? plotLearningCurves(st.epochs, { metric: 'accuracy', width: 460, height: 200 }) : '');
}

function drawDiagnostics(s: Snapshot): void {
  const w = s.diag?.warnings ?? [];
  const numbers = st.spec ? neuronNumbers(st.spec) : new Map<string, number>();
  const conv = new Set(st.spec?.layers.filter((l) => l.type === 'conv2d').map((l) => l.name as string));
  const items = w.map((x) => {
    const li = document.createElement('li');
    li.dataset.kind = x.kind;
    li.innerHTML = '<span class="swatch"></span><strong></strong> <span></span> <span class="where"></span> <em></em>';
    li.children[0].classList.add(`flag-${x.kind}`);
    li.children[1].textContent = `${KIND_WORDS[x.kind]}${x.layer ? ` in ${x.layer}` : ''}:`;
    li.children[2].textContent = x.message;
    const layer = x.layer ?? st.spec?.layers.at(-1)?.name as string | undefined;
    const who = x.units
      ? x.units.map((u) => (conv.has(layer!) ? `filter ${u + 1}` : `neuron ${numbers.get(`${layer}:${u}`) ?? u + 1}`)).join(', ')
      : x.kind === 'risingLoss' ? `the output layer ${layer}, where the loss is measured (every layer's updates are too large)` : layer ? `every neuron of ${layer}` : '';
    li.children[3].textContent = who ? `Highlighted: ${who}.` : '';
    li.children[4].textContent = `Advice: ${x.advice}`;
    return li;
  });
  if (!items.length) {
    const li = document.createElement('li');
    li.className = 'ok';
    li.textContent = 'No dead ReLUs, saturation, vanishing/exploding δ or rising loss seen.';
    items.push(li);
  }
  $('diag').replaceChildren(...items);
}

function drawDynamics(s: Snapshot): void {
  const d = s.dynamics;
  if (!d) return;
  const plots = (['weight', 'z', 'a', 'delta'] as const).map((q) => plotLayerDynamics(d, q, { width: 300, height: 200 })).join('');
  const rows = d.layers.filter((l) => l.z).map((l) => `<tr><th>${l.name}</th><td>${l.nIn ?? '—'}</td><td>${l.z ? f(l.z.var, 6) : '—'}</td><td>${l.predictedVarZ === null ? '—' : f(l.predictedVarZ, 6)}</td></tr>`).join('');
  $('dynamics').innerHTML = `${plots}<table><caption>var(z): measured vs eq 64 (n_in · var(W) · var(d))</caption><thead><tr><th>layer</th><th>n_in</th><th>measured var(z)</th><th>eq 64</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function drawCnn(s: Snapshot): void {
  if (!s.cnn) return;
  $('cnn').innerHTML = `<p id="test-accuracy">test accuracy: ${s.cnn.accuracy === null ? '—' : (100 * s.cnn.accuracy).toFixed(1)}%</p>${s.cnn.filters}<h3>Feature maps of the selected digit</h3><div id="feature-maps">${s.cnn.maps}</div>${s.cnn.confusion}`;
}

function drawStatus(s: Snapshot): void {
  const e = st.epochs.at(-1);
  const stopped = s.stopped === 'converged' ? ' — stop criterion reached' : s.stopped === 'maxEpochs' ? ' — max epochs reached' : '';
  $('status').innerHTML = `updates: <span id="updates">${s.updates}</span> · epochs: ${st.epochs.length} · loss: ${e ? e.loss.toPrecision(6) : '—'}${e?.valLoss !== undefined ? ` · val loss ${e.valLoss.toPrecision(4)}` : ''} · <span id="ups">${s.ups.toFixed(0)}</span> updates/s<span id="stopped" data-state="${s.stopped ?? ''}">${stopped}</span>`;
  st.running = s.running;
  $('run').textContent = s.running ? 'Pause' : 'Train';
}

worker.addEventListener('message', (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  if (m.type === 'error') { showError(Object.assign(new Error(m.message), { name: m.name })); st.running = false; $('run').textContent = 'Train'; return; }
  if (m.type === 'model') {
    const url = URL.createObjectURL(new Blob([m.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url; a.download = `playground-${st.config.data}.dendrite`;
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    return;
  }
  st.epochs.push(...m.newEpochs);
  st.last = m;
  if (m.grid && st.prepared?.plane) {
    const g = gridOf(st.prepared.plane);
    st.lastGridInput = { data: g.data as Float32Array, shape: g.shape };
  }
  drawStatus(m);
  drawNetwork(m);
  drawTables(m);
  drawBoundary(m);
  drawCurves();
  drawDiagnostics(m);
  drawDynamics(m);
  drawCnn(m);
  document.body.dataset.updates = String(m.updates);
  document.body.dataset.running = String(m.running);
});
worker.addEventListener('error', (e) => showError(new Error(e.message)));

// ---- start ----

wireControls();
{
  const { config, ignored } = fromHash(location.hash);
  st.config = config;
  if (ignored.length) message(`The link's configuration had problems, so defaults were used for: ${ignored.join('; ')}.`);
}
void reset().catch(showError);
(globalThis as unknown as { playground: unknown }).playground = { get spec() { return st.spec; }, get config() { return st.config; }, get backend() { return st.last?.backend; }, get epochs() { return st.epochs; } };
