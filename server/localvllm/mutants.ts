// What the local server's "model" writes for a block it knows: the reference middle, a reformatted
// copy (same behaviour, different text) or a mutant (flipped comparison, off-by-one bound, swapped
// branches, dropped line), so that sampling yields both passing and failing candidates. Pure
// functions over Python source text; strings and comments are never edited.

export type VariantKind = 'reference' | 'reformat' | 'flip_comparison' | 'off_by_one' | 'swap_branches' | 'drop_line';
export const MUTANT_KINDS: readonly VariantKind[] = ['flip_comparison', 'off_by_one', 'swap_branches', 'drop_line'];

export interface Variant {
  kind: VariantKind;
  text: string;
}

/** true for each character that is code (not inside a string literal or a comment). */
export function codeMask(src: string): boolean[] {
  const mask = new Array<boolean>(src.length).fill(true);
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') mask[i++] = false;
      continue;
    }
    if (c === '"' || c === "'") {
      const triple = src.startsWith(c.repeat(3), i);
      const close = triple ? c.repeat(3) : c;
      const from = i;
      i += close.length;
      while (i < src.length) {
        if (src[i] === '\\') {
          i += 2;
          continue;
        }
        if (!triple && src[i] === '\n') break; // unterminated: stop at the line end
        if (src.startsWith(close, i)) {
          i += close.length;
          break;
        }
        i++;
      }
      for (let j = from; j < Math.min(i, src.length); j++) mask[j] = false;
      continue;
    }
    i++;
  }
  return mask;
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

const FLIP: Record<string, string> = { '<=': '>', '>=': '<', '==': '!=', '!=': '==', '<': '>=', '>': '<=' };
const STRICT: Record<string, string> = { '<': '<=', '>': '>=', '<=': '<', '>=': '>' };

interface Op {
  at: number;
  op: string;
}

/** Comparison operators in code positions (not `<<`, `>>`, `->`, `<<=`, `>>=`). */
function comparisons(src: string, mask: boolean[]): Op[] {
  const out: Op[] = [];
  for (let i = 0; i < src.length; i++) {
    if (!mask[i]) continue;
    const two = src.slice(i, i + 2);
    if (two === '<=' || two === '>=' || two === '==' || two === '!=') {
      if (two === '==' && src[i - 1] === '=') continue;
      if ((two === '<=' && src[i - 1] === '<') || (two === '>=' && src[i - 1] === '>')) continue;
      out.push({ at: i, op: two });
      i++;
      continue;
    }
    const c = src[i];
    if (c === '<' || c === '>') {
      if (src[i + 1] === c || src[i - 1] === c || src[i - 1] === '-') continue;
      out.push({ at: i, op: c });
    }
  }
  return out;
}

function replaceAt(src: string, at: number, len: number, by: string): string {
  return src.slice(0, at) + by + src.slice(at + len);
}

export function flipComparisons(mid: string): string[] {
  const mask = codeMask(mid);
  return comparisons(mid, mask).map((o) => replaceAt(mid, o.at, o.op.length, FLIP[o.op]));
}

/** Off-by-one: strict <-> non-strict bounds, integer literals +-1, range(...) end +-1. */
export function offByOne(mid: string): string[] {
  const mask = codeMask(mid);
  const out: string[] = [];
  for (const o of comparisons(mid, mask)) if (STRICT[o.op]) out.push(replaceAt(mid, o.at, o.op.length, STRICT[o.op]));
  for (const m of mid.matchAll(/(?<![\w.])\d+(?![\w.])/g)) {
    const at = m.index as number;
    if (!mask[at]) continue;
    const n = Number(m[0]);
    if (!Number.isSafeInteger(n)) continue;
    out.push(replaceAt(mid, at, m[0].length, String(n + 1)));
    if (n > 0) out.push(replaceAt(mid, at, m[0].length, String(n - 1)));
  }
  for (const m of mid.matchAll(/\brange\(([^()\n]*)\)/g)) {
    const at = m.index as number;
    if (!mask[at] || m[1].trim() === '') continue;
    out.push(replaceAt(mid, at, m[0].length, `range(${m[1]} + 1)`));
    out.push(replaceAt(mid, at, m[0].length, `range(${m[1]} - 1)`));
  }
  return out;
}

