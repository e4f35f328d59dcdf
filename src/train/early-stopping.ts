import { ConfigError } from '../errors.js';
import type { WeightMap } from '../nn/sequential.js';
import type { Callback, EpochLog, History, TrainingControl } from './callbacks.js';
import { checkBool, checkInt, checkKeys, checkNumber, checkObject, checkOneOf } from '../validate.js';

/** Quantities {@link EarlyStopping} can monitor (keys of an epoch log). */
export type Monitor = 'valLoss' | 'loss' | 'valAccuracy' | 'accuracy';

/** Options of {@link EarlyStopping}. */
export interface EarlyStoppingOptions {
  /**
   * p, an integer ≥ 0: training stops when p epochs in a row have not improved on the best value
   * (Algorithm 1's `while patienceCount < p`, and Keras's rule). 0 behaves as 1: the first epoch
   * without improvement stops training.
   */
  patience: number;
  /** What to watch (default `'valLoss'`, the lecture's validation error). Losses are minimised, accuracies maximised. */
  monitor?: Monitor;
  /**
   * An epoch improves when its value is at least `minDelta` better than the best so far
   * (default 0: a value equal to the best counts as an improvement, as in Algorithm 1's ≥).
   */
  minDelta?: number;
  /** First epoch of this `fit()` call (1-based) that is monitored; earlier ones are a warm-up (default 1). */
  startEpoch?: number;
  /** Restore the best epoch's parameters when training ends (default true: Algorithm 1 returns θ_best). */
  restoreBestWeights?: boolean;
}

/**
 * Early stopping, the lecture's Algorithm 1: after each epoch the monitored validation error is
 * compared with the best so far; if the new value is ≤ the best (by at least `minDelta`), it
 * becomes the best, the parameters are remembered (a copy of every weight and of layer state such
 * as batch-norm running statistics) and the patience count resets; otherwise the count grows,
 * and when it reaches `patience` training stops (`history.stopped === 'earlyStopping'`). When
 * training ends, for whatever reason, the best parameters are restored. Needs validation data
 * (`validationData` or `validationSplit` in `fit()`) unless it monitors a training quantity.
 *
 * After `fit()`: {@link EarlyStopping.bestEpoch}, {@link EarlyStopping.best},
 * {@link EarlyStopping.stoppedEpoch}.
 *
 * @example
 * ```ts
 * const es = new EarlyStopping({ patience: 10 });
 * model.fit(x, y, { epochs: 500, validationSplit: 0.2, callbacks: [es] });
 * console.log(`best epoch ${es.bestEpoch}: validation loss ${es.best}`);
 * ```
 */
export class EarlyStopping implements Callback {
  readonly patience: number;
  readonly monitor: Monitor;
  readonly minDelta: number;
  readonly startEpoch: number;
  readonly restoreBestWeights: boolean;
  /** Best monitored value seen (∞ for losses, −∞ for accuracies before any epoch). */
  best = Infinity;
  /** Epoch (as numbered in the history) whose parameters are the best, or null. */
  bestEpoch: number | null = null;
  /** Epoch after which training was stopped by this callback, or null. */
  stoppedEpoch: number | null = null;
  /** Consecutive epochs without improvement. */
  patienceCount = 0;
  private bestWeights: WeightMap | null = null;
  private control: TrainingControl | null = null;
  private seen = 0;

  constructor(opts: EarlyStoppingOptions) {
    const w = 'earlyStopping';
    checkKeys(checkObject(opts, w), ['patience', 'monitor', 'minDelta', 'startEpoch', 'restoreBestWeights'], w);
    this.patience = checkInt(opts.patience, `${w}.patience`, 0);
    this.monitor = checkOneOf(opts.monitor ?? 'valLoss', ['valLoss', 'loss', 'valAccuracy', 'accuracy'] as const, `${w}.monitor`);
    this.minDelta = checkNumber(opts.minDelta ?? 0, `${w}.minDelta`, { min: 0 });
    this.startEpoch = checkInt(opts.startEpoch ?? 1, `${w}.startEpoch`);
    this.restoreBestWeights = checkBool(opts.restoreBestWeights ?? true, `${w}.restoreBestWeights`);
  }

  /** True when larger values are better (accuracies). */
  private get maximise(): boolean {
    return this.monitor === 'valAccuracy' || this.monitor === 'accuracy';
  }

  onTrainBegin(control: TrainingControl): void {
    this.control = control;
    this.best = this.maximise ? -Infinity : Infinity;
    this.bestEpoch = null;
    this.stoppedEpoch = null;
    this.patienceCount = 0;
    this.bestWeights = null;
    this.seen = 0;
  }

  onEpochEnd(log: EpochLog, control: TrainingControl): void {
    this.seen++;
    if (this.seen < this.startEpoch) return;
    const v = log[this.monitor];
    if (typeof v !== 'number') {
      const hint = this.monitor.startsWith('val') ? ' (give fit() validationData or a validationSplit)' : '';
      throw new ConfigError(`earlyStopping monitors "${this.monitor}", which epoch ${log.epoch} did not report${hint}`);
    }
    const improved = this.maximise ? v >= this.best + this.minDelta : v <= this.best - this.minDelta;
    if (improved) {
      this.best = v;
      this.bestEpoch = log.epoch;
      this.patienceCount = 0;
      if (this.restoreBestWeights) this.bestWeights = control.model.net.getWeights();
    } else {
      this.patienceCount++;
      if (this.patienceCount >= this.patience) {
        this.stoppedEpoch = log.epoch;
        control.stop('earlyStopping');
      }
    }
    log.bestEpoch = this.bestEpoch;
  }

  onTrainEnd(history: History): void {
    if (this.restoreBestWeights && this.bestWeights && this.control) {
      this.control.model.net.setWeights(this.bestWeights);
      if (this.bestEpoch !== null) history.restoredEpoch = this.bestEpoch;
    }
    this.bestWeights = null;
  }
}
