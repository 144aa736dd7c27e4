// The review room's requests: the queue one page at a time, a pair's detail, decisions and undo,
// running and saving a reviewer's edit of the chosen side, and building and exporting pairs from
// the editor. The room spans several stages (pairs, exec, sampling, export), so this feature sits
// on top of them, like the pipeline.
import path from 'node:path';
import { loadPython } from '../blocks/parser';
import { comparatorOf, requireTrusted, type ExecService } from '../exec/feature';
import { problemTests } from '../import/queries';
import { DEFAULT_EXPORT, ExportCancelled, exportPairs } from '../export/export';
import { exportedPairsFilter } from '../export/store';
import { problemInfo } from '../import/browse';
import type { EngineContext } from '../lsp/context';
import { cancelled, guarded, invalidParams } from '../lsp/errors';
import { throttled, withProgress } from '../lsp/progress';
import { buildPairs } from '../pairs/build';
import { sortFlags } from '../pairs/filters';
import { DEFAULT_REJECT } from '../pairs/types';
import { queueCounts, queueIndexOf, queueNextIndex, queuePage } from '../pairs/queue';
import { decide, saveChosenEdit, undoLast } from '../pairs/review';
import { getPair } from '../pairs/store';
import { marginJoin } from '../scoring/store';
import { estimatingCounter } from '../pairs/tokens';
import {
  BuildPairsRequest,
  ExportPairsRequest,
  PAIR_FLAGS,
  PAIR_MODES,
  PAIR_STATUSES,
  PairDetailRequest,
  QueueIndexRequest,
  QueueNextRequest,
  QueuePageRequest,
  ReviewDecisionRequest,
  RunPairTestsRequest,
  SavePairEditRequest,
  UndoReviewRequest,
  VERDICTS,
  type EditParams,
  type EditRun,
  type PairMode,
  type PairQueueQuery,
} from '../protocol';
import type { Project } from '../store/db';
import { pairDetail } from './detail';
import { recompute, sideProgram } from './edit';

/** Rows per queue page at most (the room asks for what it shows plus a little). */
const MAX_PAGE = 500;

/** The joins a queue query needs: its scoring run's margins, its export's pairs. */
function queueJoins(q: PairQueueQuery): { score: ReturnType<typeof marginJoin> | undefined; only: ReturnType<typeof exportedPairsFilter> | undefined } {
  return { score: q.runId !== undefined ? marginJoin(q.runId) : undefined, only: q.exportId !== undefined ? exportedPairsFilter(q.exportId) : undefined };
}

