// Texts shown after an import. Pure (no `vscode`).
import type { ImportSummary } from '../server/protocol';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** One-line summary for the notification. */
export function importSummaryText(s: ImportSummary): string {
  const imported = s.files.reduce((n, f) => n + f.imported, 0);
  const unchanged = s.files.reduce((n, f) => n + f.unchanged, 0);
  const bad = s.files.reduce((n, f) => n + f.bad.length, 0);
  const head = s.cancelled ? 'Import cancelled' : 'Import finished';
  const parts = [`${plural(imported, 'new problem')}`, `${unchanged} unchanged`, plural(bad, 'bad line')];
  return `PairForge: ${head}: ${plural(s.files.length, 'file')}, ${parts.join(', ')}.`;
}

/** `file:line: reason` for every bad line, in file order. */
export function badLineReport(s: ImportSummary): string[] {
  return s.files.flatMap((f) => f.bad.map((b) => `${b.file}:${b.line}: ${b.reason}`));
}
