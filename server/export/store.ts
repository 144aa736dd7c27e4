// The export stage's record of the exports it wrote (migration 007: exports, export_pairs): which
// folder, format and options, and exactly which pairs, so the dashboard counts what was exported
// and the review room can show an export's pairs. Written by exportPairs once the files are
// complete; a kill before that leaves no record (and no file under its real name).
import type { ExportView } from '../protocol';
import type { Project } from '../store/db';

export interface ExportRecord {
  dir: string;
  format: string;
  options: unknown;
  pairIds: readonly number[];
  records: number;
  manifestSha256: string;
  createdAt: string;
}

/** Stores one export and its pairs in one transaction; returns its id. */
export function recordExport(p: Project, e: ExportRecord): number {
  return p.db.transaction(() => {
    const id = Number(
      p.db
        .prepare('INSERT INTO exports (dir, format, options, pairs, records, manifest_sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(e.dir, e.format, JSON.stringify(e.options), e.pairIds.length, e.records, e.manifestSha256, e.createdAt).lastInsertRowid,
    );
    const ins = p.db.prepare('INSERT OR IGNORE INTO export_pairs (export_id, pair_id) VALUES (?, ?)');
    for (const pairId of e.pairIds) ins.run(id, pairId);
    return id;
  }).immediate();
}

/** Every export, newest first. */
export function listExports(p: Project): ExportView[] {
  return p.db
    .prepare<[], ExportView>('SELECT id, dir, format, pairs, records, created_at AS createdAt FROM exports ORDER BY id DESC')
    .all();
}

/** The pairs of an export as a condition on the review queue's pairs row `p` (server/pairs/queue.ts). */
export function exportedPairsFilter(exportId: number): { sql: string; params: number[] } {
  return { sql: 'p.id IN (SELECT pair_id FROM export_pairs WHERE export_id = ?)', params: [exportId] };
}
