// Prints the code-generation flags for our own loops: the widest x86-64 level this machine runs
// (x86-64-v4 = AVX-512, v3 = AVX2+FMA, v2 = SSE4.2), tuned generically; nothing elsewhere.
// oneDNN needs none of this: it picks its instruction set at run time.
'use strict';
const fs = require('fs');
const os = require('os');

function flags() {
  if (os.arch() !== 'x64') return [];
  let cpu = '';
  try {
    cpu = fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return ['-march=x86-64-v2', '-mtune=generic'];
  }
  const line = cpu.split('\n').find((l) => l.startsWith('flags')) || '';
  const has = new Set(line.split(':')[1]?.trim().split(/\s+/) ?? []);
  const all = (names) => names.every((n) => has.has(n));
  const v2 = ['sse4_2', 'popcnt', 'ssse3', 'cx16'];
  const v3 = [...v2, 'avx', 'avx2', 'fma', 'bmi1', 'bmi2', 'f16c', 'movbe'];
  const v4 = [...v3, 'avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl'];
  const level = all(v4) ? 'x86-64-v4' : all(v3) ? 'x86-64-v3' : all(v2) ? 'x86-64-v2' : 'x86-64';
  return [`-march=${level}`, '-mtune=generic'];
}

const f = flags();
if (process.argv[2] === '--name') process.stdout.write(f.length ? f[0].replace('-march=', '') : 'default');
else process.stdout.write(f.join(' '));
