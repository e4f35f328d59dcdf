/**
 * Reuse of float32 buffers between the ops of a training step (or of an inference pass), so that
 * the steady state of a step allocates nothing: every op's output and gradient buffer comes from
 * free lists keyed by length, and the library gives back the buffers it can prove dead.
 *
 * Safety rests on scopes. A buffer can only be given back ({@link BufferPool.release}) inside the
 * scope that was innermost when the pool handed it out: a training step, one `backward()`, one
 * `predict()`. Everything allocated outside a scope (parameters, optimiser state built on first
 * use, tensors the user makes) is never given back, and a buffer marked as escaping
 * ({@link BufferPool.escape}: a detached tensor, a layer's kept state) leaves every scope. The
 * buffers are ordinary `Float32Array`s owned by JavaScript on every backend: the WebAssembly
 * backend's resident parameter storage never passes through the pool.
 */

/**
 * The storage of the buffers handed out while a scope was the innermost one, not yet given back.
 *
 * @example
 * ```ts
 * const scope: PoolScope = bufferPool.open();
 * ```
 */
export type PoolScope = Set<ArrayBufferLike>;

/**
 * Most bytes the free lists hold by default; buffers given back beyond it are left to the garbage collector.
 *
 * @example
 * ```ts
 * const small = new BufferPool(DEFAULT_POOL_CAP_BYTES / 4);
 * ```
 */
export const DEFAULT_POOL_CAP_BYTES = 256 * 1024 * 1024;

/**
 * Free lists of `Float32Array`s by length, with scopes that decide what may be given back.
 *
 * @example
 * ```ts
 * const pool = new BufferPool();
 * const scope = pool.open();
 * const a = pool.take(1024, false); // uninitialised: the caller writes every element
 * pool.release(a);                  // dead: back on the free list of length 1024
 * pool.take(1024, true) === a;      // true, and zeroed again
 * pool.close(scope);
 * ```
 */
export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly scopes: PoolScope[] = [];
  private heldBytes = 0;
  /** Buffers created because no free list had one (a measure of allocation in the steady state). */
  fresh = 0;
  /** Buffers handed out again from a free list. */
  reused = 0;

  /** `capBytes`: most bytes kept on the free lists. */
  constructor(public capBytes = DEFAULT_POOL_CAP_BYTES) {}

  /**
   * A buffer of n floats: a reused one when the free list of that length has one (zero-filled
   * again when `zeroed`), else a new (zero-filled) array. Recorded in the innermost open scope.
   */
  take(n: number, zeroed: boolean): Float32Array {
    const list = this.free.get(n);
    let b: Float32Array;
    if (list !== undefined && list.length > 0) {
      b = list.pop()!;
      this.heldBytes -= 4 * n;
      this.reused++;
      if (zeroed) b.fill(0);
    } else {
      b = new Float32Array(n);
      this.fresh++;
    }
    const top = this.scopes.length;
    if (top > 0) this.scopes[top - 1].add(b.buffer);
    return b;
  }

  /**
   * Gives `b` back when the innermost scope handed it out and still holds it; returns whether it
   * did (false: `b` is not the pool's to reuse, or is only a view of part of such a buffer, and
   * nothing changes). The caller must know that nothing reads or writes `b` (or a view of its
   * storage) any more.
   */
  release(b: Float32Array): boolean {
    const top = this.scopes.length;
    if (top === 0 || b.byteLength !== b.buffer.byteLength || !this.scopes[top - 1].delete(b.buffer)) return false;
    const n = b.length;
    if (n === 0 || this.heldBytes + 4 * n > this.capBytes) return true;
    let list = this.free.get(n);
    if (list === undefined) this.free.set(n, (list = []));
    list.push(b);
    this.heldBytes += 4 * n;
    return true;
  }

  /** Whether the innermost scope handed `b` out and could give it back. */
  owns(b: Float32Array): boolean {
    const top = this.scopes.length;
    return top > 0 && b.byteLength === b.buffer.byteLength && this.scopes[top - 1].has(b.buffer);
  }

  /**
   * Marks the storage of `b` (a whole buffer or a view into one) as escaping: no scope will give
   * it back (someone the pool cannot see keeps it).
   */
  escape(b: Float32Array): void {
    for (const s of this.scopes) s.delete(b.buffer);
  }

  /** Opens a scope (innermost from now on); pass the result to {@link BufferPool.close}. */
  open(): PoolScope {
    const s: PoolScope = new Set();
    this.scopes.push(s);
    return s;
  }

  /**
   * Closes `scope` (and any scope opened inside it and left open by an exception). With `merge`,
   * the buffers it did not give back move to the scope around it, which may give them back
   * later; otherwise they escape (the garbage collector takes them when they die).
   */
  close(scope: PoolScope, merge = false): void {
    const i = this.scopes.lastIndexOf(scope);
    if (i < 0) return;
    this.scopes.length = i;
    if (merge && i > 0) {
      const outer = this.scopes[i - 1];
      for (const b of scope) outer.add(b);
    }
  }

  /** Bytes on the free lists. */
  get pooledBytes(): number {
    return this.heldBytes;
  }

  /** Drops every free list (the buffers go to the garbage collector). */
  clear(): void {
    this.free.clear();
    this.heldBytes = 0;
  }
}

/**
 * The pool behind every backend's `alloc` and `allocUninit` (one for the process: the buffers are
 * plain arrays that any backend reads).
 *
 * @example
 * ```ts
 * const scope = bufferPool.open();
 * try { trainOneStep(); } finally { bufferPool.close(scope); }
 * ```
 */
export const bufferPool = new BufferPool();

/**
 * `alloc` and `allocUninit` of a backend, from {@link bufferPool}: spread into a backend object.
 *
 * @example
 * ```ts
 * const myBackend = { name: 'mine', ...pooledAllocation, gemm() {} };
 * ```
 */
export const pooledAllocation = {
  alloc: (n: number): Float32Array => bufferPool.take(n, true),
  allocUninit: (n: number): Float32Array => bufferPool.take(n, false),
};
