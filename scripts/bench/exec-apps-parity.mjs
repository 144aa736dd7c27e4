#!/usr/bin/env node
// Parity of the `apps` comparator (server/exec/compare.ts) with an independent Python rendering of
// the APPS cascade (scripts/bench/exec-apps-ref.py, needs numpy): random stdout/expected pairs
// built from tokens that exercise each step (floats, nan/inf, underscores, \r, \x0b, blank lines,
// reordered tokens), and Python's round(x, 3) on random values including exact ties.
//
//   node scripts/bench/exec-apps-parity.mjs [--cases 20000] [--python python3]
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { root } from './exec-load.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : args[i + 1];
};
const n = Number(opt('--cases', 20000));
const python = opt('--python', 'python3');
const out = path.join(root, 'node_modules', '.cache', 'pairforge-exec');
mkdirSync(out, { recursive: true });
await esbuild.build({ entryPoints: [path.join(root, 'server', 'exec', 'compare.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: path.join(out, 'compare.cjs'), logLevel: 'warning' });
const { appsEqual, pyFloat, pyRound3 } = createRequire(import.meta.url)(path.join(out, 'compare.cjs'));

let seed = 7;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32;
};
const pick = (a) => a[Math.floor(rnd() * a.length)];
const TOKENS = ['1', '2', '1.0', '1.0004', '2.0', '0.1235', '0.1234', 'nan', 'inf', '-0', '0', 'a', 'b', 'YES', '1e3', '1000', '1_0', '10', ' ', '  ', '\t', '\r', '\x0b', '3.14159', '3.1416', '-1.5'];
const SEPS = ['\n', ' ', '\n', '\r\n', '\n\n', ''];
const gen = () => {
  let s = '';
  for (let i = Math.floor(rnd() * 6); i > 0; i--) s += pick(TOKENS) + pick(SEPS);
  return s;
};
const pairs = [];
for (let i = 0; i < n; i++) {
  const a = gen();
  const b = rnd() < 0.5 ? a.split(/\s+/).reverse().join(pick([' ', '\n'])) + pick(['', '\n', ' ']) : rnd() < 0.5 ? a.replace(/\r/g, '') : gen();
  pairs.push([a, b]);
}
const floats = [];
for (let i = 0; i < n; i++) {
  const k = rnd();
  floats.push(String(k < 0.3 ? (Math.floor(rnd() * 1e6) + 0.5) / 1000 : k < 0.6 ? (rnd() - 0.5) * 10 ** Math.floor(rnd() * 12 - 4) : Math.floor(rnd() * 100000) / 16384));
}
const ref = JSON.parse(execFileSync(python, [path.join(root, 'scripts', 'bench', 'exec-apps-ref.py')], { input: JSON.stringify({ pairs, floats }), maxBuffer: 1 << 28 }).toString());
let pairBad = 0;
let equal = 0;
pairs.forEach(([a, b], i) => {
  if (ref.pairs[i]) equal++;
  if (appsEqual(a, b) !== ref.pairs[i] && pairBad++ < 10) console.log(`MISMATCH ${JSON.stringify(a)} vs ${JSON.stringify(b)}: ours ${!ref.pairs[i]}, Python ${ref.pairs[i]}`);
});
let roundBad = 0;
floats.forEach((x, i) => {
  if (pyRound3(pyFloat(x)) !== Number(ref.rounded[i]) && roundBad++ < 10) console.log(`ROUND MISMATCH ${x}: ours ${pyRound3(pyFloat(x))}, Python ${ref.rounded[i]}`);
});
console.log(`apps comparator: ${n} pairs (${equal} equal for Python), ${pairBad} mismatches; round(x, 3): ${n} values, ${roundBad} mismatches`);
process.exit(pairBad || roundBad ? 1 : 0);
