import { Layer } from './module.js';
import type { BuildContext } from './module.js';

/**
 * A layer made of other layers (a Transformer block, a bidirectional wrapper). Its parts are
 * built inside it and their parameters become its own under `part.parameter` keys, so
 * `getWeights()`, optimisers and checkpoints see one layer; train/eval mode reaches every part.
 *
 * @example
 * ```ts
 * class Twice extends CompositeLayer {
 *   readonly type = 'twice';
 *   private inner!: Dense;
 *   protected init(s: readonly number[], ctx: BuildContext) {
 *     this.inner = this.adopt('inner', new Dense({ units: s[0] }), s, ctx);
 *     return s;
 *   }
 *   forward(x: Tensor) { return this.inner.forward(this.inner.forward(x)); }
 *   config() { return { type: this.type, name: this.name }; }
 * }
 * ```
 */
export abstract class CompositeLayer extends Layer {
  /** The parts, in the order they were adopted. */
  protected readonly parts: Layer[] = [];

  /** Builds `layer` for `inputShape` as the part `key` and takes over its parameters as `key.<name>`. */
  protected adopt<L extends Layer>(key: string, layer: L, inputShape: readonly number[], ctx: BuildContext): L {
    layer.name = `${this.name}.${key}`;
    layer.build(inputShape, ctx);
    for (const [k, t] of layer.ownParameters()) this.addParam(`${key}.${k}`, t);
    layer.train(this.training);
    this.parts.push(layer);
    return layer;
  }

  override train(on = true): this {
    super.train(on);
    for (const p of this.parts) p.train(on);
    return this;
  }
}
