// The engine server's features in the test's own process (test/support/inProcess.ts): the
// capabilities it announces, import with progress, the Datasets tree and stats, request checks, and
// a project path changed while an import writes to the project (the job finishes on the file it
// started on, which is closed afterwards; new requests use the new file).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigureNotification,
  DatasetChildrenRequest,
  ImportRequest,
  PairsTreeRequest,
  SetPairStatusRequest,
  StatsRequest,
  type EngineSettings,
} from '../../../server/protocol';
import { openProject } from '../../../server/store/db';
import { VERSION } from '../../../server/version';
import { startInProcess, type InProcessServer } from '../../support/inProcess';
import { root } from '../../support/paths';

const demo = path.join(root, 'media/demo/datasets/demo-apps.jsonl');
let tmp = '';
let server: InProcessServer;

function settings(dbPath: string): EngineSettings {
  return { dbPath, preset: 'structurecoder', extraKinds: [], trusted: false };
}

/** An APPS-format file of `n` small problems. */
function bigDataset(file: string, n: number): void {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({ problem_id: i, question: `q${i}`, solutions: JSON.stringify([`print(${i})`]), input_output: JSON.stringify({ inputs: [''], outputs: [`${i}\n`] }) }));
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'pairforge-inprocess-'));
  server = await startInProcess({ window: { workDoneProgress: true } });
});

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('the engine server in-process', () => {
  it('imports with progress, then lists datasets and counts', async () => {
    await server.client.sendNotification(ConfigureNotification, settings(path.join(tmp, 'a.sqlite')));
    const token = 'import-1';
    await server.client.sendRequest('window/workDoneProgress/create', { token }).catch(() => undefined);
    const summary = await server.client.sendRequest(ImportRequest, { files: [demo], workDoneToken: token });
    expect(summary.files.map((f) => [f.format, f.records, f.imported])).toEqual([['apps', 3, 3]]);
    const kinds = (server.progress.get(token) ?? []).map((p) => p.kind);
    expect(kinds[0]).toBe('begin');
    expect(kinds.at(-1)).toBe('end');
    expect(server.progress.get(token)?.[0]).toMatchObject({ title: 'Importing datasets', percentage: 0 });
    const top = await server.client.sendRequest(DatasetChildrenRequest, {});
    expect(top.map((n) => [n.label, n.description])).toEqual([['demo-apps', 'apps · 3 problems']]);
    expect(await server.client.sendRequest(StatsRequest, {})).toMatchObject({ datasets: 1, problems: 3, solutions: 5, targets: 0, pairs: 0 });
    expect(await server.client.sendRequest(PairsTreeRequest, {})).toEqual([]);
  });

  it('checks requests and names the field', async () => {
    await expect(server.client.sendRequest(ImportRequest, { files: [] })).rejects.toThrow('import: `files` must be a non-empty array of paths');
    await expect(server.client.sendRequest(ImportRequest, { files: [demo], format: 'csv' as never })).rejects.toThrow(/unknown format "csv"/);
    await expect(server.client.sendRequest(SetPairStatusRequest, { pairIds: [1], status: 'great' as never })).rejects.toThrow(/status must be one of pending, accepted, rejected, flagged/);
    await expect(server.client.sendRequest(SetPairStatusRequest, { pairIds: [], status: 'accepted' })).rejects.toThrow(/non-empty array/);
    await expect(server.client.sendRequest(ImportRequest, { files: [path.join(tmp, 'missing.jsonl')] })).rejects.toThrow(/missing\.jsonl: cannot read/);
  });

  it('announces what it serves and its version', async () => {
    const other = await startInProcess({ window: { workDoneProgress: true }, workspace: { codeLens: { refreshSupport: true } } });
    try {
      const r = (await other.client.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} })) as { capabilities: Record<string, unknown>; serverInfo: { name: string; version: string } };
      expect(r.capabilities).toMatchObject({ hoverProvider: true, codeLensProvider: { resolveProvider: false }, textDocumentSync: { openClose: true, change: 2 } });
      expect(r.serverInfo).toEqual({ name: 'pairforge-engine', version: VERSION });
      expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
    } finally {
      await other.stop();
    }
  });

  it('a project path changed during an import: the import finishes on its file, new requests use the new one', async () => {
    const first = path.join(tmp, 'first.sqlite');
    const second = path.join(tmp, 'second.sqlite');
    const big = path.join(tmp, 'big.jsonl');
    const n = 6000;
    bigDataset(big, n);
    await server.client.sendNotification(ConfigureNotification, settings(first));
    const token = 'import-big';
    const running = server.client.sendRequest(ImportRequest, { files: [big], workDoneToken: token });
    // Change the path once the import has started writing.
    const started = Date.now();
    while (!(server.progress.get(token) ?? []).some((p) => p.kind === 'report') && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 5));
    await server.client.sendNotification(ConfigureNotification, settings(second));
    const summary = await running;
    expect(summary.cancelled).toBe(false);
    expect(summary.files[0]).toMatchObject({ records: n, imported: n, bad: [] });
    const p = openProject(first, { readonly: true });
    try {
      expect(p.db.prepare('SELECT COUNT(*) AS n FROM problems').get()).toEqual({ n });
    } finally {
      p.close();
    }
    expect(server.logs.join('\n')).toContain(`the import job still running on ${first} finish there first, then that file is closed`);
    // The new path has no project file yet: said so, nothing created.
    await expect(server.client.sendRequest(StatsRequest, {})).rejects.toThrow(`stats: no project file at ${second} yet`);
    expect(await server.client.sendRequest(DatasetChildrenRequest, {})).toEqual([]);
  });

  it('refuses a second import on the project while one runs', async () => {
    const db = path.join(tmp, 'busy.sqlite');
    const big = path.join(tmp, 'big2.jsonl');
    bigDataset(big, 4000);
    await server.client.sendNotification(ConfigureNotification, settings(db));
    const one = server.client.sendRequest(ImportRequest, { files: [big] });
    const two = server.client.sendRequest(ImportRequest, { files: [demo] });
    await expect(two).rejects.toThrow(`import: another import is still running on ${db}`);
    expect((await one).files[0].imported).toBe(4000);
  });
});
