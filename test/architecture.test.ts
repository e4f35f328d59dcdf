// Only the backend touches storage: a check over the source of src/ops, src/nn, src/optim and
// src/train (DESIGN.md: "backend/ — kernels: the only place that loops over tensor storage").
//
// The rule. Storage is any typed array (Float32Array, Float64Array, Int32Array, …, also when seen
// as an `ArrayLike<number>`): a tensor's `.data`, a gradient buffer, a buffer from `be().alloc`,
// or any alias of one (the TypeScript checker gives every expression's type, so
// `const d = x.data; for (…) d[i]` is caught through `d`'s type, not its name). In these folders
// it is an error to
//   1. write `.data[…]` anywhere (reading or writing one element of a tensor's storage);
//   2. index a typed array (`a[i]`) inside a loop (`for`, `for…in`, `for…of`, `while`, `do`) or
//      inside a callback of an iteration method (`forEach`, `map`, `reduce`, `Array.from`, …);
//   3. take a typed array apart piece by piece: `.subarray(…)` inside such a loop or callback;
//   4. iterate over a typed array by other means: `for (const v of typed)`, `...typed`, a
//      callback method on it (`typed.map(…)`, `typed.forEach(…)`, …), or `Array.from(typed, fn)`.
// What stays allowed: handing buffers to kernels (`be().axpy(…, p.data, …)`), including in a loop
// over parameters; whole-buffer copies (`a.set(b)`, `Float32Array.from(b)`, `Array.from(b)`);
// and building a constant from its index formula (`Float32Array.from({ length }, (_, i) => f(i))`),
// which reads no storage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FOLDERS = ['src/ops', 'src/nn', 'src/optim', 'src/train'];

const TYPED_ARRAYS = new Set(['Float32Array', 'Float64Array', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray',
  'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array', 'BigUint64Array',
  // the interface a typed array is often passed as
  'ArrayLike']);
/** Methods that call a callback once per element. */
const ITERATING = new Set(['forEach', 'map', 'flatMap', 'filter', 'reduce', 'reduceRight', 'some', 'every', 'find',
  'findIndex', 'findLast', 'findLastIndex', 'from']);

/** Every place in `files` that breaks the rule, as `path:line: what`. */
function storageLoops(program: ts.Program, files: readonly string[]): string[] {
  const checker = program.getTypeChecker();
  const typed = (e: ts.Expression): boolean => {
    const t = checker.getNonNullableType(checker.getTypeAtLocation(e));
    return (t.isUnion() ? t.types : [t]).some((u) => TYPED_ARRAYS.has(u.getSymbol()?.getName() ?? ''));
  };
  const found: string[] = [];
  for (const file of files) {
    const sf = program.getSourceFile(file);
    if (!sf) throw new Error(`${file} is not in the program`);
    const report = (node: ts.Node, what: string) => {
      const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      found.push(`${relative(ROOT, file) || file}:${line + 1}: ${what}: ${node.getText(sf).slice(0, 60)}`);
    };
    const visit = (node: ts.Node, inLoop: boolean): void => {
      if (ts.isElementAccessExpression(node)) {
        const obj = node.expression;
        if (ts.isPropertyAccessExpression(obj) && obj.name.text === 'data') report(node, '.data[…]');
        else if (inLoop && typed(obj)) report(node, 'typed array indexed in a loop');
      }
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
        const method = node.expression.name.text;
        const target = node.expression.expression;
        if (method === 'subarray' && inLoop && typed(target)) report(node, 'typed array sliced in a loop');
        if (ITERATING.has(method) && method !== 'from' && typed(target)) report(node, `typed array iterated with .${method}`);
        if (method === 'from' && node.arguments.length > 1 && typed(node.arguments[0])) report(node, 'typed array mapped with from(…, fn)');
      }
      if (ts.isForOfStatement(node) && typed(node.expression)) report(node.expression, 'for…of over a typed array');
      if (ts.isSpreadElement(node) && typed(node.expression)) report(node, 'typed array spread');
      const loop = ts.isForStatement(node) || ts.isForInStatement(node) || ts.isForOfStatement(node) ||
        ts.isWhileStatement(node) || ts.isDoStatement(node);
      const callback = (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) && ts.isCallExpression(node.parent) &&
        ts.isPropertyAccessExpression(node.parent.expression) && ITERATING.has(node.parent.expression.name.text) &&
        node.parent.arguments.includes(node);
      ts.forEachChild(node, (child) => visit(child, inLoop || loop || callback));
    };
    visit(sf, false);
  }
  return found;
}

