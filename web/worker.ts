// The playground's training worker: holds the model, trains it with fitAsync (so a pause message
// is handled between batches), and after every chunk posts what the page draws — all computed
// by dendrite's public API (captureTrace, traceModel, inspectModel, diagnose, the SVG plots).
import {
  buildModel, captureTrace, getBackend, confusionMatrix, diagnose, featureMapsOf, inspectModel, modelToBytes, plotConfusionMatrix,
  plotFeatureMaps, plotFilters, tensor, traceModel, Tensor,
} from '../src/index.js';
import type { EpochLog, FitProgress, Model, ModelSpec, PlainTensor, PlainWeights } from '../src/index.js';

/** What the page sends. */
export type ToWorker =
  | { type: 'setup'; spec: ModelSpec; weights?: PlainWeights; x: PlainTensor; y: PlainTensor; xVal?: PlainTensor; yVal?: PlainTensor;
    grid?: PlainTensor; example: number; cnn: boolean }
  | { type: 'run' } | { type: 'pause' } | { type: 'step' } | { type: 'select'; example: number } | { type: 'save' };

/** The update a step just made, with the numbers that computed it (traced before it). */
export interface StepRecord {
  /** Its number (history.updates after it). */
  update: number;
  /** The chosen example and its trace at the weights the update started from. */
  example: number;
  trace: ReturnType<typeof traceModel> | null;
  /** The weights before the update (the snapshot's weights are those after it). */
  before: PlainWeights;
  /** The batch's rows, when known (batch, or an unshuffled order): its summed trace, and each row's (up to 8 rows). */
  batch: { rows: number[]; sum: ReturnType<typeof traceModel>; each: ReturnType<typeof traceModel>[] | null } | null;
}

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
  /** The update just made (after a step; null while running): what computed it. */
  step: StepRecord | null;
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
let lastStep: StepRecord | null = null;
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
    const conv = m.net.layers.find((l) => l.type === 'conv2d');
    const w = conv?.ownParameters().get('weight');
    const filters = w ? plotFilters(w, { title: `${conv!.name}: filters (${w.shape[2]}×${w.shape[3]})`, cell: 10 }) : '';
    const sets = featureMapsOf(m, rowsOf(val ? val[0] : x, [example]));
    // every map at least 48 px wide, so that small ones (after pooling) keep readable labels
    const side = (t: Tensor) => Math.max(t.shape[t.rank - 1], t.shape[t.rank - 2]);
    const maps = sets.map((s) => plotFeatureMaps(s.maps, { title: s.layer, cell: Math.max(2, Math.ceil(48 / side(s.maps))) })).join('');
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
    trace: traceModel(m, rowsOf(src[0], [example]), rowsOf(src[1], [example])),
    step: lastStep, dynamics: inspectModel(m, xs, ys), diag: diagnose(m, xs, ys, { history: m.history, sampleSize: sample }), cnn, rows,
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

// ---- stepping: one fitAsync call per epoch (the run Node's fit makes), paused between batches ----

/** 'step': the epoch in progress pauses after every batch; 'run': it runs on. */
let mode: 'step' | 'run' = 'step';
/** The fitAsync call of the epoch in progress (null between epochs). */
let epochCall: Promise<void> | null = null;
/** Resumes an epoch paused between two batches. */
let gate: (() => void) | null = null;
/** Told when the epoch in progress pauses. */
let onPause: (() => void) | null = null;
/** Cancels the paused epoch of a run that was reset. */
let session = new AbortController();

function progress(p: FitProgress): Promise<void> | void {
  // the epoch's last batch: the epoch ends (its loss, the stop criterion) before the pause
  if (mode === 'run' || p.batch === p.batches) return;
  return new Promise<void>((r) => { gate = r; onPause?.(); });
}

