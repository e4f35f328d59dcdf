export { Model, countCorrect } from './model.js';
export type { ModelConfig, FitOptions, Evaluation } from './model.js';
export type { Callback, EpochLog, History, StopReason, TrainingControl } from './callbacks.js';
