export { Optimizer, SGD } from './optimizer.js';
export type { ParamState, SGDOptions } from './optimizer.js';
