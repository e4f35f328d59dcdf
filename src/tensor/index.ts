export { Tensor, noGrad, isGradEnabled, shapeSize, keepTensor } from './tensor.js';
export type { GradNode, NestedArray, BackwardOptions } from './tensor.js';
export { tensor, zeros, ones, full, randUniform, randNormal } from './create.js';
export type { TensorOptions } from './create.js';
export { Rng } from './rng.js';
export type { RngState } from './rng.js';
