#!/usr/bin/env node
// Builds the native backend (native/, C++ over oneDNN) with node-gyp, from source, against the
// Node headers installed on this machine: nothing is downloaded. Run by `npm install`.
//
// If the build is not possible (no libdnnl-dev, no compiler, not Linux/x64 …) this prints a
// notice saying why and what fixes it, leaves the reason in native/build/dendrite-build-error.txt
// (the library shows it when asked for the native backend) and exits 0, so the install still
// succeeds and the JavaScript backend is used.
//
// npm hides the output of a dependency's install script unless it fails (or --foreground-scripts
// is given), so the notice also goes straight to the terminal (/dev/tty) when there is one; it
// then leaves native/build/dendrite-notice-shown so that the library does not repeat it. Without
// a terminal (CI, piped installs) the library prints it once, on first use, instead.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = join(root, 'native');
const buildDir = join(nativeDir, 'build');
const errorFile = join(buildDir, 'dendrite-build-error.txt');
const noticeFile = join(buildDir, 'dendrite-notice-shown');
const verbose = process.argv.includes('--verbose') || process.env.DENDRITE_BUILD_VERBOSE === '1';
/** What fixes a failed build: the system package, then npm's rerun of this script. */
const FIX = 'to build it: apt-get install libdnnl-dev (with g++, make, python3), then run `npm rebuild dendrite`';

// a new install shows its notice again
rmSync(noticeFile, { force: true });

/** Writes the notice to the terminal, bypassing npm's capture; true when there was one. */
function toTerminal(text) {
  try {
    const fd = openSync('/dev/tty', 'w');
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch {
    return false;
  }
}

function giveUp(reason, log = '') {
  try {
    mkdirSync(buildDir, { recursive: true });
    writeFileSync(errorFile, `${reason}\n`);
  } catch {
    // the notice below still tells the user
  }
  if (log && verbose) process.stderr.write(log);
  const notice = `dendrite: native backend not built (${reason}); the JavaScript backend will be used; ${FIX}\n`;
  process.stdout.write(notice);
  if (process.env.DENDRITE_SKIP_NATIVE !== '1' && toTerminal(notice)) {
    try {
      writeFileSync(noticeFile, 'shown at install time\n');
    } catch {
      // the library shows it once instead
    }
  }
  process.exit(0);
}

if (process.env.DENDRITE_SKIP_NATIVE === '1') giveUp('DENDRITE_SKIP_NATIVE=1');
if (process.platform !== 'linux') giveUp(`platform ${process.platform} is not supported yet (Linux only)`);

const header = ['/usr/include/oneapi/dnnl/dnnl.hpp', '/usr/local/include/oneapi/dnnl/dnnl.hpp'].find((p) => existsSync(p));
if (!header) giveUp('oneDNN headers not found: install libdnnl-dev (apt-get install libdnnl-dev)');

// node-gyp: the one npm passes to install scripts, else the one bundled with npm, else PATH.
function findNodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  const prefix = join(dirname(process.execPath), '..');
  for (const p of [
    join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
    join(prefix, 'node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  ]) {
    if (existsSync(p)) return [process.execPath, p];
  }
  const which = spawnSync('sh', ['-c', 'command -v node-gyp'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return [which.stdout.trim()];
  return null;
}

// Node's headers: npm's nodedir setting, else the ones installed beside this node binary.
function findNodeDir() {
  const fromNpm = process.env.npm_config_nodedir;
  if (fromNpm && existsSync(join(fromNpm, 'include/node/node_api.h'))) return fromNpm;
  const prefix = join(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include/node/node_api.h'))) return prefix;
  return null;
}

const gyp = findNodeGyp();
if (!gyp) giveUp('node-gyp not found (it ships with npm)');
const nodedir = findNodeDir();
if (!nodedir) giveUp('Node.js headers (include/node/node_api.h) not found beside the node binary');

rmSync(errorFile, { force: true });
const args = [...gyp.slice(1), 'rebuild', `--nodedir=${nodedir}`, '--directory', nativeDir];
const jobs = process.env.JOBS ?? '2';
const r = spawnSync(gyp[0], args, {
  cwd: nativeDir,
  encoding: 'utf8',
  env: { ...process.env, JOBS: jobs },
  stdio: verbose ? 'inherit' : 'pipe',
});
if (r.status !== 0) {
  const log = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const lines = log.split('\n').filter((l) => !/^gyp (info|verb|ERR!)/.test(l));
  // the most telling line: a compiler/linker error, else a missing tool or file, else make's
  const firstError = [/error:/i, /cannot find|not found|No such file/i, /error/i]
    .map((re) => lines.find((l) => re.test(l)))
    .find((l) => l !== undefined);
  giveUp(`node-gyp failed${firstError ? `: ${firstError.trim().slice(0, 200)}` : ` (exit ${r.status ?? r.signal})`}`, log);
}
console.log('dendrite: native backend built (oneDNN)');
