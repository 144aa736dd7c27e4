// Pure helpers behind the editor features of issues 3-5: problem-link headers, cut-line
// alignment, code lenses, traceback lines, engine options, test/sampling texts, settings values.
import { describe, expect, it } from 'vitest';
import { asEndpoints, asExecSettings, asSamplingParams, apiKeySecretName, EXEC_DEFAULTS } from '../../extension/settingsValues';
import { healthSummary, sampleLabel, sampleSummaryText } from '../../extension/samplingText';
import { diagnosticMessage, excerpt, runSummaryText, testMessageText } from '../../extension/testReport';
import { buildCodeLenses, LENS_COMMANDS, type LensInput } from '../../server/lsp/codeLens';
import { engineOptions, ExecHost } from '../../server/lsp/execHost';
import { alignCutLines, cutCodeOf } from '../../server/lsp/lineAlign';
import { countsText } from '../../server/lsp/pairsTree';
import type { DocTarget } from '../../server/lsp/documentTargets';
import { checkSampling, chooseTargets, verdictCounts } from '../../server/lsp/sampleRun';
import { parseProblemHeader, problemHeader } from '../../server/lsp/problemLink';
import { failureLine, runTestsResult, tracebackLine } from '../../server/lsp/testResults';
import { stripCommentsStructureCoder, pyStrip } from '../../server/blocks/cut';
import { DEFAULT_LIMITS, type CandidateResult, type EngineOptions, type ExecRunner } from '../../server/exec/types';
import { SAMPLING_FAMILIES, type ProblemRef, type RunTestsResult, type SampleView, type TestRunView } from '../../server/protocol';
import { FAMILIES } from '../../server/sampling/prompts';

describe('problem link header', () => {
  it('finds "# pairforge-problem: <dataset>/<id>" in the first five lines; ids may hold slashes', () => {
    expect(parseProblemHeader('# pairforge-problem: demo-apps/9001\nx = 1\n')).toEqual({ dataset: 'demo-apps', externalId: '9001', line: 0 });
    expect(parseProblemHeader('#!/usr/bin/env python3\n"""doc"""\n#pairforge-problem:  he/HumanEval/0  \r\n')).toEqual({ dataset: 'he', externalId: 'HumanEval/0', line: 2 });
    expect(parseProblemHeader('a\nb\nc\nd\ne\n# pairforge-problem: x/1\n')).toBeUndefined();
    expect(parseProblemHeader('# pairforge-problem: nodataset\n')).toBeUndefined();
    expect(parseProblemHeader('x = 1  # pairforge-problem: a/1\n')).toBeUndefined();
    expect(parseProblemHeader(problemHeader('mbpp-mini', 'Mbpp/2'))).toEqual({ dataset: 'mbpp-mini', externalId: 'Mbpp/2', line: 0 });
  });
});

describe('cut-line alignment', () => {
  it('maps the structurecoder cut code back onto the stored solution (comments dropped, inline comments cut, leading blank lines)', () => {
    const doc = ['', '# read input', 'n = int(input())  # count', 'total = 0', '', 'for i in range(n):', '    # odd only', '    if i % 2:', '        total += i', 'print(total)', ''].join('\n');
    const cut = pyStrip(stripCommentsStructureCoder(doc));
    expect(cut.split('\n')).toEqual(['n = int(input())', 'total = 0', '', 'for i in range(n):', '    if i % 2:', '        total += i', 'print(total)']);
    expect(alignCutLines(doc, cut)).toEqual([2, 3, 4, 5, 7, 8, 9]);
  });

  it('is the identity when nothing was removed, and leaves lines it cannot find unmapped', () => {
    const code = 'def f(x):\n    if x:\n        return 1\n    return 2\n';
    expect(alignCutLines(code, code)).toEqual([0, 1, 2, 3, 4]);
    // A reformatted line (Black) is not found; later identical lines still are.
    expect(alignCutLines('x = [1,2]\ny = 3\n', 'x = [1, 2]\ny = 3')).toEqual([undefined, 1]);
    // A blank cut line never lands on a dropped comment line.
    expect(alignCutLines('a = 1\n# c\n\nb = 2', 'a = 1\n\nb = 2')).toEqual([0, 2, 3]);
  });

  it('rebuilds the cut code from a target, without the lone "\\n" prefix quirk', () => {
    expect(cutCodeOf({ pre: '\n', mid: 'for x in y:\n    pass', suf: '\nprint(1)', start_line: 0 })).toBe('for x in y:\n    pass\nprint(1)');
    expect(cutCodeOf({ pre: 'a = 1\n', mid: 'if a:\n    a = 2', suf: '\n', start_line: 1 })).toBe('a = 1\nif a:\n    a = 2\n');
  });
});

