// The playground's training worker: holds the model, trains it with fitAsync (so a pause message
// is handled between batches), and after every chunk posts what the page draws — all computed
// by dendrite's public API (captureTrace, traceModel, inspectModel, diagnose, the SVG plots).
import {
  buildModel, captureTrace, getBackend, confusionMatrix, diagnose, featureMapsOf, inspectModel, modelToBytes, plotConfusionMatrix,
  plotFeatureMaps, plotFilters, tensor, traceModel, Tensor,
} from '../src/index.js';
import type { EpochLog, Model, ModelSpec, PlainTensor, PlainWeights } from '../src/index.js';

/** What the page sends. */
export type ToWorker =
  | { type: 'setup'; spec: ModelSpec; weights?: PlainWeights; x: PlainTensor; y: PlainTensor; xVal?: PlainTensor; yVal?: PlainTensor;
    grid?: PlainTensor; example: number; cnn: boolean }
  | { type: 'run' } | { type: 'pause' } | { type: 'step' } | { type: 'select'; example: number } | { type: 'save' };

/** One snapshot of the run. */
export interface Snapshot {
  type: 'state';
  /** The backend the worker trains on. */
  backend: string;
  updates: number;
  newEpochs: EpochLog[];
  running: boolean;
  stopped: string | null;
  ups: number;
  weights: PlainWeights;
  /** Each layer's output over the plotting grid (2-D data), by layer name. */
  grid: Record<string, { data: Float32Array; shape: number[] }> | null;
  trace: ReturnType<typeof traceModel> | null;
  dynamics: ReturnType<typeof inspectModel> | null;
  diag: ReturnType<typeof diagnose> | null;
  cnn: { filters: string; maps: string; confusion: string; accuracy: number | null } | null;
  /** Table 4's layout for the first training rows: inputs, targets, outputs; and the loss over the training set. */
  rows: { x: number[][]; t: number[][]; out: number[][]; loss: number } | null;
}

/** What the worker sends. */
export type FromWorker = Snapshot | { type: 'error'; name: string; message: string } | { type: 'model'; bytes: Uint8Array };

const post = (m: FromWorker, transfer: Transferable[] = []): void => (globalThis as unknown as Worker).postMessage(m, transfer);
const plain = (t: Tensor): { data: Float32Array; shape: number[] } => ({ data: Float32Array.from(t.data), shape: [...t.shape] });
const toTensor = (p: PlainTensor): Tensor => tensor(Float32Array.from(p.data), { shape: p.shape });

let job: Extract<ToWorker, { type: 'setup' }> | null = null;
let model: Model | null = null;
let x: Tensor;
let y: Tensor;
let val: [Tensor, Tensor] | undefined;
let grid: Tensor | null = null;
let example = 0;
let running = false;
let stop: AbortController | null = null;
let sentEpochs = 0;
let rate = { updates: 0, t: 0, ups: 0 };

function weightsOf(m: Model): PlainWeights {
  const out: PlainWeights = {};
  for (const [layer, params] of Object.entries(m.net.getWeights())) {
    out[layer] = {};
    for (const [k, t] of Object.entries(params)) out[layer][k] = Float32Array.from(t.data);
  }
  return out;
}

function fitOptions(spec: ModelSpec) {
  const t = spec.train ?? {};
  return { epochs: 1, batchSize: t.batchSize, shuffle: t.shuffle, stopWhen: t.stopWhen, validationData: val, yieldEveryMs: 8 };
}

function finished(m: Model): string | null {
  const h = m.history;
  if (h.stopped === 'converged') return 'converged';
  if (h.epochs.length >= (job!.spec.train?.epochs ?? 1)) return 'maxEpochs';
  return null;
}

