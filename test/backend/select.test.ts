// Choosing the backend: setBackend(), DENDRITE_BACKEND, the default (fastest that loads) and the
// errors when a backend does not exist or the native one could not be built. The "not built"
// cases run in a child process on a copy of the compiled backend module placed where no addon
// exists, which is exactly what an install without libdnnl-dev looks like.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, availableBackends, getBackend, setBackend } from '../../src/index.js';
import type { BackendName } from '../../src/index.js';
import { loadNative } from '../../src/backend/native.js';
import { loadWasm } from '../../src/backend/wasm.js';

const nativeOk = 'backend' in loadNative();
const wasmOk = 'backend' in loadWasm();
// dist/src of this build (this file is dist/test/backend/select.test.js)
const distSrc = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

/** Runs `code` (an ES module body with getBackend/setBackend/availableBackends in scope) in a child. */
function child(code: string, env: Record<string, string | undefined>, backendDir = join(distSrc, 'backend')):
  { stdout: string; stderr: string; status: number | null } {
  const url = pathToFileURL(join(backendDir, 'index.js')).href;
  const full = `import { getBackend, setBackend, availableBackends } from ${JSON.stringify(url)};\n${code}`;
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) childEnv[k] = v;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', full], { env: childEnv, encoding: 'utf8' });
  return { stdout: r.stdout.trim(), stderr: r.stderr.trim(), status: r.status };
}

const PRINT_ERROR = `try { getBackend(); console.log('no error'); } catch (e) { console.log(e.name + ': ' + e.message); }`;

test('setBackend rejects an unknown name with a ConfigError listing what is available', () => {
  assert.throws(() => setBackend('gpu' as BackendName), (e: unknown) =>
    e instanceof ConfigError &&
    /^unknown backend 'gpu'; expected one of: js, native, wasm \(available here: js(, wasm)?(, native)?\)$/.test(e.message));
});

test('setBackend switches between the reference and (where built) the native backend', () => {
  const before = getBackend();
  try {
    setBackend('js');
    assert.equal(getBackend().name, 'js');
    if (wasmOk) {
      setBackend('wasm');
      assert.equal(getBackend().name, 'wasm');
    }
    if (nativeOk) {
      setBackend('native');
      assert.equal(getBackend().name, 'native');
    } else {
      assert.throws(() => setBackend('native'), ConfigError);
    }
  } finally {
    setBackend(before.name as BackendName);
  }
});

test('availableBackends lists wasm and native exactly when they load, fastest last', () => {
  assert.deepEqual(availableBackends(), ['js', ...(wasmOk ? ['wasm'] : []), ...(nativeOk ? ['native'] : [])]);
});

test('DENDRITE_BACKEND chooses the backend on first use; without it the fastest that loads is used', () => {
  assert.equal(child(`console.log(getBackend().name)`, { DENDRITE_BACKEND: 'js' }).stdout, 'js');
  const dflt = child(`console.log(getBackend().name)`, { DENDRITE_BACKEND: undefined });
  assert.equal(dflt.stdout, nativeOk ? 'native' : wasmOk ? 'wasm' : 'js');
  if (wasmOk) assert.equal(child(`console.log(getBackend().name)`, { DENDRITE_BACKEND: 'wasm' }).stdout, 'wasm');
  if (nativeOk) {
    assert.equal(dflt.stderr, '', 'no notice when the native backend is used');
    assert.equal(child(`console.log(getBackend().name)`, { DENDRITE_BACKEND: 'native' }).stdout, 'native');
  }
});

test('DENDRITE_BACKEND with an unknown name fails with a ConfigError naming the variable', () => {
  const r = child(PRINT_ERROR, { DENDRITE_BACKEND: 'cuda' });
  assert.match(r.stdout, /^ConfigError: DENDRITE_BACKEND=cuda: unknown backend 'cuda'; expected one of: js, native, wasm \(available here: js(, wasm)?(, native)?\)$/);
});

