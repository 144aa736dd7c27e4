// From a model's raw text to the middle that is tested (docs/published.md "StructureCoder", "Post-processing"). Pure.
//
// FIM (the published `post`): text = start + output, leading/trailing newlines dropped; keep the
// first line, then every line until the first non-blank line indented no deeper than the first
// (indentation = leading spaces only, as `lstrip(' ')` counts it); for an `if` block a same-indent
// line starting with `else` / `elif` is kept; finally right-trim (Python's whitespace).
// The published test is `startswith('else')`, so `elsewhere = 1` at the block's indentation is kept
// too; the `clean` preset asks for the keyword itself (`else:` / `elif ...`) and also keeps the
// continuation clauses of the other compound statements (`for`/`while` ... `else`, `try` ...
// `except`/`else`/`finally`).
//
// Chat (the published `full`): text = start + output, cut at the first "\n```" (the closing
// fence). A block sampled through the chat format is then cut like a FIM middle.

import { pyRstrip, pyStrip } from '../blocks/cut';
import type { BlockKind } from '../protocol';

function stripChar(s: string, c: string): string {
  let i = 0;
  let j = s.length;
  while (i < j && s[i] === c) i++;
  while (j > i && s[j - 1] === c) j--;
  return s.slice(i, j);
}
function spaces(s: string): number {
  let k = 0;
  while (k < s.length && s[k] === ' ') k++;
  return k;
}

export interface PostOptions {
  /** 'structurecoder' (default) reproduces the published rule; 'clean' see above. */
  preset?: 'structurecoder' | 'clean';
  /** The sample came from the chat format. */
  chat?: boolean;
  /** The target is a whole program (chat only: no indentation cut). */
  wholeProgram?: boolean;
}

/** Continuation clauses kept at the block's own indentation, per kind, under `clean`. */
const CLEAN_CLAUSES: Partial<Record<BlockKind, RegExp>> = {
  if: /^(elif\b|else\s*:)/,
  for: /^else\s*:/,
  while: /^else\s*:/,
  try: /^(except\b|else\s*:|finally\s*:)/,
};

/** The published indentation truncation of `text` (= start + output). */
export function truncateBlock(kind: string, text: string, preset: 'structurecoder' | 'clean' = 'structurecoder'): string {
  const lines = stripChar(text, '\n').split('\n');
  const indent = spaces(lines[0]);
  const keep = [lines[0]];
  const clause = preset === 'clean' ? CLEAN_CLAUSES[kind as BlockKind] : undefined;
  for (const c of lines.slice(1)) {
    const stripped = pyStrip(c);
    if (stripped.length === 0) {
      keep.push(c);
      continue;
    }
    const ind = spaces(c);
    if (ind === indent) {
      const continues = preset === 'clean' ? clause !== undefined && clause.test(stripped) : kind === 'if' && (stripped.startsWith('else') || stripped.startsWith('elif'));
      if (continues) {
        keep.push(c);
        continue;
      }
    }
    if (ind <= indent) break;
    keep.push(c);
  }
  return pyRstrip(keep.join('\n'));
}

/** The text before the first closing fence ("\n```"), as the published chat post-processing. */
export function cutAtFence(text: string): string {
  const at = text.indexOf('\n```');
  return at < 0 ? text : text.slice(0, at);
}

/** The middle to test, from the model's raw output. `start` is what the prompt ended with. */
export function postProcess(kind: string, start: string, output: string, opts: PostOptions = {}): string {
  const text = start + output;
  if (opts.chat) {
    const code = cutAtFence(text);
    // After a bare "```python" fence (whole programs, as the published prompt ends) a model starts
    // with a line break, which is not part of the program.
    return opts.wholeProgram ? code.replace(/^\r?\n/, '') : truncateBlock(kind, code, opts.preset);
  }
  return truncateBlock(kind, text, opts.preset);
}