function snapshot(): Snapshot {
  const m = model!;
  const now = performance.now();
  if (now - rate.t > 250 && m.history.updates > rate.updates) {
    rate = { updates: m.history.updates, t: now, ups: rate.t ? ((m.history.updates - rate.updates) * 1000) / (now - rate.t) : 0 };
  }
  const row = (t: Tensor, i: number) => tensor(Float32Array.from(t.data.subarray(i * (t.size / t.shape[0]), (i + 1) * (t.size / t.shape[0]))), { shape: [1, ...t.shape.slice(1)] });
  let gridOut: Snapshot['grid'] = null;
  if (grid) {
    const outputs = y.shape[1];
    const raw = captureTrace(m, grid, tensor(new Float32Array(grid.shape[0] * outputs), { shape: [grid.shape[0], outputs] }), { mode: 'eval' });
    gridOut = {};
    for (const l of raw.layers) gridOut[l.layer.name] = plain(l.a);
  }
  const sample = Math.min(x.shape[0], job!.cnn ? 64 : 256);
  const head = (t: Tensor) => tensor(Float32Array.from(t.data.subarray(0, sample * (t.size / t.shape[0]))), { shape: [sample, ...t.shape.slice(1)] });
  const xs = head(x);
  const ys = head(y);
  let cnn: Snapshot['cnn'] = null;
  if (job!.cnn) {
    const conv = m.net.layers.find((l) => l.name === 'conv')!;
    const filters = plotFilters(conv.ownParameters().get('weight')!, { title: 'filters (5×5)', cell: 10 });
    const sets = featureMapsOf(m, row(val ? val[0] : x, example));
    const maps = sets.map((s) => plotFeatureMaps(s.maps, { title: s.layer })).join('');
    let confusion = '';
    let accuracy: number | null = null;
    if (val) {
      const p = m.predict(val[0]);
      const mat = confusionMatrix(p, val[1], 10);
      confusion = plotConfusionMatrix(mat, { title: 'confusion matrix (test digits)' });
      accuracy = m.evaluate(val[0], val[1]).accuracy ?? null;
    }
    cnn = { filters, maps, confusion, accuracy };
  }
  const src = val && job!.cnn ? val : [x, y] as [Tensor, Tensor];
  let rows: Snapshot['rows'] = null;
  if (!job!.cnn) {
    const k = Math.min(8, x.shape[0]);
    const first = (t: Tensor) => (head(t).toArray() as number[][]).slice(0, k);
    rows = { x: first(x), t: first(y), out: (m.predict(head(x)).toArray() as number[][]).slice(0, k), loss: m.evaluate(x, y).loss };
  }
  return {
    type: 'state', backend: getBackend().name, updates: m.history.updates, newEpochs: m.history.epochs.slice(sentEpochs), running, stopped: finished(m),
    ups: rate.ups, weights: weightsOf(m), grid: gridOut,
    trace: job!.cnn ? null : traceModel(m, row(src[0], example), row(src[1], example)),
    dynamics: inspectModel(m, xs, ys), diag: diagnose(m, xs, ys, { history: m.history, sampleSize: sample }), cnn, rows,
  };
}

/** How long the last snapshot took (the run sends the next one after at least 3× that, so drawing never dominates training). */
let snapshotMs = 0;

function send(): void {
  const t0 = performance.now();
  const s = snapshot();
  sentEpochs = model!.history.epochs.length;
  post(s);
  snapshotMs = performance.now() - t0;
}

const nextTurn = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

async function run(): Promise<void> {
  const m = model!;
  running = true;
  stop = new AbortController();
  rate = { updates: m.history.updates, t: performance.now(), ups: 0 };
  const started = { ...rate };
  let last = performance.now();
  send();
  while (running && !finished(m)) {
    await m.fitAsync(x, y, { ...fitOptions(job!.spec), signal: stop.signal });
    if (performance.now() - last > Math.max(120, 3 * snapshotMs)) {
      send();
      await nextTurn();
      last = performance.now();
    }
  }
  running = false;
  // the run's average speed (a short run may end before the 250 ms window above)
  const ms = performance.now() - started.t;
  if (ms > 0 && m.history.updates > started.updates) rate.ups = ((m.history.updates - started.updates) * 1000) / ms;
  rate = { ...rate, updates: m.history.updates, t: performance.now() };
  send();
}

/** One update: one batch (a whole epoch when the batch is the training set). */
async function step(): Promise<void> {
  const m = model!;
  if (finished(m)) return send();
  const ac = new AbortController();
  await m.fitAsync(x, y, { ...fitOptions(job!.spec), signal: ac.signal, onProgress: (p) => { if (p.batch < p.batches) ac.abort(); } });
  send();
}

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'setup': {
      running = false;
      stop?.abort();
      job = msg;
      model = buildModel(msg.spec);
      if (msg.weights) model.net.setWeights(msg.weights, true);
      x = toTensor(msg.x);
      y = toTensor(msg.y);
      val = msg.xVal && msg.yVal ? [toTensor(msg.xVal), toTensor(msg.yVal)] : undefined;
      grid = msg.grid ? toTensor(msg.grid) : null;
      example = msg.example;
      sentEpochs = 0;
      rate = { updates: 0, t: 0, ups: 0 };
      send();
      return;
    }
    case 'run': if (model && !running) await run(); return;
    case 'pause': running = false; stop?.abort(); return;
    case 'step': if (model && !running) await step(); return;
    case 'select': example = msg.example; if (model && !running) send(); return;
    case 'save': {
      if (!model || !job) return;
      const bytes = await modelToBytes(model, job.spec);
      post({ type: 'model', bytes }, [bytes.buffer]);
      return;
    }
  }
}

let queue = Promise.resolve();
self.addEventListener('message', (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  if (msg.type === 'pause') { void handle(msg); return; }
  queue = queue.then(() => handle(msg)).catch((err: unknown) => {
    running = false;
    const er = err instanceof Error ? err : new Error(String(err));
    post({ type: 'error', name: er.name, message: er.message });
  });
});
