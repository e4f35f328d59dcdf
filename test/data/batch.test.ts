// gatherRows (the batches of fit): rows in the order given, a view without one, typed errors for positions outside x.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError, batchRanges, gatherRows, tensor } from '../../src/index.js';

const x = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]);

test('gatherRows copies the rows order[start..end) in that order; without an order it is a view of rows start..end−1', () => {
  const order = Int32Array.of(3, 0, 2, 1);
  assert.deepEqual(gatherRows(x, order, 0, 3).toArray(), [[10, 11, 12], [1, 2, 3], [7, 8, 9]]);
  assert.deepEqual(gatherRows(x, order, 2, 4).toArray(), [[7, 8, 9], [4, 5, 6]]);
  assert.deepEqual(gatherRows(x, [1, 1], 0, 2).toArray(), [[4, 5, 6], [4, 5, 6]], 'a row may repeat');
  const copy = gatherRows(x, order, 0, 1);
  copy.data[0] = -1;
  assert.equal(x.data[9], 10, 'a gathered batch is a copy');
  const view = gatherRows(x, null, 1, 3);
  assert.deepEqual(view.toArray(), [[4, 5, 6], [7, 8, 9]]);
  assert.equal(view.data.buffer, x.data.buffer, 'rows in place are a view');
  // rows of more than one dimension keep their shape
  const t = tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
  assert.deepEqual(gatherRows(t, [1], 0, 1).toArray(), [[[5, 6], [7, 8]]]);
  assert.deepEqual(batchRanges(5, 2), [[0, 2], [2, 4], [4, 5]]);
});

test('a position of the order that is not a row of x is a DataError naming it', () => {
  for (const [order, pos, v] of [[[0, 4], 1, 4], [[0, 1, -1], 2, -1], [[1.5], 0, 1.5]] as const) {
    assert.throws(() => gatherRows(x, order, 0, order.length),
      (e: unknown) => e instanceof DataError && e.message === `gatherRows: position ${pos} of the order is ${v}, not a row of [4, 3]`);
  }
});
