import { ConfigError, ShapeError, fmtShape } from '../errors.js';
import { Tensor, noGrad } from '../tensor/tensor.js';
import { slice } from '../ops/shape.js';
import type { Sequential } from '../nn/sequential.js';
import { RecurrentLayer } from '../nn/rnn.js';
import { GraphNetwork } from '../nn/graph.js';
import { trainingLoop } from './model.js';
import type { Batch, BatchStrategy, Model } from './model.js';
import type { Callback, History } from './callbacks.js';
import { checkInt, checkKeys, checkObject } from '../validate.js';

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
  return net.runLayers(x, logits);
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
  const w = 'fitTruncated';
  checkKeys(checkObject(opts, `${w} options`), TRUNCATED_KEYS, w);
  const k = checkInt(opts.truncation ?? 20, `${w}.truncation`);
  const run = trainingLoop(model, x, y, opts, truncatedStrategy(model, x, y, k), w);
  for (;;) {
    const r = run.next(false);
    if (r.done) return r.value;
  }
}

/**
 * Truncated BPTT as a way through a batch: states start from zero, then every subsequence of k
 * steps is one update (per-step targets) or, with one target per sequence, the subsequences
 * before the last only carry the state forward without gradients. The recurrent layers are
 * stateful while an epoch's batches run, and as they were given otherwise.
 */
function truncatedStrategy(model: Model, x: Tensor, y: Tensor, k: number): BatchStrategy {
  const net = model.net;
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
  const wasStateful = recurrent.map((l) => l.stateful);
  const setStateful = (on: boolean) => recurrent.forEach((l, i) => {
    l.stateful = on || wasStateful[i];
    l.resetStates();
  });
  return {
    updatesPerBatch: perStep ? Math.ceil(T / k) : 1,
    beginEpoch: () => setStateful(true),
    endEpoch: () => setStateful(false),
    end: () => setStateful(false),
    *pieces(xb, yb, rows) {
      resetStates(net);
      for (let c0 = 0; c0 < T; c0 += k) {
        const c1 = Math.min(T, c0 + k);
        const xc = slice(xb as Tensor, 1, c0, c1);
        if (!perStep && c1 < T) {
          noGrad(() => forwardSequence(net, xc, model.fused));
          continue;
        }
        yield { x: xc, y: perStep ? slice(yb as Tensor, 1, c0, c1) : yb, rows: rows * (perStep ? c1 - c0 : 1) };
      }
    },
    lossOf(xc, yc) {
      const output = forwardSequence(net, xc as Tensor, model.fused);
      const loss = model.fused ? model.loss.computeFromLogits!(output, yc as Tensor) : model.loss.compute(output, yc as Tensor);
      return { loss, output };
    },
  };
}
