import { ConfigError, NumericError, ShapeError, fmtShape } from '../errors.js';
import { Tensor, backwardCollecting, noGrad, releaseTensors } from '../tensor/tensor.js';
import { bufferPool } from '../backend/buffer-pool.js';
import type { PoolScope } from '../backend/buffer-pool.js';
import { Rng } from '../tensor/rng.js';
import { getBackend } from '../backend/index.js';
import type { Sequential } from '../nn/sequential.js';
import { GraphNetwork } from '../nn/graph.js';
import { Dense } from '../nn/dense.js';
import { applyLayer, applyLayerMany } from '../nn/sequential.js';
import { isMultiInput } from '../nn/symbolic.js';
import { add } from '../ops/elementwise.js';
import { concat } from '../ops/shape.js';
import { resolveLoss } from '../nn/losses.js';
import type { Loss } from '../nn/losses.js';
import type { Reduction } from '../ops/losses.js';
import type { Optimizer } from '../optim/optimizer.js';
import { batchRanges, gatherRows } from '../data/batch.js';
import { checkWeights, checkedUpdate } from './clip.js';
import type { toClassIndices } from './metrics.js';
import { checkBool, checkInt, checkKeys, checkObject, checkPositive, optional } from '../validate.js';
import type { Callback, EpochLog, History, StopReason, TrainingControl } from './callbacks.js';
import type { Preprocessor } from '../data/preprocess.js';
import type { LayerSpec } from '../nn/registry.js';
import type { OptimizerSpec } from '../optim/registry.js';
import type { ModelSpec } from '../io/spec.js';
import type { ModelJSON } from '../io/model-json.js';
// serialisation lives in io/ (it builds models from specs); the methods below delegate to it
import { deserializeModel, serializeModel } from '../io/model-json.js';
import { graphSpec } from '../io/spec.js';

/**
 * A batch of examples: one tensor, or one tensor per input (or target per output) of a
 * {@link GraphNetwork} with several, each with the same number of rows.
 *
 * @example
 * ```ts
 * const x: Batch = [images, metadata]; // a two-input graph
 * ```
 */
export type Batch = Tensor | readonly Tensor[];

const asList = (b: Batch): readonly Tensor[] => (b instanceof Tensor ? [b] : b);

/**
 * Training data made batch by batch instead of held whole (a data generator): `fit(source, opts)`
 * asks it for the examples of each batch, by their position in an epoch's order (shuffled when
 * `shuffle` is on), so only the batch in progress is in memory — e.g. one-hot sequences built from
 * a text's character indices per batch, as PyTorch users build them in a data loader. `batch` may
 * return new tensors or reuse its own: `fit` neither keeps nor gives back what it returns.
 *
 * @example
 * ```ts
 * const { x, y } = textWindows(vocab.encode(text), 32); // character indices [M, 32]
 * const source: BatchSource = {
 *   size: x.shape[0],
 *   batch: (rows) => ({ x: vocab.oneHot(gatherRows(x, rows, 0, rows.length)), y: vocab.oneHot(gatherRows(y, rows, 0, rows.length)) }),
 * };
 * model.fit(source, { epochs: 5, batchSize: 32 });
 * ```
 */
export interface BatchSource {
  /** Examples in an epoch (the positions `batch` is asked for are in [0, size)). */
  readonly size: number;
  /** The inputs and targets of the examples `rows` (positions in [0, size), in this order): one batch. */
  batch(rows: Int32Array): { x: Batch; y: Batch };
}

/** Whether `v` is a {@link BatchSource} (not a tensor or a list of them). */
function isBatchSource(v: unknown): v is BatchSource {
  return typeof v === 'object' && v !== null && !(v instanceof Tensor) && !Array.isArray(v) &&
    typeof (v as BatchSource).batch === 'function';
}

/** The size of a batch source; ConfigError unless it is a positive integer. */
function sourceSize(source: BatchSource, where: string): number {
  const n = source.size;
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${where}: a BatchSource's size must be a positive integer, received ${JSON.stringify(n)}`);
  return n;
}

/** Batch [s, e) of a source (rows `order[s..e)`, or s..e−1), checked to have e − s rows. */
function sourceBatch(source: BatchSource, order: Int32Array | null, s: number, e: number, where: string): [Batch, Batch] {
  const rows = order ? order.subarray(s, e) : Int32Array.from({ length: e - s }, (_, i) => s + i);
  const b = source.batch(rows);
  if (typeof b !== 'object' || b === null || b.x === undefined || b.y === undefined) {
    throw new ConfigError(`${where}: BatchSource.batch must return {x, y}, received ${b === null ? 'null' : typeof b}`);
  }
  for (const [k, v] of [['x', b.x], ['y', b.y]] as const) {
    for (const t of asList(v)) {
      if (!(t instanceof Tensor) || t.shape[0] !== e - s) {
        throw new ShapeError(`${where}: BatchSource.batch was asked for ${e - s} rows, but its ${k} has ${t instanceof Tensor ? `shape ${fmtShape(t.shape)}` : 'a value that is not a Tensor'}`);
      }
    }
  }
  return [b.x, b.y];
}

