// The run summary explains every number that drops between stages: why targets gave no pair,
// which flags keep pairs out of the export, and records by training format (not pair kind).
// A real project file for the export's left-out counts; the summary text from its parts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_EXPORT, exportPairs, leftOutOf } from '../../../server/export/export';
import type { BuildSummary } from '../../../server/pairs/build';
import { describeFlags, describeNoPair } from '../../../server/pairs/explain';
import { formatPipelineSummary } from '../../../server/pipeline/command';
import type { PipelineSummary } from '../../../server/pipeline/run';
import type { PairFlag, PairStatus } from '../../../server/protocol';
import { openProject, type Project } from '../../../server/store/db';
import { addDataset, addPairs, addProblem } from '../../support/fixtures';

let dir: string;
let p: Project;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pipeline-summary-'));
  p = openProject(path.join(dir, 'p.sqlite'));
  addProblem(p, { datasetId: addDataset(p, { name: 'd' }), externalId: 'p1', question: 'Q' });
});
afterEach(() => {
  p.close();
  rmSync(dir, { recursive: true, force: true });
});

function pair(pairKey: string, status: PairStatus, flags: PairFlag[]): void {
  addPairs(p, [{ pairKey, problemId: 1, pre: 'a = 1\n', suf: '\nprint(a)', chosen: 'x = 1', rejected: 'x = 2', status, flags }]);
}

describe('what the export leaves out', () => {
  it('counts every pair not exported once, by reason, so exported + left out = all pairs', async () => {
    pair('a', 'pending', []);
    pair('b', 'pending', ['too_long']);
    pair('c', 'pending', ['too_long', 'duplicate']);
    pair('d', 'rejected', []);
    pair('e', 'flagged', []);
    pair('f', 'accepted', ['too_long']); // accepted pairs go out whatever their flags
    const s = await exportPairs(p, path.join(dir, 'out'), { ...DEFAULT_EXPORT, format: 'trl', includePending: true });
    expect(s.manifest.counts.pairs).toBe(2);
    expect(s.leftOut).toEqual({ total: 4, rejected: 1, flaggedInReview: 1, notReviewed: 0, filtered: 2, flags: { duplicate: 1, too_long: 2 } });
    expect(s.manifest.counts.pairs + s.leftOut!.total).toBe(6);
    // only accepted pairs: the pending ones are "not reviewed"
    expect(leftOutOf(p, { includePending: false })).toEqual({ total: 5, rejected: 1, flaggedInReview: 1, notReviewed: 3, filtered: 0, flags: {} });
  });
});

describe('the words', () => {
  it('names why sources gave no pair and what each flag means, largest first', () => {
    expect(describeNoPair({ no_passing_sample: 11, no_rejectable_sample: 199, reference_fails: 0 })).toBe('199 no sample that may be rejected (wrong answer), 11 no passing sample');
    expect(describeFlags({ duplicate: 38, too_long: 88 }, 2048)).toBe('88 too_long (over 2048 tokens), 38 duplicate (same as an older pair)');
  });
});

describe('formatPipelineSummary', () => {
  const build = (over: Partial<BuildSummary>): BuildSummary => ({
    mode: 'structurecoder',
    comparator: 'apps',
    sources: 542,
    paired: 332,
    pairs: 332,
    inserted: 332,
    updated: 0,
    unchanged: 0,
    skipped: { no_rejectable_sample: 199, no_passing_sample: 11 },
    unexecuted: 0,
    flaky: 0,
    stale: 0,
    duplicates: 38,
    flags: { too_long: 117 },
    tokens: { method: 'tokenize', counted: { tokenize: 332, estimate: 0, kept: 0 } },
    limits: { maxTokens: 2048, maxCriticalLines: 20 },
    cancelled: false,
    ...over,
  });

  it('accounts for every pair between pairing and the export, and counts records by format', () => {
    const s: PipelineSummary = {
      db: '/x/apps.sqlite',
      endpoint: 'http://127.0.0.1:1/v1',
      model: 'm',
      stages: [{ stage: 'sample', status: 'skipped', seconds: 0, summary: {}, note: 'asked with --skip' }],
      pairs: { structurecoder: build({}) },
      export: {
        dir: '/x/out',
        files: [],
        counts: { pairs: 177, records: 177, byKind: { fim: 177 }, byFormat: { chat: 79, fim: 98 }, byBlockKind: {}, byDepth: {}, byStatus: {}, byMode: {} },
        leftOut: { total: 155, rejected: 0, flaggedInReview: 0, notReviewed: 0, filtered: 155, flags: { duplicate: 38, too_long: 117 } },
      },
      warnings: ['10 of the 542 targets cut now have a golden middle that does not survive the published start and post-processing ...'],
      cancelled: false,
    };
    const text = formatPipelineSummary(s);
    expect(text).toContain('  sample     skipped           0 s  asked with --skip');
    expect(text).toContain('  pairs (structurecoder): 332 pairs from 332 of 542 sampled targets');
    expect(text).toContain('    no pair from 210: 199 no sample that may be rejected (wrong answer), 11 no passing sample');
    expect(text).toContain('    flags: 117 too_long (over 2048 tokens)');
    expect(text).toContain("    tokens: 332 counted with the endpoint's /tokenize");
    expect(text).toContain('  duplicates: 38 pairs are the same as an older pair');
    expect(text).toContain('  export: 177 records: 79 chat format, 98 FIM format; pairs by kind: 177 fim -> /x/out');
    expect(text).toContain("    left out: 155 of the project's pairs: 155 carry a filter flag (117 too_long (over 2048 tokens), 38 duplicate (same as an older pair))");
    expect(text).toContain('  warning: 10 of the 542 targets cut now have a golden middle that does not survive');
    // records made of epochs say so
    s.export!.counts = { ...s.export!.counts, records: 531, byFormat: { trainer: 531 } };
    expect(formatPipelineSummary(s)).toContain('  export: 531 records (177 pairs x 3 epochs): 531 published trainer format;');
  });
});
