// The Pairs tree (problems -> blocks / histories -> pairs) with counts by review status, built on
// the pairs stage's review API (server/pairs/store.ts: pairGroups, listPairs). Node ids (opaque to
// the client): `pp:<problem>`, `pg:<problem>:t<target>` / `pg:<problem>:h<history>`, `pa:<pair>`.
import { listPairs, pairGroups, type PairGroup, type PairRecord, type StatusCounts } from './store';
import type { PairCounts, PairNode } from '../protocol';
import type { Project } from '../store/db';

/** Pairs listed under one block / history; more are summarised in one last node. */
export const PAIRS_PER_GROUP = 500;

/** "12 pairs · 3 accepted · 1 rejected · 8 pending"; zero counts left out. Pure. */
export function countsText(c: PairCounts): string {
  const total = c.pending + c.accepted + c.rejected + c.flagged;
  const parts = [`${total} pair${total === 1 ? '' : 's'}`];
  for (const s of ['accepted', 'rejected', 'flagged', 'pending'] as const) if (c[s] > 0) parts.push(`${c[s]} ${s}`);
  return parts.join(' · ');
}

function counts(c: StatusCounts): PairCounts {
  return { pending: c.pending, accepted: c.accepted, rejected: c.rejected, flagged: c.flagged };
}

/** A group of the store as a tree node. Pure. */
export function groupNode(g: PairGroup): PairNode {
  const c = counts(g.counts);
  const filtered = g.counts.flagged_by_filters > 0 ? ` · ${g.counts.flagged_by_filters} with filter flags` : '';
  const id = g.level === 'problem' ? `pp:${g.problemId}` : g.level === 'block' ? `pg:${g.problemId}:t${g.targetId}` : `pg:${g.problemId}:h${g.historyId}`;
  return { id, kind: g.level === 'problem' ? 'problem' : 'group', label: g.label, description: countsText(c) + filtered, counts: c, hasChildren: g.counts.total > 0 };
}

function firstLine(s: string, max = 60): string {
  const line = s.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A stored pair as a tree row: its rejected side's first line, status, kind, distance, flags. Pure. */
export function pairNode(r: PairRecord): PairNode {
  const parts = [r.status, r.kind, r.editDistance !== null ? `distance ${r.editDistance}` : undefined, ...r.flags.map((f) => `⚑ ${f}`)];
  return {
    id: `pa:${r.id}`,
    kind: 'pair',
    label: `pair ${r.id}: ${firstLine(r.rejected) || '(empty)'}`,
    description: parts.filter(Boolean).join(' · '),
    tooltip: `chosen:\n${r.chosen.slice(0, 400)}\n\nrejected:\n${r.rejected.slice(0, 400)}${r.note ? `\n\nnote: ${r.note}` : ''}`,
    pairId: r.id,
    status: r.status,
    flags: [...r.flags],
    hasChildren: false,
  };
}

/** Children of a Pairs tree node; the problems when `parent` is undefined. Unknown ids give []. */
export function pairChildren(p: Project, parent?: string): PairNode[] {
  if (parent === undefined || parent === '') return pairGroups(p).map(groupNode);
  let m = /^pp:(\d+)$/.exec(parent);
  if (m) return pairGroups(p, Number(m[1])).map(groupNode);
  m = /^pg:(\d+):([th])(\d+)$/.exec(parent);
  if (!m) return [];
  const q = m[2] === 't' ? { targetId: Number(m[3]) } : { historyId: Number(m[3]) };
  const rows = listPairs(p, { problemId: Number(m[1]), ...q, limit: PAIRS_PER_GROUP + 1 });
  const nodes = rows.slice(0, PAIRS_PER_GROUP).map(pairNode);
  if (rows.length > PAIRS_PER_GROUP) {
    nodes.push({ id: `${parent}:more`, kind: 'pair', label: `more than ${PAIRS_PER_GROUP} pairs here: review them with the CLI or export`, hasChildren: false });
  }
  return nodes;
}
