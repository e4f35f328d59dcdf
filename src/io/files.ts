/**
 * The Node edge of export/import: writing and reading the files. Everything that turns models into
 * bytes and back lives in the runtime-neutral modules beside this one; here only paths.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ModelFileError } from '../errors.js';

function writeSynced(path: string, data: Uint8Array): void {
  const fd = openSync(path, 'wx');
  try {
    for (let off = 0; off < data.length;) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes several files into `dir` so that none is replaced unless all were written: each goes to a
 * temporary name first, and only when every one is complete are they renamed into place. On a
 * failure the temporary files are removed and existing files keep their old contents.
 *
 * @example
 * ```ts
 * writeFilesAtomically('out', { 'model.onnx': bytes });
 * ```
 */
export function writeFilesAtomically(dir: string, files: Record<string, Uint8Array | string>): string[] {
  mkdirSync(dir, { recursive: true });
  const tag = randomBytes(4).toString('hex');
  const staged: [string, string][] = [];
  try {
    for (const [name, content] of Object.entries(files)) {
      const final = join(dir, name);
      const tmp = join(dir, `.${name}.${tag}.tmp`);
      staged.push([tmp, final]);
      writeSynced(tmp, typeof content === 'string' ? new TextEncoder().encode(content) : content);
    }
  } catch (e) {
    for (const [tmp] of staged) {
      try { unlinkSync(tmp); } catch { /* never created */ }
    }
    throw e;
  }
  for (const [tmp, final] of staged) renameSync(tmp, final);
  return staged.map(([, final]) => final);
}

/**
 * Writes ONNX bytes (from `exportOnnx`) to `path` atomically (temporary name, then rename).
 *
 * @example
 * ```ts
 * saveOnnx('model.onnx', exportOnnx(model));
 * ```
 */
export function saveOnnx(path: string, bytes: Uint8Array): void {
  const base = path.slice(dirname(path).length).replace(/^[\\/]/, '');
  writeFilesAtomically(dirname(path), { [base]: bytes });
}

/** Reads a file as bytes; a missing or unreadable one is a ModelFileError naming it. */
export function readBytes(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new ModelFileError(`${path}: cannot read the ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
