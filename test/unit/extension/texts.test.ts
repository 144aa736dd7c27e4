// Texts the extension shows: test diagnostics and summaries, endpoint health, sampling summaries.
import { describe, expect, it } from 'vitest';
import { healthSummary, sampleLabel, sampleSummaryText } from '../../../extension/samplingText';
import { diagnosticMessage, excerpt, runSummaryText, sandboxItem, testMessageText } from '../../../extension/testReport';
import { type RunTestsResult, type SampleView, type TestRunView } from '../../../server/protocol';

describe('test results', () => {
  it('writes diagnostics, Testing-view messages and a summary a person can read', () => {
    const t: TestRunView = { ordinal: 2, kind: 'stdio', verdict: 'wrong_answer', durationMs: 3.4, input: '5\n1 2 3 4 5\n', expected: '6\n', output: '9\n' };
    expect(diagnosticMessage(t)).toBe('test 3 (stdio): wrong answer\ninput: 5⏎1 2 3 4 5\nexpected: 6\nactual: 9');
    expect(testMessageText(t)).toBe('wrong answer (stdio test, 3 ms)\n\ninput:\n5\n1 2 3 4 5\n\n\nexpected:\n6\n\n\nactual output:\n9\n');
    expect(excerpt('x'.repeat(400), 10)).toBe(`${'x'.repeat(9)}…`);
    const r: RunTestsResult = {
      problem: { problemId: 1, dataset: 'demo-apps', externalId: '9001', via: 'store', tests: 3 },
      version: 1,
      verdict: 'wrong_answer',
      testsTotal: 3,
      durationMs: 84.2,
      comparator: 'strict',
      isolation: 'bwrap-nobody',
      tests: [{ ...t, ordinal: 0, verdict: 'pass' }, { ...t, ordinal: 1, verdict: 'pass' }, t],
    };
    expect(runSummaryText(r)).toBe('demo-apps/9001: 2 of 3 tests pass · wrong answer (strict, bwrap-nobody, 84 ms)');
    expect(runSummaryText({ ...r, isolation: 'none', tests: [t] })).toBe('demo-apps/9001: 0 of 3 tests pass (2 not run) · wrong answer (strict, NOT ISOLATED, 84 ms)');
  });
});

describe('sampling and pairs texts', () => {
  it('summarises endpoint health for the status bar', () => {
    const s = healthSummary([
      { url: 'http://a:8000', model: 'm', ok: true, maxModelLen: 32768, latencyMs: 12.3 },
      { url: 'http://b:8000', model: 'm', ok: false, error: 'connection refused', latencyMs: 1 },
    ]);
    expect(s.text).toBe('$(warning) PairForge 1/2 endpoints');
    expect(s.ok).toBe(1);
    expect(s.tooltip).toContain('$(check) `http://a:8000` · m · context 32768 · 12 ms');
    expect(s.tooltip).toContain('$(error) `http://b:8000` · m: connection refused');
    expect(healthSummary([{ url: 'u', model: 'm', ok: true, latencyMs: 1 }]).text).toBe('$(pulse) PairForge 1/1 endpoint');
  });
  it('summarises a sampling job and labels a sample by its first line', () => {
    expect(sampleSummaryText({ jobId: 3, targets: 2, samples: 10, skipped: 1, verdicts: { pass: 6, wrong_answer: 4 }, cancelled: false })).toBe(
      'PairForge: Sampling finished: 10 samples for 2 targets (1 skipped): 6 pass, 4 wrong answer.',
    );
    expect(sampleSummaryText({ jobId: null, targets: 1, samples: 0, skipped: 0, verdicts: {}, cancelled: true, message: 'tests not run: untrusted workspace' })).toBe(
      'PairForge: Sampling cancelled: 0 samples for 1 target; tests not run: untrusted workspace.',
    );
    const s: SampleView = { id: 1, ordinal: 2, jobId: 1, middle: '\n    for x in xs:\n        t += x', finishReason: 'stop', model: 'm', endpoint: 'e', verdict: null, createdAt: '' };
    expect(sampleLabel(s)).toBe('#2 for x in xs:');
  });
});

describe('sandbox status item', () => {
  it('a shield for the strongest mode, a warning with the reason for a weaker one, an error without isolation', () => {
    expect(sandboxItem({ mode: 'bwrap-nobody', preferred: 'bwrap-nobody', warning: false })).toEqual({ text: '$(shield) sandbox: bwrap-nobody', tooltip: 'Programs run in bubblewrap (bwrap-nobody), the strongest mode for this user.' });
    const weak = sandboxItem({ mode: 'bwrap-root', preferred: 'bwrap-nobody', warning: true, reason: 'uid 65534 cannot run bubblewrap here' });
    expect(weak).toMatchObject({ text: '$(warning) PairForge sandbox: bwrap-root', colour: 'statusBarItem.warningBackground' });
    expect(weak.tooltip).toContain('weaker than bwrap-nobody: uid 65534 cannot run bubblewrap here');
    expect(sandboxItem({ mode: 'none', preferred: 'bwrap-nobody', warning: true })).toMatchObject({ text: '$(error) PairForge: NOT ISOLATED', colour: 'statusBarItem.errorBackground' });
  });
});
