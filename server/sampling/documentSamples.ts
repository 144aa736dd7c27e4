// The samples drawn for an open document's targets, with their verdicts (the Samples view and the
// "K samples · P pass" lenses), and a sample's whole program. Read-only.
import { latestVerdicts } from '../exec/store';
import type { Comparator, SampleView, TargetSamples } from '../protocol';
import type { Project } from '../store/db';
import { targetCut, type DocTarget } from '../targets/documentTargets';
import { cutCodeOf } from '../targets/lineAlign';

export interface SampleCounts {
  samples: number;
  tested: number;
  pass: number;
}

export interface SampleRow {
  id: number;
  sample_index: number;
  job_id: number;
  middle: string;
  finish_reason: string | null;
  model: string;
  endpoint: string;
  created_at: string;
}

/** A target's samples, oldest job first, in index order: the order their ordinals count (the
 * number a sample is shown with). */
export function samplesOfTarget(p: Project, targetId: number): SampleRow[] {
  return p.db
    .prepare<[number], SampleRow>(
      'SELECT id, sample_index, job_id, middle, finish_reason, model, endpoint, created_at FROM samples WHERE target_id = ? ORDER BY job_id, sample_index, id',
    )
    .all(targetId);
}

/** Per target with samples: how many, how many have a verdict, how many pass. */
export function sampleCounts(p: Project, targetIds: readonly number[], comparator: Comparator): Map<number, SampleCounts> {
  const out = new Map<number, SampleCounts>();
  const ids = p.db.prepare<[number], { id: number }>('SELECT id FROM samples WHERE target_id = ?');
  for (const target of targetIds) {
    const samples = ids.all(target).map((r) => r.id);
    if (samples.length === 0) continue;
    const verdicts = latestVerdicts(p, 'sample', samples, comparator);
    let pass = 0;
    for (const v of verdicts.values()) if (v === 'pass') pass++;
    out.set(target, { samples: samples.length, tested: verdicts.size, pass });
  }
  return out;
}

export function samplesOf(p: Project, targets: readonly DocTarget[], comparator: Comparator): TargetSamples[] {
  return targets.map((t) => {
    const rows = samplesOfTarget(p, t.targetId);
    const verdicts = latestVerdicts(p, 'sample', rows.map((r) => r.id), comparator);
    return {
      targetId: t.targetId,
      kind: t.kind,
      depth: t.depth,
      startLine: t.startLine,
      endLine: t.endLine,
      golden: t.mid,
      samples: rows.map(
        (r, i): SampleView => ({
          id: r.id,
          ordinal: i + 1,
          jobId: r.job_id,
          middle: r.middle,
          finishReason: r.finish_reason,
          model: r.model,
          endpoint: r.endpoint,
          verdict: verdicts.get(r.id) ?? null,
          createdAt: r.created_at,
        }),
      ),
    };
  });
}

/** A sample's whole program: its target's pre + the sampled middle + suf. */
export function sampleProgram(p: Project, sampleId: number): string {
  const r = p.db.prepare<[number], { target_id: number; middle: string }>('SELECT target_id, middle FROM samples WHERE id = ?').get(sampleId);
  if (!r) throw new Error(`no sample ${sampleId} in ${p.file}`);
  return cutCodeOf({ ...targetCut(p, r.target_id), mid: r.middle });
}
