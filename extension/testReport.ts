// Texts for a test run shown in the editor: the diagnostic of a failing test, its Testing-view
// message and the one-line summary. Pure (no `vscode`), so unit tests can check them.
import type { RunTestsResult, SandboxStatus, TestRunView } from '../server/protocol';

/** Characters of each excerpt in a diagnostic (the Testing view gets the full excerpts). */
export const DIAGNOSTIC_EXCERPT = 300;

/** A text excerpt on one line: newlines shown as ⏎, cut with an ellipsis. */
export function excerpt(s: string | undefined, max = DIAGNOSTIC_EXCERPT): string {
  if (s === undefined) return '';
  const one = s.replace(/\r?\n$/, '').replace(/\r?\n/g, '⏎');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

export function verdictLabel(v: string): string {
  return v.replace(/_/g, ' ');
}

/** `test 3 (stdio): wrong answer` + what went in, what was expected, what came out, the error. */
export function diagnosticMessage(t: TestRunView): string {
  const lines = [`test ${t.ordinal + 1} (${t.kind}): ${verdictLabel(t.verdict)}`];
  if (t.message) lines.push(excerpt(t.message));
  if (t.input !== undefined) lines.push(`input: ${excerpt(t.input)}`);
  if (t.expected !== undefined) lines.push(`expected: ${excerpt(t.expected)}`);
  if (t.output !== undefined) lines.push(`actual: ${excerpt(t.output)}`);
  if (t.stderrTail) lines.push(`stderr: ${excerpt(t.stderrTail.trim().split('\n').slice(-3).join('\n'))}`);
  return lines.join('\n');
}

/** Full text for the Testing view's message (no excerpts cut beyond the engine's own caps). */
export function testMessageText(t: TestRunView): string {
  const parts = [`${verdictLabel(t.verdict)} (${t.kind} test, ${t.durationMs.toFixed(0)} ms)`];
  if (t.message) parts.push(t.message);
  if (t.input !== undefined) parts.push(`input:\n${t.input}`);
  if (t.expected !== undefined) parts.push(`expected:\n${t.expected}`);
  if (t.output !== undefined) parts.push(`actual output:\n${t.output}`);
  if (t.stderrTail) parts.push(`stderr (tail):\n${t.stderrTail}`);
  return parts.join('\n\n');
}

/** `demo-apps/9001: 2 of 3 tests pass · wrong answer (strict, bwrap-nobody, 84 ms)`. */
export function runSummaryText(r: RunTestsResult): string {
  const pass = r.tests.filter((t) => t.verdict === 'pass').length;
  const ran = r.tests.length < r.testsTotal ? ` (${r.testsTotal - r.tests.length} not run)` : '';
  const head = `${r.problem.dataset}/${r.problem.externalId}: ${pass} of ${r.testsTotal} test${r.testsTotal === 1 ? '' : 's'} pass${ran}`;
  const isolation = r.isolation === 'none' ? 'NOT ISOLATED' : r.isolation;
  return `${head} · ${verdictLabel(r.verdict)} (${r.comparator}, ${isolation}, ${Math.round(r.durationMs)} ms)`;
}

/** The item's text, tooltip and colour for a status. Pure. */
export function sandboxItem(s: SandboxStatus): { text: string; tooltip: string; colour?: string } {
  if (s.mode === 'none') {
    return { text: '$(error) PairForge: NOT ISOLATED', tooltip: `Programs run WITHOUT a sandbox (pairforge.exec.allowUnsandboxed).${s.reason ? ` ${s.reason}` : ''}`, colour: 'statusBarItem.errorBackground' };
  }
  if (s.warning) {
    return { text: `$(warning) PairForge sandbox: ${s.mode}`, tooltip: `The sandbox runs in ${s.mode}, weaker than ${s.preferred}: ${s.reason ?? 'no reason known'}`, colour: 'statusBarItem.warningBackground' };
  }
  return { text: `$(shield) sandbox: ${s.mode}`, tooltip: `Programs run in bubblewrap (${s.mode}), the strongest mode for this user.` };
}
