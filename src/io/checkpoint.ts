import type { Callback } from '../train/callbacks.js';
import type { Model } from '../train/model.js';
import type { ModelSpec } from './spec.js';
import { saveModel } from './model-file.js';

/**
 * A training callback that writes a checkpoint to `dir` at the end of every epoch: weights,
 * optimiser state, generator states, epoch and history, atomically (see `saveModel`). Loading
 * the directory with `loadModel` and calling `fit` for the remaining epochs continues the run
 * exactly: the final weights equal those of an uninterrupted run.
 *
 * @example
 * ```ts
 * model.fit(x, y, { epochs: 10, callbacks: [checkpointCallback('ckpt', model, spec)] });
 * ```
 */
export function checkpointCallback(dir: string, model: Model, spec: ModelSpec, preprocessing?: unknown): Callback {
  return {
    onEpochEnd() {
      saveModel(dir, model, spec, { preprocessing, checkpoint: true });
    },
  };
}
