// The host side of the review room's requests (webview/contract.ts), as one table: each request
// of the room becomes one engine request. No `vscode` import: the panel (review.ts) gives it the
// engine connection and the editor's progress; the review-latency benchmark gives it an engine in
// its own process. The table's types are the room's contract and the engine's answers are
// assigned to them, so the compiler checks that the two agree.
import type { CancellationToken, RequestType } from 'vscode-languageserver-protocol';
import {
  PairDetailRequest,
  PairRewardsRequest,
  QueueIndexRequest,
  QueueNextRequest,
  QueuePageRequest,
  ReviewDecisionRequest,
  RunPairTestsRequest,
  SavePairEditRequest,
  ScoringRunsRequest,
  UndoReviewRequest,
  type PairQueueQuery,
  type WorkDoneToken,
} from '../server/protocol';
import type { Method, Requests } from '../webview/contract';

/** Sends one engine request (cancelled with `token` when given). */
export type Send = <P, R>(type: RequestType<P, R, void>, params: P, token?: CancellationToken) => Promise<R>;

export interface RoomHooks {
  /** Runs a long request with the editor's progress (a work-done token the engine reports on). */
  withProgress<T>(title: string, body: (workDoneToken: WorkDoneToken | undefined, token: CancellationToken | undefined) => Promise<T>): Promise<T>;
  /** Pairs or statuses changed (the Pairs view refreshes). */
  changed(): void;
  /** Starts scoring the given pairs (or all) the editor's way. */
  score(pairIds: number[] | undefined): void;
  /** Starts Send to Training the editor's way (its task terminal). */
  sendToTraining(): void;
  /** A decision was stored (the walkthrough's "Review a pair" step). */
  reviewed?(): void;
}

export type RoomHandlers = { [M in Method]: (p: Requests[M]['params']) => Promise<Requests[M]['result']> };

export function roomHandlers(send: Send, hooks: RoomHooks): RoomHandlers {
  return {
    // The room's filters are strings the engine binds as SQL values: an unknown one matches nothing.
    queuePage: (p) => send(QueuePageRequest, { query: p.query as PairQueueQuery, offset: p.offset, limit: p.limit }),
    queueIndex: (p) => send(QueueIndexRequest, { query: p.query as PairQueueQuery, pairId: p.pairId }),
    queueNext: (p) => send(QueueNextRequest, { query: p.query as PairQueueQuery, after: p.after, status: p.status }),
    pair: (p) => send(PairDetailRequest, { pairId: p.pairId }),
    decide: async (p) => {
      const res = await send(ReviewDecisionRequest, p);
      if (res.updated > 0) hooks.reviewed?.();
      hooks.changed();
      return { updated: res.updated };
    },
    undo: async () => {
      const res = await send(UndoReviewRequest, {});
      hooks.changed();
      return res;
    },
    runTests: (p) =>
      hooks.withProgress(`PairForge: running the tests of pair ${p.pairId}`, (workDoneToken, token) => send(RunPairTestsRequest, { pairId: p.pairId, chosen: p.chosen, workDoneToken }, token)),
    saveEdit: async (p) => {
      const res = await hooks.withProgress(`PairForge: testing and saving the edit of pair ${p.pairId}`, (workDoneToken, token) =>
        send(SavePairEditRequest, { pairId: p.pairId, chosen: p.chosen, workDoneToken }, token),
      );
      hooks.changed();
      return res;
    },
    scoringRuns: () => send(ScoringRunsRequest, {}),
    rewards: (p) => send(PairRewardsRequest, { pairId: p.pairId, runId: p.runId }),
    score: async (p) => {
      hooks.score(p.pairIds);
      return { started: true };
    },
    sendToTraining: async () => {
      hooks.sendToTraining();
      return { started: true };
    },
  };
}

/** Answers one request of the room with the table. */
export function answer<M extends Method>(handlers: RoomHandlers, method: M, params: Requests[M]['params']): Promise<Requests[M]['result']> {
  const handler = handlers[method] as ((p: Requests[M]['params']) => Promise<Requests[M]['result']>) | undefined;
  if (!handler) throw new Error(`unknown request ${String(method)}`);
  return handler(params);
}