test('without a built addon: wasm is used with a one-line notice, and native is refused with the reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dendrite-nonative-'));
  try {
    // the compiled backend module and what it imports, in a tree that has no native/build
    const backendDir = join(dir, 'dist', 'src', 'backend');
    cpSync(join(distSrc, 'backend'), backendDir, { recursive: true });
    cpSync(join(distSrc, 'errors.js'), join(dir, 'dist', 'src', 'errors.js'));
    cpSync(join(distSrc, 'node-edge.js'), join(dir, 'dist', 'src', 'node-edge.js'));
    writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n');

    const dflt = child(`console.log(getBackend().name)`, { DENDRITE_BACKEND: undefined }, backendDir);
    assert.equal(dflt.stdout, 'wasm');
    assert.match(dflt.stderr, /^dendrite: using the WebAssembly backend \(the native addon is not built \(native\/build\/Release\/dendrite_native\.node is missing; install libdnnl-dev \(with g\+\+, make, python3\), then run `npm rebuild dendrite`\)\)$/);
    // once per install: the next process falls back silently
    const again = child(`console.log(getBackend().name)`, { DENDRITE_BACKEND: undefined }, backendDir);
    assert.equal(again.stdout, 'wasm');
    assert.equal(again.stderr, '');

    const asked = child(`try { setBackend('native'); } catch (e) { console.log(e.name + ': ' + e.message); }
      console.log(availableBackends().join(','));`, { DENDRITE_BACKEND: undefined }, backendDir);
    const [msg, avail] = asked.stdout.split('\n');
    assert.match(msg, /^ConfigError: backend 'native' is not available \(the native addon is not built .*libdnnl-dev.*\); available backends: js, wasm$/);
    assert.equal(avail, 'js,wasm');

    const env = child(PRINT_ERROR, { DENDRITE_BACKEND: 'native' }, backendDir);
    assert.match(env.stdout, /^ConfigError: DENDRITE_BACKEND=native: backend 'native' is not available \(the native addon is not built .*\); available backends: js, wasm$/);

    // when the install step recorded why the build failed, that reason is what the error says
    mkdirSync(join(dir, 'native', 'build'), { recursive: true });
    writeFileSync(join(dir, 'native', 'build', 'dendrite-build-error.txt'),
      'oneDNN headers not found: install libdnnl-dev (apt-get install libdnnl-dev)\n');
    const why = child(`try { setBackend('native'); } catch (e) { console.log(e.name + ': ' + e.message); }`,
      { DENDRITE_BACKEND: undefined }, backendDir);
    assert.equal(why.stdout, "ConfigError: backend 'native' is not available (the native addon was not built at install time: oneDNN headers not found: install libdnnl-dev (apt-get install libdnnl-dev); once that is fixed, run `npm rebuild dendrite`); available backends: js, wasm");

    // a WebAssembly module the engine refuses (e.g. a browser without SIMD): js, one notice, no crash
    // (a new install: the notice of the first fallback above was shown once already)
    rmSync(join(dir, 'native', 'build', 'dendrite-notice-shown'), { force: true });
    writeFileSync(join(backendDir, 'wasm-binary.js'),
      'export const wasmBase64 = "AGFzbQEAAAAB/w=="; export const wasmThreadsBase64 = wasmBase64; export const wasmBuildError = null;\n');
    const js = child(`console.log(getBackend().name); try { setBackend('wasm'); } catch (e) { console.log(e.name + ': ' + e.message); }`,
      { DENDRITE_BACKEND: undefined }, backendDir);
    const [name, refused] = js.stdout.split('\n');
    assert.equal(name, 'js');
    assert.match(js.stderr, /^dendrite: using the JavaScript backend \(the native addon was not built at install time: .*; the WebAssembly module failed to load \(.+\); WebAssembly SIMD is needed\)$/);
    assert.equal(js.stderr.split('\n').length, 1);
    assert.match(refused, /^ConfigError: backend 'wasm' is not available \(the WebAssembly module failed to load .*\); available backends: js$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
