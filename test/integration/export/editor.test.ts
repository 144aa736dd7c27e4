// The editor's Export Pairs (ExportPairsRequest) on the engine server in-process: work-done
// progress with a percentage while the records are written, and a cancel from the client that
// stops the export at its next checkpoint with nothing written or recorded.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CancellationTokenSource } from 'vscode-languageserver-protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listExports } from '../../../server/export/store';
import { ConfigureNotification, ExportPairsRequest, type ExportPairsResult } from '../../../server/protocol';
import { openProject } from '../../../server/store/db';
import { addDataset, addPairs, addProblem, addSolution, addTarget, pairOnTarget } from '../../support/fixtures';
import { startInProcess, type InProcessServer } from '../../support/inProcess';

/** Enough pairs for an export of about a second: the progress is throttled to one report per 250 ms. */
const PAIRS = 20_000;

let dir = '';
let db = '';
let server: InProcessServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'pairforge-export-editor-'));
  db = path.join(dir, 'project.sqlite');
  const p = openProject(db);
  try {
    const problemId = addProblem(p, { datasetId: addDataset(p, { name: 'demo' }), externalId: 'p1', question: 'Sum.' });
    const solutionId = addSolution(p, { problemId, code: 'x' });
    const target = addTarget(p, { solutionId, pre: 'a\n', mid: 'for x in y:\n    pass', suf: '\nb', depth: 1 });
    addPairs(
      p,
      Array.from({ length: PAIRS }, (_, i) =>
        pairOnTarget(p, target, { pairKey: `sc:${i}`, chosen: `for x in y:\n    ok(${i})`, rejected: `for x in y:\n    bad(${i})`, provenance: { pairing: { mode: 'structurecoder' } }, editDistance: 3, status: 'accepted' }),
      ),
    );
  } finally {
    p.close();
  }
  server = await startInProcess();
  await server.client.sendNotification(ConfigureNotification.method, { dbPath: db, preset: 'structurecoder', extraKinds: [], trusted: true });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Export Pairs in the editor', () => {
  it('reports its progress with a percentage, reading then writing', async () => {
    const out = path.join(dir, 'all');
    const r = (await server.client.sendRequest(ExportPairsRequest.method, { format: 'trl', out, workDoneToken: 'export-1' })) as ExportPairsResult;
    expect(r).toMatchObject({ dir: out, pairs: PAIRS, records: PAIRS, files: ['pairs.trl.jsonl'] });
    expect(r.cancelled).toBeUndefined();
    const reports = server.progress.get('export-1') ?? [];
    expect(reports[0]).toMatchObject({ kind: 'begin', title: 'Exporting pairs (trl)', percentage: 0, cancellable: true });
    expect(reports.at(-1)).toMatchObject({ kind: 'end' });
    expect(reports.some((x) => x.kind === 'report' && /^reading \d/.test(x.message ?? ''))).toBe(true);
    expect(reports.some((x) => x.kind === 'report' && /^writing [\d,]+\/20,000 records$/.test(x.message ?? '') && (x.percentage ?? 0) >= 10)).toBe(true);
  });

  it('a cancel stops it: nothing written, nothing recorded', async () => {
    const out = path.join(dir, 'stopped');
    const exportsBefore = listExportsOf();
    const source = new CancellationTokenSource();
    const stop = setInterval(() => {
      // Cancelled once the export has begun.
      if ((server.progress.get('export-2') ?? []).length > 0) source.cancel();
    }, 1);
    try {
      const r = (await server.client.sendRequest(ExportPairsRequest.method, { format: 'trl', out, workDoneToken: 'export-2' }, source.token)) as ExportPairsResult;
      expect(r).toEqual({ dir: out, pairs: 0, records: 0, files: [], cancelled: true });
    } finally {
      clearInterval(stop);
    }
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    expect(listExportsOf()).toEqual(exportsBefore);
  });
});

function listExportsOf(): number[] {
  const p = openProject(db, { readonly: true });
  try {
    return listExports(p).map((e) => e.id);
  } finally {
    p.close();
  }
}
