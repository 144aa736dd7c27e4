// The pairs feature: the Pairs view (problems -> blocks / histories -> pairs with counts by
// status), a reviewer's decisions on one or many pairs, and the whole programs behind a pair's
// sides, a sample or a target for read-only views and diffs.
import type { EngineContext } from '../lsp/context';
import { guarded, invalidParams } from '../lsp/errors';
import { CANDIDATE_TEXT_KINDS, CandidateTextRequest, PAIR_STATUSES, PairsTreeRequest, SetPairStatusRequest } from '../protocol';
import { sampleProgram } from '../sampling/documentSamples';
import { targetProgram } from '../targets/documentTargets';
import { pairProgram, setPairsStatus } from './store';
import { pairChildren } from './tree';

export function pairsFeature(ctx: EngineContext): void {
  const { connection, projects } = ctx;

  connection.onRequest(PairsTreeRequest, (params) =>
    guarded('pairs', () => {
      const p = projects.get();
      return p ? pairChildren(p, params?.parent) : [];
    }),
  );

  connection.onRequest(SetPairStatusRequest, (params) =>
    guarded('set pair status', () => {
      if (!params || !PAIR_STATUSES.includes(params.status)) {
        throw invalidParams(`set pair status: status must be one of ${PAIR_STATUSES.join(', ')} (got ${JSON.stringify(params?.status)})`);
      }
      if (!Array.isArray(params.pairIds) || params.pairIds.length === 0 || !params.pairIds.every((id) => Number.isInteger(id))) {
        throw invalidParams('set pair status: `pairIds` must be a non-empty array of integer pair ids');
      }
      if (params.note !== undefined && typeof params.note !== 'string') throw invalidParams('set pair status: `note` must be a string');
      return { updated: setPairsStatus(projects.require('set pair status'), params.pairIds, params.status, params.note) };
    }),
  );

  connection.onRequest(CandidateTextRequest, (params) =>
    guarded(`${params?.kind} ${params?.id}`, () => {
      if (!params || !CANDIDATE_TEXT_KINDS.includes(params.kind) || !Number.isInteger(params.id)) {
        throw invalidParams(`candidate text: unknown kind ${JSON.stringify(params?.kind)} or id ${JSON.stringify(params?.id)}`);
      }
      const p = projects.require('candidate text');
      switch (params.kind) {
        case 'sample':
          return { text: sampleProgram(p, params.id) };
        case 'target':
          return { text: targetProgram(p, params.id) };
        case 'pair-chosen':
          return { text: pairProgram(p, params.id, 'chosen') };
        case 'pair-rejected':
          return { text: pairProgram(p, params.id, 'rejected') };
      }
    }),
  );
}
