import { ConfigError } from '../errors.js';
import type { Optimizer } from './optimizer.js';

/** An optimiser's spec: `type` plus its options (`{"type": "adam", "learningRate": 0.001}`). */
export type OptimizerSpec = { type: string; learningRate?: number } & Record<string, unknown>;

/** Builds an optimiser from its spec; `where` names it in errors. */
export type OptimizerFactory = (spec: OptimizerSpec, where: string) => Optimizer;

/**
 * Optimiser types the spec format understands, by `"type"`; each optimiser file registers its
 * own with {@link registerOptimizer} (read-only: use `registerOptimizer` to add).
 *
 * @example
 * ```ts
 * Object.keys(OPTIMIZER_FACTORIES); // ['sgd', 'adam', 'adamw', 'rmsprop']
 * ```
 */
export const OPTIMIZER_FACTORIES: Readonly<Record<string, OptimizerFactory>> = Object.create(null) as Record<string, OptimizerFactory>;

/**
 * Registers an optimiser type under its spec name. `config()` of the optimiser must return a
 * spec its factory accepts; its state (`getState()`) is saved with the model.
 *
 * @example
 * ```ts
 * registerOptimizer('mySgd', (s) => new MySgd(s));
 * ```
 */
export function registerOptimizer(type: string, factory: OptimizerFactory, opts: { replace?: boolean } = {}): void {
  if (typeof type !== 'string' || type === '') throw new ConfigError(`registerOptimizer: a type must be a non-empty string, received ${JSON.stringify(type)}`);
  if (Object.hasOwn(OPTIMIZER_FACTORIES, type) && !opts.replace) {
    throw new ConfigError(`registerOptimizer: optimizer type "${type}" is already registered (pass { replace: true } to replace it)`);
  }
  (OPTIMIZER_FACTORIES as Record<string, OptimizerFactory>)[type] = factory;
}
