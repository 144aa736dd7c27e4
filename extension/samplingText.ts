// Texts for sampling in the editor: endpoint health in the status bar, job summaries, sample rows.
// Pure (no `vscode`).
import type { EndpointHealth, SampleSummary, SampleView } from '../server/protocol';

export function healthSummary(h: EndpointHealth[]): { text: string; tooltip: string; ok: number } {
  const ok = h.filter((e) => e.ok).length;
  const icon = ok === h.length ? '$(pulse)' : ok === 0 ? '$(error)' : '$(warning)';
  const text = `${icon} PairForge ${ok}/${h.length} endpoint${h.length === 1 ? '' : 's'}`;
  const rows = h.map((e) => {
    const head = `${e.ok ? '$(check)' : '$(error)'} \`${e.url}\` · ${e.model}`;
    if (!e.ok) return `${head}: ${e.error ?? 'unreachable'}`;
    const ctx = e.maxModelLen !== undefined ? ` · context ${e.maxModelLen}` : '';
    return `${head}${ctx} · ${Math.round(e.latencyMs)} ms`;
  });
  return { text, tooltip: `**PairForge sampling endpoints** (click to check again)\n\n${rows.join('\n\n')}`, ok };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "Sampled 10 samples for 2 targets (1 skipped): 6 pass, 4 wrong answer." */
export function sampleSummaryText(s: SampleSummary): string {
  const head = s.cancelled ? 'Sampling cancelled' : 'Sampling finished';
  const skipped = s.skipped > 0 ? ` (${s.skipped} skipped)` : '';
  const verdicts = Object.entries(s.verdicts)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([v, n]) => `${n} ${v.replace(/_/g, ' ')}`)
    .join(', ');
  const tail = `${verdicts ? `: ${verdicts}` : ''}${s.message ? `; ${s.message}` : ''}`;
  return `PairForge: ${head}: ${plural(s.samples, 'sample')} for ${plural(s.targets, 'target')}${skipped}${tail}.`;
}

/** The first line of a sample's middle, for a tree row. */
export function sampleLabel(s: SampleView): string {
  const first = s.middle.split('\n').find((l) => l.trim() !== '')?.trim() ?? '(empty)';
  return `#${s.ordinal} ${first.length > 50 ? `${first.slice(0, 49)}…` : first}`;
}