describe('code lenses', () => {
  const problem: ProblemRef = { problemId: 7, dataset: 'demo', externalId: '9001', via: 'store', solutionId: 3, tests: 2 };
  const base: LensInput = { uri: 'pairforge:/demo/9001/solution-1.py?solution=3', problem, targets: [], needsCut: false, presetKey: 'structurecoder', counts: new Map(), n: 5 };
  const titles = (i: LensInput) => buildCodeLenses(i).map((l) => `${l.range.start.line}: ${l.command?.title} -> ${l.command?.command}`);

  it('puts Run Tests, Sample all blocks and one "Sample xN" per target, with sample counts where there are samples', () => {
    const targets = [
      { targetId: 11, kind: 'for' as const, depth: 2, startLine: 3, endLine: 6, mid: '' },
      { targetId: 12, kind: 'if' as const, depth: 1, startLine: 4, endLine: 6, mid: '' },
    ];
    const counts = new Map([[12, { samples: 5, tested: 4, pass: 3 }]]);
    expect(titles({ ...base, targets, counts, n: 8 })).toEqual([
      `0: $(beaker) Run Tests (2 tests) -> ${LENS_COMMANDS.runTests}`,
      `0: $(sparkle) Sample all blocks (2 targets × 8) -> ${LENS_COMMANDS.sampleFile}`,
      `3: Sample x8 -> ${LENS_COMMANDS.sampleBlock}`,
      `4: Sample x8 -> ${LENS_COMMANDS.sampleBlock}`,
      `4: 5 samples · 3 pass, 1 untested -> ${LENS_COMMANDS.showSamples}`,
    ]);
    expect(buildCodeLenses({ ...base, targets, counts })[3].command?.arguments).toEqual([base.uri, 12]);
  });

  it('offers a cut when the solution was not cut, nothing without a problem, and the reason when a link is broken', () => {
    expect(titles({ ...base, needsCut: true })).toEqual([
      `0: $(beaker) Run Tests (2 tests) -> ${LENS_COMMANDS.runTests}`,
      `0: $(split-horizontal) Cut into targets (structurecoder) -> ${LENS_COMMANDS.cutTargets}`,
    ]);
    expect(buildCodeLenses({ ...base, problem: null })).toEqual([]);
    expect(titles({ ...base, problem: null, linkError: "line 1: no problem 'x' in dataset 'y'" })).toEqual(["0: PairForge: line 1: no problem 'x' in dataset 'y' -> "]);
    expect(titles({ ...base, problem: { ...problem, tests: 0, via: 'header', solutionId: undefined } })).toEqual([`0: $(beaker) Run Tests (no tests stored) -> ${LENS_COMMANDS.runTests}`]);
  });
});