/** Rows [s, e) of every tensor of a batch (in `order` when given), keeping its form. */
function gatherBatch<B extends Batch>(b: B, order: ArrayLike<number> | null, s: number, e: number): B {
  return (b instanceof Tensor ? gatherRows(b, order, s, e) : b.map((t) => gatherRows(t, order, s, e))) as B;
}

/** How a {@link Model} learns. */
export interface ModelConfig {
  /**
   * Loss name (`sse`, `mse`, `crossEntropy`, `binaryCrossEntropy`), a spec object
   * `{type: 'mse', reduction: 'sum'}` (as in specs), or a {@link Loss}.
   */
  loss: string | { type: string; reduction?: Reduction } | Loss;
  /** Reduction over the batch; default `'sum'` for sse, `'mean'` otherwise. */
  reduction?: Reduction;
  optimizer: Optimizer;
  /** Seed of the shuffling generator (default 1). */
  seed?: number;
}

/** Options of {@link Model.fit}. */
export interface FitOptions {
  /** Maximum number of epochs (passes over the training data). */
  epochs: number;
  /** Examples per update: 1 = online, N = batch, B = mini-batch gradient descent. Default 32. */
  batchSize?: number;
  /** Reshuffle the examples every epoch (from the model's seeded generator). Default true. */
  shuffle?: boolean;
  /**
   * Convergence criterion: stop when the training loss of the weights at the end of an epoch is
   * below `loss`. With it, each epoch's `loss` in the history is that end-of-epoch loss over the
   * whole training set; without it, the loss accumulated over the epoch's batches.
   */
  stopWhen?: { loss: number };
  /** Data to validate on after every epoch. */
  validationData?: [Batch, Batch];
  /**
   * Fraction in (0, 1) of the rows held out for validation instead of `validationData`: the LAST
   * rows, taken before any shuffling (as Keras does), so shuffle the data first if it is ordered
   * (e.g. with a seeded split from `data/`). Both sets must keep at least one row.
   */
  validationSplit?: number;
  /** Clip the global gradient norm to this value before each update. */
  clipNorm?: number;
  /** Clip every gradient element to [−clipValue, clipValue]. */
  clipValue?: number;
  callbacks?: Callback[];
}

/**
 * Where a {@link Model.fitAsync} run is, after a batch.
 *
 * @example
 * ```ts
 * const onProgress = (p: FitProgress) => console.log(`epoch ${p.epoch}/${p.epochs}, batch ${p.batch}/${p.batches}`);
 * ```
 */
export interface FitProgress {
  /** Epoch in progress (1-based, counting resumed runs). */
  epoch: number;
  /** Epochs this call runs at most. */
  epochs: number;
  /** Batches done in this epoch, and per epoch. */
  batch: number;
  batches: number;
  /** Loss of the batch just applied. */
  loss: number;
  /** Share of this call's batches done, in (0, 1] (for a progress bar). */
  fraction: number;
}

/**
 * Options of {@link Model.fitAsync}: those of `fit` plus the control of a non-blocking run.
 *
 * @example
 * ```ts
 * const opts: AsyncFitOptions = { epochs: 5, batchSize: 64, signal: controller.signal, yieldEveryMs: 16 };
 * ```
 */
export interface AsyncFitOptions extends FitOptions {
  /** Stops training after the batch in progress (weights of the last completed batch are kept). */
  signal?: AbortSignal;
  /**
   * Called after every batch. When it returns a promise, training waits for it before the next
   * batch (e.g. to apply one update at a time): the run stays the one `fit` would make.
   */
  onProgress?: (p: FitProgress) => void | Promise<void>;
  /** Longest stretch of batches between two turns of the event loop, in ms (default 10; 0 = after every batch). */
  yieldEveryMs?: number;
}

/** Every key of {@link FitOptions} (unknown keys are a ConfigError with the closest one). */
const FIT_KEYS = ['epochs', 'batchSize', 'shuffle', 'stopWhen', 'validationData', 'validationSplit', 'clipNorm', 'clipValue', 'callbacks'];
/** The keys of {@link AsyncFitOptions}: those of `fit` and the control of a non-blocking run. */
const ASYNC_FIT_KEYS = [...FIT_KEYS, 'signal', 'onProgress', 'yieldEveryMs'];

