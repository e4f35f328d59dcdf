import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { Tensor, noGrad } from '../tensor/tensor.js';
import { checkAndClip, checkWeights } from './clip.js';
import { slice } from '../ops/shape.js';
import type { Sequential } from '../nn/sequential.js';
import { RecurrentLayer } from '../nn/rnn.js';
import { GraphNetwork } from '../nn/graph.js';
import { batchRanges, gatherRows } from '../data/batch.js';
import type { Batch, Model } from './model.js';
import type { Callback, EpochLog, History, StopReason, TrainingControl } from './callbacks.js';
import { checkInt, checkKeys, checkObject, checkPositive, optional } from '../validate.js';

/**
 * Runs a network layer by layer on a batch of sequences of any length T (a model is built for
 * one T, but recurrent layers, embeddings and dense layers at every step take any): what
 * truncated BPTT and step-by-step generation need. With `logits`, the last layer stops before
 * its softmax. Stateful layers carry their state from call to call.
 *
 * @example
 * ```ts
 * const probs = forwardSequence(net, oneCharacter); // [1, 1, vocab] with a stateful LSTM inside
 * ```
 */
export function forwardSequence(net: Sequential, x: Tensor, logits = false): Tensor {
  if (net instanceof GraphNetwork) throw new ConfigError(`${net.name} is a graph model: truncated backpropagation through time and step-by-step sequences run on Sequential networks only (train graph models with fit)`);
  const layers = net.layers;
  let h = x;
  for (let i = 0; i < layers.length - 1; i++) h = layers[i].forward(h);
  const last = layers[layers.length - 1];
  if (!logits) return last.forward(h);
  const z = last.forwardLogits(h);
  if (!z) throw new ConfigError(`${last.name} does not end in a softmax, so there are no logits to return`);
  return z;
}

/**
 * The recurrent layers (simpleRNN, lstm, gru) of a network.
 * @example `recurrentLayers(model.net).forEach((l) => { l.stateful = true; })`
 */
export function recurrentLayers(net: Sequential): RecurrentLayer[] {
  return net.layers.filter((l): l is RecurrentLayer => l instanceof RecurrentLayer);
}

/**
 * Resets the carried state of every recurrent layer of a network (stateful mode): the next call
 * starts from zero states, with any batch size.
 *
 * @example
 * ```ts
 * resetStates(model.net); // between independent sequences
 * ```
 */
export function resetStates(net: Sequential): void {
  for (const l of recurrentLayers(net)) l.resetStates();
}

/** Options of {@link fitTruncated}. */
export interface TruncatedFitOptions {
  /** Passes over the data. */
  epochs: number;
  /** Sequences per batch (default 32). */
  batchSize?: number;
  /** Length k of the subsequences that gradients flow through (default 20, the lecture's typical size). */
  truncation?: number;
  /** Reshuffle which sequences share a batch every epoch (default true). */
  shuffle?: boolean;
  /** Clip the global gradient norm to this value before each update. */
  clipNorm?: number;
  /** Clip every gradient element to [−clipValue, clipValue]. */
  clipValue?: number;
  /** Full sequences to evaluate on after every epoch (no truncation). */
  validationData?: [Batch, Batch];
  callbacks?: Callback[];
}

const TRUNCATED_KEYS = ['epochs', 'batchSize', 'truncation', 'shuffle', 'clipNorm', 'clipValue', 'validationData', 'callbacks'];

/**
 * Trains a recurrent model by truncated backpropagation through time: every batch of sequences
 * x [N, T, …] is cut into consecutive subsequences of length k (`truncation`, default 20). The
 * forward and backward pass run on each subsequence in turn and the weights are updated after
 * each; the hidden state (and an LSTM's cell state) at the end of one subsequence initialises
 * the next, with gradients stopped at the boundary. States start from zero for every batch.
 *
 * Targets: per step, y [N, T, outputs], when the model outputs a sequence (`returnSequences`,
 * then a dense layer at every step) — every subsequence has its loss; or only at the end,
 * y [N, outputs] — then the subsequences before the last only carry the state forward, and the
 * loss at the last step backpropagates through the last k steps. With k ≥ T this is exactly full
 * backpropagation through time (Algorithm 3).
 *
 * @example
 * ```ts
 * fitTruncated(model, x, y, { epochs: 10, batchSize: 16, truncation: 20, clipNorm: 1 });
 * ```
 */
