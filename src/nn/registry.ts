import { ConfigError } from '../errors.js';
import type { Layer } from './module.js';

/** One layer of a spec: `type` plus that layer's options (TF.js key names). */
export type LayerSpec = { type: string; name?: string } & Record<string, unknown>;

/** Builds a layer from its spec; `where` names it in errors (e.g. `layers[1] (dense)`). */
export type LayerFactory = (spec: LayerSpec, where: string) => Layer;

/**
 * Layer types the spec format understands, by `"type"`. Every layer file registers its own with
 * {@link registerLayer}; custom layers do the same (read-only: use `registerLayer` to add).
 *
 * @example
 * ```ts
 * Object.keys(LAYER_FACTORIES); // ['dense', 'activation', 'conv2d', …]
 * ```
 */
export const LAYER_FACTORIES: Readonly<Record<string, LayerFactory>> = Object.create(null) as Record<string, LayerFactory>;

/**
 * Registers a layer type under its spec name (and optional aliases, e.g. TF.js spellings), so
 * that specs, `loadModel` and `Model.fromJSON` can build it. A layer registers itself in its own
 * file, so adding one touches no other list; a custom layer does the same from user code. The
 * factory takes the layer's own options type: it receives the spec's object for that layer
 * (untrusted JSON: the layer's constructor checks every option) and the layer returns such an
 * object `{type, name, …options}` from `config()`. Registering a name twice is a `ConfigError`
 * unless `replace` is set.
 *
 * @example
 * ```ts
 * interface ScaleOptions { factor: number; name?: string }
 * class Scale extends Layer {
 *   readonly type = 'scale';
 *   constructor(readonly opts: ScaleOptions) { super(opts.name); }
 *   protected init(shape: readonly number[]) { return shape; }
 *   forward(x: Tensor) { return mulScalar(x, this.opts.factor); }
 *   config() { return { type: 'scale', name: this.name, factor: this.opts.factor }; }
 * }
 * registerLayer('scale', (s: ScaleOptions) => new Scale(s));
 * ```
 */
export function registerLayer<O extends object = LayerSpec>(
  type: string,
  factory: (spec: O, where: string) => Layer,
  opts: { aliases?: readonly string[]; replace?: boolean } = {},
): void {
  for (const name of [type, ...(opts.aliases ?? [])]) {
    if (typeof name !== 'string' || name === '') throw new ConfigError(`registerLayer: a layer type must be a non-empty string, received ${JSON.stringify(name)}`);
    if (Object.hasOwn(LAYER_FACTORIES, name) && !opts.replace) {
      throw new ConfigError(`registerLayer: layer type "${name}" is already registered (pass { replace: true } to replace it)`);
    }
    // the spec is untrusted JSON: the factory's layer checks every option of its type
    (LAYER_FACTORIES as Record<string, LayerFactory>)[name] = factory as LayerFactory;
  }
}
