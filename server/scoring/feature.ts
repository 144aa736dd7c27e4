// The scoring feature: "Score Pairs" from the editor (the Pairs view's selection or every pair,
// with progress and cancel), a pair's per-token rewards for the review room's heatmaps, and the
// list of scoring runs to pick from.
import type { EngineContext } from '../lsp/context';
import { guarded, invalidParams } from '../lsp/errors';
import { throttled, withProgress } from '../lsp/progress';
import { asFimFamily, PairRewardsRequest, ScorePairsRequest, ScoringRunsRequest, type PairRewardsView, type SideRewardsView, type TokenRewardView } from '../protocol';
import { scorePairs } from './job';
import { listRuns, pairRewardsWithText, type PairRewards, type Side, type SideRewards } from './store';

/** Progress reports at most this often. */
const PROGRESS_INTERVAL_MS = 200;

/** UTF-16 offsets of each code point index of `text` (index i -> offset of the i-th code point). */
function utf16Offsets(text: string): number[] {
  const out = [0];
  let o = 0;
  for (const ch of text) {
    o += ch.length;
    out.push(o);
  }
  return out;
}

/** A side's rewards with offsets in UTF-16 code units (the editor's), from the code points of the
 * response they were scored on. */
function sideView(s: SideRewards, response: string): SideRewardsView {
  const offsets = utf16Offsets(response);
  const at = (codePoint: number) => offsets[Math.min(codePoint, offsets.length - 1)];
  const tokens = s.tokens.map((t): TokenRewardView => {
    const start = at(t.start);
    const end = at(t.end);
    return {
      text: t.text,
      start,
      end,
      logpPolicy: t.logp_policy,
      logpRef: t.logp_ref,
      reward: t.reward,
      inLoss: t.in_loss,
      ...(t.top_policy ? { top: t.top_policy.map((a) => ({ text: a.token ?? `#${a.id}`, logp: a.logp })) } : {}),
    };
  });
  return { tokens, rewardSum: s.reward_sum ?? 0, maskedRewardSum: s.masked_reward_sum ?? 0, ...(s.skipped !== undefined ? { skipped: s.skipped } : {}) };
}

/** The room's view of a pair's rewards in a run; a side that was not scored comes with its reason
 * (the other side's tokens still shown), and then there is no margin. */
export function rewardsView(r: PairRewards, responses: Record<Side, string>): PairRewardsView {
  return {
    pairId: r.pair,
    runId: r.run,
    beta: r.beta,
    margin: r.margin,
    prefersChosen: r.margin === null ? null : r.margin > 0,
    chosen: sideView(r.sides.chosen, responses.chosen),
    rejected: sideView(r.sides.rejected, responses.rejected),
  };
}

export function scoringFeature(ctx: EngineContext): void {
  const { connection, projects, log } = ctx;

  connection.onRequest(ScoringRunsRequest, () =>
    guarded('scoring runs', () => {
      const p = projects.get();
      if (!p) return [];
      return listRuns(p)
        .reverse()
        .map((r) => ({ id: r.id, label: `${r.policyModel} vs ${r.referenceModel}, beta ${r.beta}, ${r.format}`, beta: r.beta, createdAt: r.createdAt, scoredPairs: r.scoredPairs }));
    }),
  );

  connection.onRequest(PairRewardsRequest, (params) =>
    guarded(`rewards of pair ${params?.pairId}`, () => {
      if (!Number.isInteger(params?.pairId)) throw invalidParams('rewards: `pairId` must be an integer');
      try {
        const { rewards, responses } = pairRewardsWithText(projects.require('rewards'), params.pairId, params.runId);
        return rewardsView(rewards, responses);
      } catch (e) {
        // Not scored (yet) in that run is an answer, not an error: the room shows its empty state.
        if (/has not (been )?scored/.test((e as Error).message)) return null;
        throw e;
      }
    }),
  );

  connection.onRequest(ScorePairsRequest, (params, token) =>
    guarded('score pairs', () => {
      if (!params?.policy?.url || !params.policy.model || !params.reference?.url || !params.reference.model) {
        throw invalidParams('score pairs: a policy and a reference endpoint ({url, model}) are required: set pairforge.scoring.policy and pairforge.scoring.reference');
      }
      if (params.pairIds !== undefined && (!Array.isArray(params.pairIds) || params.pairIds.length === 0 || !params.pairIds.every((id) => Number.isInteger(id)))) {
        throw invalidParams('score pairs: `pairIds` must be a non-empty array of pair ids (or absent for every pair)');
      }
      return projects.hold('score', { exclusive: true }, (p) =>
        withProgress(connection, params.workDoneToken, token, { title: 'Scoring pairs', percentage: true, message: 'checking the endpoints' }, async (progress) => {
          const report = throttled(progress.report, PROGRESS_INTERVAL_MS);
          const s = await scorePairs(
            p,
            params.pairIds ?? 'all',
            {
              policy: [params.policy],
              reference: [params.reference],
              ...(params.beta !== undefined ? { beta: params.beta } : {}),
              ...(params.topK !== undefined ? { topK: params.topK } : {}),
              ...(params.concurrency !== undefined ? { concurrency: params.concurrency } : {}),
              ...(params.family !== undefined ? { family: asFimFamily(params.family) } : {}),
            },
            {
              signal: progress.signal,
              reuse: 'any',
              log: (m) => log.info(`score: ${m}`),
              onProgress: (e) => report(e.total > 0 ? (e.done / e.total) * 100 : 0, `${e.done} / ${e.total} sides${e.failed ? `, ${e.failed} failed` : ''}`),
            },
          );
          return {
            runId: s.runId,
            status: s.status,
            pairs: s.pairs,
            scoredPairs: s.scoredPairs,
            prefersChosen: s.prefersChosen,
            meanMargin: s.meanMargin,
            skippedSides: s.skippedSides,
            failed: s.failed,
            cancelled: progress.signal.aborted,
            ...(s.message ? { message: s.message } : {}),
          };
        }),
      );
    }),
  );
}
