// A large project for the dashboard benchmark (scripts/bench/dashboard-load.mjs), written through
// the stages' own writers: a generated APPS file imported (importFiles) and cut (cutAllTargets),
// two sampling jobs stored in bulk (writeSampleJob), verdicts (writeExecutions), one FIM pair per
// target (upsertPairs), review decisions over 30 days (decide), two scoring runs (sideWriter), an
// export (exportPairs). Pass rates depend on the block kind and depth, so the heatmap has shape.
// Only reads for its own bookkeeping (target ids, kinds, problems) are plain SELECTs here.
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeExecutions, type ExecutionRecord } from '../../server/exec/store';
import { DEFAULT_EXPORT, exportPairs } from '../../server/export/export';
import { importFiles } from '../../server/import/importer';
import { decide } from '../../server/pairs/review';
import { upsertPairs, type PairDraft } from '../../server/pairs/store';
import type { PairFlag, Verdict } from '../../server/protocol';
import { writeSampleJob, type BulkSample } from '../../server/sampling/bulk';
import { addRunPairs, createRun, finishRun, sideWriter, type NewRun, type SideRow } from '../../server/scoring/store';
import { openProject } from '../../server/store/db';
import { cutAllTargets } from '../../server/targets/cutAll';

export interface GeneratedProject {
  file: string;
  problems: number;
  targets: number;
  samples: number;
  verdicts: number;
  pairs: number;
  seconds: number;
}

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Two solution shapes of five target blocks each (StructureCoder: if, for, while, def). */
function solution(k: number): string {
  if (k % 2 === 0) {
    return [
      `def compute${k}(values):`,
      '    total = 0',
      '    for v in values:',
      `        if v % ${(k % 7) + 2} == 0:`,
      '            total += v',
      `    while total > ${1000 + k}:`,
      `        total -= ${1000 + k}`,
      '    return total',
      'n = int(input())',
      'if n > 0:',
      `    print(compute${k}(list(map(int, input().split()))))`,
      '',
    ].join('\n');
  }
  return [
    `def best${k}(grid):`,
    '    best = 0',
    '    for row in grid:',
    '        for x in row:',
    `            if x > best + ${k % 5}:`,
    '                best = x',
    '    return best',
    'm = int(input())',
    'while m < 0:',
    '    m += 1',
    `print(best${k}([list(map(int, input().split())) for i in range(m)]))`,
    '',
  ].join('\n');
}

