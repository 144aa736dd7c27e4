// pairforge pairs against a real project file: samples and verdicts built as the sampling and exec
// stages store them (test/support/fixtures.ts); checks what is paired, provenance, idempotence,
// review survival, stale, flaky, duplicate and identical-AST flags, and IterPref spans.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadPython, type PythonGrammar } from '../../../server/blocks/parser';
import { buildPairs, keepBestCounts } from '../../../server/pairs/build';
import { describeTokens } from '../../../server/pairs/command';
import { describeNoPair } from '../../../server/pairs/explain';
import { estimatingCounter, type TokenCounter } from '../../../server/pairs/tokens';
import { getPair, listPairs, pairCount, pairGroups, refreshDuplicates, setPairStatus, setPairsStatus } from '../../../server/pairs/store';
import { openProject, type Project } from '../../../server/store/db';
import type { Verdict } from '../../../server/protocol';
import { addDataset, addExecution, addHistory, addProblem, addSample, addSampleJob, addSolution, addTarget, markFlaky } from '../../support/fixtures';

let grammar: PythonGrammar;
let dir: string;
let p: Project;

beforeAll(async () => {
  grammar = await loadPython();
});
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pairs-build-'));
  p = openProject(path.join(dir, 'p.sqlite'));
  addProblem(p, { datasetId: addDataset(p, { name: 'demo' }), externalId: 'p1', question: 'Sum the numbers.' });
  addSampleJob(p, { params: { n: 5 }, endpoints: [{ url: 'http://x/v1', model: 'm' }] });
});
afterEach(() => {
  p.close();
  rmSync(dir, { recursive: true, force: true });
});

const PRE = 'n = int(input())\ns = 0\n';
const MID = 'for i in range(n):\n    s += i';
const SUF = '\nprint(s)';

/** Solution 1 of problem 1, the program PRE + MID + SUF, and its `for` block as a structurecoder
 * target. */
function target(): number {
  return addTarget(p, { solutionId: addSolution(p, { problemId: 1, code: PRE + MID + SUF }), pre: PRE, mid: MID, suf: SUF });
}

/** A sample of job 1 with its verdict (none: not executed yet); a stale verdict judged other code. */
function sample(targetId: number, middle: string, verdict: Verdict | null, opts: { flaky?: boolean; staleSha?: boolean } = {}): number {
  const id = addSample(p, { jobId: 1, targetId, middle, endpoint: 'http://x/v1', model: 'm' });
  if (verdict) addExecution(p, { kind: 'sample', id, verdict, code: opts.staleSha ? 'other code' : undefined });
  if (opts.flaky) markFlaky(p, { kind: 'sample', id });
  return id;
}