/** Result of {@link Model.evaluate}. */
export interface Evaluation {
  /** Loss over the data, with the model's reduction (sum or mean over examples). */
  loss: number;
  /** Fraction classified correctly (per step for sequence outputs; classifiers: models ending in softmax or trained with cross-entropy). */
  accuracy?: number;
}

/**
 * A network with a loss and an optimiser: `fit()`, `predict()`, `evaluate()` (Keras-like).
 * Training is synchronous and deterministic: the same seed gives bit-identical weights.
 *
 * @example
 * ```ts
 * const model = new Model(net, { loss: 'sse', optimizer: new SGD({ learningRate: 0.2 }) });
 * const history = model.fit(x, y, { epochs: 20000, batchSize: 4, shuffle: false, stopWhen: { loss: 0.0001 } });
 * model.predict(x).toArray();
 * ```
 */
export class Model {
  readonly net: Sequential;
  readonly loss: Loss;
  optimizer: Optimizer;
  /** Generator for shuffling (state saved in checkpoints). */
  readonly rng: Rng;
  /** History of the last fit (and of resumed runs). */
  history: History = { epochs: [], stopped: 'maxEpochs', updates: 0 };
  /**
   * The data preparation the model expects (normalisers, encoders fitted on its training data):
   * saved and loaded with the model, so `loadModel(dir).model.preprocessing` maps new tables.
   */
  preprocessing?: Preprocessor;

  constructor(net: Sequential, config: ModelConfig) {
    this.net = net;
    this.loss = resolveLoss(config.loss, config.reduction);
    this.optimizer = config.optimizer;
    this.rng = new Rng(config.seed ?? 1);
  }

  /**
   * A Keras-like summary: layers, output shapes and parameter counts, then the loss and optimiser.
   *
   * @example
   * ```ts
   * console.log(model.summary());
   * ```
   */
  summary(): string {
    const o = this.optimizer.config();
    const opt = Object.entries(o).filter(([k, v]) => k !== 'type' && v !== undefined).map(([k, v]) => `${k} ${v}`).join(', ');
    return `${this.net.summary()}\nloss: ${this.loss.name} (${this.loss.reduction} over the batch${this.fused ? ', fused with the softmax' : ''})\noptimizer: ${o.type} (${opt})`;
  }

  /**
   * The model described as a spec (the format the CLI reads and `saveModel` writes): input shape,
   * every layer's `config()`, loss, reduction, optimiser settings and the initialisation seed.
   *
   * @example
   * ```ts
   * const spec = model.toSpec(); // {input: [2], layers: [{type: 'dense', units: 3, …}], loss: 'sse', …}
   * const twin = buildModel(spec);
   * ```
   */
  toSpec(): ModelSpec {
    const net = this.net instanceof GraphNetwork ? graphSpec(this.net) : { input: [...this.net.inputShape], layers: this.net.layers.map((l) => l.config() as LayerSpec) };
    const optimizer = this.optimizer.config();
    // the schedule scales the base rate (learningRate is the current, scheduled one)
    if (this.optimizer.schedule) Object.assign(optimizer, { learningRate: this.optimizer.baseLearningRate, schedule: this.optimizer.schedule.config() });
    return JSON.parse(JSON.stringify({
      ...net,
      loss: this.loss.name,
      reduction: this.loss.reduction,
      optimizer: optimizer as OptimizerSpec,
      train: { seed: this.net.seed },
    })) as ModelSpec;
  }

  /**
   * The model as JSON without its weights (spec, preprocessing, tensor table, optimiser and
   * generator states, history); the weights are {@link Model.weightsBuffer}. `JSON.stringify`
   * uses it. Rebuild with {@link Model.fromJSON}.
   *
   * @example
   * ```ts
   * const json = JSON.stringify(model);
   * const weights = model.weightsBuffer();
   * const again = Model.fromJSON(JSON.parse(json), weights);
   * ```
   */
  toJSON(): ModelJSON {
    return serializeModel(this).json;
  }

  /**
   * Every stored tensor (parameters, layer state, optimiser state) as little-endian float32 bytes,
   * in the order of {@link Model.toJSON}'s `tensors` table.
   *
   * @example
   * ```ts
   * const bytes = new Uint8Array(model.weightsBuffer());
   * ```
   */
  weightsBuffer(): ArrayBuffer {
    return serializeModel(this).weights;
  }

  /**
   * Rebuilds a model from {@link Model.toJSON} and {@link Model.weightsBuffer}: it predicts
   * bit-identically and continues training exactly. `ConfigError`/`ShapeError` for bad input.
   *
   * @example
   * ```ts
   * const again = Model.fromJSON(model.toJSON(), model.weightsBuffer());
   * ```
   */
  static fromJSON(json: ModelJSON, weights: ArrayBuffer | Uint8Array): Model {
    return deserializeModel(json, weights);
  }

