import { NumericError } from '../errors.js';
import type { Callback, EpochLog, TrainingControl } from '../train/callbacks.js';
import type { Model } from '../train/model.js';

/** How many times the lowest loss seen an epoch's loss must reach to count as diverging. */
export const DIVERGENCE_FACTOR = 1000;

const fmt = (v: number) => v.toPrecision(3);

/**
 * Watches the training loss for divergence without NaN (a learning rate far too large: the loss
 * grows by orders of magnitude while staying finite). The reference is the lowest loss seen so
 * far, the first batch's included; an epoch whose loss is more than {@link DIVERGENCE_FACTOR}
 * times that (and above the first batch's) is diverging. The first time, `warn` gets one line.
 * With `fail`, training stops after that epoch, the weights go back to those at the end of the
 * last epoch that was not diverging (or the initial ones), and {@link DivergenceWatch.error}
 * holds a NumericError to report.
 *
 * @example
 * ```ts
 * const watch = new DivergenceWatch({ fail: true, warn: (m) => process.stderr.write(m + '\n') });
 * model.fit(x, y, { epochs: 10, callbacks: [watch] });
 * if (watch.error) throw watch.error;
 * ```
 */
export class DivergenceWatch implements Callback {
  /** Set when `fail` was asked and training diverged. */
  error: NumericError | null = null;
  private first: number | null = null;
  private best = Infinity;
  private warned = false;
  private good: Float32Array[] = [];
  private model: Model | null = null;

  constructor(private readonly opts: { fail: boolean; warn: (message: string) => void }) {}

  onTrainBegin(control: TrainingControl): void {
    this.model = control.model;
    this.keep();
  }

  onBatchEnd(_batch: number, loss: number): void {
    if (this.first === null && Number.isFinite(loss)) {
      this.first = loss;
      this.best = Math.min(this.best, loss);
    }
  }

  onEpochEnd(log: EpochLog, control: TrainingControl): void {
    const loss = log.loss;
    const first = this.first ?? loss;
    if (loss > DIVERGENCE_FACTOR * this.best && loss > first) {
      const msg = `the training loss grew from ${fmt(this.best)} to ${fmt(loss)} in epoch ${log.epoch} (more than ${DIVERGENCE_FACTOR}×): training is diverging; lower optimizer.learningRate or clip gradients (train.clipNorm)`;
      if (!this.warned) this.opts.warn(`warning: ${msg}${this.opts.fail ? '' : ' (--fail-on-divergence makes this an error)'}`);
      this.warned = true;
      if (this.opts.fail && !this.error) {
        this.error = new NumericError(`${msg}; stopped by --fail-on-divergence`, 'loss');
        this.restore();
        control.stop('callback');
      }
      return;
    }
    this.best = Math.min(this.best, loss);
    this.keep();
  }

  private keep(): void {
    this.good = this.model!.net.namedParameters().map(([, p]) => p.data.slice());
  }

  private restore(): void {
    this.model!.net.namedParameters().forEach(([, p], i) => p.data.set(this.good[i]));
  }
}
