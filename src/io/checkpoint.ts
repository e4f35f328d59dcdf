import type { Callback } from '../train/callbacks.js';
import type { Model } from '../train/model.js';
import type { ModelSpec } from './spec.js';
import type { Preprocessor } from '../data/preprocess.js';
import { saveModel } from './model-file.js';

/**
 * A training callback that writes a checkpoint to `dir` at the end of every epoch: weights,
 * optimiser state, generator states, epoch and history, atomically (see `saveModel`, which a
 * spec, when given, is checked by). Loading
 * the directory with `loadModel` and calling `fit` for the remaining epochs continues the run
 * exactly: the final weights equal those of an uninterrupted run.
 *
 * @example
 * ```ts
 * model.fit(x, y, { epochs: 10, callbacks: [checkpointCallback('ckpt', model)] });
 * ```
 */
export function checkpointCallback(dir: string, model: Model, spec?: ModelSpec, preprocessing?: Preprocessor): Callback {
  return {
    onEpochEnd() {
      saveModel(dir, model, { spec, preprocessing });
    },
  };
}
