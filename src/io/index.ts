export { parseSpec, buildNetwork, buildModel, buildOptimizer, LAYER_FACTORIES, OPTIMIZER_FACTORIES } from './spec.js';
export type { ModelSpec, LayerSpec, TrainSpec, LayerFactory, OptimizerFactory } from './spec.js';
