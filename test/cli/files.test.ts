// The CLI with files from strangers, full disks, interrupted saves and failed runs (issue 10).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, files, run, tmp } from './helpers.js';

/** 200 rows of t = 3a + b − c. */
function linearCsv(dir: string): string {
  const rows = ['a,b,c,t'];
  let s = 11;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  for (let i = 0; i < 200; i++) {
    const a = r(); const b = r(); const c = r();
    rows.push(`${a},${b},${c},${3 * a + b - c}`);
  }
  return files(dir, { 'data.csv': rows.join('\n') + '\n' })['data.csv'];
}

function spec(dir: string, name: string, o: { units?: number; lr?: number; epochs?: number; batchSize?: number } = {}): string {
  return files(dir, {
    [name]: JSON.stringify({
      input: [3], layers: [{ type: 'dense', units: o.units ?? 8, activation: 'relu' }, { type: 'dense', units: 1 }],
      loss: 'mse', optimizer: { type: 'sgd', learningRate: o.lr ?? 0.05 }, train: { batchSize: o.batchSize ?? 200, epochs: o.epochs ?? 2, seed: 1 },
    }),
  })[name];
}

/** Every file under dir (relative names) with its bytes, to prove nothing was touched. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const p = join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
      out.set(p, readFileSync(p).toString('base64'));
    }
  }
  return out;
}

const oneLine = (stderr: string) => stderr.trim().split('\n').length === 1 && !/\n\s+at /.test(stderr);
const temps = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

test('train --resume with a different spec refuses and touches nothing; without a spec it continues', () => {
  const dir = tmp();
  const data = linearCsv(dir);
  const s1 = spec(dir, 's1.json');
  const ckpt = join(dir, 'ckpt');
  const r = run(['train', s1, '--data', data, '--target', 't', '--out', join(dir, 'm'), '--checkpoint', ckpt, '--json', '--backend', 'js']);
  assert.equal(r.status, 0, r.stderr);
  const s2 = spec(dir, 's2.json', { units: 9 });
  const before = snapshot(dir);
  const out = join(dir, 'other');
  const bad = run(['train', s2, '--data', data, '--target', 't', '--resume', ckpt, '--out', out, '--epochs', '4', '--backend', 'js']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^ConfigError: train: .*s2\.json is not the spec of the checkpoint .*ckpt \(.*s2\.json: layers\[0\] \(dense\): units is 9 in the spec, but the model has 8\).*Nothing was written\./);
  assert.ok(oneLine(bad.stderr), bad.stderr);
  assert.deepEqual(snapshot(dir), before, 'no file was written or changed');
  assert.ok(!existsSync(out));
  // the same spec, or none, resumes
  const same = run(['train', s1, '--data', data, '--target', 't', '--resume', ckpt, '--out', out, '--epochs', '3', '--json', '--backend', 'js']);
  assert.equal(same.status, 0, same.stderr);
  assert.equal(JSON.parse(same.stdout).epochs, 3);
  const none = run(['train', '--data', data, '--target', 't', '--resume', ckpt, '--out', out, '--epochs', '4', '--json', '--backend', 'js']);
  assert.equal(none.status, 0, none.stderr);
  assert.equal(JSON.parse(none.stdout).epochs, 4);
});

/** A preload that makes every write to a file fail with ENOSPC (a simulated full disk). */
function enospcPreload(dir: string): string {
  const p = join(dir, 'enospc.mjs');
  writeFileSync(p, `import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const real = fs.writeSync;
fs.writeSync = function (fd, ...rest) {
  if (fd > 2) { const e = new Error('ENOSPC: no space left on device, write'); e.code = 'ENOSPC'; e.errno = -28; e.syscall = 'write'; throw e; }
  return real.call(this, fd, ...rest);
};
syncBuiltinESMExports();
`);
  return pathToFileURL(p).href;
}

function checkDiskFull(dir: string, out: string, r: { status: number | null; stderr: string }): void {
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^ModelFileError: cannot save the model: (write|create|fsync) \S+\.weights-[0-9a-f]{16}\.bin\.[0-9a-f]{8}\.tmp failed \(ENOSPC: no space left on device\)$/m);
  assert.ok(oneLine(r.stderr), r.stderr);
  assert.deepEqual(temps(out), [], 'the failed save removed its temporary file');
}

