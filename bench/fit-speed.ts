/**
 * W-MLP training speed through the API (`Model.fit`) and through the command line (`dendrite train
 * … --json`, its history's seconds), alternating child processes so that a busy machine slows both
 * alike; optionally against another checkout's build (`--old DIR`, the API only) to compare a
 * change's fit step with the tree before it.
 *
 * `node dist/bench/fit-speed.js [--epochs 2] [--repeats 3] [--old DIR] [--no-cli] [--data DIR]`
 * (backend: DENDRITE_BACKEND, default the fastest that loads). Prints one line per run and a
 * summary: the best epoch's seconds, examples/s and µs per batch of each way.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
/** This checkout (dist/bench/ → the repository). */
const ROOT = resolve(HERE, '../..');
const SPEC = join(ROOT, 'examples/fashion/w-mlp.json');
const BATCH = 64;

interface Args {
  epochs: number;
  repeats: number;
  old: string | null;
  cli: boolean;
  data: string;
  child: string | null;
  root: string;
}

function parse(argv: string[]): Args {
  const a: Args = { epochs: 2, repeats: 3, old: null, cli: true, data: '/usr/share/datasets/fashion-mnist', child: null, root: ROOT };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`fit-speed: ${k} needs a value`);
      return x;
    };
    if (k === '--epochs') a.epochs = Number(v());
    else if (k === '--repeats') a.repeats = Number(v());
    else if (k === '--old') a.old = resolve(v());
    else if (k === '--no-cli') a.cli = false;
    else if (k === '--data') a.data = v();
    else if (k === '--child') a.child = v();
    else if (k === '--root') a.root = resolve(v());
    else throw new Error(`fit-speed: unknown option ${k}`);
  }
  return a;
}

/** One API run in this process: the library of `root`, the spec's model, `fit` on the training set. */
async function apiRun(a: Args): Promise<number[]> {
  type Lib = typeof import('../src/index.js');
  const lib = await import(pathToFileURL(join(a.root, 'dist/src/index.js')).href) as Lib;
  const { train } = await lib.loadIdxDataset(a.data);
  const model = lib.buildModel(JSON.parse(readFileSync(SPEC, 'utf8')));
  const x = new lib.Tensor(train.x.data, [train.labels.length, 784]);
  const h = model.fit(x, train.y, { epochs: a.epochs, batchSize: BATCH, shuffle: true });
  return h.epochs.map((e) => e.seconds);
}

/** One command-line run: `dendrite train SPEC --data DIR --json`, its history's seconds. */
function cliRun(a: Args): number[] {
  const out = mkdtempSync(join(tmpdir(), 'fit-speed-'));
  try {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'train', SPEC, '--data', a.data, '--json',
      '--epochs', String(a.epochs), '--out', join(out, 'model')], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`fit-speed: the command line failed: ${r.stderr}`);
    const json = JSON.parse(r.stdout) as { history: { seconds: number }[] };
    return json.history.map((e) => e.seconds);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** A run in a child process (a fresh heap and JIT each time, as a user's run). */
function child(a: Args, way: string, root: string): number[] {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', way, '--root', root, '--epochs', String(a.epochs),
    '--data', a.data], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`fit-speed: the ${way} child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as number[];
}

async function main(): Promise<void> {
  const a = parse(process.argv.slice(2));
  if (a.child === 'api') {
    process.stdout.write(JSON.stringify(await apiRun(a)) + '\n');
    return;
  }
  if (a.child === 'cli') {
    process.stdout.write(JSON.stringify(cliRun(a)) + '\n');
    return;
  }
  const ways: [string, () => number[]][] = [['api', () => child(a, 'api', ROOT)]];
  if (a.cli) ways.push(['cli', () => child(a, 'cli', ROOT)]);
  if (a.old) ways.push([`api ${a.old}`, () => child(a, 'api', a.old!)]);
  const seconds = new Map<string, number[]>(ways.map(([w]) => [w, []]));
  for (let r = 0; r < a.repeats; r++) {
    for (const [w, run] of r % 2 ? [...ways].reverse() : ways) {
      const s = run();
      seconds.get(w)!.push(...s);
      process.stdout.write(`run ${r + 1} ${w}: epoch seconds ${s.map((x) => x.toFixed(3)).join(', ')}\n`);
    }
  }
  const n = 60000;
  const batches = Math.ceil(n / BATCH);
  process.stdout.write(`backend ${process.env.DENDRITE_BACKEND ?? 'default'}; ${a.repeats} runs × ${a.epochs} epochs each (best epoch; the machine may be shared)\n`);
  for (const [w, s] of seconds) {
    const best = Math.min(...s);
    const sorted = [...s].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)];
    process.stdout.write(`${w.padEnd(12)} best ${best.toFixed(3)} s/epoch (${Math.round(n / best)} examples/s, ${(1e6 * best / batches).toFixed(1)} µs/batch), median ${median.toFixed(3)} s\n`);
  }
}

await main();
