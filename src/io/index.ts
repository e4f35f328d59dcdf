export { parseSpec, buildNetwork, buildModel, buildOptimizer, fitOptionsFromSpec, LAYER_FACTORIES, OPTIMIZER_FACTORIES } from './spec.js';
export type { ModelSpec, LayerSpec, TrainSpec, LayerFactory, OptimizerFactory } from './spec.js';
export { saveModel, loadModel, readManifest, MODEL_FORMAT_VERSION } from './model-file.js';
export type { Manifest, StoredTensor, SaveOptions, LoadedModel } from './model-file.js';
export { checkpointCallback } from './checkpoint.js';
export { parseManifest, decodeModel, tensorTableDigest, WEIGHTS_FILE_PATTERN, MAX_MANIFEST_BYTES } from './model-format.js';
export type { Sha256 } from './model-format.js';
