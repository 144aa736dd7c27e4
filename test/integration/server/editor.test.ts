// The editor requests against the built engine server over stdio, with the real
// store, the real sandbox engine and (for sampling) the project's local vLLM-compatible server:
// problem links, code lenses on stored solutions and linked files, Run Tests (pass, wrong answer
// with expected / actual, runtime error on the right line, refusal when untrusted), the Pairs
// tree with accept / reject / flag, and candidate texts.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancellationTokenSource, CodeLensRefreshRequest, WorkDoneProgress, type CodeLens } from 'vscode-languageserver-protocol/node';
import { ExecEngine } from '../../../server/exec/engine';
import { runPending } from '../../../server/exec/runPending';
import { SAMPLE_CANDIDATES } from '../../../server/sampling/candidates';
import { startLocalVllm } from '../../../server/localvllm/server';
import {
  BlockSamplesRequest,
  CandidateTextRequest,
  ConfigureNotification,
  CutTargetsRequest,
  DatasetChildrenRequest,
  DocumentContentRequest,
  EndpointHealthRequest,
  ImportRequest,
  LinkedProblemRequest,
  PairsTreeRequest,
  RunTestsRequest,
  SampleRequest,
  SetPairStatusRequest,
  type DatasetNode,
  type EngineSettings,
  type PairNode,
} from '../../../server/protocol';
import { openProject } from '../../../server/store/db';
import { addPairs, addSample, addSampleJob, pairOnTarget } from '../../support/fixtures';
import { ensureBuilt, root, startServer, stopServer, type Server } from '../../support/lspHarness';

const demo = path.join(root, 'media/demo/datasets/demo-apps.jsonl');
let tmp = '';
let server: Server;
let settings: EngineSettings;
let refreshes = 0;

beforeAll(async () => {
  ensureBuilt();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'pairforge-editor-test-'));
  server = await startServer({ window: { workDoneProgress: true }, workspace: { codeLens: { refreshSupport: true } } });
  server.conn.onRequest(CodeLensRefreshRequest.method, () => {
    refreshes++;
    return null;
  });
  settings = {
    dbPath: path.join(tmp, 'project.sqlite'),
    preset: 'structurecoder',
    extraKinds: [],
    trusted: true,
    // Short limits keep a broken candidate's test quick; workers: 1 on these 2-core machines.
    exec: { testTimeoutMs: 3000, memoryMB: 512, outputKB: 64, comparator: 'strict', workers: 1, allowUnsandboxed: false },
    sampleN: 3,
  };
  await server.conn.sendNotification(ConfigureNotification, settings);
  await server.conn.sendRequest(ImportRequest, { files: [demo] });
}, 120_000);

afterAll(() => {
  if (server && server.proc.exitCode === null) server.proc.kill();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function open(uri: string, text: string, version = 1): Promise<void> {
  await server.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version, text } });
  await server.blocks(uri, (p) => p.version === version);
}

async function change(uri: string, text: string, version: number): Promise<void> {
  await server.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
  await server.blocks(uri, (p) => p.version === version);
}