  /** True when the model's last layer is a softmax and the loss is cross-entropy: fused training. */
  get fused(): boolean {
    return this.loss.computeFromLogits !== null && this.net.endsInSoftmax();
  }

  /** Whether accuracy is meaningful (softmax output or cross-entropy loss). */
  get isClassifier(): boolean {
    return this.net.endsInSoftmax() || this.loss.name === 'crossEntropy';
  }

  /**
   * Loss of a batch with gradients recorded (fused softmax + cross-entropy when possible). A
   * graph with several outputs takes one target per output; its loss is the sum of the outputs'
   * losses, and `output` is the first output.
   */
  lossOf(x: Batch, y: Batch): { loss: Tensor; output: Tensor } {
    this.checkTargets(x, y);
    const ys = asList(y);
    if (this.fused) {
      const z = this.net.forwardLogits(x as Tensor);
      return { loss: this.loss.computeFromLogits!(z, ys[0]), output: z };
    }
    const outs = this.outputsOf(x);
    const losses = outs.map((o, i) => this.loss.compute(o, ys[i]));
    return { loss: losses.slice(1).reduce((a, l) => add(a, l), losses[0]), output: outs[0] };
  }

  /** Every output of the network for a batch. */
  private outputsOf(x: Batch): Tensor[] {
    if (this.net instanceof GraphNetwork) return this.net.forwardMany(asList(x));
    if (!(x instanceof Tensor)) {
      if (x.length !== 1) throw new ShapeError(`${this.net.name} has one input, received ${x.length} batches`);
      return [this.net.forward(x[0])];
    }
    return [this.net.forward(x)];
  }

  /** Every output for a prediction: a network of Dense layers alone in one pass ({@link Dense.forwardChain}), else {@link outputsOf}. */
  private predictOutputs(x: Batch): Tensor[] {
    const chain = x instanceof Tensor && !(this.net instanceof GraphNetwork) ? Dense.forwardChain(this.net.layers, x) : null;
    return chain ? [chain] : this.outputsOf(x);
  }

  private checkTargets(x: Batch, y: Batch): void {
    const xs = asList(x);
    const ys = asList(y);
    const outs = this.net instanceof GraphNetwork ? this.net.outputs.map((o) => [o.source, o.shape] as const)
      : [[this.net.layers[this.net.layers.length - 1].name, this.net.outputShape] as const];
    if (ys.length !== outs.length) throw new ShapeError(`${this.net.name} has ${outs.length} output${outs.length > 1 ? 's' : ''} (${outs.map((o) => o[0]).join(', ')}), received ${ys.length} target tensors`);
    ys.forEach((t, i) => {
      if (t.shape[0] !== xs[0].shape[0]) {
        throw new ShapeError(`targets have ${t.shape[0]} rows but inputs have ${xs[0].shape[0]}`);
      }
      const want = outs[i][1].reduce((a, b) => a * b, 1);
      if (t.size / Math.max(1, t.shape[0]) !== want) {
        throw new ShapeError(`${outs[i][0]} produces ${fmtShape(['*', ...outs[i][1]])}, but the targets are ${fmtShape(t.shape)}`);
      }
    });
  }

  /**
   * Trains the network. Throws `NumericError` (naming the first layer with a non-finite value)
   * if a loss or gradient becomes NaN/Inf; the weights are then restored to the last ones that gave a finite loss.
   *
   * @example
   * ```ts
   * const history = model.fit(x, y, { epochs: 5, batchSize: 64 });
   * ```
   */
  fit(x: Batch, y: Batch, opts: FitOptions): History;
  /**
   * Trains on data made batch by batch ({@link BatchSource}); `stopWhen` and `validationSplit`
   * need the whole data and are `ConfigError`s here (`validationData` is fine).
   *
   * @example
   * ```ts
   * const history = model.fit(source, { epochs: 5, batchSize: 32 });
   * ```
   */
  fit(data: BatchSource, opts: FitOptions): History;
  fit(a: Batch | BatchSource, b: Batch | FitOptions, c?: FitOptions): History {
    const [x, y, opts] = isBatchSource(a) ? [a, null, b as FitOptions] : [a, b as Batch, c!];
    const run = this.training(x, y, opts);
    for (;;) {
      const r = run.next(false);
      if (r.done) return r.value;
    }
  }

