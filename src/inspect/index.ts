export { summarize, meanVar, norms } from './stats.js';
export type { Stats } from './stats.js';
export { traceModel, captureTrace, activationDerivative, layerActivation, requireData } from './trace.js';
export type { TraceOptions, TraceMode, TraceResult, LayerTrace, RawTrace, RawLayerTrace } from './trace.js';
export { formatTrace, fmtNum, textTable } from './format.js';