test('a disk-full save (simulated ENOSPC) is one line, leaves no temporary file and keeps the old model', () => {
  const dir = tmp();
  const data = linearCsv(dir);
  const out = join(dir, 'm');
  assert.equal(run(['train', spec(dir, 's.json'), '--data', data, '--target', 't', '--out', out, '--backend', 'js', '--quiet']).status, 0);
  const before = snapshot(out);
  const r = spawnSync(process.execPath, ['--import', enospcPreload(dir), CLI, 'train', spec(dir, 's.json', { units: 9 }), '--data', data, '--target', 't', '--out', out, '--backend', 'js', '--quiet'], { encoding: 'utf8' });
  checkDiskFull(dir, out, r);
  assert.deepEqual(snapshot(out), before);
  assert.equal(run(['predict', out, '--data', data, '--json']).status, 0);
});

test('a disk-full save on a real 1 MiB tmpfs (where it can be mounted)', (t) => {
  const dir = tmp();
  const mnt = join(dir, 'small');
  mkdirSync(mnt);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { encoding: 'utf8' });
  if (m.status !== 0) {
    t.diagnostic(`no tmpfs here (${(m.stderr || m.error?.message || '').trim()}); the simulated ENOSPC test covers this`);
    return;
  }
  try {
    const data = linearCsv(dir);
    const out = join(mnt, 'm');
    assert.equal(run(['train', spec(dir, 's.json'), '--data', data, '--target', 't', '--out', out, '--backend', 'js', '--quiet']).status, 0);
    const before = snapshot(out);
    // 4 × (3·80000 + 80000 + 80000 + 1) bytes ≈ 1.6 MB of weights do not fit
    const r = run(['train', spec(dir, 'big.json', { units: 80000, epochs: 1 }), '--data', data, '--target', 't', '--out', out, '--backend', 'js', '--quiet']);
    checkDiskFull(dir, out, r);
    assert.deepEqual(snapshot(out), before);
    assert.equal(run(['predict', out, '--data', data, '--json']).status, 0);
  } finally {
    spawnSync('umount', [mnt]);
  }
});