  /**
   * {@link Model.fit} that gives the event loop a turn between batches (at least every
   * `yieldEveryMs`), so a page stays responsive and a worker can receive messages while it trains.
   * It performs exactly the same computation as `fit`: the same seed and backend give
   * bit-identical weights. `signal` stops training after the batch in progress: the weights are
   * those of the last completed batch, `history.stopped` is `'aborted'`, `history.updates` counts
   * the batches applied, and an epoch cut short is not in `history.epochs`.
   *
   * @example
   * ```ts
   * const stop = new AbortController();
   * const history = await model.fitAsync(x, y, {
   *   epochs: 10, batchSize: 64, signal: stop.signal,
   *   onProgress: (p) => bar.value = p.fraction,
   * });
   * if (history.stopped === 'aborted') console.log(`stopped after ${history.updates} updates`);
   * ```
   */
  async fitAsync(x: Batch, y: Batch, opts: AsyncFitOptions): Promise<History>;
  /**
   * {@link Model.fitAsync} on data made batch by batch ({@link BatchSource}).
   *
   * @example
   * ```ts
   * const history = await model.fitAsync(source, { epochs: 5, batchSize: 32 });
   * ```
   */
  async fitAsync(data: BatchSource, opts: AsyncFitOptions): Promise<History>;
  async fitAsync(a: Batch | BatchSource, b: Batch | AsyncFitOptions, c?: AsyncFitOptions): Promise<History> {
    const [x, y, opts] = isBatchSource(a) ? [a, null, b as AsyncFitOptions] : [a, b as Batch, c!];
    const every = opts.yieldEveryMs ?? 10;
    if (!(typeof every === 'number' && every >= 0)) {
      throw new ConfigError(`fitAsync: yieldEveryMs must be a number ≥ 0, received ${JSON.stringify(opts.yieldEveryMs)}`);
    }
    if (opts.signal?.aborted) {
      this.history.stopped = 'aborted';
      return this.history;
    }
    const run = this.training(x, y, opts, ASYNC_FIT_KEYS);
    let last = performance.now();
    for (;;) {
      const r = run.next(opts.signal?.aborted === true);
      if (r.done) return r.value;
      const wait = opts.onProgress?.(r.value);
      if (wait) {
        await wait;
        last = performance.now();
      } else if (performance.now() - last >= every) {
        await yieldToEventLoop();
        last = performance.now();
      }
    }
  }

  /**
   * `fit`'s way through a batch: one update from the loss of the whole batch (targets checked
   * first); a non-finite value is located by running the layers on the batch.
   */
  private batchStrategy(): BatchStrategy {
    return {
      updatesPerBatch: 1,
      prepare: (x, y) => this.checkTargets(x, y),
      pieces: (xb, yb, rows) => [{ x: xb, y: yb, rows }],
      lossOf: (xb, yb) => this.lossOf(xb, yb),
      locate: (xb) => this.firstNonFiniteLayer(xb),
    };
  }

  /** `fit` as a generator: yields after every batch, stops with `'aborted'` when `next(true)`. */
  private training(x: Batch | BatchSource, y: Batch | null, opts: FitOptions, keys = FIT_KEYS): Generator<FitProgress, History, boolean> {
    checkKeys(checkObject(opts, 'fit options'), keys, 'fit');
    return trainingLoop(this, x, y, opts, this.batchStrategy(), 'fit');
  }

  /** Name of the first layer whose output on xb is not finite, or null. */
  private firstNonFiniteLayer(xb: Batch): string | null {
    const be = getBackend();
    return noGrad(() => {
      if (this.net instanceof GraphNetwork) {
        return firstNonFiniteCall(this.net, asList(xb));
      }
      let h = asList(xb)[0];
      for (const l of this.net.layers) {
        h = applyLayer(l, h);
        if (!be.allFinite(h.data)) return l.name;
      }
      return null;
    });
  }

  /**
   * Forward pass in inference mode, in batches, without recording gradients.
   * Returns probabilities for softmax models.
   */
  predict(x: Batch, opts: { batchSize?: number } = {}): Tensor {
    return this.predictAll(x, opts)[0];
  }

  /**
   * Like {@link Model.predict}, returning every output of a graph with several (one tensor per output).
   *
   * @example
   * ```ts
   * const [digit, parity] = model.predictAll([image, extra]);
   * ```
   */
  predictAll(x: Batch, opts: { batchSize?: number } = {}): Tensor[] {
    const was = this.net.training;
    this.net.eval();
    const scope = bufferPool.open();
    try {
      return noGrad(() => {
        const bs = opts.batchSize ?? 1024;
        const n = asList(x)[0].shape[0];
        if (n <= bs) return this.predictOutputs(x);
        const parts: Tensor[][] = [];
        for (const [s, e] of batchRanges(n, bs)) {
          const xb = gatherBatch(x, null, s, e);
          parts.push(this.predictOutputs(xb));
          releaseTensors(asList(xb).filter((t) => !asList(x).includes(t)));
        }
        const out = parts[0].map((_, k) => concat(parts.map((p) => p[k]), 0));
        releaseTensors(parts.flat().filter((p) => out.every((o) => o.data.buffer !== p.data.buffer)));
        return out;
      });
    } finally {
      bufferPool.close(scope);
      this.net.train(was);
    }
  }

