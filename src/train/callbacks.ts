import type { Model } from './model.js';

/** What one epoch of training produced (one entry of {@link History.epochs}). */
export interface EpochLog {
  /** 1-based epoch number. */
  epoch: number;
  /** Training loss (see `FitOptions` for how it is measured). */
  loss: number;
  /** Wall time of this epoch's training, in seconds. */
  seconds: number;
  /** Validation loss, when validation data was given. */
  valLoss?: number;
  /** Training accuracy (classifiers). */
  accuracy?: number;
  /** Validation accuracy (classifiers). */
  valAccuracy?: number;
  /** Global L2 norm of the gradient, averaged over the epoch's updates. */
  gradNorm?: number;
  /** Extra values added by callbacks (diagnostics, learning rate, …). */
  [key: string]: unknown;
}

/** Why training stopped. */
export type StopReason = 'converged' | 'maxEpochs' | 'earlyStopping' | 'callback' | 'aborted';

/** The record of a `fit()` run. */
export interface History {
  epochs: EpochLog[];
  stopped: StopReason;
  /** Parameter updates made. */
  updates: number;
  /** Set when early stopping put back the weights of an earlier (the best) epoch: that epoch's number. */
  restoredEpoch?: number;
}

/**
 * One line about how training ended, for people: why it stopped, after how many epochs, and the
 * loss of the weights the model now has — after early stopping, the restored epoch's.
 *
 * @example
 * ```ts
 * console.log(describeTraining(model.fit(x, y, opts)));
 * // stopped: earlyStopping after 14 epochs (140 updates); restored the weights of epoch 9: loss 0.0213, val_loss 0.0301
 * ```
 */
export function describeTraining(h: History): string {
  const base = `stopped: ${h.stopped} after ${h.epochs.length} epochs (${h.updates} updates)`;
  const last = h.epochs[h.epochs.length - 1];
  if (!last) return base;
  const losses = (e: EpochLog) => `loss ${e.loss.toPrecision(6)}${typeof e.valLoss === 'number' ? `, val_loss ${e.valLoss.toPrecision(6)}` : ''}`;
  const restored = h.restoredEpoch !== undefined ? h.epochs.find((e) => e.epoch === h.restoredEpoch) : undefined;
  if (restored && restored !== last) return `${base}; restored the weights of epoch ${restored.epoch}: ${losses(restored)}`;
  return `${base}, ${losses(last)}`;
}

/** Control handed to callbacks: ask training to stop after the current epoch or batch. */
export interface TrainingControl {
  stop(reason?: StopReason): void;
  /** The model being trained (callbacks read or restore its weights through `model.net`). */
  readonly model: Model;
  /** The most epochs this `fit()` call runs. */
  readonly epochs: number;
  /** Updates (batches) per epoch. */
  readonly batchesPerEpoch: number;
  /** Training examples (after any validation split). */
  readonly samples: number;
}

/**
 * Hooks into `fit()`. Every method is optional.
 *
 * @example
 * ```ts
 * const logger: Callback = { onEpochEnd: (log) => console.log(log.epoch, log.loss) };
 * ```
 */
export interface Callback {
  onTrainBegin?(control: TrainingControl): void;
  onEpochBegin?(epoch: number, control: TrainingControl): void;
  onBatchBegin?(batch: number, control: TrainingControl): void;
  onBatchEnd?(batch: number, loss: number, control: TrainingControl): void;
  /** Called after validation; may add keys to `log` (they are kept in the history). */
  onEpochEnd?(log: EpochLog, control: TrainingControl): void;
  onTrainEnd?(history: History): void;
}
