// The `difflib` critical-line mode: which lines Python's `difflib.ndiff(chosen, rejected)` marks
// '- ' (chosen) and '+ ' (rejected), as the published IterPref code builds its masks
// (docs/published.md "IterPref"). ndiff is not an exact LCS: it matches lines with SequenceMatcher (longest matching block
// first, recursively, with the "popular element" heuristic on sequences of 200+ lines) and then,
// inside each replaced block, pairs similar lines by a character-level similarity ratio (spaces
// and tabs as junk). This module reimplements that behaviour (CPython 3.11's difflib) so the
// classification is the same line for line; test/integration/pairs/difflib.test.ts checks it
// against python3 on random inputs. Pure.

type Opcode = ['replace' | 'delete' | 'insert' | 'equal', number, number, number, number];
type Block = [number, number, number];

/** Python's SequenceMatcher over sequences of strings (lines, or characters). */
class SequenceMatcher {
  private a: readonly string[] = [];
  private b: readonly string[] = [];
  private b2j = new Map<string, number[]>();
  private bjunk = new Set<string>();
  private fullbcount: Map<string, number> | undefined;
  private blocks: Block[] | undefined;

  constructor(private readonly isjunk: ((x: string) => boolean) | null) {}

  setSeq1(a: readonly string[]): void {
    this.a = a;
    this.blocks = undefined;
  }

  setSeq2(b: readonly string[]): void {
    this.b = b;
    this.blocks = undefined;
    this.fullbcount = undefined;
    this.chainB();
  }

  private chainB(): void {
    const b2j = new Map<string, number[]>();
    this.b.forEach((elt, i) => {
      let list = b2j.get(elt);
      if (!list) b2j.set(elt, (list = []));
      list.push(i);
    });
    this.bjunk = new Set();
    if (this.isjunk) {
      for (const elt of b2j.keys()) if (this.isjunk(elt)) this.bjunk.add(elt);
      for (const elt of this.bjunk) b2j.delete(elt);
    }
    // autojunk: in a sequence of 200+ elements, one occurring more than 1% + 1 times is "popular"
    // and never starts a match.
    const n = this.b.length;
    if (n >= 200) {
      const ntest = Math.floor(n / 100) + 1;
      const popular = [...b2j.entries()].filter(([, idxs]) => idxs.length > ntest).map(([elt]) => elt);
      for (const elt of popular) b2j.delete(elt);
    }
    this.b2j = b2j;
  }

  private findLongestMatch(alo: number, ahi: number, blo: number, bhi: number): Block {
    const { a, b, b2j, bjunk } = this;
    let besti = alo;
    let bestj = blo;
    let bestsize = 0;
    let j2len = new Map<number, number>();
    for (let i = alo; i < ahi; i++) {
      const newj2len = new Map<number, number>();
      for (const j of b2j.get(a[i]) ?? []) {
        if (j < blo) continue;
        if (j >= bhi) break;
        const k = (j2len.get(j - 1) ?? 0) + 1;
        newj2len.set(j, k);
        if (k > bestsize) {
          besti = i - k + 1;
          bestj = j - k + 1;
          bestsize = k;
        }
      }
      j2len = newj2len;
    }
    // Extend with equal non-junk elements on both sides, then with equal junk elements.
    while (besti > alo && bestj > blo && !bjunk.has(b[bestj - 1]) && a[besti - 1] === b[bestj - 1]) {
      besti--;
      bestj--;
      bestsize++;
    }
    while (besti + bestsize < ahi && bestj + bestsize < bhi && !bjunk.has(b[bestj + bestsize]) && a[besti + bestsize] === b[bestj + bestsize]) bestsize++;
    while (besti > alo && bestj > blo && bjunk.has(b[bestj - 1]) && a[besti - 1] === b[bestj - 1]) {
      besti--;
      bestj--;
      bestsize++;
    }
    while (besti + bestsize < ahi && bestj + bestsize < bhi && bjunk.has(b[bestj + bestsize]) && a[besti + bestsize] === b[bestj + bestsize]) bestsize++;
    return [besti, bestj, bestsize];
  }

