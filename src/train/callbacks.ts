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
