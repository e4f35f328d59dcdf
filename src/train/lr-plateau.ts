import { ConfigError } from '../errors.js';
import type { Callback, EpochLog, TrainingControl } from './callbacks.js';
import type { Monitor } from './early-stopping.js';
import { checkKeys, checkObject } from '../validate.js';

/** Options of {@link ReduceLROnPlateau}. @example `const o: ReduceLROnPlateauOptions = { monitor: 'valLoss', patience: 3, factor: 0.5 };` */
export interface ReduceLROnPlateauOptions {
  /** What to watch (default `'valLoss'`; losses are minimised, accuracies maximised). */
  monitor?: Monitor;
  /** Multiplier of the learning rate at a plateau, in (0, 1) (default 0.1). */
  factor?: number;
  /** Epochs in a row without improvement that make a plateau (default 5). */
  patience?: number;
  /** An epoch improves when it beats the best by more than this (default 1e-4). */
  minDelta?: number;
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** The learning rate never goes below this (default 0). */
  minLearningRate?: number;
}

const MONITORS: readonly Monitor[] = ['valLoss', 'loss', 'valAccuracy', 'accuracy'];

/**
 * Lowers the learning rate when the monitored value stops improving (Keras's callback): after
 * `patience` epochs without an improvement of more than `minDelta`, the optimiser's base rate is
 * multiplied by `factor` (not below `minLearningRate`). It works with a schedule (it scales the
 * base the schedule multiplies). Each epoch's log gets `learningRate`.
 *
 * @example
 * ```ts
 * model.fit(x, y, { epochs: 50, validationSplit: 0.1, callbacks: [new ReduceLROnPlateau({ patience: 3, factor: 0.5 })] });
 * ```
 */
export class ReduceLROnPlateau implements Callback {
  readonly monitor: Monitor;
  readonly factor: number;
  readonly patience: number;
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLearningRate: number;
  /** Best value so far. */
  best = Infinity;
  /** Epochs without improvement. */
  wait = 0;
  /** Reductions made in this fit. */
  reductions = 0;
  private cooling = 0;

  constructor(opts: ReduceLROnPlateauOptions = {}) {
    checkKeys(checkObject(opts, 'reduceLROnPlateau'), ['monitor', 'factor', 'patience', 'minDelta', 'cooldown', 'minLearningRate'], 'reduceLROnPlateau');
    const monitor = opts.monitor ?? 'valLoss';
    if (!MONITORS.includes(monitor)) throw new ConfigError(`reduceLROnPlateau.monitor must be one of ${MONITORS.join(', ')}, received ${JSON.stringify(monitor)}`);
    const f = opts.factor ?? 0.1;
    if (typeof f !== 'number' || !(f > 0 && f < 1)) throw new ConfigError(`reduceLROnPlateau.factor must be in (0, 1), received ${JSON.stringify(f)}`);
    const int = (v: unknown, k: string): number => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ConfigError(`reduceLROnPlateau.${k} must be an integer ≥ 0, received ${JSON.stringify(v)}`);
      return v;
    };
    const num = (v: unknown, k: string): number => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`reduceLROnPlateau.${k} must be a number ≥ 0, received ${JSON.stringify(v)}`);
      return v;
    };
    this.monitor = monitor;
    this.factor = f;
    this.patience = int(opts.patience ?? 5, 'patience');
    this.cooldown = int(opts.cooldown ?? 0, 'cooldown');
    this.minDelta = num(opts.minDelta ?? 1e-4, 'minDelta');
    this.minLearningRate = num(opts.minLearningRate ?? 0, 'minLearningRate');
  }

  private get maximise(): boolean {
    return this.monitor === 'valAccuracy' || this.monitor === 'accuracy';
  }

  onTrainBegin(): void {
    this.best = this.maximise ? -Infinity : Infinity;
    this.wait = 0;
    this.cooling = 0;
    this.reductions = 0;
  }

  onEpochEnd(log: EpochLog, control: TrainingControl): void {
    const v = log[this.monitor];
    if (typeof v !== 'number') {
      throw new ConfigError(`reduceLROnPlateau monitors "${this.monitor}", which epoch ${log.epoch} did not report${this.monitor.startsWith('val') ? ' (give fit() validationData or a validationSplit)' : ''}`);
    }
    const opt = control.model.optimizer;
    const improved = this.maximise ? v > this.best + this.minDelta : v < this.best - this.minDelta;
    if (improved) {
      this.best = v;
      this.wait = 0;
    } else if (this.cooling > 0) {
      this.cooling--;
    } else if (++this.wait >= this.patience) {
      const next = Math.max(opt.baseLearningRate * this.factor, this.minLearningRate);
      if (next < opt.baseLearningRate) {
        const ratio = next / opt.baseLearningRate;
        opt.baseLearningRate = next;
        opt.learningRate *= ratio;
        this.reductions++;
      }
      this.wait = 0;
      this.cooling = this.cooldown;
    }
    log.learningRate = opt.learningRate;
  }
}
