#!/usr/bin/env node
// Parity check: the published StructureCoder cut (their Python, imported from their checkout by
// structurecoder_driver.py) against our `structurecoder` preset, on the same inputs.
//
//   STRUCTURECODER_DIR=/path/to/StructureCoder node scripts/parity/compare.mjs CORPUS... [--show N]
//
// CORPUS: a .jsonl / .jsonl.gz of records (HumanEval: prompt + canonical_solution; APPS:
// `solutions`; MBPP: `code`; or {"code"}), a .py file, or a directory (searched for .py files).
// Prints a JSON line {inputs, targets_published, targets_ours, inputs_mismatched, ...} and the
// first mismatches; exits 1 when anything differs.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { loadBlocksApi, root } from '../bench/load-blocks.mjs';

const args = process.argv.slice(2);
const showAt = args.indexOf('--show');
const show = showAt >= 0 ? Number(args.splice(showAt, 2)[1]) : 5;
const repo = process.env.STRUCTURECODER_DIR;
if (!repo || args.length === 0) {
  console.error('usage: STRUCTURECODER_DIR=<checkout of SenseLLM/StructureCoder> node scripts/parity/compare.mjs CORPUS... [--show N]');
  process.exit(2);
}

function* walkPy(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) yield* walkPy(p);
    else if (name.endsWith('.py')) yield p;
  }
}

function* recordsOf(file) {
  const raw = readFileSync(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  let n = 0;
  for (const line of text.split('\n')) {
    n++;
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    const id = `${file}:${n}`;
    if (typeof r.canonical_solution === 'string') yield { id, code: r.prompt + r.canonical_solution };
    else if (typeof r.solutions === 'string') {
      for (const [i, s] of JSON.parse(r.solutions).entries()) yield { id: `${id}#${i}`, code: s };
    } else if (Array.isArray(r.versions)) {
      for (const [i, s] of r.versions.entries()) yield { id: `${id}#v${i}`, code: s };
    } else if (typeof r.code === 'string') yield { id, code: r.code };
    else throw new Error(`${id}: no canonical_solution, solutions, versions or code field`);
  }
}

function* inputs() {
  for (const arg of args) {
    const st = statSync(arg);
    if (st.isDirectory()) for (const f of walkPy(arg)) yield { id: f, code: readFileSync(f, 'utf8') };
    else if (/\.jsonl(\.gz)?$/.test(arg)) yield* recordsOf(arg);
    else yield { id: arg, code: readFileSync(arg, 'utf8') };
  }
}

function runPublished(items) {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [path.join(root, 'scripts', 'parity', 'structurecoder_driver.py'), repo], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const chunks = [];
    child.stdout.on('data', (b) => chunks.push(b));
    child.on('error', reject);
    child.on('close', (status) => {
      if (status !== 0) return reject(new Error(`structurecoder_driver.py exited with ${status}`));
      const out = new Map();
      for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
        if (!line) continue;
        const r = JSON.parse(line);
        out.set(r.id, r.targets);
      }
      resolve(out);
    });
    for (const it of items) child.stdin.write(JSON.stringify(it) + '\n');
    child.stdin.end();
  });
}

const digest = (s) => ({ sha1: createHash('sha1').update(s, 'utf8').digest('hex'), len: Buffer.byteLength(s, 'utf8') });

const api = await loadBlocksApi();
const grammar = await api.loadPython();
const items = [...inputs()];
const published = await runPublished(items);

let targetsPublished = 0;
let targetsOurs = 0;
let inputsWithTargets = 0;
let inputsErrorOurs = 0;
const mismatches = [];
const byKind = {};
for (const it of items) {
  const theirs = published.get(it.id);
  if (!theirs) throw new Error(`${it.id}: no output from the published code`);
  const res = api.cutTargets(grammar, it.code, { preset: 'structurecoder' });
  const ours = res.targets.map((t) => ({ type: t.kind, depth: t.depth, mid: t.mid, pre: digest(t.pre), suf: digest(t.suf) }));
  targetsPublished += theirs.length;
  targetsOurs += ours.length;
  if (theirs.length > 0) inputsWithTargets++;
  if (res.error) inputsErrorOurs++;
  for (const t of theirs) byKind[t.type] = (byKind[t.type] ?? 0) + 1;
  const a = JSON.stringify(theirs);
  const b = JSON.stringify(ours);
  if (a !== b) {
    let at = 0;
    while (at < Math.min(theirs.length, ours.length) && JSON.stringify(theirs[at]) === JSON.stringify(ours[at])) at++;
    mismatches.push({ id: it.id, published: theirs.length, ours: ours.length, error: res.error, firstDifference: at, theirs: theirs[at], oursAt: ours[at] });
  }
}
console.log(
  JSON.stringify({
    inputs: items.length,
    inputs_with_targets: inputsWithTargets,
    inputs_not_parsed_ours: inputsErrorOurs,
    targets_published: targetsPublished,
    targets_ours: targetsOurs,
    targets_by_kind: byKind,
    inputs_mismatched: mismatches.length,
  }),
);
for (const m of mismatches.slice(0, show)) console.error(JSON.stringify(m).slice(0, 2000));
process.exit(mismatches.length ? 1 : 0);
