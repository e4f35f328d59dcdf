export { Optimizer, SGD } from './optimizer.js';
export type { ParamState, SGDOptions } from './optimizer.js';
export { Adam } from './adam.js';
export type { AdamOptions } from './adam.js';
export { RMSProp } from './rmsprop.js';
export type { RMSPropOptions } from './rmsprop.js';