  /** Loss (with the model's reduction over all examples) and, for classifiers, accuracy. */
  evaluate(x: Batch, y: Batch, opts: { batchSize?: number } = {}): Evaluation {
    this.checkTargets(x, y);
    const was = this.net.training;
    this.net.eval();
    const scope = bufferPool.open();
    try {
      return noGrad(() => {
        const n = asList(x)[0].shape[0];
        let total = 0;
        let correct = 0;
        let judged = 0;
        for (const [s, e] of batchRanges(n, opts.batchSize ?? 1024)) {
          const xb = gatherBatch(x, null, s, e);
          const yb = gatherBatch(y, null, s, e);
          const { loss, output } = this.lossOf(xb, yb);
          total += this.loss.reduction === 'sum' ? loss.item() : loss.item() * (e - s);
          if (this.isClassifier) {
            const rows = predictionRows(output);
            correct += countCorrect(output.data, asList(yb)[0].data, rows);
            judged += rows;
          }
          releaseTensors([loss, output, ...asList(xb), ...asList(yb)]);
        }
        const out: Evaluation = { loss: this.loss.reduction === 'sum' ? total : total / n };
        if (this.isClassifier) out.accuracy = correct / judged;
        return out;
      });
    } finally {
      bufferPool.close(scope);
      this.net.train(was);
    }
  }
}

/**
 * How a batch becomes parameter updates: the one part of the training loop in which `fit` (one
 * update per batch) and truncated backpropagation through time (one update per subsequence, the
 * state carried between them) differ. The loop itself (epochs, shuffling, callbacks, checks for
 * non-finite values, clipping, the optimiser, the history) is {@link trainingLoop}.
 *
 * The buffers of what a step computes go back to the buffer pool when the step ends: a strategy
 * that keeps a tensor from one step to the next (as the stateful recurrent layers truncated BPTT
 * relies on keep their state) keeps it with `keepTensor(t)` or a `clone()`, else reading it later
 * throws a `DendriteError`.
 *
 * @example
 * ```ts
 * const whole: BatchStrategy = { updatesPerBatch: 1, pieces: (x, y, rows) => [{ x, y, rows }], lossOf: (x, y) => model.lossOf(x, y) };
 * ```
 */
export interface BatchStrategy {
  /** Updates per batch (for progress and {@link TrainingControl.batchesPerEpoch}). */
  readonly updatesPerBatch: number;
  /** Checks the whole data once the options are checked, before any validation split. */
  prepare?(x: Batch, y: Batch): void;
  /**
   * The pieces of a batch of `rows` examples that each give one update, in order; `rows` of a
   * piece is what a `'mean'` loss averaged over. Work between updates (running the network
   * forward to carry a state) happens while the pieces are taken.
   */
  pieces(x: Batch, y: Batch, rows: number): Iterable<{ x: Batch; y: Batch; rows: number }>;
  /** Loss of a piece with gradients recorded, and the output that accuracy is counted on. */
  lossOf(x: Batch, y: Batch): { loss: Tensor; output: Tensor };
  /** The layer where a non-finite value first appears for a piece's input, when it can tell. */
  locate?(x: Batch): string | null;
  /** Called before an epoch's batches, after them (before evaluation and callbacks), and once at the end. */
  beginEpoch?(): void;
  endEpoch?(): void;
  end?(): void;
}

/**
 * The training loop of `fit`, `fitAsync` and `fitTruncated`, as a generator that yields after
 * every update (the progress so far) and stops with reason `'aborted'` when the value passed to
 * `next()` is true. `opts` has been checked for unknown keys; `where` names the caller in errors.
 */
