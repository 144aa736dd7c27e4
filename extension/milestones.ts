// The walkthrough's milestones and the context keys their steps wait for (package.json
// `contributes.walkthroughs`: `completionEvents: ["onContext:<key>"]`). No `vscode` here, so the
// manifest test reads the same table.

/** Milestone -> the context key its walkthrough step waits for. */
export const MILESTONES = {
  /** A sampling endpoint answered its health check (the demo's is the local stand-in). */
  endpoint: 'pairforge.walkthrough.endpointConnected',
  /** An import finished. */
  imported: 'pairforge.walkthrough.datasetImported',
  /** A block was sampled (samples stored). */
  sampled: 'pairforge.walkthrough.blockSampled',
  /** A pairing run finished. */
  pairsBuilt: 'pairforge.walkthrough.pairsBuilt',
  /** A reviewer decided on a pair (the review room or the Pairs view). */
  reviewed: 'pairforge.walkthrough.pairReviewed',
  /** A scoring run finished with scored pairs. */
  scored: 'pairforge.walkthrough.pairsScored',
  /** An export was sent to a trainer (set by the training feature). */
  trainingSent: 'pairforge.walkthrough.trainingSent',
} as const;

export type Milestone = keyof typeof MILESTONES;