  matchingBlocks(): Block[] {
    if (this.blocks) return this.blocks;
    const la = this.a.length;
    const lb = this.b.length;
    const queue: [number, number, number, number][] = [[0, la, 0, lb]];
    const found: Block[] = [];
    while (queue.length > 0) {
      const [alo, ahi, blo, bhi] = queue.pop()!;
      const x = this.findLongestMatch(alo, ahi, blo, bhi);
      const [i, j, k] = x;
      if (k) {
        found.push(x);
        if (alo < i && blo < j) queue.push([alo, i, blo, j]);
        if (i + k < ahi && j + k < bhi) queue.push([i + k, ahi, j + k, bhi]);
      }
    }
    found.sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]);
    const merged: Block[] = [];
    let [i1, j1, k1] = [0, 0, 0];
    for (const [i2, j2, k2] of found) {
      if (i1 + k1 === i2 && j1 + k1 === j2) k1 += k2;
      else {
        if (k1) merged.push([i1, j1, k1]);
        [i1, j1, k1] = [i2, j2, k2];
      }
    }
    if (k1) merged.push([i1, j1, k1]);
    merged.push([la, lb, 0]);
    this.blocks = merged;
    return merged;
  }

  opcodes(): Opcode[] {
    let i = 0;
    let j = 0;
    const out: Opcode[] = [];
    for (const [ai, bj, size] of this.matchingBlocks()) {
      if (i < ai && j < bj) out.push(['replace', i, ai, j, bj]);
      else if (i < ai) out.push(['delete', i, ai, j, bj]);
      else if (j < bj) out.push(['insert', i, ai, j, bj]);
      i = ai + size;
      j = bj + size;
      if (size) out.push(['equal', ai, i, bj, j]);
    }
    return out;
  }

  private static ratioOf(matches: number, length: number): number {
    return length ? (2.0 * matches) / length : 1.0;
  }

  ratio(): number {
    const matches = this.matchingBlocks().reduce((n, [, , k]) => n + k, 0);
    return SequenceMatcher.ratioOf(matches, this.a.length + this.b.length);
  }

  quickRatio(): number {
    if (!this.fullbcount) {
      this.fullbcount = new Map();
      for (const elt of this.b) this.fullbcount.set(elt, (this.fullbcount.get(elt) ?? 0) + 1);
    }
    const avail = new Map<string, number>();
    let matches = 0;
    for (const elt of this.a) {
      const numb = avail.has(elt) ? avail.get(elt)! : (this.fullbcount.get(elt) ?? 0);
      avail.set(elt, numb - 1);
      if (numb > 0) matches++;
    }
    return SequenceMatcher.ratioOf(matches, this.a.length + this.b.length);
  }

  realQuickRatio(): number {
    const la = this.a.length;
    const lb = this.b.length;
    return SequenceMatcher.ratioOf(Math.min(la, lb), la + lb);
  }
}

/** difflib.IS_CHARACTER_JUNK: a space or a tab. */
const isCharJunk = (ch: string) => ch === ' ' || ch === '\t';

export interface NdiffMarks {
  /** Indices of chosen lines ndiff marks '- '. */
  chosenCritical: number[];
  /** Indices of rejected lines ndiff marks '+ '. */
  rejectedCritical: number[];
}

/** The lines `difflib.ndiff(a, b)` (linejunk None, charjunk IS_CHARACTER_JUNK) marks as removed
 * from `a` and added in `b`. */
export function ndiffMarks(a: readonly string[], b: readonly string[]): NdiffMarks {
  const aMarked = new Array<boolean>(a.length).fill(false);
  const bMarked = new Array<boolean>(b.length).fill(false);
  const chars = a.map((l) => Array.from(l));
  const bchars = b.map((l) => Array.from(l));
  const mark = (arr: boolean[], lo: number, hi: number) => {
    for (let k = lo; k < hi; k++) arr[k] = true;
  };

  const fancyHelper = (alo: number, ahi: number, blo: number, bhi: number): void => {
    if (alo < ahi) {
      if (blo < bhi) fancyReplace(alo, ahi, blo, bhi);
      else mark(aMarked, alo, ahi);
    } else if (blo < bhi) mark(bMarked, blo, bhi);
  };

  // Differ._fancy_replace: the most similar pair of lines (ratio above 0.74, first best wins;
  // identical pairs are remembered but skipped) splits the block; without one, the first
  // identical pair does; without either, every line of the block is replaced.
  function fancyReplace(alo: number, ahi: number, blo: number, bhi: number): void {
    let bestRatio = 0.74;
    const cutoff = 0.75;
    const cruncher = new SequenceMatcher(isCharJunk);
    let eqi: number | undefined;
    let eqj: number | undefined;
    let bestI = -1;
    let bestJ = -1;
    for (let j = blo; j < bhi; j++) {
      cruncher.setSeq2(bchars[j]);
      for (let i = alo; i < ahi; i++) {
        if (a[i] === b[j]) {
          if (eqi === undefined) {
            eqi = i;
            eqj = j;
          }
          continue;
        }
        cruncher.setSeq1(chars[i]);
        if (cruncher.realQuickRatio() > bestRatio && cruncher.quickRatio() > bestRatio && cruncher.ratio() > bestRatio) {
          bestRatio = cruncher.ratio();
          bestI = i;
          bestJ = j;
        }
      }
    }
    let identical = false;
    if (bestRatio < cutoff) {
      if (eqi === undefined) {
        mark(aMarked, alo, ahi);
        mark(bMarked, blo, bhi);
        return;
      }
      bestI = eqi;
      bestJ = eqj!;
      identical = true;
    }
    fancyHelper(alo, bestI, blo, bestJ);
    if (!identical) {
      aMarked[bestI] = true;
      bMarked[bestJ] = true;
    }
    fancyHelper(bestI + 1, ahi, bestJ + 1, bhi);
  }

  const lines = new SequenceMatcher(null);
  lines.setSeq1(a);
  lines.setSeq2(b);
  for (const [tag, alo, ahi, blo, bhi] of lines.opcodes()) {
    if (tag === 'replace') fancyReplace(alo, ahi, blo, bhi);
    else if (tag === 'delete') mark(aMarked, alo, ahi);
    else if (tag === 'insert') mark(bMarked, blo, bhi);
  }
  const indices = (arr: boolean[]) => arr.flatMap((m, i) => (m ? [i] : []));
  return { chosenCritical: indices(aMarked), rejectedCritical: indices(bMarked) };
}
