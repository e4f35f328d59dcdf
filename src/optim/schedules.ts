import { ConfigError } from '../errors.js';
import { checkInt, checkNumber } from '../validate.js';

/**
 * A learning-rate schedule: the factor by which an optimiser multiplies its base learning rate
 * at update `step` (0 for the first update). Set it as `optimizer.schedule`; the optimiser
 * then sets `learningRate = baseLearningRate × factor(step)` before every update, so a resumed
 * checkpoint (which keeps the update count) continues the schedule where it was.
 *
 * @example
 * ```ts
 * const opt = new AdamW({ learningRate: 1e-3 });
 * opt.schedule = new WarmupCosine({ warmupSteps: 100, decaySteps: 2000 });
 * ```
 */
export interface LearningRateSchedule {
  /** Type name as in the spec (`warmupCosine`, `stepDecay`). */
  readonly type: string;
  /** Multiplier of the base learning rate at update `step` (0-based). */
  factor(step: number): number;
  /** Configuration as in the spec. */
  config(): Record<string, unknown>;
}

/** Options of {@link WarmupCosine}. @example `const o: WarmupCosineOptions = { warmupSteps: 100, decaySteps: 1000 };` */
export interface WarmupCosineOptions {
  /** Updates of linear warm-up from base/warmupSteps to the base rate (default 0). */
  warmupSteps?: number;
  /** Updates of cosine decay after the warm-up, from the base rate to `minFactor` × base. */
  decaySteps: number;
  /** Final factor, held after the decay (default 0). */
  minFactor?: number;
}

/**
 * Linear warm-up then cosine decay (the Transformer recipe): factor (step + 1)/W during the first
 * W updates, then m + (1 − m)·½(1 + cos(π·p)) with p the fraction of the D decay updates done,
 * then m.
 *
 * @example
 * ```ts
 * const s = new WarmupCosine({ warmupSteps: 2, decaySteps: 2 });
 * [0, 1, 2, 3, 4].map((t) => s.factor(t)); // [0.5, 1, 1, 0.5, 0]
 * ```
 */
export class WarmupCosine implements LearningRateSchedule {
  readonly type = 'warmupCosine';
  readonly warmupSteps: number;
  readonly decaySteps: number;
  readonly minFactor: number;
  constructor(opts: WarmupCosineOptions) {
    if (!opts || typeof opts !== 'object') throw new ConfigError(`warmupCosine needs an options object with decaySteps, received ${JSON.stringify(opts)}`);
    this.warmupSteps = checkInt(opts.warmupSteps ?? 0, 'warmupCosine.warmupSteps', 0);
    this.decaySteps = checkInt(opts.decaySteps, 'warmupCosine.decaySteps', 0);
    this.minFactor = checkNumber(opts.minFactor ?? 0, 'warmupCosine.minFactor', { min: 0, max: 1 });
  }
  factor(step: number): number {
    if (step < this.warmupSteps) return (step + 1) / this.warmupSteps;
    const p = this.decaySteps === 0 ? 1 : Math.min(1, (step - this.warmupSteps) / this.decaySteps);
    return this.minFactor + (1 - this.minFactor) * 0.5 * (1 + Math.cos(Math.PI * p));
  }
  config(): Record<string, unknown> {
    return { type: this.type, warmupSteps: this.warmupSteps, decaySteps: this.decaySteps, minFactor: this.minFactor };
  }
}

/** Options of {@link StepDecay}. @example `const o: StepDecayOptions = { every: 500, factor: 0.5 };` */
export interface StepDecayOptions {
  /** Updates between two decays (e.g. the number of batches of 10 epochs). */
  every: number;
  /** Multiplier applied at each decay, in (0, 1) (default 0.1). */
  factor?: number;
}

/**
 * Step decay: the rate is multiplied by `factor` every `every` updates, factor^⌊step / every⌋.
 *
 * @example
 * ```ts
 * new StepDecay({ every: 2, factor: 0.5 }).factor(5); // 0.25
 * ```
 */
export class StepDecay implements LearningRateSchedule {
  readonly type = 'stepDecay';
  readonly every: number;
  readonly decay: number;
  constructor(opts: StepDecayOptions) {
    if (!opts || typeof opts !== 'object') throw new ConfigError(`stepDecay needs an options object with every, received ${JSON.stringify(opts)}`);
    this.every = checkInt(opts.every, 'stepDecay.every');
    this.decay = checkNumber(opts.factor ?? 0.1, 'stepDecay.factor', { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  }
  factor(step: number): number {
    return Math.pow(this.decay, Math.floor(step / this.every));
  }
  config(): Record<string, unknown> {
    return { type: this.type, every: this.every, factor: this.decay };
  }
}

/** Schedule types the spec understands (`"optimizer": {"schedule": {"type": …}}`). */
export const SCHEDULE_FACTORIES: Record<string, (spec: Record<string, unknown>) => LearningRateSchedule> = {
  warmupCosine: (s) => new WarmupCosine(s as unknown as WarmupCosineOptions),
  stepDecay: (s) => new StepDecay(s as unknown as StepDecayOptions),
};

/**
 * A schedule from its spec form (ConfigError naming the known types for an unknown one).
 *
 * @example
 * ```ts
 * scheduleFromSpec({ type: 'stepDecay', every: 1000, factor: 0.5 });
 * ```
 */
export function scheduleFromSpec(spec: unknown, where = 'optimizer.schedule'): LearningRateSchedule {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec) || typeof (spec as { type?: unknown }).type !== 'string') {
    throw new ConfigError(`${where} must be an object with a "type" (${Object.keys(SCHEDULE_FACTORIES).join(', ')}), received ${JSON.stringify(spec)}`);
  }
  const { type, ...rest } = spec as { type: string } & Record<string, unknown>;
  const f = Object.prototype.hasOwnProperty.call(SCHEDULE_FACTORIES, type) ? SCHEDULE_FACTORIES[type] : undefined;
  if (!f) throw new ConfigError(`${where}.type is ${JSON.stringify(type)}; known schedules: ${Object.keys(SCHEDULE_FACTORIES).join(', ')}`);
  return f(rest);
}