export function fitTruncated(model: Model, x: Tensor, y: Tensor, opts: TruncatedFitOptions): History {
  const net = model.net;
  const w = 'fitTruncated';
  checkKeys(checkObject(opts, `${w} options`), TRUNCATED_KEYS, w);
  const epochs = checkInt(opts.epochs, `${w}.epochs`);
  const bs = checkInt(opts.batchSize ?? 32, `${w}.batchSize`);
  const k = checkInt(opts.truncation ?? 20, `${w}.truncation`);
  for (const c of ['clipNorm', 'clipValue'] as const) optional(opts[c], (v) => checkPositive(v, `${w}.${c}`));
  const recurrent = recurrentLayers(net);
  if (recurrent.length === 0) throw new ConfigError('fitTruncated: the model has no recurrent layer (simpleRNN, lstm or gru)');
  if (x.rank < 2) throw new ShapeError(`fitTruncated expects sequences [N, T, …], received ${fmtShape(x.shape)}`);
  const [n, T] = x.shape;
  const perStep = net.outputShape.length >= 2;
  const yRow = net.outputShape.slice(perStep ? 1 : 0);
  const yWant = perStep ? [n, T, ...yRow] : [n, ...yRow];
  if (y.rank !== yWant.length || y.shape.some((d, i) => d !== yWant[i])) {
    throw new ShapeError(`fitTruncated: targets must be ${fmtShape(yWant)} (${perStep ? 'one per step' : 'one per sequence'}) for inputs ${fmtShape(x.shape)}, received ${fmtShape(y.shape)}`);
  }
  const params = net.namedParameters();
  const callbacks = opts.callbacks ?? [];
  const ranges = batchRanges(n, bs);
  let stopReason: StopReason | null = null;
  const control: TrainingControl = {
    stop: (r) => { stopReason = r ?? 'callback'; },
    model, epochs, batchesPerEpoch: ranges.length * (perStep ? Math.ceil(T / k) : 1), samples: n,
  };
  const history = model.history;
  const start = history.epochs.length;
  const wasStateful = recurrent.map((l) => l.stateful);
  const setStateful = (on: boolean) => recurrent.forEach((l, i) => {
    l.stateful = on || wasStateful[i];
    l.resetStates();
  });
  const lossOf = (xc: Tensor, yc: Tensor): Tensor => (model.fused
    ? model.loss.computeFromLogits!(forwardSequence(net, xc, true), yc)
    : model.loss.compute(forwardSequence(net, xc), yc));
  for (const c of callbacks) c.onTrainBegin?.(control);
  try {
    for (let epoch = start + 1; epoch <= start + epochs && !stopReason; epoch++) {
      for (const c of callbacks) c.onEpochBegin?.(epoch, control);
      const t0 = performance.now();
      setStateful(true);
      net.train();
      const order = (opts.shuffle ?? true) ? model.rng.permutation(n) : null;
      let lossSum = 0;
      let rowsSum = 0;
      let normSum = 0;
      let updates = 0;
      for (const [s, e] of ranges) {
        if (stopReason) break;
        resetStates(net);
        const xb = gatherRows(x, order, s, e);
        const yb = gatherRows(y, order, s, e);
        for (let c0 = 0; c0 < T && !stopReason; c0 += k) {
          const c1 = Math.min(T, c0 + k);
          const xc = slice(xb, 1, c0, c1);
          if (!perStep && c1 < T) {
            noGrad(() => forwardSequence(net, xc, model.fused));
            continue;
          }
          for (const c of callbacks) c.onBatchBegin?.(updates, control);
          const yc = perStep ? slice(yb, 1, c0, c1) : yb;
          const loss = lossOf(xc, yc);
          const lv = loss.item();
          loss.backward();
          normSum += checkAndClip(params, lv, opts, () => null, 'unchanged');
          model.optimizer.step(params);
          net.zeroGrad();
          const rows = (e - s) * (perStep ? c1 - c0 : 1);
          lossSum += model.loss.reduction === 'sum' ? lv : lv * rows;
          rowsSum += rows;
          updates++;
          history.updates++;
          for (const c of callbacks) c.onBatchEnd?.(updates - 1, lv, control);
        }
      }
      checkWeights(params, epoch, null);
      const log: EpochLog = {
        epoch,
        loss: model.loss.reduction === 'sum' ? lossSum : lossSum / Math.max(1, rowsSum),
        seconds: (performance.now() - t0) / 1000,
        gradNorm: updates ? normSum / updates : 0,
      };
      // evaluation and callbacks (diagnostics, checkpoints) see the layers as they were given
      setStateful(false);
      if (opts.validationData) {
        const ev = model.evaluate(opts.validationData[0], opts.validationData[1]);
        log.valLoss = ev.loss;
        if (ev.accuracy !== undefined) log.valAccuracy = ev.accuracy;
      }
      history.epochs.push(log);
      for (const c of callbacks) c.onEpochEnd?.(log, control);
    }
  } finally {
    setStateful(false);
    net.eval();
  }
  history.stopped = stopReason ?? 'maxEpochs';
  for (const c of callbacks) c.onTrainEnd?.(history);
  return history;
}
