export { Optimizer, SGD } from './optimizer.js';
export type { ParamState, SGDOptions } from './optimizer.js';
export { Adam, AdamW, checkUnitInterval, checkPositive } from './adam.js';
export type { AdamOptions, AdamWOptions } from './adam.js';
export { RMSProp } from './rmsprop.js';
export type { RMSPropOptions } from './rmsprop.js';
export { WarmupCosine, StepDecay, scheduleFromSpec, SCHEDULE_FACTORIES } from './schedules.js';
export type { LearningRateSchedule, WarmupCosineOptions, StepDecayOptions } from './schedules.js';