/** Lets training go on until the epoch in progress pauses (step mode) or ends. */
function advance(): Promise<void> {
  const paused = new Promise<void>((r) => { onPause = r; });
  if (gate) {
    const g = gate;
    gate = null;
    g();
  } else {
    const own = session;
    epochCall = model!.fitAsync(x, y, { ...fitOptions(job!.spec), signal: own.signal, onProgress: progress }).then(() => { if (own === session) epochCall = null; });
  }
  return Promise.race([paused, epochCall!]);
}

/** Rows of the next update when they are known: the whole set (batch), or the next range of an unshuffled order. */
function nextBatchRows(m: Model): number[] | null {
  const n = x.shape[0];
  const t = job!.spec.train ?? {};
  const bs = Math.min(t.batchSize ?? 32, n);
  if (bs < n && t.shuffle !== false) return null;
  const b = m.history.updates % Math.ceil(n / bs);
  return Array.from({ length: Math.min(n, (b + 1) * bs) - b * bs }, (_, i) => b * bs + i);
}

function rowsOf(t: Tensor, rows: number[]): Tensor {
  const per = t.size / t.shape[0];
  const out = new Float32Array(rows.length * per);
  rows.forEach((r, i) => out.set(t.data.subarray(r * per, (r + 1) * per), i * per));
  return tensor(out, { shape: [rows.length, ...t.shape.slice(1)] });
}

async function run(): Promise<void> {
  const m = model!;
  running = true;
  mode = 'run';
  lastStep = null;
  rate = { updates: m.history.updates, t: performance.now(), ups: 0 };
  const started = { ...rate };
  let last = performance.now();
  send();
  while (running && !finished(m)) {
    await advance();
    if (performance.now() - last > Math.max(120, 3 * snapshotMs)) {
      send();
      await nextTurn();
      last = performance.now();
    }
  }
  running = false;
  mode = 'step';
  // the run's average speed (a short run may end before the 250 ms window above)
  const ms = performance.now() - started.t;
  if (ms > 0 && m.history.updates > started.updates) rate.ups = ((m.history.updates - started.updates) * 1000) / ms;
  rate = { ...rate, updates: m.history.updates, t: performance.now() };
  send();
}

/**
 * One update: one batch of the run Node's fit makes (online: one example; mini-batch: the next
 * batch; batch: the whole set). Before it, the chosen example (and the batch's rows, when known)
 * is traced at the weights the update starts from: the numbers that computed it.
 */
async function step(): Promise<void> {
  const m = model!;
  if (finished(m)) return send();
  mode = 'step';
  const src = val && job!.cnn ? val : [x, y] as [Tensor, Tensor];
  const rows = job!.cnn ? null : nextBatchRows(m);
  const record: StepRecord = {
    update: m.history.updates + 1, example, before: weightsOf(m),
    trace: traceModel(m, rowsOf(src[0], [example]), rowsOf(src[1], [example])),
    batch: rows && {
      rows, sum: traceModel(m, rowsOf(x, rows), rowsOf(y, rows)),
      each: rows.length <= 8 ? rows.map((r) => traceModel(m, rowsOf(x, [r]), rowsOf(y, [r]))) : null,
    },
  };
  await advance();
  lastStep = record;
  send();
}

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'setup': {
      running = false;
      mode = 'step';
      session.abort();
      session = new AbortController();
      if (gate) { const g = gate; gate = null; g(); }
      await epochCall;
      epochCall = null;
      lastStep = null;
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
    case 'pause': running = false; mode = 'step'; return;
    case 'step': if (model && !running) await step(); return;
    case 'select': {
      example = msg.example;
      if (!model || running) return;
      if (lastStep?.trace) {
        // the step's numbers for the newly chosen example: traced at the weights it started from
        const now = weightsOf(model);
        model.net.setWeights(lastStep.before);
        const src = val && job!.cnn ? val : [x, y] as [Tensor, Tensor];
        lastStep = { ...lastStep, example, trace: traceModel(model, rowsOf(src[0], [example]), rowsOf(src[1], [example])) };
        model.net.setWeights(now);
      }
      send();
      return;
    }
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