async function lenses(uri: string): Promise<string[]> {
  const got = (await server.conn.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as CodeLens[];
  return got.map((l) => `${l.range.start.line + 1}: ${l.command?.title}`);
}

/** The stored solutions of demo problem `id`, as Datasets-view nodes. */
async function solutionsOf(id: string): Promise<DatasetNode[]> {
  const [ds] = (await server.conn.sendRequest(DatasetChildrenRequest, {})) as DatasetNode[];
  const problems = (await server.conn.sendRequest(DatasetChildrenRequest, { parent: ds.id })) as DatasetNode[];
  const pr = problems.find((p) => p.label === id)!;
  return ((await server.conn.sendRequest(DatasetChildrenRequest, { parent: pr.id })) as DatasetNode[]).filter((n) => n.kind === 'solution');
}

describe('editor requests over stdio', () => {
  let solutionUri = '';
  let solutionText = '';

  it('links stored solutions and header files to their problem; offers a cut, then lenses per target', async () => {
    const [sol] = await solutionsOf('9001');
    solutionUri = sol.uri!;
    solutionText = 'n = int(input())\nnums = list(map(int, input().split()))\ntotal = 0\nfor x in nums:\n    if x % 2 == 0:\n        total += x\nprint(total)\n';
    await open(solutionUri, solutionText);
    expect(await server.conn.sendRequest(LinkedProblemRequest, { uri: solutionUri })).toMatchObject({ dataset: 'demo-apps', externalId: '9001', via: 'store', tests: 3 });
    expect(await lenses(solutionUri)).toEqual(['1: $(beaker) Run Tests (3 tests)', '1: $(split-horizontal) Cut into targets (structurecoder)']);

    const before = refreshes;
    const cut = await server.conn.sendRequest(CutTargetsRequest, {});
    expect(cut).toMatchObject({ preset: 'structurecoder', cancelled: false });
    expect(cut.targets).toBeGreaterThan(0);
    expect(refreshes).toBeGreaterThan(before); // the client is asked to re-read the lenses
    expect(await lenses(solutionUri)).toEqual([
      '1: $(beaker) Run Tests (3 tests)',
      '1: $(sparkle) Sample all blocks (2 targets × 3)',
      '4: Sample x3',
      '5: Sample x3',
    ]);

    // A file on disk with the header comment; comments shift nothing for Run Tests, and a file
    // has no stored targets, so no sampling lenses.
    const file = pathToFileURL(path.join(tmp, 'mine.py')).href;
    await open(file, '# pairforge-problem: demo-apps/9002\nprint(0)\n');
    expect(await server.conn.sendRequest(LinkedProblemRequest, { uri: file })).toMatchObject({ externalId: '9002', via: 'header', tests: 3 });
    expect(await lenses(file)).toEqual(['1: $(beaker) Run Tests (3 tests)']);
    const bad = pathToFileURL(path.join(tmp, 'bad.py')).href;
    await open(bad, '# pairforge-problem: demo-apps/nope\n');
    expect(await lenses(bad)).toEqual([`1: PairForge: line 1: no problem 'nope' in dataset 'demo-apps' of ${settings.dbPath}`]);
    await expect(server.conn.sendRequest(RunTestsRequest, { uri: bad })).rejects.toThrow(/no problem 'nope'/);
    const plain = pathToFileURL(path.join(tmp, 'plain.py')).href;
    await open(plain, 'print(1)\n');
    expect(await lenses(plain)).toEqual([]);
    await expect(server.conn.sendRequest(RunTestsRequest, { uri: plain })).rejects.toThrow(/not linked to a problem.*pairforge-problem/);
  });

  it('runs the tests in the sandbox: pass, wrong answer with input / expected / actual, runtime error on its line', async () => {
    const ok = await server.conn.sendRequest(RunTestsRequest, { uri: solutionUri });
    expect(ok).toMatchObject({ verdict: 'pass', testsTotal: 3, comparator: 'strict', isolation: process.getuid?.() === 0 ? 'bwrap-nobody' : 'bwrap-user', version: 1 });
    expect(ok.tests.map((t) => [t.ordinal, t.kind, t.verdict])).toEqual([[0, 'stdio', 'pass'], [1, 'stdio', 'pass'], [2, 'stdio', 'pass']]);
    // Round trip with a warm engine (a figure for the notes, not a limit).
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await server.conn.sendRequest(RunTestsRequest, { uri: solutionUri });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    console.log(`Run Tests (3 stdio tests, warm sandbox, 1 worker): median ${times[5].toFixed(1)} ms, max ${times[9].toFixed(1)} ms`);

    const file = pathToFileURL(path.join(tmp, 'mine.py')).href;
    // Sums the odd numbers instead: 9 for "1 2 3 4 5".
    const wrong = '# pairforge-problem: demo-apps/9001\nn = int(input())\nprint(sum(x for x in map(int, input().split()) if x % 2))\n';
    await server.conn.sendNotification('textDocument/didClose', { textDocument: { uri: file } });
    await open(file, wrong, 1);
    const wa = await server.conn.sendRequest(RunTestsRequest, { uri: file });
    expect(wa.verdict).toBe('wrong_answer');
    expect(wa.problem).toMatchObject({ externalId: '9001', via: 'header' });
    expect(wa.tests).toHaveLength(3); // every test by default, not just the first failure
    expect(wa.tests[0]).toMatchObject({ verdict: 'wrong_answer', input: '5\n1 2 3 4 5\n', expected: '6\n', output: '9\n' });

    // Divides by zero on the 4th line of the document (1-based), inside a function.
    const crash = '# pairforge-problem: demo-apps/9001\ndef f(n):\n    z = 0\n    return n // z\nprint(f(int(input())))\n';
    await change(file, crash, 2);
    const re = await server.conn.sendRequest(RunTestsRequest, { uri: file, allResults: false });
    expect(re).toMatchObject({ verdict: 'runtime_error', version: 2 });
    expect(re.tests).toHaveLength(1); // stopped at the first failure when asked
    expect(re.tests[0].stderrTail ?? re.tests[0].message).toMatch(/ZeroDivisionError/);
    expect(re.tests[0].line).toBe(3);
  }, 60_000);

  it('runs the tests of a history version opened from the Datasets view (first version fails, last passes)', async () => {
    await server.conn.sendRequest(ImportRequest, { files: [path.join(root, 'test/fixtures/datasets/history-mini.jsonl')] });
    const datasets = (await server.conn.sendRequest(DatasetChildrenRequest, {})) as DatasetNode[];
    const ds = datasets.find((d) => d.label === 'history-mini')!;
    // HumanEval/2: a HumanEval record with check(candidate) and three versions.
    const problem = ((await server.conn.sendRequest(DatasetChildrenRequest, { parent: ds.id })) as DatasetNode[]).find((n) => n.label === 'HumanEval/2')!;
    const [history] = ((await server.conn.sendRequest(DatasetChildrenRequest, { parent: problem.id })) as DatasetNode[]).filter((n) => n.kind === 'history');
    const versions = (await server.conn.sendRequest(DatasetChildrenRequest, { parent: history.id })) as DatasetNode[];
    const verdicts: string[] = [];
    for (const v of [versions[0], versions.at(-1)!]) {
      const { text } = await server.conn.sendRequest(DocumentContentRequest, { uri: v.uri! });
      await open(v.uri!, text);
      expect(await server.conn.sendRequest(LinkedProblemRequest, { uri: v.uri! })).toMatchObject({ dataset: 'history-mini', via: 'store', versionId: expect.any(Number), tests: 1 });
      verdicts.push((await server.conn.sendRequest(RunTestsRequest, { uri: v.uri! })).verdict);
    }
    expect(verdicts[0]).not.toBe('pass');
    expect(verdicts[1]).toBe('pass');
  }, 60_000);

  it('cancels a test run at once and runs the next one normally', async () => {
    const file = pathToFileURL(path.join(tmp, 'slow.py')).href;
    await open(file, '# pairforge-problem: demo-apps/9001\nimport time\ntime.sleep(2.5)\nprint(6)\n');
    const cts = new CancellationTokenSource();
    const t0 = performance.now();
    const run = server.conn.sendRequest(RunTestsRequest, { uri: file }, cts.token);
    setTimeout(() => cts.cancel(), 300);
    await expect(run).rejects.toThrow(/cancel/i);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect((await server.conn.sendRequest(RunTestsRequest, { uri: solutionUri })).verdict).toBe('pass');
  }, 60_000);

  it('refuses to run anything when the workspace is not trusted (or the client does not say)', async () => {
    await server.conn.sendNotification(ConfigureNotification, { ...settings, trusted: false });
    await expect(server.conn.sendRequest(RunTestsRequest, { uri: solutionUri })).rejects.toThrow(/not trusted.*runs no code/);
    const { trusted: _t, ...silent } = settings;
    await server.conn.sendNotification(ConfigureNotification, silent);
    await expect(server.conn.sendRequest(RunTestsRequest, { uri: solutionUri })).rejects.toThrow(/not trusted/);
    await server.conn.sendNotification(ConfigureNotification, settings);
    expect((await server.conn.sendRequest(RunTestsRequest, { uri: solutionUri })).verdict).toBe('pass');
  }, 60_000);

  it('lists pairs by problem and block with counts, and accepts / rejects / flags them', async () => {
    // Two pairs on the `if` target of solution 1 of problem 9001, written with the pairs stage's
    // own store API (as `pairforge pairs` writes them).
    const p = openProject(settings.dbPath);
    let targetId = 0;
    try {
      const t = p.db
        .prepare<[], { id: number }>(
          `SELECT t.id FROM targets t JOIN solutions s ON s.id = t.solution_id
           JOIN problems pr ON pr.id = s.problem_id WHERE pr.external_id = '9001' AND s.ordinal = 0 AND t.kind = 'if'`,
        )
        .get()!;
      targetId = t.id;
      const pair = (i: number, rejected: string) => pairOnTarget(p, t.id, { pairKey: `test:${t.id}:${i}`, rejected, provenance: { test: true }, editDistance: i });
      addPairs(p, [pair(1, '    if x % 2 == 1:\n        total += x'), pair(2, '    if x % 2 == 0:\n        total -= x')]);
    } finally {
      p.close();
    }
    const problems = (await server.conn.sendRequest(PairsTreeRequest, {})) as PairNode[];
    expect(problems.map((n) => [n.kind, n.label, n.description])).toEqual([['problem', expect.stringContaining('9001'), '2 pairs · 2 pending']]);
    const groups = (await server.conn.sendRequest(PairsTreeRequest, { parent: problems[0].id })) as PairNode[];
    expect(groups).toHaveLength(1);
    expect(groups[0]).toMatchObject({ kind: 'group', counts: { pending: 2, accepted: 0, rejected: 0, flagged: 0 } });
    const pairs = (await server.conn.sendRequest(PairsTreeRequest, { parent: groups[0].id })) as PairNode[];
    expect(pairs.map((n) => [n.status, n.label])).toEqual([
      ['pending', expect.stringMatching(/^pair \d+: if x % 2 == 1:$/)],
      ['pending', expect.stringMatching(/^pair \d+: if x % 2 == 0:$/)],
    ]);
    const [a, b] = pairs.map((n) => n.pairId!);

    expect(await server.conn.sendRequest(SetPairStatusRequest, { pairIds: [a], status: 'accepted' })).toEqual({ updated: 1 });
    expect(await server.conn.sendRequest(SetPairStatusRequest, { pairIds: [b], status: 'flagged', note: 'suffix changed too' })).toEqual({ updated: 1 });
    const after = (await server.conn.sendRequest(PairsTreeRequest, { parent: groups[0].id })) as PairNode[];
    expect(after.map((n) => n.status)).toEqual(['accepted', 'flagged']);
    expect(after[1].tooltip).toContain('note: suffix changed too');
    expect(((await server.conn.sendRequest(PairsTreeRequest, {})) as PairNode[])[0].description).toBe('2 pairs · 1 accepted · 1 flagged');
    expect(await server.conn.sendRequest(SetPairStatusRequest, { pairIds: [a, b], status: 'rejected' })).toEqual({ updated: 2 });
    await expect(server.conn.sendRequest(SetPairStatusRequest, { pairIds: [a], status: 'great' as never })).rejects.toThrow(/status must be one of pending, accepted, rejected, flagged/);
    await expect(server.conn.sendRequest(SetPairStatusRequest, { pairIds: [], status: 'accepted' })).rejects.toThrow(/non-empty array/);

    // The diff sides are whole programs: prefix + side + suffix.
    const chosen = (await server.conn.sendRequest(CandidateTextRequest, { kind: 'pair-chosen', id: a })).text;
    const rejected = (await server.conn.sendRequest(CandidateTextRequest, { kind: 'pair-rejected', id: a })).text;
    expect(chosen).toBe(solutionText.trimEnd());
    expect(rejected).toBe(solutionText.trimEnd().replace('if x % 2 == 0:', 'if x % 2 == 1:'));
    expect((await server.conn.sendRequest(CandidateTextRequest, { kind: 'target', id: targetId })).text).toBe(solutionText.trimEnd());
    await expect(server.conn.sendRequest(CandidateTextRequest, { kind: 'sample', id: 999999 })).rejects.toThrow(/no sample 999999/);
  });

  it('shows the samples of a block with their stored verdicts, in the lenses and the Samples request', async () => {
    // Two samples of the `if` block, as a sampling job stores them (rows written here), judged by
    // the execution stage's runner with the real sandbox.
    const p = openProject(settings.dbPath);
    let ids: number[] = [];
    try {
      const t = p.db
        .prepare<[], { id: number }>(
          `SELECT t.id FROM targets t JOIN solutions s ON s.id = t.solution_id JOIN problems pr ON pr.id = s.problem_id
           WHERE pr.external_id = '9001' AND s.ordinal = 0 AND t.kind = 'if'`,
        )
        .get()!;
      const job = addSampleJob(p);
      ids = [
        addSample(p, { jobId: job, targetId: t.id, raw: ' x % 2 == 0:\n        total += x', middle: '    if x % 2 == 0:\n        total += x', model: 'test-model' }),
        addSample(p, { jobId: job, targetId: t.id, raw: ' x % 2:\n        total += x', middle: '    if x % 2:\n        total += x', model: 'test-model' }),
      ];
      const engine = await ExecEngine.create({ workers: 1, limits: { testTimeoutMs: 3000 } });
      try {
        const run = await runPending(p, engine, { selection: { sources: [SAMPLE_CANDIDATES], jobId: job }, comparator: 'strict', concurrency: 2 });
        expect(run).toMatchObject({ pass: 1, wrong_answer: 1 });
      } finally {
        await engine.close();
      }
    } finally {
      p.close();
    }
    expect(await lenses(solutionUri)).toEqual([
      '1: $(beaker) Run Tests (3 tests)',
      '1: $(sparkle) Sample all blocks (2 targets × 3)',
      '4: Sample x3',
      '5: Sample x3',
      '5: 2 samples · 1 pass',
    ]);
    const blocks = await server.conn.sendRequest(BlockSamplesRequest, { uri: solutionUri });
    expect(blocks.map((b) => [b.kind, b.startLine, b.endLine, b.samples.length])).toEqual([['for', 3, 5, 0], ['if', 4, 5, 2]]);
    expect(blocks[1].golden).toBe('    if x % 2 == 0:\n        total += x');
    expect(blocks[1].samples.map((x) => [x.id, x.ordinal, x.verdict, x.model])).toEqual([[ids[0], 1, 'pass', 'test-model'], [ids[1], 2, 'wrong_answer', 'test-model']]);
    expect((await server.conn.sendRequest(CandidateTextRequest, { kind: 'sample', id: ids[1] })).text).toBe(solutionText.trimEnd().replace('if x % 2 == 0:', 'if x % 2:'));
  }, 60_000);

  it('checks endpoint health through the sampling client: served model, context length, wrong model, key, dead port', async () => {
    const local = await startLocalVllm({ db: settings.dbPath, apiKey: 'sekret-key' });
    try {
      const health = await server.conn.sendRequest(EndpointHealthRequest, {
        endpoints: [
          { url: local.url, model: local.model, apiKey: 'sekret-key' },
          { url: `${local.url}/v1`, model: 'not-served', apiKey: 'sekret-key' },
          { url: local.url, model: local.model },
          { url: 'http://127.0.0.1:9', model: 'm' },
        ],
      });
      expect(health[0]).toMatchObject({ ok: true, model: local.model, maxModelLen: local.maxModelLen, served: local.models });
      expect(health[1]).toMatchObject({ ok: false, error: expect.stringContaining("does not serve 'not-served'") });
      expect(health[2]).toMatchObject({ ok: false, error: expect.stringContaining('(PairForge: Set Endpoint API Key...)') });
      expect(health[3].ok).toBe(false);
      expect(health[3].error).toBeTruthy();
      // The key never shows up in what the server writes.
      expect(server.stderr()).not.toContain('sekret-key');
    } finally {
      await local.close();
    }
    await expect(server.conn.sendRequest(EndpointHealthRequest, { endpoints: [{ url: 1 }] as never })).rejects.toThrow(/list of \{url, model, apiKey\?\}/);
  }, 60_000);

  it('samples one block from the local vLLM-compatible server, runs the new samples\' tests, and refuses bad requests', async () => {
    const local = await startLocalVllm({ db: settings.dbPath, seed: 7 });
    const params = { family: 'qwen2.5-coder' as const, n: 3, temperature: 0.7, topP: 0.95, maxTokens: 256, concurrency: 4 };
    const endpoints = [{ url: local.url, model: local.model }];
    try {
      const before = await server.conn.sendRequest(BlockSamplesRequest, { uri: solutionUri });
      const ifTarget = before.find((b) => b.kind === 'if')!;
      const progress: string[] = [];
      server.conn.onProgress(WorkDoneProgress.type, 'sample-1', (v) => {
        progress.push(v.kind);
      });
      const summary = await server.conn.sendRequest(SampleRequest, { uri: solutionUri, targetIds: [ifTarget.targetId], endpoints, params, runTests: true, workDoneToken: 'sample-1' });
      expect(summary).toMatchObject({ targets: 1, samples: 3, skipped: 0, cancelled: false });
      expect(Object.values(summary.verdicts).reduce((a, b) => a + (b ?? 0), 0)).toBe(3);
      expect(progress[0]).toBe('begin');
      expect(progress.at(-1)).toBe('end');
      const after = await server.conn.sendRequest(BlockSamplesRequest, { uri: solutionUri });
      const ofTarget = after.find((b) => b.targetId === ifTarget.targetId)!.samples;
      const fresh = ofTarget.filter((x) => x.jobId === summary.jobId);
      // Numbered on after the target's earlier samples, never from 1 again.
      expect(ofTarget.map((x) => x.ordinal)).toEqual(ofTarget.map((_, i) => i + 1));
      expect(fresh.map((x) => x.ordinal)).toEqual([ofTarget.length - 2, ofTarget.length - 1, ofTarget.length]);
      expect(fresh.every((x) => x.verdict !== null && x.model === local.model)).toBe(true);
      // Every sample's program is the solution with its block replaced.
      for (const x of fresh) expect((await server.conn.sendRequest(CandidateTextRequest, { kind: 'sample', id: x.id })).text).toContain(x.middle);
      const pass = 1 + fresh.filter((x) => x.verdict === 'pass').length;
      expect((await lenses(solutionUri)).at(-1)).toBe(`5: 5 samples · ${pass} pass`);

      // Untrusted: samples are drawn, tests are not run.
      await server.conn.sendNotification(ConfigureNotification, { ...settings, trusted: false });
      const untrusted = await server.conn.sendRequest(SampleRequest, { uri: solutionUri, targetIds: [ifTarget.targetId], endpoints, params: { ...params, n: 1 }, runTests: true });
      expect(untrusted).toMatchObject({ samples: 1, verdicts: {}, message: expect.stringContaining('tests not run: the workspace is not trusted') });
      await server.conn.sendNotification(ConfigureNotification, settings);

      // "Sample all blocks": every target of the document.
      const all = await server.conn.sendRequest(SampleRequest, { uri: solutionUri, endpoints, params: { ...params, n: 1 }, runTests: true });
      expect(all).toMatchObject({ targets: 2, samples: 2 });
      expect(Object.values(all.verdicts).reduce((a, b) => a + (b ?? 0), 0)).toBe(2);

      await expect(server.conn.sendRequest(SampleRequest, { uri: solutionUri, targetIds: [999999], endpoints, params, runTests: false })).rejects.toThrow(/target 999999 is not a block of this document/);
      await expect(server.conn.sendRequest(SampleRequest, { uri: solutionUri, endpoints: [], params, runTests: false })).rejects.toThrow(/no sampling endpoints/);
      await expect(server.conn.sendRequest(SampleRequest, { uri: solutionUri, endpoints, params: { ...params, n: 0 }, runTests: false })).rejects.toThrow(/params\.n/);
      const file = pathToFileURL(path.join(tmp, 'mine.py')).href;
      await expect(server.conn.sendRequest(SampleRequest, { uri: file, endpoints, params, runTests: false })).rejects.toThrow(/no stored targets/);

      // Cancel mid-job (slow server): the job stops, what was stored stays, no tests are run.
      local.setFaults({ latencyMs: 400 });
      const cts = new CancellationTokenSource();
      server.conn.onProgress(WorkDoneProgress.type, 'sample-slow', (v) => {
        if (v.kind === 'report' && /samples/.test(v.message ?? '')) cts.cancel();
      });
      const stopped = await server.conn.sendRequest(
        SampleRequest,
        { uri: solutionUri, endpoints, params: { ...params, n: 20, concurrency: 1 }, runTests: true, workDoneToken: 'sample-slow' },
        cts.token,
      );
      expect(stopped.cancelled).toBe(true);
      expect(stopped.samples).toBeLessThan(40);
      expect(stopped.verdicts).toEqual({});
    } finally {
      await local.close();
    }
  }, 120_000);

  it('shuts down cleanly (the sandbox engine is closed)', async () => {
    expect(await stopServer(server)).toBe(0);
    expect(server.stderr()).not.toMatch(/Error|exception/i);
  });
});
