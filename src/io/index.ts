export { parseSpec, buildNetwork, buildModel, buildOptimizer, fitOptionsFromSpec, checkSpecMatchesModel, LAYER_FACTORIES, OPTIMIZER_FACTORIES, registerLayer, registerOptimizer } from './spec.js';
export type { ModelSpec, LayerSpec, TrainSpec, LayerFactory, OptimizerFactory, OptimizerSpec, ParseSpecOptions } from './spec.js';
export { serializeModel, deserializeModel, summarizeHistory } from './model-json.js';
export type { ModelJSON, SerializedModel, SerializeOptions, TrainingState } from './model-json.js';
export { saveModel, loadModel, readManifest, MODEL_FORMAT_VERSION } from './model-file.js';
export type { Manifest, StoredTensor, SaveOptions, LoadedModel } from './model-file.js';
export { checkpointCallback } from './checkpoint.js';