export function* trainingLoop(model: Model, data: Batch | BatchSource, targets: Batch | null, opts: FitOptions, strategy: BatchStrategy,
  where: string): Generator<FitProgress, History, boolean> {
  const epochs = checkInt(opts.epochs, `${where}.epochs`);
  const bs = checkInt(opts.batchSize ?? 32, `${where}.batchSize`);
  optional(opts.shuffle, (v) => checkBool(v, `${where}.shuffle`));
  if (opts.stopWhen !== undefined) {
    checkKeys(checkObject(opts.stopWhen, `${where}.stopWhen`), ['loss'], `${where}.stopWhen`);
    checkPositive(opts.stopWhen.loss, `${where}.stopWhen.loss`);
  }
  for (const k of ['clipNorm', 'clipValue'] as const) optional(opts[k], (v) => checkPositive(v, `${where}.${k}`));
  const source = isBatchSource(data) ? data : null;
  // x, y: the whole data, when it is given whole
  let [x, y] = source ? [null, null] : [data as Batch, targets!];
  let validationData = opts.validationData;
  if (source) {
    for (const k of ['stopWhen', 'validationSplit'] as const) {
      if (opts[k] !== undefined) throw new ConfigError(`${where}.${k} needs the whole training data; with a BatchSource, give validationData instead`);
    }
  } else {
    strategy.prepare?.(x!, y!);
    if (opts.validationSplit !== undefined) {
      [x, y, validationData] = splitForValidation(x!, y!, opts.validationSplit, validationData);
    }
  }
  const net = model.net;
  const n = source ? sourceSize(source, where) : asList(x!)[0].shape[0];
  const ranges = batchRanges(n, bs);
  const batches = ranges.length * strategy.updatesPerBatch;
  const callbacks = opts.callbacks ?? [];
  let stopReason: StopReason | null = null;
  const control: TrainingControl = {
    stop: (r) => { stopReason = r ?? 'callback'; },
    model, epochs, batchesPerEpoch: batches, samples: n,
  };
  const history = model.history;
  const startEpoch = history.epochs.length;
  const evalBatch = { batchSize: Math.max(bs, 256) };
  for (const c of callbacks) c.onTrainBegin?.(control);
  const params = net.namedParameters();
  // gradients left by the user's own backward() calls are not part of this run's first update
  net.zeroGrad();
  let good: Float32Array[] | null = null;
  let prevGood: Float32Array[] | null = null;
  // the buffers of a batch and of a step go back to the pool when they end (see releaseTensors)
  let batchScope: PoolScope | null = null;
  let stepScope: PoolScope | null = null;
  try {
    for (let epoch = startEpoch + 1; epoch <= startEpoch + epochs && !stopReason; epoch++) {
      for (const c of callbacks) c.onEpochBegin?.(epoch, control);
      const t0 = performance.now();
      // the last good weights (that gave a finite loss): this epoch's starting weights, which
      // its first update checks, and the previous epoch's, which its first update checked
      prevGood = good;
      good = params.map(([, p]) => p.data.slice());
      strategy.beginEpoch?.();
      net.train();
      const order = (opts.shuffle ?? true) ? model.rng.permutation(n) : null;
      let lossSum = 0;
      let rowsSum = 0;
      let correct = 0;
      let judged = 0;
      let normSum = 0;
      let updates = 0;
      for (const [s, e] of ranges) {
        if (stopReason) break;
        batchScope = bufferPool.open();
        const [xb, yb] = source ? sourceBatch(source, order, s, e, where) : [gatherBatch(x!, order, s, e), gatherBatch(y!, order, s, e)];
        for (const piece of strategy.pieces(xb, yb, e - s)) {
          const u = updates;
          for (const c of callbacks) c.onBatchBegin?.(u, control);
          stepScope = bufferPool.open();
          const { loss, output } = strategy.lossOf(piece.x, piece.y);
          const lv = loss.item();
          // the step's intermediates and gradients: dead once the update and the counts are done
          const made = backwardCollecting(loss);
          let norm: number;
          try {
            norm = checkedUpdate(params, lv, opts, model.optimizer, () => strategy.locate?.(piece.x) ?? null, 'restored');
          } catch (err) {
            if (err instanceof NumericError) {
              const keep = u === 0 && prevGood ? prevGood : good;
              params.forEach(([, p], i) => p.data.set(keep![i]));
            }
            throw err;
          }
          // (the list taken once: net.zeroGrad() would name every parameter again each update);
          // the gradients go back to the pool with the step
          for (const [, p] of params) {
            if (p.grad) made.push(p.grad);
            p.grad = null;
          }
          updates++;
          history.updates++;
          normSum += norm;
          lossSum += model.loss.reduction === 'sum' ? lv : lv * piece.rows;
          rowsSum += piece.rows;
          if (model.isClassifier) {
            const rows = predictionRows(output);
            correct += countCorrect(output.data, asList(piece.y)[0].data, rows);
            judged += rows;
          }
          if (!net.layers.some((l) => l.tracing)) releaseTensors(made);
          bufferPool.close(stepScope);
          for (const c of callbacks) c.onBatchEnd?.(u, lv, control);
          const abort = yield {
            epoch, epochs, batch: u + 1, batches, loss: lv,
            fraction: (epoch - startEpoch - 1 + (u + 1) / batches) / epochs,
          };
          if (abort) stopReason = 'aborted';
          if (stopReason) break;
        }
        // (a source's tensors are its own: it may keep them)
        if (!source) releaseTensors([...asList(xb), ...asList(yb)]);
        bufferPool.close(batchScope);
      }
      checkWeights(params, epoch, good);
      if (stopReason === 'aborted') break;
      const seconds = (performance.now() - t0) / 1000;
      const log: EpochLog = { epoch, loss: 0, seconds, gradNorm: updates ? normSum / updates : 0 };
      // evaluation and callbacks (diagnostics, checkpoints) see the layers as they were given
      strategy.endEpoch?.();
      if (opts.stopWhen) {
        const ev = model.evaluate(x!, y!, evalBatch);
        log.loss = ev.loss;
        if (ev.accuracy !== undefined) log.accuracy = ev.accuracy;
      } else {
        log.loss = model.loss.reduction === 'sum' ? lossSum : lossSum / Math.max(1, rowsSum);
        if (model.isClassifier && judged) log.accuracy = correct / judged;
      }
      if (validationData) {
        const ev = model.evaluate(validationData[0], validationData[1], evalBatch);
        log.valLoss = ev.loss;
        if (ev.accuracy !== undefined) log.valAccuracy = ev.accuracy;
      }
      history.epochs.push(log);
      for (const c of callbacks) c.onEpochEnd?.(log, control);
      if (!stopReason && opts.stopWhen && log.loss < opts.stopWhen.loss) stopReason = 'converged';
    }
  } finally {
    for (const sc of [stepScope, batchScope]) if (sc) bufferPool.close(sc);
    strategy.end?.();
    net.eval();
  }
  history.stopped = stopReason ?? 'maxEpochs';
  for (const c of callbacks) c.onTrainEnd?.(history);
  return history;
}

