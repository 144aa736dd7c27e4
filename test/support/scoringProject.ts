// A project with pairs to score, for the scoring integration tests: the dataset fixtures imported
// and cut, one FIM pair per target (the reference middle against a mutant of it, as sampling
// and execution produce them), IterPref pairs from the history fixtures (exact-LCS spans), and
// pairs whose texts hold non-ASCII and astral characters. Pairs are written with the pairs
// stage's own upsertPairs; texts come from the project, so the stand-in knows them.
import path from 'node:path';
import { importFiles } from '../../server/import/importer';
import { MUTANT_KINDS, variants } from '../../server/localvllm/mutants';
import { iterPrefSpans } from '../../server/pairs/iterpref';
import { upsertPairs, type PairDraft } from '../../server/pairs/store';
import { openProject } from '../../server/store/db';
import { cutAllTargets } from '../../server/targets/cutAll';
import { fixturePath } from './paths';

const FIXTURES = fixturePath('datasets');

const whole = (s: string): [number, number][] => (s.length === 0 ? [] : [[0, s.length]]);

/** Creates the project; returns how many pairs it holds. */
export async function buildScoringProject(file: string): Promise<number> {
  const p = openProject(file);
  try {
    await importFiles(p, ['apps-mini.jsonl', 'humaneval-mini.jsonl', 'mbpp-mini.jsonl', 'history-mini.jsonl'].map((f) => path.join(FIXTURES, f)));
    await cutAllTargets(p, { preset: 'structurecoder' });
    const drafts: PairDraft[] = [];
    const targets = p.db
      .prepare<[], { id: number; pre: string; mid: string; suf: string; kind: string; depth: number; problem_id: number }>(
        "SELECT t.id, t.pre, t.mid, t.suf, t.kind, t.depth, s.problem_id FROM targets t JOIN solutions s ON s.id = t.solution_id WHERE t.preset = 'structurecoder' ORDER BY t.id",
      )
      .all();
    for (const t of targets) {
      const v = variants(t.mid);
      const kind = MUTANT_KINDS.find((k) => v[k].length > 0);
      if (!kind) continue;
      const rejected = v[kind][0];
      drafts.push(fim(`sc:${t.id}`, t, t.mid, rejected));
    }
    // Non-ASCII and astral characters in the responses (and so in the token positions).
    const t0 = targets[0];
    drafts.push(fim('sc:astral', t0, `${t0.mid}  # 😀 ok`, `${t0.mid}  # 😀 ok 中文`));
    const versions = p.db
      .prepare<[], { history_id: number; problem_id: number; ordinal: number; code: string }>(
        'SELECT hv.history_id, h.problem_id, hv.ordinal, hv.code FROM history_versions hv JOIN histories h ON h.id = hv.history_id ORDER BY hv.history_id, hv.ordinal',
      )
      .all();
    const byHistory = new Map<number, typeof versions>();
    for (const v of versions) byHistory.set(v.history_id, [...(byHistory.get(v.history_id) ?? []), v]);
    for (const [h, vs] of byHistory) {
      if (vs.length < 2) continue;
      const chosen = vs[vs.length - 1].code;
      const rejected = vs[0].code;
      const spans = iterPrefSpans(chosen, rejected);
      drafts.push({
        pairKey: `ip:${h}`,
        mode: 'iterpref',
        kind: 'iterpref',
        problemId: vs[0].problem_id,
        targetId: null,
        historyId: h,
        pre: '',
        suf: '',
        blockKind: null,
        depth: null,
        goldenLines: chosen.split('\n').length,
        chosen,
        rejected,
        chosenSpans: spans.chosenSpans,
        rejectedSpans: spans.rejectedSpans,
        provenance: {},
        editDistance: spans.diff.rejectedCritical.length,
        flags: [],
        dupKey: `ip:${h}`,
      });
    }
    upsertPairs(p, drafts);
    return drafts.length;
  } finally {
    p.close();
  }

  function fim(key: string, t: { id: number; pre: string; suf: string; kind: string; depth: number; problem_id: number; mid: string }, chosen: string, rejected: string): PairDraft {
    return {
      pairKey: key,
      mode: 'structurecoder',
      kind: 'fim',
      problemId: t.problem_id,
      targetId: t.id,
      historyId: null,
      pre: t.pre,
      suf: t.suf,
      blockKind: t.kind,
      depth: t.depth,
      goldenLines: t.mid.split('\n').length,
      chosen,
      rejected,
      chosenSpans: whole(chosen),
      rejectedSpans: whole(rejected),
      provenance: {},
      editDistance: 1,
      flags: [],
      dupKey: key,
    };
  }
}
