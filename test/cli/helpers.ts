import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Path of the compiled CLI. */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** The repository root (dist/test/cli → ../../..). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs the CLI; returns exit status and both streams. */
export function run(args: string[], opts: { cwd?: string } = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, encoding: 'utf8', env: { ...process.env } });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh temporary directory. */
export function tmp(prefix = 'dendrite-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes files (name → content) into dir; returns the paths by name. */
export function files(dir: string, contents: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(contents)) {
    out[name] = join(dir, name);
    writeFileSync(out[name], text);
  }
  return out;
}

/** The worked example's spec/data/weights paths. */
export const WORKED = {
  spec: join(ROOT, 'examples/worked/spec.json'),
  relu: join(ROOT, 'examples/worked/spec-relu.json'),
  data: join(ROOT, 'examples/worked/data.csv'),
  weights: join(ROOT, 'examples/worked/weights.json'),
};
