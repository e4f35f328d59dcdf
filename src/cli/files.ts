// The CLI's file handling: inputs are read only as regular files (no hang on a FIFO), outputs are
// proved writable before any work is done, and every file-system failure is one line naming the
// operation and the path.
import { closeSync, existsSync, openSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { fsFailure, makeDirs, readRegularFileSync } from '../data/node-files.js';

export { fsFailure };

/**
 * Reads a small text input (spec, JSON weights) as a regular file: ConfigError naming `what` otherwise.
 *
 * @example
 * ```ts
 * const text = readTextInput('spec.json', 'spec file');
 * ```
 */
export function readTextInput(path: string, what: string): string {
  return readRegularFileSync(path, { what, maxBytes: 64 * 1024 * 1024, fail: (m) => new ConfigError(m) }).toString('utf8');
}

/** Creates and removes a probe file in `dir` (ConfigError naming the option and path when that fails). */
function probe(dir: string, what: string): void {
  const p = join(dir, `.dendrite-write-test-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(p, 'wx');
  } catch (e) {
    throw new ConfigError(`cannot write ${what}: ${fsFailure('create', p, e)}`);
  }
  closeSync(fd);
  unlinkSync(p);
}

/**
 * Makes sure a directory output (`--out`, `--checkpoint`) can be written before training starts:
 * creates it if needed and creates/removes a file in it. ConfigError naming the option otherwise.
 *
 * @example
 * ```ts
 * checkWritableDir('models/run-3', '--out');
 * ```
 */
export function checkWritableDir(dir: string, option: string): void {
  const what = `${option} ${dir}`;
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new ConfigError(`cannot write ${what}: it exists and is not a directory`);
  // the directories this check creates are removed again: a run that fails later leaves nothing
  const created: string[] = [];
  for (let p = resolve(dir); !existsSync(p) && dirname(p) !== p; p = dirname(p)) created.push(p);
  try {
    makeDirs(dir);
  } catch (e) {
    throw new ConfigError(`cannot write ${what}: ${fsFailure('create directory', dir, e)}`);
  }
  try {
    probe(dir, what);
  } finally {
    for (const p of created) {
      try { rmdirSync(p); } catch { /* something else appeared in it */ }
    }
  }
}

/**
 * Makes sure a file output (`--report`) can be written: a file can be created next to it (it is
 * written by rename).
 *
 * @example
 * ```ts
 * checkWritableFile('out/report.html', '--report');
 * ```
 */
export function checkWritableFile(path: string, option: string): void {
  const abs = resolve(path);
  if (existsSync(abs) && statSync(abs).isDirectory()) throw new ConfigError(`cannot write ${option} ${path}: it is a directory`);
  probe(dirname(abs), `${option} ${path}`);
}

/**
 * A path next to `base` that does not exist yet: `base.<tag>`, else `base.<tag>-2`, `-3`, …
 *
 * @example
 * ```ts
 * freshSibling('models/m', 'last-good'); // 'models/m.last-good' (or '…-2' if that exists)
 * ```
 */
export function freshSibling(base: string, tag: string): string {
  const first = `${base.replace(/[\\/]+$/, '')}.${tag}`;
  let p = first;
  for (let i = 2; existsSync(p); i++) p = `${first}-${i}`;
  return p;
}
