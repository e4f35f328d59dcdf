export { parseSpec, buildNetwork, buildModel, buildOptimizer, fitOptionsFromSpec, LAYER_FACTORIES, OPTIMIZER_FACTORIES } from './spec.js';
export type { ModelSpec, LayerSpec, TrainSpec, LayerFactory, OptimizerFactory } from './spec.js';
export { saveModel, loadModel, readManifest, MODEL_FORMAT_VERSION, MODEL_FILE_MAGIC, checkWeights, parseManifest, splitModelFile } from './model-file.js';
export type { Manifest, StoredTensor, SaveOptions, LoadedModel } from './model-file.js';
export { checkpointCallback } from './checkpoint.js';
export { serveTraining, trainInWorker } from './worker.js';
export type { TrainJob, PlainTensor, PlainWeights, WorkerTrainingResult, MessageEndpoint } from './worker.js';
export { modelToBytes, modelToBlob, loadModelFromBytes, loadModelFromUrl, saveModelToIndexedDB, loadModelFromIndexedDB, deleteModelFromIndexedDB } from './model-bytes.js';
