export { gatherRows, batchRanges } from './batch.js';
