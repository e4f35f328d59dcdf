// Node edge: reading files that came from someone else. Only regular files are read (a FIFO,
// device, directory or socket is refused without blocking: the open is non-blocking and the
// type is checked on the open descriptor), and sizes are checked before anything is allocated.
// Node's modules come from the Node edge at call time, so a browser bundle has no node: import.
import { nodeBuiltin } from '../node-edge.js';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

const fs = (): typeof import('node:fs') => nodeBuiltin('node:fs', 'reading files from paths');
const dirname = (p: string): string => nodeBuiltin('node:path', 'file paths').dirname(p);

/**
 * One line for a failed file-system call, naming the operation and the path.
 *
 * @example
 * ```ts
 * fsFailure('create', 'out/x.tmp', err); // "create out/x.tmp failed (EACCES: permission denied)"
 * ```
 */
export function fsFailure(op: string, path: string, e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const msg = String(err.message ?? e).replace(/^E[A-Z]+: /, '').replace(/, \w+(?: '[^']*'(?: -> '[^']*')?)?$/, '');
  return `${op} ${typeof err.path === 'string' ? err.path : path} failed (${err.code ?? 'error'}: ${msg})`;
}

/**
 * `mkdir -p` one level at a time: Node's `mkdirSync(p, { recursive: true })` never returns where
 * mkdir keeps failing with ENOENT under an existing parent (e.g. under /proc); this throws the
 * mkdir error instead.
 *
 * @example
 * ```ts
 * makeDirs('models/run-3/ckpt');
 * ```
 */
export function makeDirs(path: string): void {
  const missing: string[] = [];
  for (let p = path; ; p = dirname(p)) {
    let exists = true;
    try {
      fs().statSync(p);
    } catch {
      exists = false;
    }
    if (exists || dirname(p) === p) break;
    missing.push(p);
  }
  for (const p of missing.reverse()) {
    try {
      fs().mkdirSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** How a caller wants a file checked; `fail` builds the caller's typed error from a message. */
export interface RegularFileOptions {
  /** Refuse a symbolic link as the last path component (files inside a model directory). */
  noFollow?: boolean;
  /** Largest size accepted, in bytes. */
  maxBytes?: number;
  /** The exact size the file must have (checked before reading). */
  exactBytes?: number;
  /** Words the file in messages, e.g. `'weights file'`. */
  what?: string;
  fail: (message: string) => Error;
}

/** open(2) flags: read only, never block (FIFOs), optionally refuse a symbolic link. */
function readFlags(noFollow: boolean | undefined): number {
  const c = fs().constants;
  return c.O_RDONLY | (c.O_NONBLOCK ?? 0) | (noFollow ? c.O_NOFOLLOW ?? 0 : 0);
}

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function openError(path: string, e: unknown, o: RegularFileOptions): Error {
  const err = e as NodeJS.ErrnoException;
  const what = o.what ?? 'file';
  if (err.code === 'ELOOP' && o.noFollow) return o.fail(`${path}: the ${what} is a symbolic link; only a regular file inside the directory is read`);
  if (err.code === 'ENOENT') return o.fail(`${path}: cannot read the file: the ${what} is missing (ENOENT)`);
  if (err.code === 'ENXIO') return o.fail(`${path}: the ${what} is a socket or device, not a regular file`);
  return o.fail(`${path}: cannot open the ${what} (${err.code ?? 'error'}: ${err.message})`);
}

/** Checks an open file's type and size; returns its size. */
function checkStats(path: string, st: Stats, o: RegularFileOptions): number {
  const what = o.what ?? 'file';
  if (!st.isFile()) throw o.fail(`${path}: the ${what} is ${kind(st)}, not a regular file`);
  if (o.exactBytes !== undefined && st.size !== o.exactBytes) {
    throw o.fail(`${path}: the ${what} has ${st.size} bytes, expected ${o.exactBytes} (truncated or corrupt)`);
  }
  if (o.maxBytes !== undefined && st.size > o.maxBytes) {
    throw o.fail(`${path}: the ${what} has ${st.size} bytes, more than the ${o.maxBytes} accepted`);
  }
  return st.size;
}

/**
 * Reads a whole regular file synchronously after checking its type and size on the open
 * descriptor. Never blocks on a FIFO; allocates only what the real file length allows.
 *
 * @example
 * ```ts
 * const bytes = readRegularFileSync('model/manifest.json', { maxBytes: 1 << 20, fail: (m) => new ModelFileError(m) });
 * ```
 */
export function readRegularFileSync(path: string, o: RegularFileOptions): Buffer {
  let fd: number;
  try {
    fd = fs().openSync(path, readFlags(o.noFollow));
  } catch (e) {
    throw openError(path, e, o);
  }
  try {
    const size = checkStats(path, fs().fstatSync(fd), o);
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      let n: number;
      try {
        n = fs().readSync(fd, buf, off, size - off, off);
      } catch (e) {
        throw o.fail(`${path}: cannot read the ${o.what ?? 'file'} (${(e as NodeJS.ErrnoException).code ?? 'error'}: ${(e as Error).message})`);
      }
      if (n === 0) throw o.fail(`${path}: the ${o.what ?? 'file'} shrank while it was read (${off} of ${size} bytes)`);
      off += n;
    }
    return buf;
  } finally {
    fs().closeSync(fd);
  }
}

/**
 * Opens a regular file for streaming after the same checks as {@link readRegularFileSync};
 * the caller closes the handle. Returns the handle and the file's size.
 *
 * @example
 * ```ts
 * const { handle, size } = await openRegularFile('train-images-idx3-ubyte', { fail: (m) => new DataError(m) });
 * ```
 */
export async function openRegularFile(path: string, o: RegularFileOptions): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await fs().promises.open(path, readFlags(o.noFollow));
  } catch (e) {
    throw openError(path, e, o);
  }
  try {
    return { handle, size: checkStats(path, await handle.stat(), o) };
  } catch (e) {
    await handle.close();
    throw e;
  }
}
