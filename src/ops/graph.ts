import { Tensor, isGradEnabled } from '../tensor/tensor.js';
import { getBackend } from '../backend/index.js';
import type { Backend } from '../backend/backend.js';
import { bufferPool } from '../backend/buffer-pool.js';

/** Backward rule of an op: gradient of the output → gradient of each parent (null: none needed). */
export type BackwardRule = (gradOut: Float32Array) => (Float32Array | null)[];

/**
 * Wraps an op's output buffer as a tensor and, when any parent requires gradients (and grad mode
 * is on), records the rule that sends gradients back. Every op ends with a call to this.
 */
export function record(op: string, data: Float32Array, shape: readonly number[], parents: readonly Tensor[],
  backward: BackwardRule, saved?: readonly Float32Array[]): Tensor {
  const needs = isGradEnabled() && parents.some((p) => p.requiresGrad);
  const out = new Tensor(data, shape, needs);
  if (needs) out.node = saved ? { op, parents, backward, saved } : { op, parents, backward };
  return out;
}

/**
 * Gives a backward pass's scratch buffers back to the buffer pool once nothing reads them (none
 * may be returned as a gradient); a buffer the pool did not hand out in this pass is left alone.
 */
export function releaseScratch(...bufs: (Float32Array | null)[]): void {
  for (const b of bufs) if (b) bufferPool.release(b);
}

/** The active backend (short alias used by ops). */
export function be(): Backend {
  return getBackend();
}

/** True when `t` needs a gradient (an op skips the backward work for a parent that does not). */
export function wants(t: Tensor): boolean {
  return t.requiresGrad;
}