describe('structurecoder pairs in the store', () => {
  it('pairs, provenance, spans and FIM kind', async () => {
    const t = target();
    const w = sample(t, 'for i in range(n + 1):\n    s += i', 'wrong_answer');
    const ok = sample(t, 'for i in range(n):\n    s += i\n', 'pass');
    sample(t, 'for i in range(n):\n    s = i', 'runtime_error');
    sample(t, 'for i in range(m):', null); // not executed yet
    const s = await buildPairs(p, grammar, { mode: 'structurecoder' });
    expect(s).toMatchObject({ sources: 1, paired: 1, pairs: 1, inserted: 1, unexecuted: 1, comparator: 'strict' });
    const [pair] = listPairs(p);
    expect(pair).toMatchObject({
      mode: 'structurecoder',
      kind: 'fim',
      targetId: t,
      problemId: 1,
      pre: PRE,
      suf: SUF,
      blockKind: 'for',
      depth: 1,
      goldenLines: 2,
      chosen: 'for i in range(n):\n    s += i',
      rejected: 'for i in range(n + 1):\n    s += i',
      editDistance: 4,
      status: 'pending',
      flags: [],
    });
    expect(pair.chosenSpans).toEqual([[0, pair.chosen.length]]);
    expect(pair.rejectedSpans).toEqual([[0, pair.rejected.length]]);
    expect(pair.provenance).toMatchObject({
      chosen: { samples: [ok] },
      rejected: { samples: [w], verdicts: ['wrong_answer'] },
      endpoints: ['http://x/v1'],
      models: ['m'],
      jobs: [1],
      tokens: { method: 'estimate' },
    });
  });

  it('a re-run changes nothing; a review survives it', async () => {
    const t = target();
    sample(t, 'for i in range(n + 1):\n    s += i', 'wrong_answer');
    sample(t, 'for i in range(n):\n    s += i', 'pass');
    await buildPairs(p, grammar, { mode: 'structurecoder' });
    const [before] = listPairs(p);
    setPairStatus(p, before.id, 'accepted', 'looks right');
    const again = await buildPairs(p, grammar, { mode: 'structurecoder' });
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: 1 });
    const after = getPair(p, before.id)!;
    expect(after.status).toBe('accepted');
    expect(after.note).toBe('looks right');
    expect(listPairs(p)).toHaveLength(1);
  });

  it('flaky and stale verdicts are left out', async () => {
    const t = target();
    sample(t, 'for i in range(n + 1):\n    s += i', 'wrong_answer', { flaky: true });
    sample(t, 'for i in range(n - 1):\n    s += i', 'wrong_answer', { staleSha: true });
    sample(t, 'for i in range(n):\n    s += i', 'pass');
    const s = await buildPairs(p, grammar, { mode: 'structurecoder' });
    expect(s).toMatchObject({ pairs: 0, flaky: 1, unexecuted: 1 });
    expect(s.skipped).toEqual({ no_rejectable_sample: 1 });
  });

  it('a target whose samples all fail to compile is said as such', async () => {
    const t = target();
    sample(t, 'for i in range(n + 1):\ns += i', 'compile_error');
    sample(t, 'for i in range(n):\n\ts += i', 'compile_error');
    const s = await buildPairs(p, grammar, { mode: 'structurecoder' });
    expect(s).toMatchObject({ pairs: 0 });
    expect(s.skipped).toEqual({ all_compile_error: 1 });
    expect(describeNoPair(s.skipped)).toBe('1 every sample fails to compile');
  });

  it('a pair the next run no longer produces is flagged stale, keeps its status, and is not deleted', async () => {
    const t = target();
    sample(t, 'for i in range(n + 1):\n    s += i', 'wrong_answer');
    sample(t, 'for j in range(n):\n    s += j', 'pass');
    await buildPairs(p, grammar, { mode: 'structurecoder' });
    const [first] = listPairs(p);
    setPairStatus(p, first.id, 'rejected');
    sample(t, 'for i in range(n):\n    s += i', 'pass'); // nearer to the wrong middle
    const s = await buildPairs(p, grammar, { mode: 'structurecoder' });
    expect(s).toMatchObject({ inserted: 1, stale: 1 });
    const all = listPairs(p);
    expect(all).toHaveLength(2);
    expect(getPair(p, first.id)).toMatchObject({ status: 'rejected', flags: ['stale'] });
    expect(all[1]).toMatchObject({ chosen: 'for i in range(n):\n    s += i', flags: [] });
  });

  it('identical-AST flag: middles differing only in a comment', async () => {
    const t = target();
    sample(t, 'for i in range(n):\n    s += i  # wrong?', 'wrong_answer');
    sample(t, 'for i in range(n):\n    s += i', 'pass');
    const s = await buildPairs(p, grammar, { mode: 'structurecoder' });
    expect(s.flags).toEqual({ identical_ast: 1 });
    expect(listPairs(p)[0].flags).toEqual(['identical_ast']);
  });

  it('exact duplicates: the second pair with the same question, context and texts is flagged', async () => {
    const a = target();
    const b = addTarget(p, { solutionId: addSolution(p, { problemId: 1, code: 'x' }), pre: PRE, mid: MID, suf: SUF });
    for (const t of [a, b]) {
      sample(t, 'for i in range(n + 1):\n    s += i', 'wrong_answer');
      sample(t, 'for i in range(n):\n    s += i', 'pass');
    }
    const s = await buildPairs(p, grammar, { mode: 'structurecoder' });
    expect(s.duplicates).toBe(1);
    expect(listPairs(p).map((x) => x.flags)).toEqual([[], ['duplicate']]);
    // The older one gone, the survivor is no longer a duplicate.
    p.db.prepare('DELETE FROM pairs WHERE id = ?').run(listPairs(p)[0].id);
    expect(refreshDuplicates(p)).toBe(0);
    expect(listPairs(p).map((x) => x.flags)).toEqual([[]]);
  });

  it('too_long with a tiny token limit; golden fallback only when the reference passes', async () => {
    const t = target();
    sample(t, 'for i in range(n + 1):\n    s += i', 'wrong_answer');
    let s = await buildPairs(p, grammar, { mode: 'structurecoder', goldenFallback: true });
    expect(s.pairs).toBe(0); // the reference has no verdict yet
    addExecution(p, { kind: 'solution', id: 1, verdict: 'pass' });
    s = await buildPairs(p, grammar, { mode: 'structurecoder', goldenFallback: true, limits: { maxTokens: 10 } });
    expect(s.pairs).toBe(1);
    const [pair] = listPairs(p);
    expect(pair.chosen).toBe(MID);
    expect(pair.provenance.chosen).toMatchObject({ golden: true, solutionId: 1 });
    expect(pair.flags).toEqual(['too_long']);
  });

  it('one-per-wrong with --admit-errors', async () => {
    const t = target();
    sample(t, 'for i in range(n + 1):\n    s += i', 'wrong_answer');
    sample(t, 'for i in range(n):\n    s += j', 'runtime_error');
    sample(t, 'for i in range(n):\n    s += i', 'pass');
    const s = await buildPairs(p, grammar, { mode: 'structurecoder', selection: 'one-per-wrong', reject: ['wrong_answer', 'runtime_error', 'timeout'] });
    expect(s.pairs).toBe(2);
    expect(listPairs(p).map((x) => x.rejected)).toEqual(['for i in range(n + 1):\n    s += i', 'for i in range(n):\n    s += j']);
  });
});

