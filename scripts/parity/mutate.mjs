#!/usr/bin/env node
// Makes a harder parity corpus: seeded random one-line / one-character mutations of real Python
// files (most stop parsing, some still parse with different blocks), written as JSONL {"code"}
// records for scripts/parity/compare.mjs.
//
//   node scripts/parity/mutate.mjs OUT.jsonl [--per-file 3] [--seed 1] FILE_OR_DIR...
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : Number(args.splice(i, 2)[1]);
};
const perFile = opt('--per-file', 3);
let seed = opt('--seed', 1) >>> 0;
const [out, ...inputs] = args;
if (!out || inputs.length === 0) {
  console.error('usage: node scripts/parity/mutate.mjs OUT.jsonl [--per-file N] [--seed S] FILE_OR_DIR...');
  process.exit(2);
}
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (xs) => xs[Math.floor(random() * xs.length)];

function* files(p) {
  const st = statSync(p);
  if (st.isDirectory()) for (const n of readdirSync(p).sort()) yield* files(path.join(p, n));
  else if (p.endsWith('.py')) yield p;
}

const MUTATIONS = [
  (lines) => lines.splice(Math.floor(random() * lines.length), 1), // delete a line
  (lines) => {
    const i = Math.floor(random() * lines.length);
    lines.splice(i, 0, lines[Math.floor(random() * lines.length)]); // duplicate a line elsewhere
  },
  (lines) => {
    const i = Math.floor(random() * lines.length);
    const l = lines[i];
    const at = Math.floor(random() * (l.length + 1));
    lines[i] = l.slice(0, at) + pick(['(', ')', ':', '"', "'", '#', ' ', '\t', 'elif x:', 'else:', '\\']) + l.slice(at);
  },
  (lines) => {
    const i = Math.floor(random() * lines.length);
    lines[i] = lines[i].replace(/^ {4}/, ''); // dedent a line
  },
];

const records = [];
for (const input of inputs) {
  for (const f of files(input)) {
    const src = readFileSync(f, 'utf8');
    for (let k = 0; k < perFile; k++) {
      const lines = src.split('\n');
      pick(MUTATIONS)(lines);
      records.push(JSON.stringify({ code: lines.join('\n'), source: f }));
    }
  }
}
writeFileSync(out, records.join('\n') + '\n');
console.log(JSON.stringify({ records: records.length, out }));