/** if/else with both bodies swapped (the condition kept), for every such if in the block. */
export function swapBranches(mid: string): string[] {
  const lines = mid.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i].trimStart();
    if (!/^if\b.*:\s*$/.test(head)) continue;
    const ind = indentOf(lines[i]);
    let j = i + 1;
    while (j < lines.length && (lines[j].trim() === '' || indentOf(lines[j]) > ind)) j++;
    if (j >= lines.length || indentOf(lines[j]) !== ind || !/^else\s*:\s*$/.test(lines[j].trimStart())) continue;
    let k = j + 1;
    while (k < lines.length && (lines[k].trim() === '' || indentOf(lines[k]) > ind)) k++;
    const body1 = lines.slice(i + 1, j);
    const body2 = lines.slice(j + 1, k);
    if (body1.length === 0 || body2.length === 0) continue;
    out.push([...lines.slice(0, i + 1), ...body2, lines[j], ...body1, ...lines.slice(k)].join('\n'));
  }
  return out;
}

/** One statement line removed, never the first line, a block header, or a block's only line. */
export function dropLine(mid: string): string[] {
  const lines = mid.split('\n');
  const out: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t === '' || t.endsWith(':') || t.startsWith('#')) continue;
    const prev = lines[i - 1];
    const next = lines.slice(i + 1).find((l) => l.trim() !== '');
    const ind = indentOf(lines[i]);
    // Removing the only statement of a block would leave `if x:` with no body: a syntax error,
    // which the pairing stage discards anyway, so it is not a useful mutant.
    if (prev.trim().endsWith(':') && (next === undefined || indentOf(next) < ind)) continue;
    out.push([...lines.slice(0, i), ...lines.slice(i + 1)].join('\n'));
  }
  return out;
}

/** Same behaviour, different text: operator spacing, a parenthesised condition, `x += 1` spelled out. */
export function reformats(mid: string): string[] {
  const out: string[] = [];
  const mask = codeMask(mid);
  // 1. `a + b` -> `a+b` (binary operators with a space on both sides).
  let tight = '';
  let last = 0;
  for (const m of mid.matchAll(/ (\+|-|\*|\/\/|\/|%|==|!=|<=|>=|<|>) (?=\S)/g)) {
    const at = m.index as number;
    if (!mask[at + 1]) continue;
    tight += mid.slice(last, at) + m[1];
    last = at + m[0].length;
  }
  tight += mid.slice(last);
  if (tight !== mid) out.push(tight);
  // 2. `if cond:` / `while cond:` -> `if (cond):` on header lines.
  const lines = mid.split('\n');
  const paren = lines.map((l) => {
    const m = /^(\s*)(if|elif|while)\s+(.+?):\s*$/.exec(l);
    if (!m || m[3].startsWith('(') || m[3].includes('#') || /["']/.test(m[3])) return l;
    return `${m[1]}${m[2]} (${m[3]}):`;
  });
  const parenText = paren.join('\n');
  if (parenText !== mid) out.push(parenText);
  // 3. `x += 1` -> `x = x + 1` when the right side is a number (the same for ints and floats).
  const spelled = lines.map((l) => {
    const m = /^(\s*)([A-Za-z_]\w*) (\+|-|\*)= (\d+)\s*$/.exec(l);
    return m ? `${m[1]}${m[2]} = ${m[2]} ${m[3]} ${m[4]}` : l;
  });
  const spelledText = spelled.join('\n');
  if (spelledText !== mid) out.push(spelledText);
  return [...new Set(out)];
}

/** Every distinct variant of a middle by kind (reference first), each different from the reference. */
export function variants(mid: string): Record<VariantKind, string[]> {
  const uniq = (xs: string[]) => [...new Set(xs)].filter((x) => x !== mid);
  return {
    reference: [mid],
    reformat: uniq(reformats(mid)),
    flip_comparison: uniq(flipComparisons(mid)),
    off_by_one: uniq(offByOne(mid)),
    swap_branches: uniq(swapBranches(mid)),
    drop_line: uniq(dropLine(mid)),
  };
}