describe('test results', () => {
  const isCand = (f: string) => f === '<candidate>';
  it('takes the innermost candidate frame of a traceback, within the document', () => {
    const tb = [
      'Traceback (most recent call last):',
      '  File "/sandbox/harness.py", line 40, in run',
      '  File "<candidate>", line 9, in <module>',
      '  File "<candidate>", line 4, in solve',
      '  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads',
      'ValueError: boom',
    ].join('\n');
    expect(tracebackLine(tb, 20, isCand)).toBe(3);
    expect(tracebackLine(tb, 5, isCand)).toBe(3);
    expect(tracebackLine(tb, 3, isCand)).toBeUndefined();
    expect(tracebackLine(undefined, 10, isCand)).toBeUndefined();
    expect(tracebackLine('no frames here', 10, isCand)).toBeUndefined();
  });

  it('maps an engine result to the editor view, with kinds and lines only on failures', () => {
    const problem: ProblemRef = { problemId: 1, dataset: 'd', externalId: 'p', via: 'header', tests: 2 };
    const r: CandidateResult = {
      verdict: 'runtime_error',
      testsTotal: 2,
      durationMs: 40,
      comparator: 'strict',
      sandbox: { isolation: 'bwrap-nobody', limits: { ...DEFAULT_LIMITS } },
      tests: [
        { ordinal: 0, verdict: 'pass', durationMs: 10, input: '1\n', expected: '1\n', output: '1\n' },
        { ordinal: 1, verdict: 'runtime_error', durationMs: 12, input: '0\n', stderrTail: 'x', message: 'ZeroDivisionError' },
      ],
    };
    const v = runTestsResult(problem, 4, r, ['stdio', 'stdio'], () => 6);
    expect(v).toMatchObject({ version: 4, verdict: 'runtime_error', isolation: 'bwrap-nobody', comparator: 'strict', testsTotal: 2 });
    expect(v.tests[0]).toEqual({ ordinal: 0, kind: 'stdio', verdict: 'pass', durationMs: 10, input: '1\n', expected: '1\n', output: '1\n' });
    expect(v.tests[1]).toEqual({ ordinal: 1, kind: 'stdio', verdict: 'runtime_error', durationMs: 12, input: '0\n', stderrTail: 'x', message: 'ZeroDivisionError', line: 6 });
  });

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

describe('engine options from settings', () => {
  it('converts MiB / KiB, drops workers = 0 (one per core) and clamps nonsense', () => {
    const log = () => undefined;
    expect(engineOptions({ testTimeoutMs: 4000, memoryMB: 512, outputKB: 64, workers: 0, allowUnsandboxed: false }, log)).toEqual({
      limits: { testTimeoutMs: 4000, memoryBytes: 512 * 1024 * 1024, outputBytes: 64 * 1024 },
      allowUnsandboxed: false,
      log,
    });
    expect(engineOptions({ testTimeoutMs: 5, workers: 3, allowUnsandboxed: true }, log)).toMatchObject({ limits: { testTimeoutMs: 100 }, workers: 3, allowUnsandboxed: true });
    expect(engineOptions(undefined, log)).toEqual({ limits: {}, allowUnsandboxed: false, log });
    expect(engineOptions({ memoryMB: Number.NaN, outputKB: -3 }, log).limits).toEqual({});
  });
});

describe('settings values for execution and sampling', () => {
  const getter = (o: Record<string, unknown>) => (k: string) => o[k];
  it('exec settings: defaults, bounds, comparator', () => {
    expect(asExecSettings(getter({}))).toEqual(EXEC_DEFAULTS);
    expect(asExecSettings(getter({ testTimeoutMs: 10, memoryMB: 4096.4, comparator: 'apps', allowUnsandboxed: 'yes', workers: 2 }))).toEqual({
      ...EXEC_DEFAULTS,
      testTimeoutMs: 100,
      memoryMB: 4096,
      comparator: 'apps',
      workers: 2,
    });
  });

  it('sampling params: the published defaults, families, custom tokens only for custom', () => {
    expect(asSamplingParams(getter({}))).toEqual({ family: 'qwen2.5-coder', n: 5, temperature: 0.7, topP: 0.95, maxTokens: 512, concurrency: 64 });
    expect(asSamplingParams(getter({ family: 'gpt', n: 0, temperature: 9, topP: 0 }))).toMatchObject({ family: 'qwen2.5-coder', n: 1, temperature: 2, topP: 0.01 });
    expect(asSamplingParams(getter({ family: 'custom', customTokens: { prefix: '<p>', suffix: '<s>', middle: '<m>', stop: ['<e>', 3] } })).customTokens).toEqual({
      prefix: '<p>',
      suffix: '<s>',
      middle: '<m>',
      stop: ['<e>'],
    });
    expect(asSamplingParams(getter({ family: 'chat', customTokens: { prefix: 'x' } })).customTokens).toBeUndefined();
  });

  it('endpoints: normalised URLs, reasons for every dropped entry, no default endpoint', () => {
    expect(asEndpoints(undefined)).toEqual({ endpoints: [], problems: [] });
    const r = asEndpoints([
      { url: 'http://gpu-1:8000/v1/', model: 'Qwen/Qwen2.5-Coder-7B' },
      { url: 'ftp://x', model: 'm' },
      { url: 'http://gpu-2:8000', model: ' ' },
      'http://gpu-3',
      { url: 'http://gpu-1:8000', model: 'Qwen/Qwen2.5-Coder-7B' },
    ]);
    expect(r.endpoints).toEqual([{ url: 'http://gpu-1:8000', model: 'Qwen/Qwen2.5-Coder-7B' }]);
    expect(r.problems).toEqual([
      'pairforge.sampling.endpoints[1].url: not an http(s) URL ("ftp://x")',
      'pairforge.sampling.endpoints[2].model: missing (the model name the server serves)',
      'pairforge.sampling.endpoints[3]: not an object {"url", "model"}',
      'pairforge.sampling.endpoints[4]: duplicate of an earlier entry',
    ]);
    expect(asEndpoints({ url: 'x' }).problems).toHaveLength(1);
    expect(apiKeySecretName('http://gpu-1:8000')).toBe('pairforge.apiKey:http://gpu-1:8000');
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
    const s: SampleView = { id: 1, index: 2, jobId: 1, middle: '\n    for x in xs:\n        t += x', finishReason: 'stop', model: 'm', endpoint: 'e', verdict: null, createdAt: '' };
    expect(sampleLabel(s)).toBe('#2 for x in xs:');
  });

  it('counts pairs by status, leaving zeros out', () => {
    expect(countsText({ pending: 8, accepted: 3, rejected: 1, flagged: 0 })).toBe('12 pairs · 3 accepted · 1 rejected · 8 pending');
    expect(countsText({ pending: 0, accepted: 1, rejected: 0, flagged: 0 })).toBe('1 pair · 1 accepted');
  });
});

describe('failure lines from the engine', () => {
  it('uses the <solution> frames, and the message line of a compile error', () => {
    const base = { ordinal: 0, durationMs: 1 };
    expect(failureLine({ ...base, verdict: 'runtime_error', stderrTail: 'Traceback (most recent call last):\n  File "<solution>", line 5, in <module>\n  File "<solution>", line 2, in f\nZeroDivisionError: division by zero' }, 10)).toBe(1);
    expect(failureLine({ ...base, verdict: 'runtime_error', stderrTail: '  File "<test>", line 1, in <module>\nAssertionError' }, 10)).toBeUndefined();
    expect(failureLine({ ...base, verdict: 'compile_error', message: 'SyntaxError: invalid syntax (line 3)' }, 10)).toBe(2);
    expect(failureLine({ ...base, verdict: 'wrong_answer', message: 'line 3 differs' }, 10)).toBeUndefined();
  });
});

describe('sampling requests on the server', () => {
  const t = (targetId: number): DocTarget => ({ targetId, kind: 'if', depth: 1, startLine: targetId, endLine: targetId + 1, mid: '' });
  it('samples all of a document\'s targets or the requested ones, never a target of another document', () => {
    expect(chooseTargets([t(1), t(2)], undefined).map((x) => x.targetId)).toEqual([1, 2]);
    expect(chooseTargets([t(1), t(2)], [2]).map((x) => x.targetId)).toEqual([2]);
    expect(() => chooseTargets([t(1)], [9])).toThrow('target 9 is not a block of this document under the current preset (refresh the code lenses)');
    expect(() => chooseTargets([t(1)], [])).toThrow(/non-empty array/);
  });

  it('knows exactly the sampling stage\'s prompt families', () => {
    expect(SAMPLING_FAMILIES).toEqual(FAMILIES);
  });

  it('checks endpoints and sampling values, naming the field', () => {
    const params = { family: 'qwen2.5-coder', n: 5, temperature: 0.7, topP: 0.95, maxTokens: 512, concurrency: 4 };
    const ep = [{ url: 'http://127.0.0.1:8000', model: 'm', apiKey: 'k' }];
    expect(checkSampling(ep, params)).toEqual({ endpoints: ep, params });
    expect(() => checkSampling([], params)).toThrow(/no sampling endpoints/);
    expect(() => checkSampling([{ url: 'gpu:8000', model: 'm' }], params)).toThrow('endpoints[0].url: not an http(s) URL');
    expect(() => checkSampling(ep, { ...params, family: 'gpt' })).toThrow(/^params.family: one of qwen2.5-coder/);
    expect(() => checkSampling(ep, { ...params, n: 2.5 })).toThrow('params.n: an integer from 1 to 1024');
    expect(() => checkSampling(ep, { ...params, topP: 1.5 })).toThrow('params.topP: a number from 0 to 1');
  });

  it('counts verdicts without zeros', () => {
    const zero = { pass: 0, wrong_answer: 0, runtime_error: 0, timeout: 0, memory_limit: 0, output_limit: 0, compile_error: 0 };
    expect(verdictCounts({ ...zero, pass: 3, wrong_answer: 2 })).toEqual({ pass: 3, wrong_answer: 2 });
  });
});

describe('the server-held execution engine', () => {
  /** A runner that records what happens to it (the real engine is in the integration tests). */
  function fakeFactory() {
    const made: { opts: EngineOptions; closed: boolean }[] = [];
    let fail: Error | undefined;
    const factory = async (opts: EngineOptions): Promise<ExecRunner> => {
      if (fail) throw fail;
      const rec = { opts, closed: false };
      made.push(rec);
      return {
        sandbox: { isolation: 'bwrap-nobody', limits: { ...DEFAULT_LIMITS } },
        run: async () => {
          throw new Error('not used');
        },
        close: async () => {
          rec.closed = true;
        },
      };
    };
    return { made, factory, failWith: (e: Error | undefined) => (fail = e) };
  }

  it('creates the engine on first use, keeps it while the limits stay, replaces it (closing the old one once idle) when they change', async () => {
    const f = fakeFactory();
    const host = new ExecHost(f.factory, () => undefined);
    host.configure({ testTimeoutMs: 4000 });
    expect(f.made).toHaveLength(0);
    expect(host.started).toBe(false);
    await host.use(async () => undefined);
    await host.use(async () => undefined);
    host.configure({ testTimeoutMs: 4000 });
    await host.use(async () => undefined);
    expect(f.made).toHaveLength(1);
    // New limits while a run is in flight: the old engine is closed only after that run.
    let release!: () => void;
    const running = host.use(() => new Promise<void>((r) => (release = r)));
    await Promise.resolve();
    host.configure({ testTimeoutMs: 2000 });
    await new Promise((r) => setTimeout(r, 10));
    expect(f.made[0].closed).toBe(false);
    release();
    await running;
    expect(f.made[0].closed).toBe(true);
    await host.use(async () => undefined);
    expect(f.made).toHaveLength(2);
    expect(f.made[1].opts.limits).toEqual({ testTimeoutMs: 2000 });
    await host.close();
    expect(f.made[1].closed).toBe(true);
  });

  it('does not cache a failed start: the next run tries again', async () => {
    const f = fakeFactory();
    const host = new ExecHost(f.factory, () => undefined);
    f.failWith(new Error('bubblewrap is missing: apt-get install bubblewrap'));
    await expect(host.use(async () => 1)).rejects.toThrow(/bubblewrap is missing/);
    f.failWith(undefined);
    await expect(host.use(async () => 2)).resolves.toBe(2);
    expect(f.made).toHaveLength(1);
    await host.close();
  });
});
