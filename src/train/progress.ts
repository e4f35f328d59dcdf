import type { Callback, EpochLog, History, TrainingControl } from './callbacks.js';

/** Where a {@link ProgressCallback} writes: a Node stream such as `process.stderr`, or anything alike. */
export interface ProgressStream {
  write(s: string): unknown;
  /** Only a terminal gets progress output. */
  isTTY?: boolean;
  /** Terminal width (for the batch bar). */
  columns?: number;
}

/** Options of {@link ProgressCallback}. */
export interface ProgressOptions {
  /** Output stream (default `process.stderr`, so results on stdout stay clean). */
  stream?: ProgressStream;
  /** Epochs planned, for the `epoch i/N` count and the ETA (default: the `epochs` given to `fit()`). */
  epochs?: number;
  /** Print nothing (e.g. the CLI's `--quiet`). */
  quiet?: boolean;
  /** Print nothing because the caller prints JSON (the CLI's `--json`). */
  json?: boolean;
  /** Minimum milliseconds between in-epoch updates of the batch bar (default 100). */
  intervalMs?: number;
  /** Clock in milliseconds (tests pass a fake one; default `performance.now`). */
  now?: () => number;
}

/**
 * Formats seconds as `0.42s`, `12s`, `3m05s` or `1h02m`.
 *
 * @example
 * ```ts
 * formatDuration(185); // '3m05s'
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 10) return `${seconds.toFixed(2)}s`;
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function num(v: number): string {
  return Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(6) : v.toExponential(3);
}

/**
 * One line summarising an epoch: number, training loss/accuracy, validation loss/accuracy, time
 * per epoch and the estimated time left (when `etaSeconds` is given).
 *
 * @example
 * ```ts
 * formatEpochLine({ epoch: 3, loss: 0.25, valLoss: 0.3, valAccuracy: 0.9, seconds: 1.5 }, 10, 10.4);
 * // 'epoch 3/10  loss 0.250000  val_loss 0.300000  val_acc 0.9000  1.50s/epoch  ETA 10s'
 * ```
 */
export function formatEpochLine(log: EpochLog, totalEpochs?: number, etaSeconds?: number, secondsPerEpoch?: number): string {
  const parts = [`epoch ${log.epoch}${totalEpochs ? `/${totalEpochs}` : ''}`, `loss ${num(log.loss)}`];
  if (log.accuracy !== undefined) parts.push(`acc ${log.accuracy.toFixed(4)}`);
  if (log.valLoss !== undefined) parts.push(`val_loss ${num(log.valLoss)}`);
  if (log.valAccuracy !== undefined) parts.push(`val_acc ${log.valAccuracy.toFixed(4)}`);
  parts.push(`${formatDuration(secondsPerEpoch ?? log.seconds)}/epoch`);
  if (etaSeconds !== undefined) parts.push(`ETA ${formatDuration(etaSeconds)}`);
  return parts.join('  ');
}

/**
 * A progress display for training in a terminal: while an epoch runs, a bar with the batch count
 * and the running loss; after each epoch, one line with the epoch, loss, validation
 * loss/accuracy, time per epoch and ETA (from the mean wall time of the epochs so far, validation
 * included). When the stream is not a terminal (a pipe, a CI log) there is no bar, only the one
 * line per epoch, as Keras does; nothing at all with `quiet`/`json`.
 *
 * @example
 * ```ts
 * model.fit(x, y, { epochs: 50, validationSplit: 0.1, callbacks: [new ProgressCallback()] });
 * ```
 */
export class ProgressCallback implements Callback {
  /** Whether anything is printed (a terminal, not quiet, not JSON). */
  readonly active: boolean;
  private readonly stream: ProgressStream | null;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly plannedEpochs: number | undefined;
  private totalEpochs = 0;
  private batches = 0;
  private firstEpoch = 0;
  private epochStart = 0;
  private trainStart = 0;
  private lastDraw = -Infinity;
  private batchLossSum = 0;
  private batchCount = 0;
  private epoch = 0;
  private barShown = false;
  private readonly bar: boolean;

  constructor(opts: ProgressOptions = {}) {
    const proc = (globalThis as { process?: { stderr?: ProgressStream } }).process;
    this.stream = opts.stream ?? proc?.stderr ?? null;
    // a terminal gets the live bar and one line per epoch; a pipe or file (CI logs) one line per epoch
    this.active = !!this.stream && !opts.quiet && !opts.json;
    this.bar = this.stream?.isTTY === true;
    this.intervalMs = opts.intervalMs ?? 100;
    this.plannedEpochs = opts.epochs;
    this.now = opts.now ?? (() => performance.now());
  }

  private write(s: string): void {
    if (this.active) this.stream!.write(s);
  }

  onTrainBegin(control: TrainingControl): void {
    this.totalEpochs = this.plannedEpochs ?? control.epochs;
    this.batches = control.batchesPerEpoch;
    this.firstEpoch = 0;
    this.trainStart = this.now();
  }

  onEpochBegin(epoch: number): void {
    if (this.firstEpoch === 0) this.firstEpoch = epoch;
    this.epoch = epoch;
    this.epochStart = this.now();
    this.batchLossSum = 0;
    this.batchCount = 0;
    this.lastDraw = -Infinity;
  }

  onBatchEnd(batch: number, loss: number): void {
    this.batchLossSum += loss;
    this.batchCount++;
    if (!this.active || !this.bar) return;
    const t = this.now();
    if (t - this.lastDraw < this.intervalMs && batch + 1 < this.batches) return;
    this.lastDraw = t;
    const width = Math.max(10, Math.min(30, (this.stream!.columns ?? 80) - 50));
    const done = Math.round((width * (batch + 1)) / Math.max(1, this.batches));
    const bar = '='.repeat(done) + ' '.repeat(width - done);
    this.write(`\r\x1b[2Kepoch ${this.epoch - this.firstEpoch + 1}/${this.totalEpochs} [${bar}] ${batch + 1}/${this.batches}  loss ${num(this.batchLossSum / this.batchCount)}`);
    this.barShown = true;
  }

  onEpochEnd(log: EpochLog): void {
    const t = this.now();
    const done = log.epoch - this.firstEpoch + 1;
    const perEpoch = (t - this.trainStart) / 1000 / done;
    const eta = perEpoch * Math.max(0, this.totalEpochs - done);
    const shown = { ...log, epoch: done };
    this.write(`${this.barShown ? '\r\x1b[2K' : ''}${formatEpochLine(shown, this.totalEpochs, eta, (t - this.epochStart) / 1000)}\n`);
    this.barShown = false;
  }

  onTrainEnd(history: History): void {
    if (history.stopped !== 'maxEpochs') this.write(`stopped: ${history.stopped}\n`);
  }
}