function sourcesUnder(folder: string): string[] {
  return readdirSync(join(ROOT, folder)).filter((f) => f.endsWith('.ts')).map((f) => join(ROOT, folder, f));
}

const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true, noEmit: true, skipLibCheck: true, types: [], lib: ['lib.es2022.d.ts'],
};

test('no loop over tensor storage in src/ops, src/nn, src/optim, src/train (only the backend touches storage)', () => {
  const files = FOLDERS.flatMap(sourcesUnder);
  const found = storageLoops(ts.createProgram(files, OPTIONS), files);
  assert.deepEqual(found, [], `loops over tensor storage belong in a backend kernel:\n${found.join('\n')}`);
});

/** The rule applied to in-memory sources, one program for all (with the real library types). */
function check(sources: readonly string[]): string[][] {
  const names = sources.map((_, i) => join(ROOT, `sample${i}.ts`));
  const host = ts.createCompilerHost(OPTIONS);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (f, lang, ...rest) => {
    const i = names.indexOf(f);
    return i >= 0 ? ts.createSourceFile(f, sources[i], lang) : read(f, lang, ...rest);
  };
  const exists = host.fileExists.bind(host);
  host.fileExists = (f) => names.includes(f) || exists(f);
  const program = ts.createProgram(names, OPTIONS, host);
  return names.map((n, i) => storageLoops(program, [n]).map((s) => s.replace(`sample${i}.ts:`, '')));
}

test('the storage check catches each kind of loop over storage, aliases included, and lets kernel calls and constants pass', () => {
  const prelude = 'declare const x: { data: Float32Array; grad: { data: Float32Array } | null };\n' +
    'declare const be: { sum(a: Float32Array): number; alloc(n: number): Float32Array };\n';
  const bad: [string, RegExp][] = [
    ['const a = x.data[0];', /\.data\[…\]/],
    ['for (let i = 0; i < 3; i++) x.data[i] = 0;', /\.data\[…\]/],
    ['const d = x.data; for (let i = 0; i < d.length; i++) d[i] *= 2;', /typed array indexed in a loop: d\[i\]/],
    ['const g = x.grad!.data; let i = 0; while (i < g.length) g[i++] = 1;', /typed array indexed in a loop: g\[i\+\+\]/],
    ['const o = be.alloc(4); [1, 2].forEach((v, i) => { o[i] = v; });', /typed array indexed in a loop: o\[i\]/],
    ['const d = x.data; const y = Float32Array.from({ length: 4 }, (_, i) => d[i]);', /typed array indexed in a loop/],
    ['const d = x.data; let s = 0; for (const v of d) s += v;', /for…of over a typed array/],
    ['const m = Math.max(...x.data);', /typed array spread/],
    ['const y = x.data.map((v) => v * 2);', /typed array iterated with \.map/],
    ['const y = Array.from(x.data, (v) => v * 2);', /typed array mapped with from/],
    ['const d = x.data; for (let o = 0; o < 2; o++) be.sum(d.subarray(o, o + 1));', /typed array sliced in a loop/],
    ['const d: ArrayLike<number> = x.data; let s = 0; for (let i = 0; i < d.length; i++) s += d[i];', /typed array indexed in a loop: d\[i\]/],
  ];
  const good = [
    'const s = be.sum(x.data);',
    'for (const p of [x, x]) be.sum(p.data);',
    'const c = Float32Array.from({ length: 4 }, (_, i) => i * 2);',
    'const copy = Float32Array.from(x.data); const list = Array.from(x.data); copy.set(x.data);',
    'const shape = [2, 3]; let n = 1; for (let i = 0; i < shape.length; i++) n *= shape[i];',
  ];
  const found = check([...bad.map(([body]) => prelude + body), ...good.map((body) => prelude + body)]);
  bad.forEach(([body, want], i) => {
    assert.equal(found[i].length, 1, `${body}: expected one finding, got ${JSON.stringify(found[i])}`);
    assert.match(found[i][0], want, body);
    assert.match(found[i][0], /^3: /, `${body}: the finding names the line`);
  });
  good.forEach((body, i) => assert.deepEqual(found[bad.length + i], [], body));
});
