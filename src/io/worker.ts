import { ConfigError, DendriteError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import type { EpochLog, History } from '../train/callbacks.js';
import { buildModel, fitOptionsFromSpec, parseSpec } from './spec.js';
import type { ModelSpec } from './spec.js';

/**
 * Training in a Web Worker (or a Node `worker_threads` worker), streaming epochs and weights
 * back: {@link serveTraining} in the worker, {@link trainInWorker} on the page. The model is
 * described by its spec (the CLI's JSON), so nothing but plain data crosses the thread boundary;
 * the worker trains with `fitAsync`, so an abort message is handled between batches.
 */

/** Weights as plain arrays: layer name → parameter name → values (the layouts of `getWeights()`). @example `weights.dense_1.weight` */
export type PlainWeights = Record<string, Record<string, Float32Array>>;

/** A tensor as plain data. @example `{ data: Float32Array.of(1, 2, 3, 4), shape: [2, 2] }` */
export interface PlainTensor {
  data: Float32Array;
  shape: number[];
}

/** What to train: a spec (its `train` section gives epochs, batch size, seed…), data and optional start weights. @example `{ spec, x: { data: xs, shape: [n, 2] }, y: { data: ys, shape: [n, 1] } }` */
export interface TrainJob {
  spec: ModelSpec;
  x: PlainTensor;
  y: PlainTensor;
  /** Start from these weights instead of the spec's seeded initialisation. */
  weights?: PlainWeights;
}

/** The end of a worker run. @example `const { history, weights } = await trainInWorker(worker, job);` */
export interface WorkerTrainingResult {
  history: History;
  weights: PlainWeights;
}

/** The part of `Worker` / `MessagePort` / Node's `worker_threads` objects the helpers use. @example `serveTraining(parentPort as MessageEndpoint)` */
export interface MessageEndpoint {
  postMessage(message: unknown): void;
  /** Node's EventEmitter style (`worker`, `parentPort`): the listener receives the data. */
  on?(type: 'message', listener: (data: unknown) => void): unknown;
  off?(type: 'message', listener: (data: unknown) => void): unknown;
  /** The DOM style (`Worker`, `self`): the listener receives an event with `.data`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- DOM and Node declare the event differently
  addEventListener?(type: 'message', listener: (event: any) => void): unknown;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  removeEventListener?(type: 'message', listener: (event: any) => void): unknown;
}

type Msg =
  | { dendrite: 'train'; id: number; job: TrainJob }
  | { dendrite: 'abort'; id: number }
  | { dendrite: 'epoch'; id: number; log: EpochLog; weights: PlainWeights }
  | { dendrite: 'done'; id: number; history: History; weights: PlainWeights }
  | { dendrite: 'error'; id: number; name: string; message: string };

function listen(port: MessageEndpoint, fn: (m: Msg) => void): () => void {
  const pick = (d: unknown): void => {
    if (d && typeof d === 'object' && 'dendrite' in d) fn(d as Msg);
  };
  if (port.on) {
    port.on('message', pick);
    return () => port.off?.('message', pick);
  }
  if (port.addEventListener) {
    const l = (e: { data: unknown }): void => pick(e.data);
    port.addEventListener('message', l);
    return () => port.removeEventListener?.('message', l);
  }
  throw new ConfigError('message endpoint: expected a Worker, MessagePort or worker_threads port (with on() or addEventListener())');
}

function plainWeights(w: Record<string, Record<string, Tensor>>): PlainWeights {
  const out: PlainWeights = {};
  for (const [layer, params] of Object.entries(w)) {
    out[layer] = {};
    for (const [name, t] of Object.entries(params)) out[layer][name] = Float32Array.from(t.data);
  }
  return out;
}

/**
 * Serves training jobs in a worker: call it once in the worker script (`port` defaults to the
 * worker's global scope, pass `parentPort` in Node). Each job is built from its spec and trained
 * with `fitAsync`; after every epoch the log and the weights are posted back.
 *
 * @example
 * ```ts
 * // train-worker.js (bundled with the page, or a Node worker_threads script)
 * import { serveTraining } from 'dendrite';
 * serveTraining(); // in Node: serveTraining(parentPort)
 * ```
 */
export function serveTraining(port: MessageEndpoint = globalThis as unknown as MessageEndpoint): void {
  const aborts = new Map<number, AbortController>();
  listen(port, (m) => {
    if (m.dendrite === 'abort') {
      aborts.get(m.id)?.abort();
      return;
    }
    if (m.dendrite !== 'train') return;
    const stop = new AbortController();
    aborts.set(m.id, stop);
    const run = async (): Promise<void> => {
      const spec = parseSpec(m.job.spec, 'worker job spec');
      const model = buildModel(spec);
      if (m.job.weights) model.net.setWeights(m.job.weights, true);
      const x = new Tensor(Float32Array.from(m.job.x.data), m.job.x.shape);
      const y = new Tensor(Float32Array.from(m.job.y.data), m.job.y.shape);
      const opts = fitOptionsFromSpec(spec);
      opts.callbacks = [...(opts.callbacks ?? []), {
        onEpochEnd: (log) => port.postMessage({ dendrite: 'epoch', id: m.id, log, weights: plainWeights(model.net.getWeights()) }),
      }];
      const history = await model.fitAsync(x, y, { ...opts, signal: stop.signal });
      port.postMessage({ dendrite: 'done', id: m.id, history, weights: plainWeights(model.net.getWeights()) });
    };
    run().catch((e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      port.postMessage({ dendrite: 'error', id: m.id, name: err.name, message: err.message });
    }).finally(() => aborts.delete(m.id));
  });
}

let nextId = 1;

/**
 * Trains `job` in a worker that runs {@link serveTraining}; resolves with the history and the
 * final weights. `onEpoch` receives each epoch's log and weights as they arrive; `signal` stops
 * the run after the batch in progress (the result then has `history.stopped === 'aborted'` and
 * the weights of the last completed batch). A failure in the worker rejects with an error of the
 * same name and message.
 *
 * @example
 * ```ts
 * const worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
 * const { history, weights } = await trainInWorker(worker, { spec, x: { data: xs, shape: [n, 784] }, y: { data: ys, shape: [n, 10] } }, {
 *   onEpoch: (log) => console.log(log.epoch, log.loss),
 * });
 * model.net.setWeights(weights);
 * ```
 */
export function trainInWorker(worker: MessageEndpoint, job: TrainJob,
  opts: { onEpoch?: (log: EpochLog, weights: PlainWeights) => void; signal?: AbortSignal } = {}): Promise<WorkerTrainingResult> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const onAbort = (): void => worker.postMessage({ dendrite: 'abort', id });
    const unlisten = listen(worker, (m) => {
      if (m.id !== id) return;
      if (m.dendrite === 'epoch') {
        opts.onEpoch?.(m.log, m.weights);
        return;
      }
      if (m.dendrite !== 'done' && m.dendrite !== 'error') return;
      unlisten();
      opts.signal?.removeEventListener('abort', onAbort);
      if (m.dendrite === 'done') {
        resolve({ history: m.history, weights: m.weights });
      } else {
        const e = new DendriteError(m.message);
        e.name = m.name;
        reject(e);
      }
    });
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.postMessage({ dendrite: 'train', id, job });
    if (opts.signal?.aborted) onAbort();
  });
}