/** One turn of the event loop: a macrotask, so timers, messages, input and rendering can run. */
function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => void };
  if (typeof g.setImmediate === 'function') return new Promise((resolve) => g.setImmediate!(resolve));
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        ch.port1.close();
        resolve();
      };
      ch.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Splits off the last `fraction` of the rows as validation data (Keras's `validation_split`):
 * the first ⌊n·(1 − fraction)⌋ rows train, the rest validate. `ConfigError` when the fraction is
 * outside (0, 1), leaves either set empty, or `validationData` is given as well.
 *
 * @example
 * ```ts
 * const [xt, yt, [xv, yv]] = splitForValidation(x, y, 0.2); // 100 rows → 80 train, 20 validation
 * ```
 */
export function splitForValidation<X extends Batch, Y extends Batch>(x: X, y: Y, fraction: number, validationData?: [Batch, Batch]): [X, Y, [X, Y]] {
  if (validationData) throw new ConfigError('fit: give either validationData or validationSplit, not both');
  if (typeof fraction !== 'number' || !Number.isFinite(fraction) || fraction <= 0 || fraction >= 1) {
    throw new ConfigError(`fit: validationSplit must be a fraction in (0, 1), received ${JSON.stringify(fraction)}`);
  }
  const n = asList(x)[0].shape[0];
  const nTrain = Math.floor(n * (1 - fraction) + 1e-9); // 1e-9: 10 × (1 − 0.3) is 7, not 6.999…
  if (nTrain < 1 || nTrain >= n) {
    throw new ConfigError(`fit: validationSplit ${fraction} of ${n} rows leaves ${nTrain} for training and ${n - nTrain} for validation; both sets need at least one row`);
  }
  return [
    gatherBatch(x, null, 0, nTrain), gatherBatch(y, null, 0, nTrain),
    [gatherBatch(x, null, nTrain, n), gatherBatch(y, null, nTrain, n)],
  ];
}

/** The first layer call of a graph whose output on xs is not finite (`name` or `name#call`), or null. */
function firstNonFiniteCall(net: GraphNetwork, xs: readonly Tensor[]): string | null {
  const be = getBackend();
  const values = new Map(net.inputs.map((t, i) => [t, xs[i]]));
  for (const n of net.nodes) {
    const ins = n.inputs.map((t) => values.get(t)!);
    const out = isMultiInput(n.layer) ? applyLayerMany(n.layer, ins) : applyLayer(n.layer, ins[0]);
    if (!be.allFinite(out.data)) return n.output.source;
    values.set(n.output, out);
  }
  return null;
}

/** Predictions in an output: one per example, or one per step for sequence outputs [N, T, classes]. */
function predictionRows(output: Tensor): number {
  return output.rank >= 3 ? output.size / output.shape[output.rank - 1] : output.shape[0];
}

/**
 * Rows whose arg-max output equals the arg-max target (a single output: both on the same side of
 * 0.5), the classes as {@link toClassIndices} reads them: one backend pass
 * (`countMatchingRows`).
 *
 * @example
 * ```ts
 * countCorrect(Float32Array.of(0.9, 0.1, 0.2, 0.8), Float32Array.of(1, 0, 1, 0), 2); // 1
 * ```
 */
export function countCorrect(out: Float32Array, target: Float32Array, rows: number): number {
  if (rows === 0) return 0;
  return getBackend().countMatchingRows(out, target, rows, out.length / rows);
}