describe('iterpref pairs in the store', () => {
  function history(versions: [string, Verdict | null][]): number {
    const h = addHistory(p, { problemId: 1, versions: versions.map(([code]) => code) });
    versions.forEach(([, verdict], i) => {
      if (verdict) addExecution(p, { kind: 'version', id: h.versionIds[i], verdict });
    });
    return h.id;
  }

  it('chosen = final pass, rejected spans = the critical lines, comment-only flagged', async () => {
    const h1 = history([
      ['n = int(input())\nprint(n + 1)\n', 'wrong_answer'],
      ['n = int(input())\nprint(n)\n', 'pass'],
    ]);
    const h2 = history([
      ['n = int(input())\n# todo\nprint(n)\n', 'wrong_answer'],
      ['n = int(input())\nprint(n)\n', 'pass'],
    ]);
    history([['x = 1\n', 'wrong_answer']]); // never passes
    const s = await buildPairs(p, grammar, { mode: 'iterpref' });
    expect(s).toMatchObject({ sources: 3, paired: 2, pairs: 2 });
    expect(s.skipped).toEqual({ no_passing_version: 1 });
    const [a, b] = listPairs(p);
    expect(a).toMatchObject({ kind: 'iterpref', historyId: h1, pre: '', suf: '', flags: [], chosen: 'n = int(input())\nprint(n)\n' });
    expect(a.rejectedSpans).toEqual([[17, 30]]);
    expect(a.rejected.slice(17, 30)).toBe('print(n + 1)\n');
    expect(a.provenance.critical).toEqual({ chosenLines: [1], rejectedLines: [1], commonLines: 1 });
    expect(b).toMatchObject({ historyId: h2, flags: ['identical_ast', 'comment_only'] }); // a comment changes no syntax
    expect(pairGroups(p)).toEqual([{ level: 'problem', problemId: 1, label: 'demo / p1', counts: { total: 2, pending: 2, accepted: 0, rejected: 0, flagged: 0, flagged_by_filters: 1 } }]);
    expect(pairGroups(p, 1).map((g) => g.label)).toEqual(['history 1', 'history 2']);
    expect(pairCount(p)).toBe(2);
  });
});

describe('setPairStatus', () => {
  it('rejects unknown ids and statuses; null clears the note', async () => {
    const t = target();
    sample(t, 'for i in range(n + 1):\n    s += i', 'wrong_answer');
    sample(t, 'for i in range(n):\n    s += i', 'pass');
    await buildPairs(p, grammar, { mode: 'structurecoder' });
    const [pair] = listPairs(p);
    expect(() => setPairStatus(p, 999, 'accepted')).toThrow(/no pair 999/);
    expect(() => setPairStatus(p, pair.id, 'bogus' as never)).toThrow(/status must be one of/);
    expect(setPairStatus(p, pair.id, 'flagged', 'check').note).toBe('check');
    expect(setPairStatus(p, pair.id, 'accepted').note).toBe('check');
    expect(setPairStatus(p, pair.id, 'accepted', null).note).toBeNull();
    expect(pairGroups(p, 1)[0]).toMatchObject({ level: 'block', targetId: t, label: 'for, depth 1, lines 3-4' });
  });
});

