// A project with pairs to score, for the scoring integration tests: the dataset fixtures imported
// and cut, one FIM pair per target (the reference middle against a mutant of it, as sampling
// and execution produce them), IterPref pairs from the history fixtures (exact-LCS spans), and
// pairs whose texts hold non-ASCII and astral characters. Pairs are written with the fixture
// builders (the pairs stage's own upsertPairs); texts come from the project, so the stand-in
// knows them.
import path from 'node:path';
import { importFiles } from '../../server/import/importer';
import { MUTANT_KINDS, variants } from '../../server/localvllm/mutants';
import { openProject } from '../../server/store/db';
import { cutAllTargets } from '../../server/targets/cutAll';
import { addPairs, pairOnTarget, type PairSpec } from './fixtures';
import { fixturePath } from './paths';

const FIXTURES = fixturePath('datasets');

/** Creates the project; returns how many pairs it holds. */
export async function buildScoringProject(file: string): Promise<number> {
  const p = openProject(file);
  try {
    await importFiles(p, ['apps-mini.jsonl', 'humaneval-mini.jsonl', 'mbpp-mini.jsonl', 'history-mini.jsonl'].map((f) => path.join(FIXTURES, f)));
    await cutAllTargets(p, { preset: 'structurecoder' });
    const pairs: PairSpec[] = [];
    const targets = p.db
      .prepare<[], { id: number; mid: string }>(
        "SELECT t.id, t.mid FROM targets t JOIN solutions s ON s.id = t.solution_id WHERE t.preset = 'structurecoder' ORDER BY t.id",
      )
      .all();
    for (const t of targets) {
      const v = variants(t.mid);
      const kind = MUTANT_KINDS.find((k) => v[k].length > 0);
      if (!kind) continue;
      pairs.push(pairOnTarget(p, t.id, { pairKey: `sc:${t.id}`, rejected: v[kind][0], editDistance: 1 }));
    }
    // Non-ASCII and astral characters in the responses (and so in the token positions).
    const t0 = targets[0];
    pairs.push(pairOnTarget(p, t0.id, { pairKey: 'sc:astral', chosen: `${t0.mid}  # 😀 ok`, rejected: `${t0.mid}  # 😀 ok 中文`, editDistance: 1 }));
    const versions = p.db
      .prepare<[], { history_id: number; problem_id: number; code: string }>(
        'SELECT hv.history_id, h.problem_id, hv.code FROM history_versions hv JOIN histories h ON h.id = hv.history_id ORDER BY hv.history_id, hv.ordinal',
      )
      .all();
    const byHistory = new Map<number, typeof versions>();
    for (const v of versions) byHistory.set(v.history_id, [...(byHistory.get(v.history_id) ?? []), v]);
    for (const [h, vs] of byHistory) {
      if (vs.length < 2) continue;
      // The last version against the first; spans from the critical lines (exact LCS).
      pairs.push({ pairKey: `ip:${h}`, problemId: vs[0].problem_id, historyId: h, chosen: vs[vs.length - 1].code, rejected: vs[0].code });
    }
    addPairs(p, pairs);
    return pairs.length;
  } finally {
    p.close();
  }
}