export async function generateProject(dir: string, opts: { problems?: number; log?: (line: string) => void } = {}): Promise<GeneratedProject> {
  const started = performance.now();
  const log = opts.log ?? (() => undefined);
  const problems = opts.problems ?? 20_000;
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'project.sqlite');
  const data = path.join(dir, 'bench-apps.jsonl');
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(data);
    out.on('error', reject);
    for (let k = 0; k < problems; k++) {
      const rec = {
        problem_id: k,
        question: `Problem ${k}: read the numbers and print the answer.`,
        solutions: JSON.stringify([solution(k)]),
        input_output: JSON.stringify({ inputs: ['3\n1 2 3\n'], outputs: ['0\n'] }),
        difficulty: 'introductory',
        url: '',
        starter_code: '',
      };
      out.write(`${JSON.stringify(rec)}\n`);
    }
    out.end(resolve);
  });
  const p = openProject(file);
  // A generated project: losing it in a power cut costs a re-run, so no fsync per transaction.
  p.db.pragma('synchronous = OFF');
  try {
    const step = (what: string) => log(`generate: ${what} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    await importFiles(p, [data]);
    step(`${problems} problems imported`);
    await cutAllTargets(p, { preset: 'structurecoder' });
    const targets = p.db
      .prepare<[], { id: number; kind: string; depth: number; problem_id: number }>('SELECT t.id, t.kind, t.depth, s.problem_id FROM targets t JOIN solutions s ON s.id = t.solution_id ORDER BY t.id')
      .all();
    step(`${targets.length} targets cut`);
    const random = rng(7);
    const now = '2026-03-01T00:00:00.000Z';
    let samples = 0;
    for (const [model, n] of [['bench-model-a', 3], ['bench-model-b', 2]] as const) {
      const rows: BulkSample[] = [];
      for (const t of targets) for (let i = 0; i < n; i++) rows.push({ targetId: t.id, index: i, middle: `    pass  # ${model} ${t.id}/${i}` });
      writeSampleJob(p, { family: 'qwen2.5-coder', preset: 'structurecoder', endpoint: 'http://bench:8000', model, params: { n, temperature: 0.7 }, createdAt: now }, rows);
      samples += rows.length;
    }
    step(`${samples} samples stored`);
    // Verdicts for 95% of the samples; deeper blocks pass less often.
    const facts = new Map(targets.map((t) => [t.id, t]));
    const sampleIds = p.db.prepare<[], { id: number; target_id: number }>('SELECT id, target_id FROM samples ORDER BY id').all();
    const failing: Verdict[] = ['wrong_answer', 'wrong_answer', 'runtime_error', 'timeout', 'compile_error'];
    const records: ExecutionRecord[] = [];
    let verdicts = 0;
    const sandbox = { isolation: 'bwrap-user' as const, limits: {} as never };
    const flush = () => {
      writeExecutions(p, records.splice(0));
    };
    for (const s of sampleIds) {
      if (random() < 0.05) continue;
      const t = facts.get(s.target_id)!;
      const passRate = Math.max(0.1, 0.85 - 0.15 * (t.depth - 1) - (t.kind === 'while' ? 0.1 : 0));
      const verdict: Verdict = random() < passRate ? 'pass' : failing[Math.floor(random() * failing.length)];
      records.push({ kind: 'sample', id: s.id, problemId: t.problem_id, attempt: 0, codeSha256: 'bench', result: { verdict, tests: [], testsTotal: 1, durationMs: 1, comparator: 'strict', sandbox }, executedAt: now });
      verdicts++;
      if (records.length >= 50_000) flush();
    }
    // The references: 2% fail their own tests.
    const solutions = p.db.prepare<[], { id: number; problem_id: number }>('SELECT id, problem_id FROM solutions').all();
    for (const s of solutions) {
      records.push({ kind: 'solution', id: s.id, problemId: s.problem_id, attempt: 0, codeSha256: 'bench', result: { verdict: random() < 0.02 ? 'wrong_answer' : 'pass', tests: [], testsTotal: 1, durationMs: 1, comparator: 'strict', sandbox }, executedAt: now });
    }
    flush();
    step(`${verdicts} sample verdicts stored`);
    // One FIM pair per target.
    const flagChoices: PairFlag[][] = [[], [], [], [], ['too_long'], ['comment_only'], ['identical_ast'], ['too_long', 'too_many_critical']];
    const drafts: PairDraft[] = targets.map((t) => ({
      pairKey: `bench:${t.id}`,
      mode: 'structurecoder',
      kind: 'fim',
      problemId: t.problem_id,
      targetId: t.id,
      historyId: null,
      pre: '',
      suf: '',
      blockKind: t.kind,
      depth: t.depth,
      goldenLines: 2 + (t.id % 5),
      chosen: `    x = ${t.id}`,
      rejected: `    x = ${t.id + 1}`,
      chosenSpans: [],
      rejectedSpans: [],
      provenance: { rejected: { verdict: 'wrong_answer' } },
      editDistance: 1 + (t.id % 9),
      flags: flagChoices[Math.floor(random() * flagChoices.length)],
      dupKey: `bench:${t.id}`,
    }));
    for (let i = 0; i < drafts.length; i += 20_000) upsertPairs(p, drafts.slice(i, i + 20_000), now);
    const pairIds = p.db.prepare<[], { id: number }>('SELECT id FROM pairs ORDER BY id').all().map((r) => r.id);
    step(`${pairIds.length} pairs stored`);
    // 60% reviewed over 30 days.
    const statuses = ['accepted', 'accepted', 'rejected', 'flagged'] as const;
    const reviewed = pairIds.slice(0, Math.floor(pairIds.length * 0.6));
    const perDay = Math.ceil(reviewed.length / 30);
    for (let d = 0; d < 30; d++) {
      const day = reviewed.slice(d * perDay, (d + 1) * perDay);
      const at = `2026-03-${String(d + 1).padStart(2, '0')}T12:00:00.000Z`;
      for (const s of statuses) decide(p, { pairIds: day.filter((id) => statuses[id % statuses.length] === s), status: s, now: at, reviewer: 'bench' });
    }
    step(`${reviewed.length} pairs reviewed`);
    // Two scoring runs: before and after training (the margins move right).
    const run = (model: string): NewRun => ({
      specKey: model,
      policy: [{ url: 'http://bench:8000', model }],
      reference: [{ url: 'http://bench:8000', model: 'bench-reference' }],
      beta: 0.1,
      topK: 0,
      format: 'chat',
      family: 'qwen2.5-coder',
      trainingSentence: false,
      addSpecialTokens: true,
      selection: 'all',
      tokenizer: null,
    });
    const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    for (const [model, shift] of [['bench-policy', 0], ['bench-policy-trained', 8]] as const) {
      const runId = createRun(p, run(model), now);
      addRunPairs(p, runId, pairIds);
      const writer = sideWriter(p, runId, 0.1, 0);
      const empty = { tokenIds: [], charRanges: [], lossMask: [], logpPolicy: new Float32Array(0), logpRef: new Float32Array(0), topPolicy: null, topRef: null };
      const side = (pairId: number, s: 'chosen' | 'rejected', policy: number): SideRow => ({
        pairId, side: s, format: 'chat', textSha256: 'bench', promptTokens: 1, spelling: '', ...empty, maskedTokens: 1,
        maskedLogpPolicy: policy, maskedLogpRef: 0, rewardSum: 0.1 * policy, maskedRewardSum: 0.1 * policy, attempts: 1, createdAt: now,
      });
      for (let i = 0; i < pairIds.length; i += 10_000) {
        writer.write(pairIds.slice(i, i + 10_000).flatMap((id) => [side(id, 'chosen', 10 * normal() + shift), side(id, 'rejected', 0)]), new Map());
      }
      finishRun(p, runId, 'done', null, now);
    }
    step('2 scoring runs stored');
    await exportPairs(p, path.join(dir, 'export'), { ...DEFAULT_EXPORT, format: 'trl' });
    step('accepted pairs exported');
    return { file, problems, targets: targets.length, samples, verdicts, pairs: pairIds.length, seconds: Math.round((performance.now() - started) / 1000) };
  } finally {
    p.close();
  }
}