describe('setPairsStatus', () => {
  it('sets many in one go, skips unknown ids, validates the status', async () => {
    const t = target();
    sample(t, 'for i in range(n + 1):\n    s += i', 'wrong_answer');
    sample(t, 'for i in range(n - 1):\n    s += i', 'wrong_answer');
    sample(t, 'for i in range(n):\n    s += i', 'pass');
    await buildPairs(p, grammar, { mode: 'structurecoder', selection: 'one-per-wrong' });
    const ids = listPairs(p).map((x) => x.id);
    expect(ids).toHaveLength(2);
    expect(setPairsStatus(p, [...ids, 999], 'accepted', 'batch')).toBe(2);
    expect(listPairs(p, { status: 'accepted' }).map((x) => x.note)).toEqual(['batch', 'batch']);
    expect(() => setPairsStatus(p, ids, 'nope' as never)).toThrow(/status must be one of/);
  });
});

describe('references that fail their own tests', () => {
  it('their targets are not paired (skipped as reference_fails)', async () => {
    const t = target();
    sample(t, 'for i in range(n + 1):\n    s += i', 'wrong_answer');
    sample(t, 'for i in range(n):\n    s += i', 'pass');
    addExecution(p, { kind: 'solution', id: 1, verdict: 'wrong_answer' });
    const s = await buildPairs(p, grammar, { mode: 'structurecoder' });
    expect(s.pairs).toBe(0);
    expect(s.skipped).toEqual({ reference_fails: 1 });
  });
});

describe('--preset', () => {
  it('pairs only the targets cut under that preset key', async () => {
    const t = target();
    const clean = addTarget(p, { solutionId: 1, preset: 'clean', pre: PRE, mid: MID, suf: SUF });
    for (const id of [t, clean]) {
      sample(id, 'for i in range(n + 1):\n    s += i', 'wrong_answer');
      sample(id, 'for i in range(n):\n    s += i', 'pass');
    }
    sample(clean, 'for i in range(m):', null);
    const s = await buildPairs(p, grammar, { mode: 'structurecoder', preset: 'structurecoder' });
    expect(s).toMatchObject({ sources: 1, pairs: 1, unexecuted: 0 });
    expect(listPairs(p).map((x) => x.targetId)).toEqual([t]);
  });
});

describe('too_long: the best token count a pair has is kept', () => {
  /** A counter as an endpoint's /tokenize is: counts far above the estimate. */
  const tokenizer: TokenCounter = { method: 'tokenize', count: async (t) => t.length * 10 };

  it('a later run that can only estimate keeps the tokenizer counts and their flags, and says so', async () => {
    const t = target();
    sample(t, 'for i in range(n + 1):\n    s += i', 'wrong_answer');
    sample(t, 'for i in range(n):\n    s += i', 'pass');
    const first = await buildPairs(p, grammar, { mode: 'structurecoder', tokens: tokenizer, limits: { maxTokens: 500 } });
    expect(first.flags).toEqual({ too_long: 1 });
    expect(first.tokens.counted).toEqual({ tokenize: 1, estimate: 0, kept: 0 });
    const [before] = listPairs(p);
    expect(before.provenance.tokens).toMatchObject({ method: 'tokenize', family: 'qwen2.5-coder' });
    const again = await buildPairs(p, grammar, { mode: 'structurecoder', tokens: estimatingCounter(), limits: { maxTokens: 500 } });
    expect(again).toMatchObject({ updated: 0, unchanged: 1, flags: { too_long: 1 } });
    expect(again.tokens).toMatchObject({ method: 'estimate', counted: { tokenize: 0, estimate: 0, kept: 1 } });
    expect(listPairs(p)[0]).toEqual(before);
    expect(describeTokens(again)).toBe("1 kept from an earlier run's /tokenize count (this run could only estimate)");
  });

  it('a new tokenizer count replaces an older one; a count for another prompt family is not kept', () => {
    const old = { chosen: 900, rejected: 910, method: 'tokenize' as const, family: 'qwen2.5-coder' };
    expect(keepBestCounts({ chosen: 10, rejected: 11, method: 'tokenize', family: 'qwen2.5-coder' }, old, 'qwen2.5-coder')).toEqual({ tokens: { chosen: 10, rejected: 11, method: 'tokenize', family: 'qwen2.5-coder' }, kept: false });
    expect(keepBestCounts({ chosen: 10, rejected: 11, method: 'estimate', family: 'starcoder2' }, old, 'starcoder2').kept).toBe(false);
    expect(keepBestCounts({ chosen: 10, rejected: 11, method: 'estimate', family: 'qwen2.5-coder' }, old, 'qwen2.5-coder')).toEqual({ tokens: old, kept: true });
    // counts stored before the family was recorded were counted with the default family
    const { family: _f, ...unmarked } = old;
    expect(keepBestCounts({ chosen: 1, rejected: 1, method: 'estimate' }, unmarked, 'qwen2.5-coder').kept).toBe(true);
  });
});
