/**
 * dendrite — deep learning for TypeScript.
 *
 * @example
 * ```ts
 * import { tensor, matmul, sum } from 'dendrite';
 * const w = tensor([[0.5, -0.2]], { requiresGrad: true });
 * const loss = sum(matmul(w, tensor([[1], [2]])));
 * loss.backward();
 * ```
 * @packageDocumentation
 */
export * from './errors.js';
export * from './tensor/index.js';
export { getBackend, setBackend, availableBackends, jsBackend } from './backend/index.js';
export type { Backend, BackendName, BinaryOp, ConvGeometry, PoolGeometry, UnaryOp } from './backend/index.js';
export type { LossKind } from './backend/index.js';
export type { StepRule } from './backend/index.js';
export * from './ops/index.js';
export * from './nn/index.js';
export * from './optim/index.js';
export * from './data/index.js';
export * from './train/index.js';
export * from './io/index.js';
export * from './inspect/index.js';
