import { DataError, ShapeError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { be, record } from './graph.js';

/**
 * Embedding lookup: each index of `indices` (any shape, integer values stored as floats) selects
 * a row of `weight` [vocab, dim]; the output has shape [...indices.shape, dim]. Backward adds
 * each output row's gradient into the row it came from (indices get no gradient). An index that
 * is not an integer in [0, vocab) is a `DataError` naming `where`, the index and the vocabulary.
 *
 * @example
 * ```ts
 * embedding(tensor([[2, 0]]), tensor([[0, 0], [1, 1], [2, 2]])).toArray(); // [[[2, 2], [0, 0]]]
 * ```
 */
export function embedding(indices: Tensor, weight: Tensor, where = 'embedding'): Tensor {
  if (weight.rank !== 2) throw new ShapeError(`${where}: the embedding matrix must be [vocab, dim], received ${fmtShape(weight.shape)}`);
  const [V, D] = weight.shape;
  const n = indices.size;
  const B = be();
  const out = B.alloc(n * D);
  const bad = B.gatherRows(weight.data, D, indices.data, out);
  if (bad >= 0) {
    const pos: number[] = [];
    let r = bad;
    for (let d = indices.rank - 1; d >= 0; d--) {
      pos.unshift(r % indices.shape[d]);
      r = Math.floor(r / indices.shape[d]);
    }
    throw new DataError(`${where}: index ${indices.data.at(bad)} at position ${fmtShape(pos)} is outside the vocabulary of size ${V} (indices must be integers 0..${V - 1})`);
  }
  return record('embedding', out, [...indices.shape, D], [weight], (g) => {
    const dw = B.alloc(weight.size);
    B.scatterAddRows(g, D, indices.data, dw);
    return [dw];
  });
}