export function reviewFeature(ctx: EngineContext, exec: ExecService): void {
  const { connection, projects } = ctx;

  connection.onRequest(QueuePageRequest, (params) =>
    guarded('review queue', () => {
      const p = projects.get();
      const empty = Object.fromEntries(PAIR_STATUSES.map((s) => [s, 0])) as Record<(typeof PAIR_STATUSES)[number], number>;
      if (!p) return { total: 0, offset: 0, rows: [], counts: empty, allCounts: empty };
      const q = params?.query ?? {};
      const offset = Math.max(0, Math.floor(params?.offset ?? 0));
      const limit = Math.min(MAX_PAGE, Math.max(1, Math.floor(params?.limit ?? 100)));
      const { score, only } = queueJoins(q);
      const page = queuePage(p, q, offset, limit, score, only);
      const labels = problemInfo(p, page.rows.map((r) => r.problemId));
      for (const r of page.rows) r.problem = labels.get(r.problemId)?.label ?? `problem ${r.problemId}`;
      return { total: page.total, offset, rows: page.rows, counts: queueCounts(p, q, score, only), allCounts: queueCounts(p, {}) };
    }),
  );

  connection.onRequest(QueueIndexRequest, (params) =>
    guarded('review queue', () => {
      if (!Number.isInteger(params?.pairId)) throw invalidParams('queue index: `pairId` must be an integer');
      const p = projects.get();
      if (!p) return { index: -1 };
      const q = params.query ?? {};
      const { score, only } = queueJoins(q);
      return { index: queueIndexOf(p, q, params.pairId, score, only) };
    }),
  );

  connection.onRequest(QueueNextRequest, (params) =>
    guarded('review queue', () => {
      if (!Number.isInteger(params?.after)) throw invalidParams('queue next: `after` must be an integer');
      if (!PAIR_STATUSES.includes(params.status)) throw invalidParams(`queue next: \`status\` must be one of ${PAIR_STATUSES.join(', ')}`);
      const p = projects.get();
      if (!p) return { index: -1 };
      const q = params.query ?? {};
      const { score, only } = queueJoins(q);
      return { index: queueNextIndex(p, q, params.after, params.status, score, only) };
    }),
  );

  connection.onRequest(PairDetailRequest, (params) =>
    guarded(`pair ${params?.pairId}`, () => {
      if (!Number.isInteger(params?.pairId)) throw invalidParams('pair detail: `pairId` must be an integer');
      return pairDetail(projects.require('pair detail'), params.pairId);
    }),
  );

  connection.onRequest(ReviewDecisionRequest, (params) =>
    guarded('review decision', () => {
      if (!params || !PAIR_STATUSES.includes(params.status)) throw invalidParams(`review decision: status must be one of ${PAIR_STATUSES.join(', ')}`);
      if (!Array.isArray(params.pairIds) || params.pairIds.length === 0 || !params.pairIds.every((id) => Number.isInteger(id))) {
        throw invalidParams('review decision: `pairIds` must be a non-empty array of integer pair ids');
      }
      if (params.note !== undefined && typeof params.note !== 'string') throw invalidParams('review decision: `note` must be a string');
      return decide(projects.require('review decision'), { pairIds: params.pairIds, status: params.status, ...(params.note !== undefined ? { note: params.note } : {}) });
    }),
  );

  connection.onRequest(UndoReviewRequest, () =>
    guarded('undo', () => {
      const u = undoLast(projects.require('undo'));
      return u ? { action: u.action, pairs: u.pairs } : null;
    }),
  );

  /** Runs the pair's tests with `chosen` as its chosen side. */
  async function runEdited(p: Project, e: EditParams, signal: AbortSignal): Promise<EditRun> {
    const pair = getPair(p, e.pairId);
    if (!pair) throw invalidParams(`no pair ${e.pairId} in ${p.file}`);
    const tests = problemTests(p, pair.problemId);
    if (tests.length === 0) throw invalidParams(`pair ${e.pairId}: its problem has no tests stored`);
    const r = await exec.host.use((engine) => engine.run(sideProgram(pair, e.chosen), tests, { comparator: comparatorOf(ctx), allResults: true, signal }));
    if (signal.aborted) throw cancelled('run tests');
    return { verdict: r.verdict, testsTotal: r.testsTotal, tests: r.tests, isolation: r.sandbox.isolation };
  }

  function checkEdit(e: EditParams | undefined, what: string): EditParams {
    if (!e || !Number.isInteger(e.pairId) || typeof e.chosen !== 'string') throw invalidParams(`${what}: \`pairId\` (integer) and \`chosen\` (text) are required`);
    if (e.chosen.trim() === '') throw invalidParams(`${what}: the chosen side is empty`);
    return e;
  }

  connection.onRequest(RunPairTestsRequest, (params, token) =>
    guarded('run tests', async () => {
      requireTrusted(ctx, 'run tests');
      const e = checkEdit(params, 'run tests');
      return projects.hold('run tests', {}, (p) =>
        withProgress(connection, e.workDoneToken, token, { title: `Running the tests of pair ${e.pairId}` }, (progress) => runEdited(p, e, progress.signal)),
      );
    }),
  );

  connection.onRequest(SavePairEditRequest, (params, token) =>
    guarded('save edit', async () => {
      requireTrusted(ctx, 'save edit');
      const e = checkEdit(params, 'save edit');
      return projects.hold('save edit', {}, (p) =>
        withProgress(connection, e.workDoneToken, token, { title: `Testing and saving the edit of pair ${e.pairId}` }, async (progress) => {
          const run = await runEdited(p, e, progress.signal);
          const pair = getPair(p, e.pairId)!;
          const fields = recompute(pair, e.chosen);
          saveChosenEdit(p, {
            pairId: e.pairId,
            text: e.chosen,
            chosenSpans: fields.chosenSpans,
            rejectedSpans: fields.rejectedSpans,
            provenance: pair.provenance,
            editDistance: fields.editDistance,
            flags: sortFlags(fields.flags, PAIR_FLAGS),
            run,
          });
          return pairDetail(p, e.pairId);
        }),
      );
    }),
  );

  connection.onRequest(BuildPairsRequest, (params, token) =>
    guarded('build pairs', async () => {
      const modes: PairMode[] = params?.mode === 'both' || params?.mode === undefined ? [...PAIR_MODES] : [params.mode];
      if (!modes.every((m) => PAIR_MODES.includes(m))) throw invalidParams(`build pairs: mode must be structurecoder, iterpref or both`);
      const reject = params?.rejectVerdicts ?? [...DEFAULT_REJECT];
      if (!reject.every((v) => v !== 'pass' && VERDICTS.includes(v))) throw invalidParams('build pairs: `rejectVerdicts` must list failing verdicts');
      return projects.hold('build pairs', { exclusive: true }, (p) =>
        withProgress(connection, params?.workDoneToken, token, { title: 'Building pairs', percentage: true }, async (progress) => {
          const grammar = await loadPython();
          const out = [];
          let stopped = false;
          for (const [i, mode] of modes.entries()) {
            const s = await buildPairs(p, grammar, {
              mode,
              reject,
              tokens: estimatingCounter(),
              ...(params?.lines ? { lines: params.lines } : {}),
              ...(params?.seed !== undefined ? { seed: params.seed } : {}),
              signal: progress.signal,
              onProgress: (d, t) => progress.report(((i + (t > 0 ? d / t : 1)) / modes.length) * 100, `${mode}: ${d} / ${t}`),
            });
            out.push({ mode, inserted: s.inserted, updated: s.updated, unchanged: s.unchanged, stale: s.stale, total: s.inserted + s.updated + s.unchanged });
            if (s.cancelled) {
              stopped = true;
              break;
            }
          }
          ctx.refreshLenses();
          return { modes: out, cancelled: stopped };
        }),
      );
    }),
  );

  connection.onRequest(ExportPairsRequest, (params, token) =>
    guarded('export pairs', () => {
      if (!params || !['trl', 'structurecoder', 'llamafactory'].includes(params.format)) throw invalidParams('export pairs: format must be trl, structurecoder or llamafactory');
      if (typeof params.out !== 'string' || !path.isAbsolute(params.out)) throw invalidParams('export pairs: `out` must be an absolute folder');
      return projects.hold('export', {}, (p) =>
        withProgress(connection, params.workDoneToken, token, { title: `Exporting pairs (${params.format})`, percentage: true }, async (progress) => {
          const report = throttled(progress.report, 250);
          // Reading the pairs for the manifest is the first tenth of the bar, writing the records the rest.
          const onProgress = (phase: 'reading' | 'writing', done: number, total: number) =>
            report(phase === 'reading' ? (10 * done) / Math.max(1, total) : 10 + (90 * done) / Math.max(1, total), `${phase} ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${phase === 'reading' ? 'pairs' : 'records'}`);
          const options = {
            ...DEFAULT_EXPORT,
            format: params.format,
            includePending: params.includePending === true,
            ...(params.family ? { family: params.family } : {}),
            ...(params.trainingSentence ? { trainingSentence: true } : {}),
            ...(params.format === 'structurecoder' ? { epochs: 3 } : {}),
          };
          try {
            const s = await exportPairs(p, params.out, options, undefined, { onProgress, signal: progress.signal });
            return { dir: s.dir, pairs: s.manifest.counts.pairs, records: s.manifest.counts.records, files: s.manifest.files.map((f) => f.name) };
          } catch (e) {
            if (e instanceof ExportCancelled) return { dir: params.out, pairs: 0, records: 0, files: [], cancelled: true };
            throw e;
          }
        }),
      );
    }),
  );

}