test('a save killed mid-write leaves a temporary file that the next good save removes', async () => {
  const dir = tmp();
  const data = linearCsv(dir);
  const out = join(dir, 'm');
  const script = join(dir, 'saver.mjs');
  const lib = new URL('../../src/index.js', import.meta.url).href;
  writeFileSync(script, `import { buildModel, parseSpec, saveModel } from ${JSON.stringify(lib)};
const spec = parseSpec({ input: [1000], layers: [{ type: 'dense', units: 4000 }], loss: 'mse', optimizer: { type: 'sgd', learningRate: 0.1 } });
const model = buildModel(spec);
for (;;) saveModel(${JSON.stringify(out)}, model, spec);
`);
  let left: string[] = [];
  for (let attempt = 0; attempt < 5 && left.length === 0; attempt++) {
    const child = spawn(process.execPath, [script], { stdio: 'ignore', env: { ...process.env, DENDRITE_BACKEND: 'js' } });
    const t0 = Date.now();
    while (!(existsSync(out) && temps(out).length > 0) && Date.now() - t0 < 30000) await new Promise((res) => setTimeout(res, 2));
    child.kill('SIGKILL');
    await new Promise((res) => child.on('exit', res));
    left = temps(out);
  }
  assert.ok(left.length > 0, 'the kill landed during a write');
  const r = run(['train', spec(dir, 's.json'), '--data', data, '--target', 't', '--out', out, '--backend', 'js', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(temps(out), []);
  assert.deepEqual(readdirSync(out).filter((f) => !f.startsWith('.')).length, 2);
  assert.equal(run(['predict', out, '--data', data, '--json']).status, 0);
});

test('an unwritable --report fails before training and leaves --out as it was', () => {
  const dir = tmp();
  const data = linearCsv(dir);
  const out = join(dir, 'm');
  assert.equal(run(['train', spec(dir, 's.json'), '--data', data, '--target', 't', '--out', out, '--backend', 'js', '--quiet']).status, 0);
  const before = snapshot(out);
  // /proc exists and is a directory, but no file can be created in it (not even by root)
  const r = run(['train', spec(dir, 's2.json', { units: 9 }), '--data', data, '--target', 't', '--out', out, '--report', '/proc/dendrite-report.html', '--backend', 'js']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^ConfigError: cannot write --report \/proc\/dendrite-report\.html: create \/proc\/\.dendrite-write-test-\S+\.tmp failed \(ENOENT/);
  assert.ok(oneLine(r.stderr), r.stderr);
  assert.doesNotMatch(r.stderr, /epoch/);
  assert.deepEqual(snapshot(out), before);
  const o2 = run(['train', spec(dir, 's.json'), '--data', data, '--target', 't', '--out', join(data, 'sub'), '--backend', 'js']);
  assert.equal(o2.status, 1);
  assert.match(o2.stderr, /^ConfigError: cannot write --out .*data\.csv\/sub: create directory .* failed \(ENOTDIR/);
  // Node's recursive mkdir never returns under /proc; the CLI's does, with the directory it could not make
  const o3 = run(['train', spec(dir, 's.json'), '--data', data, '--target', 't', '--out', '/proc/dendrite/out', '--backend', 'js']);
  assert.equal(o3.status, 1);
  assert.match(o3.stderr, /^ConfigError: cannot write --out \/proc\/dendrite\/out: create directory \/proc\/dendrite failed \(ENOENT/);
});

test('a diverging loss warns on stderr even with --json; --fail-on-divergence fails and keeps --out', () => {
  const dir = tmp();
  const data = linearCsv(dir);
  const out = join(dir, 'm');
  const good = run(['train', spec(dir, 's.json'), '--data', data, '--target', 't', '--out', out, '--backend', 'js', '--quiet']);
  assert.equal(good.status, 0, good.stderr);
  const before = snapshot(out);
  const wild = spec(dir, 'wild.json', { lr: 5, epochs: 5, units: 16 });
  const w = run(['train', wild, '--data', data, '--target', 't', '--out', join(dir, 'w'), '--json', '--backend', 'js']);
  assert.equal(w.status, 0, w.stderr);
  assert.match(w.stderr, /^warning: the training loss grew from \S+ to \S+ in epoch \d \(more than 1000×\): training is diverging; .*\(--fail-on-divergence makes this an error\)$/m);
  assert.ok(JSON.parse(w.stdout).loss > 1000);
  const f = run(['train', wild, '--data', data, '--target', 't', '--out', out, '--json', '--fail-on-divergence', '--backend', 'js']);
  assert.equal(f.status, 1);
  assert.match(f.stderr, /^NumericError: the training loss grew .*stopped by --fail-on-divergence$/m);
  assert.ok(f.stderr.includes(`the last good weights were saved to ${out}.last-good; ${out} was left as it was`), f.stderr);
  assert.equal(f.stdout, '');
  assert.deepEqual(snapshot(out), before);
  assert.equal(run(['predict', `${out}.last-good`, '--data', data, '--json']).status, 0);
});

test('FIFOs, directories and other non-files as inputs: one line, no hang', () => {
  const dir = tmp();
  const data = linearCsv(dir);
  const s = spec(dir, 's.json');
  const fifo = join(dir, 'pipe');
  execFileSync('mkfifo', [fifo]);
  const cases: [string[], RegExp][] = [
    [['train', fifo, '--data', data, '--target', 't'], /^ConfigError: .*pipe: the spec file is a FIFO \(named pipe\), not a regular file$/],
    [['train', s, '--data', fifo, '--target', 't', '--out', join(dir, 'o')], /^DataError: .*pipe: the CSV file is a FIFO \(named pipe\), not a regular file$/],
    [['train', s, '--data', data, '--target', 't', '--weights', dir, '--out', join(dir, 'o')], /^ConfigError: .*: the weights file is a directory, not a regular file$/],
    [['train', dir, '--data', data, '--target', 't'], /^ConfigError: .*: the spec file is a directory, not a regular file$/],
    [['summary', '/dev/zero'], /^ConfigError: \/dev\/zero: the spec file is a character device, not a regular file$/],
  ];
  for (const [args, re] of cases) {
    const t0 = Date.now();
    const r = run(args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trim(), re);
    assert.ok(oneLine(r.stderr), r.stderr);
    assert.ok(Date.now() - t0 < 20000);
  }
});

test('a prototype name is not a command', () => {
  const r = run(['constructor']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command "constructor"/);
});
