#!/usr/bin/env node
// Incremental reparse + block update after one-character edits in a 2,000-line real Python file
// (the first 2,000 lines of a standard-library module, moved back to the nearest line where the
// prefix parses without errors). Figures are split by the typed character: word characters
// (letters, digits, space) and structural ones (brackets, quotes, colon, newline, '#', ...), which
// can make tree-sitter re-read and recover a large part of the file.
// Each measured step is DocumentTrees.change + blocks(): a rescan of the chunk boundaries near the
// edit (server/blocks/chunks.ts), tree.edit + incremental reparse of the one chunk that holds it (a
// fresh parse when chunks merge or split, or when the reparse ends in errors), and the blocks of
// that chunk (the others are cached). Every edit is then undone (also a one-character incremental
// edit, measured too), so the document stays realistic. A full parse + blocks of the same text is
// measured in the same run as a baseline (what a non-incremental editor would pay per keystroke).
//
//   node scripts/bench/incremental.mjs [--edits 1000] [--seed 7] [--file /usr/lib/python3.11/argparse.py]
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadBlocksApi } from './load-blocks.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i < 0 ? fallback : args[i + 1];
};
const edits = Number(opt('--edits', 1000));
let seed = Number(opt('--seed', 7)) >>> 0;
const file = opt('--file', '/usr/lib/python3.11/argparse.py');
const LINES = 2000;

const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const all = readFileSync(file, 'utf8').split('\n');
if (all.length < LINES) throw new Error(`${file} has ${all.length} lines; need at least ${LINES}`);
const api = await loadBlocksApi();
const grammar = await api.loadPython();
let text0 = '';
{
  const p = grammar.newParser();
  for (let cut = LINES; cut > LINES - 300; cut--) {
    text0 = all.slice(0, cut).join('\n') + '\n';
    const t = p.parse(text0);
    const ok = !t.rootNode.hasError;
    t.delete();
    if (ok) break;
  }
  p.delete();
}
const docs = new api.DocumentTrees(grammar);
const uri = 'file:///bench.py';
const opts = { preset: 'structurecoder' };
docs.open(uri, text0);

function position(text, offset) {
  let line = 0;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, character: offset - start };
}

const CHARS = ['a', 'x', ' ', '(', ')', ':', '\n', '"', '#', '1', '.', ','];
const times = [];
const byClass = { word: [], structural: [] };
let blocksSeen = 0;
let text = text0;
function step(change, next, ch) {
  const t0 = performance.now();
  docs.change(uri, [change], next);
  const r = docs.blocks(uri, opts);
  const ms = performance.now() - t0;
  times.push(ms);
  byClass[/^[\w ]$/.test(ch) ? 'word' : 'structural'].push(ms);
  blocksSeen += r.blocks.length;
  text = next;
}
// warm-up (JIT, wasm tier-up), not measured
for (let i = 0; i < 50; i++) docs.blocks(uri, opts);

for (let i = 0; i < edits; i++) {
  const at = Math.floor(random() * text.length);
  const p = position(text, at);
  if (random() < 0.5) {
    const ch = CHARS[Math.floor(random() * CHARS.length)];
    step({ range: { start: p, end: p }, text: ch }, text.slice(0, at) + ch + text.slice(at), ch);
    const end = position(text, at + 1);
    step({ range: { start: p, end }, text: '' }, text.slice(0, at) + text.slice(at + 1), ch);
  } else {
    const removed = text[at];
    if (removed === undefined || /[\uD800-\uDFFF]/.test(removed)) continue;
    const end = position(text, at + 1);
    step({ range: { start: p, end }, text: '' }, text.slice(0, at) + text.slice(at + 1), removed);
    step({ range: { start: p, end: p }, text: removed }, text.slice(0, at) + removed + text.slice(at), removed);
  }
}
if (text !== text0) throw new Error('undo did not restore the text');

const full = [];
const parser = grammar.newParser();
for (let i = 0; i < 100; i++) {
  const t0 = performance.now();
  const tree = parser.parse(text0);
  api.findBlocks(tree.rootNode, opts);
  full.push(performance.now() - t0);
  tree.delete();
}
parser.delete();
docs.dispose();

const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(3));
};
console.log(
  JSON.stringify({
    bench: 'incremental',
    file,
    lines: text0.split('\n').length - 1,
    bytes: Buffer.byteLength(text0),
    edits_measured: times.length,
    p50_ms: pct(times, 0.5),
    p95_ms: pct(times, 0.95),
    p99_ms: pct(times, 0.99),
    max_ms: pct(times, 1),
    word_char_edits: byClass.word.length,
    word_char_p50_ms: pct(byClass.word, 0.5),
    word_char_p95_ms: pct(byClass.word, 0.95),
    structural_char_edits: byClass.structural.length,
    structural_char_p50_ms: pct(byClass.structural, 0.5),
    structural_char_p95_ms: pct(byClass.structural, 0.95),
    full_parse_p50_ms: pct(full, 0.5),
    full_parse_p95_ms: pct(full, 0.95),
    mean_blocks: Math.round(blocksSeen / times.length),
  }),
);
